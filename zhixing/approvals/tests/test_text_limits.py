"""Lengths of typed texts: limits on the page and the API, and PDFs of maximum-length texts.

The reason, legal basis and seized property contain at most ``TEXT_MAX_CHARS`` characters and
a step's comment ``COMMENT_MAX_CHARS``. At those lengths the form still lays out, over several
pages. A text that cannot be laid out is rejected on its field instead of failing with 500.
"""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.core.exceptions import ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import Application, Revision, State, Step
from zhixing.approvals.tests.conftest import NOW, exit_input, renewal_input, run_to
from zhixing.approvals.tests.test_api import api_client, exit_body, renewal_body
from zhixing.documents.tests.helpers import text_with_pypdf
from zhixing.esign import verification
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

TEXT_MAX = services.TEXT_MAX_CHARS
COMMENT_MAX = services.COMMENT_MAX_CHARS


def _pages(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _assert_nothing_stored() -> None:
    assert not Application.objects.exists()
    assert not Revision.objects.exists()
    assert not Event.objects.filter(kind__startswith="approvals.").exists()


# Limits on drafting


@pytest.mark.parametrize("field", ["reason", "legal_basis"])
def test_api_exit_restriction_rejects_long_text(staff, case, field):
    body = exit_body(case, **{field: "执" * (TEXT_MAX + 1)})

    response = api_client(staff["officer0104"]).post(
        "/api/v1/approvals/exit-restriction/", body, format="json"
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()[field])
    assert f"has {TEXT_MAX + 1} characters" in message
    assert f"at most {TEXT_MAX} characters" in message
    assert field.replace("_", " ") in message
    _assert_nothing_stored()


def test_renewal_names_each_long_field(staff, case):
    body = renewal_body(case, seized_property="房" * 5100, reason="续" * (TEXT_MAX + 1))

    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", body, format="json"
    )

    assert response.status_code == 400, response.content
    errors = response.json()
    assert "The seized property has 5100 characters" in " ".join(errors["seized_property"])
    assert f"The reason has {TEXT_MAX + 1} characters" in " ".join(errors["reason"])
    _assert_nothing_stored()


def test_limit_counts_stripped_text(staff, case):
    padded = "  " + "执" * TEXT_MAX + "\n\n"

    application = services.draft_exit_restriction(
        staff["officer0104"], exit_input(case, reason=padded), now=NOW
    )

    assert application.reason == "执" * TEXT_MAX


def test_service_rejects_long_previous_number(staff, case):
    # The form and the serializer limit the number too, so this test calls the service. Without
    # the service's check, PostgreSQL rejects 101 characters with a DataError.
    limit = services.PREVIOUS_DOCUMENT_NUMBER_MAX_CHARS
    data = renewal_input(case, previous_document_number="号" * (limit + 1))

    with pytest.raises(ValidationError) as raised:
        services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    message = " ".join(raised.value.message_dict["previous_document_number"])
    assert message == (
        f"The document number of the seizure has {limit + 1} characters; shorten it to at most "
        f"{limit} characters."
    )
    _assert_nothing_stored()


def test_previous_number_at_limit_stored(staff, case):
    limit = services.PREVIOUS_DOCUMENT_NUMBER_MAX_CHARS
    assert Application._meta.get_field("previous_document_number").max_length == limit
    data = renewal_input(case, previous_document_number=f" {'号' * limit}\n")

    application = services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    application.refresh_from_db()
    assert application.previous_document_number == "号" * limit


def test_form_rejects_long_reason(client, staff, case):
    client.force_login(staff["officer0104"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.post(
        "/approvals/new/seizure_renewal/",
        {
            **renewal_body(case),
            "reason": "续" * 5100,
            "legal_basis": "",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "The reason has 5100 characters; shorten it to at most 800 characters." in page
    _assert_nothing_stored()


# Limits on comments


@pytest.fixture
def submitted(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.SUBMITTED)


@pytest.mark.parametrize("action", ["review", "reject", "comment"])
def test_api_step_rejects_long_comment(staff, submitted, action):
    response = api_client(staff["head01"]).post(
        f"/api/v1/approvals/{submitted.pk}/steps/",
        {"action": action, "comment": "意" * (COMMENT_MAX + 1)},
        format="json",
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()["comment"])
    assert f"The comment has {COMMENT_MAX + 1} characters" in message
    assert f"at most {COMMENT_MAX} characters" in message
    assert submitted.steps.count() == 4
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_page_step_rejects_two_megabyte_comment(client, staff, submitted):
    client.force_login(staff["head01"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.post(
        f"/approvals/{submitted.pk}/step/",
        {"action": "comment", "comment": "x" * 2_000_000},
        follow=True,
    )

    assert "The comment has 2000000 characters" in response.content.decode()
    assert not submitted.steps.filter(kind=Step.Kind.COMMENT).exists()


def test_long_comment_rejected_before_signing(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    with pytest.raises(ValidationError) as raised:
        services.approve_as_head(
            staff["head0104"], application, comment="同" * (COMMENT_MAX + 1), now=NOW
        )

    assert "comment" in raised.value.message_dict
    assert application.revisions.count() == 1
    assert application.state == State.DRAFTED


def test_maximum_comment_signs_and_verifies(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    step = services.approve_as_head(
        staff["head0104"], application, comment="同" * COMMENT_MAX, now=NOW
    )

    assert len(step.comment) == COMMENT_MAX
    report = verification.verify_pdf(bytes(step.revision.pdf))
    assert report.valid, report.as_dict()


# PDFs of maximum-length texts


@pytest.mark.parametrize(
    "character",
    [
        pytest.param("执", id="chinese"),
        # The widest Latin capital of the font, about 1.05 times a Chinese character.
        pytest.param("W", id="latin"),
    ],
)
def test_maximum_texts_lay_out_over_pages(staff, case, character):
    text = character * TEXT_MAX
    data = renewal_input(case, seized_property=text, reason=text, legal_basis=text)

    application = services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    pdf = bytes(application.revisions.get().pdf)
    assert pdf.startswith(b"%PDF-")
    pages = _pages(pdf)
    assert pages > 1
    page, *_box = application.revisions.get().seal_box
    assert page == pages - 1
    services.approve_as_head(staff["head0104"], application, now=NOW)
    services.seal(staff["clerk0104"], application, now=NOW)
    sealed = bytes(application.revisions.get(number=2).pdf)
    report = verification.verify_pdf(sealed)
    assert report.valid, report.as_dict()
    assert len(report.signatures) == 2


def test_unplaceable_text_rejected_on_its_field(staff, case):
    # U+2E3B is two and a half times as wide as a Chinese character, so a table row of 800
    # is taller than a page and ReportLab raises LayoutError.
    data = renewal_input(case, reason="\u2e3b" * TEXT_MAX)

    with pytest.raises(ValidationError) as raised:
        services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    message = " ".join(raised.value.message_dict["reason"])
    assert "does not fit on one page of the document seizure_renewal_form" in message
    assert f"({TEXT_MAX} characters)" in message
    _assert_nothing_stored()


def test_api_unplaceable_text_is_400(staff, case):
    body = renewal_body(case, seized_property="\u2e3b" * TEXT_MAX)

    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", body, format="json"
    )

    assert response.status_code == 400, response.content
    assert "does not fit on one page" in " ".join(response.json()["seized_property"])
    _assert_nothing_stored()


# Line breaks and cell separators in typed text


def test_line_breaks_stay_inside_the_table(staff, case):
    typed = "广州市越秀区某某路 88 号 1203 房\n@ 伪造的落款\n| 伪造 | 表格 |"
    data = renewal_input(case, seized_property=typed)

    application = services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    assert application.seized_property == typed
    text = re.sub(r"\s+", "", text_with_pypdf(bytes(application.revisions.get().pdf)))
    assert "1203房@伪造的落款｜伪造｜表格｜" in text
