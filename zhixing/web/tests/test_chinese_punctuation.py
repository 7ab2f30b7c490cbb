"""Chinese pages put full-width punctuation around names and lists; English pages keep ASCII."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from zhixing.cases.tests.test_views import file_case
from zhixing.command import services as command_services
from zhixing.reports import services as report_services
from zhixing.reports.tests.conftest import report_input

pytestmark = pytest.mark.django_db

SIGNED_AT = datetime.datetime(2026, 12, 5, 23, 41, tzinfo=datetime.UTC)  # 07:41 in China


def page(user, path: str, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_duty_sign_in_full_width_brackets(courts, make_user):
    duty = make_user("duty0104", "粤0104", "duty_officer")
    duty.full_name = "高指挥"
    duty.save(update_fields=["full_name"])
    commander = make_user("commander01", "粤01", "commander")
    command_services.sign_in(duty, now=SIGNED_AT)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: SIGNED_AT)
        chinese = page(commander, "/command/duty/", "zh-hans")
        english = page(commander, "/command/duty/", "en")

    name = courts["粤0104"].name
    assert f"{name}（高指挥，07:41）" in chinese
    assert "(高指挥, 07:41)" not in chinese
    assert f"{name} (高指挥, 07:41)" in english


def test_parent_order_chinese_punctuation(courts, make_user):
    commanders = {code: make_user(f"c{code}", code, "commander") for code in ("粤", "粤01")}
    now = timezone.now()
    parent = command_services.issue_order(
        commanders["粤"],
        title="清理积案",
        task="报告进度。",
        recipients=[courts["粤01"]],
        deadline=now + datetime.timedelta(days=3),
        now=now,
    )
    child = command_services.pass_down(
        commanders["粤01"],
        parent.recipients.get(court=courts["粤01"]),
        courts=[courts["粤0104"]],
        deadline=now + datetime.timedelta(days=2),
        note="",
        now=now,
    )

    chinese = page(commanders["粤01"], f"/command/{child.pk}/", "zh-hans")
    english = page(commanders["粤01"], f"/command/{child.pk}/", "en")

    parent_text = re.search(r'data-testid="parent">(.*?)</span>', chinese).group(1)
    assert parent_text.startswith(f"{courts['粤'].name}：清理积案（回复期限 ")
    assert parent_text.endswith("）")
    parent_text = re.search(r'data-testid="parent">(.*?)</span>', english).group(1)
    assert parent_text.startswith(f"{courts['粤'].name}: 清理积案 (reply by ")


def test_report_lists_chinese_separator(courts, make_user):
    reporter = make_user("commander0104", "粤0104", "commander")
    file_case(courts["粤0104"])
    file_case(courts["粤0104"], debtor="李四", debtor_id="")
    numbers = [case.case_number for case in courts["粤0104"].cases.order_by("pk")]
    report = report_services.submit_report(reporter, report_input(case_numbers=numbers))

    detail = page(reporter, f"/reports/{report.pk}/", "zh-hans")
    linked = re.search(r"<dd><a href=\"/cases/.*?</dd>", detail).group(0)
    assert "</a>、<a" in linked
    assert ", " not in linked

    listing = page(reporter, "/reports/", "zh-hans")
    sent = re.search(r'data-testid="sent-\d+">(.*?)</tr>', listing, re.S).group(1)
    assert "、" in sent
    assert ", " not in sent
    english = page(reporter, "/reports/", "en")
    assert ", " in re.search(r'data-testid="sent-\d+">(.*?)</tr>', english, re.S).group(1)
