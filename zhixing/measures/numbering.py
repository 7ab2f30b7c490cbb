"""Further numbers (之一, 之二, …) of the rulings and decisions made in an enforcement case.

A case's first ruling of a measure prints （2026）粤0104执11号之一, the next document that
needs its own number prints 之二, and so on, whichever app issues it. Every such document
takes its number from :func:`allocate_further_number`.
"""

# Full-width parentheses are part of the printed document number.
# ruff: noqa: RUF002

from __future__ import annotations

from django.db import connection
from django.db.models import Max

from zhixing.cases.models import EnforcementCase
from zhixing.measures.models import ControlMeasure, FurtherNumberSequence


def allocate_further_number(case: EnforcementCase, *, at_least: int = 0) -> int:
    """Allocate the next further number of a document of ``case`` and return it.

    One upsert increments the case's counter and returns it, so concurrent requests queue on
    the counter's row lock and each gets its own number. The counter changes inside the
    caller's transaction, so a request that rolls back gives its number back. The number is
    also greater than every ruling number of the case's measures and than ``at_least``, which
    the caller sets to the highest number its own records already carry. That keeps numbers
    unique in cases whose documents were numbered before the counter existed.
    """
    numbered = ControlMeasure.objects.filter(case=case).aggregate(last=Max("ruling_sequence"))
    floor = max(at_least, numbered["last"] or 0)
    table = FurtherNumberSequence._meta.db_table
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (case_id, last_number) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (case_id) "
            f"DO UPDATE SET last_number = {greatest}({table}.last_number + 1, "
            "excluded.last_number) "
            "RETURNING last_number",
            [case.pk, floor + 1],
        )
        (number,) = cursor.fetchone()
    return int(number)
