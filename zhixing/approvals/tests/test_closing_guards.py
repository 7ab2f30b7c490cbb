"""Ways around the closing guard (imports, a lifting not yet answered), and lifting by the API."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation
from openpyxl import Workbook

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import DEBTOR_ID
from zhixing.approvals.tests.test_api import take
from zhixing.approvals.tests.test_lifting import LIFT_REASON, close, refusal, restriction
from zhixing.approvals.tests.test_lifting_release import (
    answer_release,
    registered_restriction,
    release_items,
)
from zhixing.cases import importing
from zhixing.cases import services as case_services
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_import import HEADERS

pytestmark = pytest.mark.django_db


def import_row(user, tmp_path, case, *, closing: str, closed: datetime.date):
    values = [
        case.case_number,
        case.filed_on.isoformat(),
        "民事判决书",
        "（2025）粤0104民初5678号",
        "广州市越秀区人民法院",
        "林晓峰",
        "身份证",
        make_resident_id("440106", "19790304", 135),
        "黄志强",
        "身份证",
        DEBTOR_ID,
        "356800",
        "",
        "",
        "已结案",
        closing,
        closed.isoformat(),
        "",
    ]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append(values)
    path = tmp_path / "close.xlsx"
    workbook.save(path)
    return importing.import_file(user, path, all_or_nothing=False)


def test_import_refuses_closing_with_measure(staff, case, make_measure, tmp_path):
    seizure = make_measure(case)
    assert seizure.is_active
    refusal(case)  # close_case, behind the page and the API, rejects the closing

    today = case_services.today_in_china()
    result = import_row(staff["clerk0104"], tmp_path, case, closing="执行完毕", closed=today)

    case.refresh_from_db()
    assert case.status == "open"
    assert len(result.errors) == 1


def test_import_keeps_terminated_mode(staff, case, make_measure, tmp_path):
    make_measure(case)
    close(case, "terminated_without_assets")
    case.refresh_from_db()

    result = import_row(
        staff["clerk0104"], tmp_path, case, closing="执行完毕", closed=case.closed_on
    )

    case.refresh_from_db()
    assert case.closing_mode == "terminated_without_assets"
    assert len(result.errors) == 1


def test_closing_while_release_unanswered(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    assert item.state == "pending"

    with translation.override("en"):
        message = refusal(case)

    assert application.person_name in message
    assert "not yet released by border control" in message
    assert "to lift them" not in message


def test_closing_after_release_answered(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    answer_release(police, item, {"type": "release", "result": "done"})

    closed = close(case)

    assert closed.is_closed


@pytest.mark.parametrize("name", ["commander01", "head01", "head0104", "commander0104"])
def test_api_lift_wrong_court(staff, case, name):
    application = restriction(staff, case)
    response = take(staff[name], application.pk, "lift", LIFT_REASON)
    application.refresh_from_db()
    assert response.status_code in (403, 404), response.status_code
    assert application.state == State.EXECUTED


def test_api_lift_rejected_application(staff, case):
    application = restriction(staff, case, State.RECEIVED)
    services.reject(staff["head00"], application, comment="不予批准", now=None)
    response = take(staff["commander00"], application.pk, "lift", LIFT_REASON)
    application.refresh_from_db()
    assert response.status_code == 400, response.status_code
    assert application.state == State.REJECTED
