"""Checks on the project as a whole."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_match_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as error:
        pytest.fail(
            "A model change lacks its migration; run `zhixing makemigrations`:\n"
            f"{out.getvalue()}\n{error}"
        )
