"""The routing rules for every kind and severity from every level, and the route command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from zhixing.reports import services
from zhixing.reports.models import Kind, Severity
from zhixing.reports.tests.conftest import report_input

ABOVE = {"粤0104": ["粤01", "粤"], "粤0303": ["粤03", "粤"], "粤01": ["粤"], "粤": []}
MATRIX = [
    (court, kind, severity)
    for court in ABOVE
    for kind in Kind.values
    for severity in Severity.values
]


def expected(court: str, kind: str, severity: str) -> list[str] | None:
    if kind in services.MAJOR_KINDS and severity == Severity.ROUTINE:
        return None
    if severity == Severity.ROUTINE:
        return ABOVE[court][:1]
    return ABOVE[court]


def route_command(court: str, kind: str, severity: str) -> list[str]:
    out = StringIO()
    call_command(
        "reports",
        "route",
        "--from",
        court,
        "--kind",
        kind,
        "--severity",
        severity,
        "--json",
        stdout=out,
    )
    return json.loads(out.getvalue())["recipients"]


@pytest.mark.parametrize(("court", "kind", "severity"), MATRIX)
def test_routing_matrix(courts, court, kind, severity):
    wanted = expected(court, kind, severity)

    if wanted is None:
        with pytest.raises(ValidationError):
            services.route(courts[court], kind, severity)
        with pytest.raises(CommandError, match="at least major"):
            route_command(court, kind, severity)
        return
    recipients = services.route(courts[court], kind, severity)

    assert [recipient.code for recipient, _route in recipients] == wanted
    assert route_command(court, kind, severity) == wanted


def test_major_report_reaches_both_superiors_at_once(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    deliveries = list(report.deliveries.select_related("court"))
    assert [delivery.court.code for delivery in deliveries] == ["粤01", "粤"]
    assert [delivery.route for delivery in deliveries] == ["direct", "simultaneous"]
    assert len({delivery.sent_at for delivery in deliveries}) == 1
    assert route_command("粤0104", "violent_resistance", "major") == ["粤01", "粤"]


def test_routine_report_reaches_direct_superior_only(courts, staff):
    report = services.submit_report(
        staff["粤0104"], report_input(kind="work_progress", severity="routine")
    )

    assert [delivery.court.code for delivery in report.deliveries.all()] == ["粤01"]


def test_route_command_rejects_unknown_court(courts):
    with pytest.raises(CommandError, match="粤9999"):
        route_command("粤9999", "routine", "routine")


def test_route_command_rejects_unknown_severity(courts):
    with pytest.raises(CommandError, match="Unknown severity"):
        route_command("粤0104", "routine", "urgent")


def test_route_command_prints_names_without_json(courts):
    out = StringIO()

    call_command(
        "reports",
        "route",
        "--from",
        "粤0104",
        "--kind",
        "mass_incident",
        "--severity",
        "especially_major",
        stdout=out,
    )

    assert "广州市中级人民法院" in out.getvalue()
    assert "广东省高级人民法院" in out.getvalue()
