"""Typed texts of reports and instructions have a length limit, named in the error."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from zhixing.reports import services
from zhixing.reports.models import Instruction, SituationReport
from zhixing.reports.tests.conftest import report_input

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
TOO_LONG = "长" * (services.TEXT_MAX_CHARS + 1)


@pytest.mark.parametrize("field", ["narrative", "people_involved", "measures_taken"])
def test_long_report_text_rejected(staff, field):
    with pytest.raises(ValidationError) as raised:
        services.submit_report(staff["粤0104"], report_input(**{field: TOO_LONG}), now=NOW)

    message = raised.value.message_dict[field][0]
    assert str(services.TEXT_MAX_CHARS + 1) in message
    assert str(services.TEXT_MAX_CHARS) in message
    assert not SituationReport.objects.exists()


def test_report_at_limit_accepted(staff):
    text = "长" * services.TEXT_MAX_CHARS

    report = services.submit_report(staff["粤0104"], report_input(narrative=text), now=NOW)

    assert report.narrative == text


def test_long_instruction_rejected(staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    with pytest.raises(ValidationError) as raised:
        services.instruct(staff["粤01"], report, TOO_LONG, now=NOW)

    assert "text" in raised.value.message_dict
    assert not Instruction.objects.exists()
