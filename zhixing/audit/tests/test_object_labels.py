"""The audit page in the page's language: objects, purposes, field names and object types."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.functional import Promise

from zhixing.approvals import services as approvals
from zhixing.approvals.tests.conftest import DEBTOR_ID, NOW, exit_input
from zhixing.audit import display, objects
from zhixing.audit import services as audit
from zhixing.audit.context import Actor, acting_as
from zhixing.audit.models import AuditRecord
from zhixing.measures import services as measure_services
from zhixing.measures.models import MeasureDocument
from zhixing.measures.tests.conftest import HOME

pytestmark = pytest.mark.django_db


def table_of(user, language: str, params: dict[str, str]) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get("/audit/", params)
    assert response.status_code == 200
    page = response.content.decode()
    return page[page.index('data-testid="audit-table"') :]


def record_as(user, action: str, **values) -> AuditRecord:
    with acting_as(Actor(user=user, client_address="127.0.0.1", channel="web")):
        return audit.record(action, **values)


@pytest.fixture
def chinese_application(staff, case):
    """An exit restriction drafted by an officer whose pages are in Chinese."""
    with translation.override("zh-hans"):
        return approvals.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)


# Objects


def test_application_in_page_language(staff, chinese_application):
    head = staff["head0104"]
    number = chinese_application.case_number
    stored = AuditRecord.objects.filter(
        object_type="approvals.application", object_id=str(chinese_application.pk)
    ).first()
    assert stored is not None
    assert "限制出境" in stored.object_repr

    english = table_of(head, "en", {"object_type": "approvals.application"})
    chinese = table_of(head, "zh-hans", {"object_type": "approvals.application"})

    assert f"Exit restriction · {number}" in english
    assert "限制出境" not in english
    assert f"限制出境 · {number}" in chinese
    assert "Exit restriction" not in chinese


def test_application_step_in_page_language(staff, chinese_application):
    english = table_of(staff["head0104"], "en", {"object_type": "approvals.step"})

    assert f"Exit restriction · {chinese_application.case_number} · Drafted" in english
    assert f"{chinese_application.pk} drafted" not in english


def test_labels_hide_id_number(staff, chinese_application):
    for language in ("en", "zh-hans"):
        for object_type in ("approvals.application", "approvals.step", "approvals.revision"):
            table = table_of(staff["head0104"], language, {"object_type": object_type})
            assert DEBTOR_ID not in table


def test_measure_by_kind_label(staff, case, make_measure):
    measure = make_measure(case)

    table = table_of(staff["head0104"], "en", {"object_type": "measures.controlmeasure"})

    assert f"Seize real estate · #{measure.pk} · {case.case_number}" in table
    assert "seize_real_estate" not in table
    assert f"of case {case.pk}" not in table
    assert HOME["location"] not in table


def test_measure_document_by_kind_label(staff, case, make_measure):
    measure = make_measure(case)
    ruling = MeasureDocument.objects.get(step__measure=measure, kind="ruling_seize")
    with acting_as(Actor(user=staff["officer0104"], client_address="127.0.0.1", channel="web")):
        measure_services.record_document_download(staff["officer0104"], measure, ruling)

    table = table_of(staff["head0104"], "en", {"object_type": "measures.measuredocument"})

    assert f"Seize real estate · #{measure.pk} · {case.case_number}" in table
    assert "Enforcement ruling: seizure" in table
    assert "<dt>Purpose</dt><dd>Download of a measure document</dd>" in table
    assert "ruling_seize" not in table
    assert f"of measure {measure.pk}" not in table
    assert HOME["location"] not in table


def test_deleted_object_shows_stored_text(staff):
    head = staff["head0104"]
    record_as(
        head,
        audit.Action.DELETE,
        object_type="approvals.application",
        object_id="999999",
        object_repr="限制出境 (2026)粤0104执99号",
    )
    record_as(
        head,
        audit.Action.UPDATE,
        object_type="approvals.application",
        object_id="not-a-number",
        object_repr="stored text of a bad id",
    )

    record_as(
        head,
        audit.Action.UPDATE,
        object_type="approvals.application",
        object_id=str(2**70),
        object_repr="stored text of an id out of range",
    )

    table = table_of(head, "en", {"object_type": "approvals.application"})

    assert "限制出境 (2026)粤0104执99号" in table
    assert "stored text of a bad id" in table
    assert "stored text of an id out of range" in table


def test_export_counts_rows(staff):
    head = staff["head0104"]
    record_as(
        head,
        audit.Action.EXPORT,
        object_type="cases.enforcementcase",
        object_repr="8 cases",
        detail={"rows": 8, "truncated": False},
    )

    english = table_of(head, "en", {"action": "export"})

    assert '<span title="cases.enforcementcase">Enforcement case</span> 8 rows' in english
    assert "8 cases" not in english


def test_descriptions_one_query_per_model(staff, case, make_measure, chinese_application):
    make_measure(case)
    records = list(AuditRecord.objects.all())
    described = {
        record.object_type
        for record in records
        if record.object_id and record.object_type in objects.DESCRIBERS
    }
    assert len(described) >= 5
    assert len(records) > 2 * len(described)

    with CaptureQueriesContext(connection) as queries:
        descriptions = objects.object_descriptions(records)

    assert len(queries) == len(described)
    assert len(descriptions) >= len(described)


# Details


def test_purpose_by_label(staff, chinese_application):
    head = staff["head0104"]
    for purpose in ("lifting notice", "case detail", "a purpose without a label"):
        record_as(
            head,
            audit.Action.READ_PERSONAL,
            object_type="approvals.application",
            object_id=str(chinese_application.pk),
            detail={"fields": ["pdf"], "purpose": purpose},
        )

    table = table_of(head, "en", {"action": "read_personal"})

    assert "<dt>Purpose</dt><dd>Download of a lifting notice</dd>" in table
    assert "<dt>Purpose</dt><dd>Case detail page</dd>" in table
    assert "<dt>Purpose</dt><dd>a purpose without a label</dd>" in table
    assert "<dd>lifting notice</dd>" not in table
    assert "<dd>case detail</dd>" not in table


def test_pdf_field_by_label(staff, chinese_application):
    head = staff["head0104"]
    record_as(
        head,
        audit.Action.READ_PERSONAL,
        object_type="approvals.application",
        object_id=str(chinese_application.pk),
        detail={"fields": ["pdf"], "purpose": "approval application"},
    )

    english = table_of(head, "en", {"action": "read_personal"})
    chinese = table_of(head, "zh-hans", {"action": "read_personal"})

    assert "<dt>Fields shown</dt><dd>Sealed PDF</dd>" in english
    assert "<dd>盖章 PDF</dd>" in chinese
    assert "<dd>pdf</dd>" not in english
    assert "<dd>pdf</dd>" not in chinese


def test_purposes_are_translatable():
    for code, label in display.PURPOSE_LABELS.items():
        assert isinstance(label, Promise), code


# Object type filter


def test_object_types_are_translatable():
    for object_type, _label in display.object_type_choices():
        model = display.audited_model(object_type)
        if model is None:
            continue
        name = display.MODEL_LABELS.get(object_type, model._meta.verbose_name)
        assert isinstance(name, Promise), object_type
