"""Nested values of audit details: labelled keys, labelled codes and masked personal values.

Services record mappings inside a detail, such as the facts of a border-control request that
an exit restriction hands over (``BorderControlHandover.as_detail``) and an agency's answer to
it. The audit page shows each key of such a value by its label, codes of model choices by
their labels, and never a value under a personal key.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from zhixing.audit import display
from zhixing.audit import services as audit
from zhixing.audit.context import Actor, acting_as
from zhixing.audit.models import AuditRecord

ID_NUMBER = "440104199001011234"
PHONE = "13900001111"
STREET = "中山五路"
ITEM_ID = "6f1c2b7e-2f1d-5c38-9a57-0c1f0e6b9d41"
SHA256 = "ab" * 32

ANSWER = {
    "border_control": {
        "result": "partial",
        "start": "2026-03-01",
        "end": "2026-08-31",
        "reason": "护照已登记",
    }
}
HANDOVER = {
    "border_control": {
        "agency": "gd-police",
        "category": "exit_entry",
        "action": "restrict_exit",
        "item_id": ITEM_ID,
        "document_sha256": SHA256,
        "period_start": "2026-03-01",
        "period_end": "2026-08-31",
        "sent": True,
        "gap": "",
    }
}
PERSONAL = {
    "border_control": {
        "result": "done",
        "person_document_number": ID_NUMBER,
        "phone": PHONE,
        "address": {"street": STREET},
    },
    "answers": [{"status": "found", "identifier": ID_NUMBER}],
    "phone": PHONE,
    "changes": {"phone": [PHONE, "13900002222"], "full_name": ["auditee", "新名字"]},
}


def lines_of(object_type: str, detail: dict[str, Any], language: str = "en") -> list[Any]:
    """Return the detail lines as ``(label, text)``, or ``(label, [parts])`` for nested ones."""

    def plain(line: display.DetailLine) -> Any:
        if line.parts:
            return (line.label, [plain(part) for part in line.parts])
        return (line.label, line.text)

    entry = AuditRecord(object_type=object_type, detail=detail)
    with translation.override(language):
        return [plain(line) for line in display.detail_lines(entry)]


def texts_of(lines: list[display.DetailLine]) -> list[str]:
    """Return every label and text of ``lines`` and of their parts, at any depth."""
    texts = []
    for line in lines:
        texts += [line.label, line.text, *texts_of(list(line.parts))]
    return texts


# Unit: detail lines


def test_unit_answer_in_english():
    assert lines_of("approvals.application", ANSWER) == [
        (
            "Border control",
            [
                ("Result", "Partly done"),
                ("Start", "2026-03-01"),
                ("End", "2026-08-31"),
                ("Reason", "护照已登记"),
            ],
        )
    ]


def test_unit_answer_in_chinese():
    assert lines_of("approvals.application", ANSWER, "zh-hans") == [
        (
            "边控",
            [
                ("结果", "部分完成"),
                ("起始日期", "2026-03-01"),
                ("截止日期", "2026-08-31"),
                ("原因", "护照已登记"),
            ],
        )
    ]


def test_unit_answer_text_one_line():
    entry = AuditRecord(object_type="approvals.application", detail=ANSWER)

    with translation.override("en"):
        [line] = display.detail_lines(entry)

    assert (
        line.text == "Result: Partly done; Start: 2026-03-01; End: 2026-08-31; Reason: 护照已登记"
    )


def test_unit_handover_in_english():
    assert lines_of("approvals.application", HANDOVER) == [
        (
            "Border control",
            [
                ("Agency", "gd-police"),
                ("Category", "Exit and entry records"),
                ("Action", "Restrict exit"),
                ("Gateway item id", ITEM_ID),
                ("Period start", "2026-03-01"),
                ("Period end", "2026-08-31"),
                ("Sent through the gateway", "yes"),
                ("Why the gateway cannot send it", "—"),
                ("SHA-256 of the sealed document", SHA256),
            ],
        )
    ]


def test_unit_handover_in_chinese():
    [(label, parts)] = lines_of("approvals.application", HANDOVER, "zh-hans")

    assert label == "边控"
    assert ("联动单位", "gd-police") in parts
    assert ("查询类别", "出入境记录") in parts
    assert ("操作", "限制出境") in parts
    assert ("期限起始日", "2026-03-01") in parts
    assert ("期限届满日", "2026-08-31") in parts
    assert all(code not in str(parts) for code in ("exit_entry", "restrict_exit"))


def test_unit_unknown_keys_codes_kept():
    detail = {"border_control": {"result": "postponed", "courier_note": "handed over", "x": None}}

    assert lines_of("approvals.application", detail) == [
        (
            "Border control",
            [("Result", "postponed"), ("Courier note", "handed over"), ("X", "—")],
        )
    ]


def test_unit_list_values():
    detail = {
        "categories": ["bank_account", "exit_entry", "no_such_category"],
        "renewals": [{"measure_id": 3, "period_months": 6}, {"measure_id": 4}, "late", []],
    }

    assert lines_of("inquiry.queryrequest", detail) == [
        ("Categories", "Bank accounts, Exit and entry records, no_such_category"),
        (
            "renewals",
            [
                ("1", [("Measure id", "3"), ("Period (months)", "6")]),
                ("2", [("Measure id", "4")]),
                ("3", "late"),
                ("4", "—"),
            ],
        ),
    ]


def test_unit_list_values_in_chinese():
    detail = {"categories": ["bank_account", "exit_entry"], "renewals": [{"measure_id": 3}]}

    assert lines_of("inquiry.queryrequest", detail, "zh-hans") == [
        ("查询类别", "银行账户、出入境记录"),
        ("renewals", [("1", [("措施 ID", "3")])]),
    ]


def test_unit_top_level_codes_labelled():
    measure = {"event": "measure_step_failed", "step": "renew", "gateway_state": "expired"}
    analysis = {"kind": "mass_incident", "severity": "major"}
    manual = {"event": "manual_answer", "status": "not_found", "records": 0}

    assert lines_of("measures.controlmeasure", measure) == [
        ("Event", "Measure step failed"),
        ("Step", "Renew"),
        ("Gateway state", "Expired"),
    ]
    assert lines_of("reports.analysis", analysis) == [
        ("Kind", "Mass incident"),
        ("Severity", "Major"),
    ]
    assert lines_of("linkage.gatewayitem", manual, "zh-hans")[1] == ("状态", "未找到")


def test_unit_odd_values_never_crash():
    detail = {
        "border_control": {"deep": {"deeper": [[1, {"a": True}], {}]}, "empty": {}},
        "nested_lists": [[1, 2], [3]],
        "measure_renewal": {},
    }

    lines = lines_of("gone.model", detail)

    assert lines[0] == (
        "Border control",
        [
            ("Deep", [("Deeper", [("1", [("1", "1"), ("2", [("A", "yes")])]), ("2", "—")])]),
            ("Empty", "—"),
        ],
    )
    assert lines[1] == ("Renewal", "—")
    assert lines[2] == ("nested_lists", [("1", "1, 2"), ("2", "3")])


def test_unit_personal_values_hidden():
    entry = AuditRecord(object_type="courts.user", detail=PERSONAL)

    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts = texts_of(display.detail_lines(entry))
        all_text = " ".join(texts)
        assert ID_NUMBER not in all_text
        assert PHONE not in all_text
        assert "13900002222" not in all_text
        assert STREET not in all_text

    lines = lines_of("courts.user", PERSONAL)

    assert ("Phone", "personal data, not shown") in lines
    assert ("Full name", "auditee → 新名字") in lines
    border_control = dict(lines)["Border control"]
    assert ("Document number", "personal data, not shown") in border_control
    assert ("Address", "personal data, not shown") in border_control
    assert dict(lines)["answers"] == [
        ("1", [("Status", "Found"), ("Identifier", "personal data, not shown")])
    ]
    chinese_labels = [
        label for label, _text in dict(lines_of("courts.user", PERSONAL, "zh-hans"))["边控"]
    ]
    assert chinese_labels == ["结果", "证件号码", "地址", "电话"]


def test_unit_personal_field_change_hidden():
    detail = {
        "changes": {"asset_label": [f"广州市越秀区{STREET}1号", "—"], "state": ["sent", "in_force"]}
    }

    assert lines_of("measures.controlmeasure", detail) == [
        ("Asset", "personal data, not shown"),
        ("State", "Sent to the agency → In force"),
    ]


def test_unit_personal_change_says_changed():
    detail = {"changes": {"phone": "changed"}, "border_control": {"phone": "changed"}}

    assert lines_of("courts.user", detail) == [
        ("Phone", "changed; the values are not recorded"),
        ("Border control", [("Phone", "changed; the values are not recorded")]),
    ]


# Case: the audit page


@pytest.fixture
def head(make_user):
    return make_user("head", "粤0104", "bureau_head")


def page_of(user, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get("/audit/", {"object_type": "approvals.application"})
    assert response.status_code == 200
    page = response.content.decode()
    return page[page.index('data-testid="audit-table"') :]


def record_application(head, detail: dict[str, Any]) -> None:
    with acting_as(Actor(user=head, client_address="127.0.0.1", channel="web")):
        audit.record(
            audit.Action.UPDATE,
            object_type="approvals.application",
            object_id="7",
            object_repr="限制出境申请 7",
            detail=detail,
        )


@pytest.mark.django_db
def test_case_page_nests_answer_handover(head):
    record_application(head, {"event": "border_control_answered", "result": "done", **ANSWER})
    record_application(head, HANDOVER)

    english = page_of(head, "en")
    chinese = page_of(head, "zh-hans")

    assert (
        '<dt>Border control</dt><dd><dl class="facts"><dt>Result</dt><dd>Partly done</dd>'
        "<dt>Start</dt><dd>2026-03-01</dd>"
    ) in english
    assert "<dt>Result</dt><dd>Done</dd>" in english
    assert "<dt>Action</dt><dd>Restrict exit</dd>" in english
    assert '<dt>边控</dt><dd><dl class="facts"><dt>结果</dt><dd>部分完成</dd>' in chinese
    assert "<dt>操作</dt><dd>限制出境</dd>" in chinese
    for page in (english, chinese):
        assert "result=" not in page
        assert "border_control" not in page
        assert "restrict_exit" not in page


@pytest.mark.django_db
def test_case_page_hides_personal_values(head):
    record_application(head, PERSONAL)

    for language in ("en", "zh-hans"):
        page = page_of(head, language)
        assert ID_NUMBER not in page
        assert PHONE not in page
        assert STREET not in page
    assert "<dt>Address</dt><dd>personal data, not shown</dd>" in page_of(head, "en")
