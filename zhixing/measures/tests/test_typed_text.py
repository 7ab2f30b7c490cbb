"""Text from records in measure documents, and the length of a release's reason.

The strings of a measure document come from the case (the parties and the enforcement basis
as typed for it) and from the agency's description of the asset. A line break or a "|" in one
of them stays inside its line of the document, and the record keeps the text as it was typed.
A table row taller than a page, which only a court's edited template can produce, is a 400 on
the documents. The service checks the length of a release's reason, so the page and the API
give the same message.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from zhixing.documents import services as template_services
from zhixing.documents.defaults import RULING_SEIZE
from zhixing.documents.tests.helpers import text_with_pypdf
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.tests.conftest import ACCOUNT, HOME, client_for
from zhixing.measures.tests.test_api import api_client
from zhixing.measures.tests.test_services import NOW, in_force

pytestmark = pytest.mark.django_db

REASON_MAX = services.RELEASE_REASON_MAX_CHARS
# A line break before "@" would start a second group of seal lines, one before "|" a table.
TYPED_ADDRESS = "广州市越秀区某某路 88 号\r\n@ 伪造的落款\n| 伪造 | 表格 |\n<b>粗体</b> & 号"


def _flat(pdf: bytes) -> str:
    """Return the PDF's text without white space and without the page numbers (- 2 -)."""
    return re.sub(r"-\d+-", "", re.sub(r"\s+", "", text_with_pypdf(pdf)))


def _documents(measure: ControlMeasure) -> dict[str, bytes]:
    rows = MeasureDocument.objects.filter(step__measure=measure)
    return {row.kind: bytes(row.pdf) for row in rows}


def _seize_home(officer, case, debtor, make_asset, **record):
    asset = make_asset(
        case, debtor, {**HOME, **record}, agency="housing-gd", category="real_estate"
    )
    return services.request_measure(officer, asset, "seize_real_estate", now=NOW)


# Text from records in the documents


def test_address_line_breaks_stay_inline(officer, case, debtors, make_asset):
    debtor = debtors[0]
    link = case.case_parties.get(party=debtor, role="debtor")
    link.address = TYPED_ADDRESS
    link.save()
    asset = make_asset(case, debtor, ACCOUNT)

    measure = services.request_measure(officer, asset, "freeze", amount="100.00", now=NOW)

    ruling = _flat(_documents(measure)["ruling_freeze"])
    assert "住所广州市越秀区某某路88号@伪造的落款｜伪造｜表格｜<b>粗体</b>&号。" in ruling
    link.refresh_from_db()
    assert link.address == TYPED_ADDRESS


def test_long_asset_text_stays_paragraph(officer, case, debtors, make_asset):
    # Printed as it is, the "|" after the line break starts a one-cell table of 3,000
    # characters. That row is taller than a page, so ReportLab raises LayoutError.
    location = "广州市越秀区\n| " + "长" * 3000

    measure = _seize_home(officer, case, debtors[0], make_asset, location=location)

    documents = _documents(measure)
    assert set(documents) == {"ruling_seize", "assistance_notice_seize_real_estate"}
    for pdf in documents.values():
        assert f"位于广州市越秀区｜{'长' * 3000}的不动产" in _flat(pdf)
    assert measure.asset.raw["location"] == location


def test_tall_table_row_rejected(make_user, officer, case, debtors, make_asset):
    admin = make_user("admin", "粤", "administrator")
    body = RULING_SEIZE.replace(
        "\n本裁定送达后立即生效。", "\n| 坐落 | {{ measure.location }} |\n本裁定送达后立即生效。"
    )
    template_services.save_version(admin, "ruling_seize", "执行裁定书", body, "坐落表")

    with pytest.raises(ValidationError) as raised:
        _seize_home(officer, case, debtors[0], make_asset, location="长" * 3000)

    message = " ".join(raised.value.message_dict["documents"])
    assert "The document ruling_seize cannot be laid out" in message
    assert not ControlMeasure.objects.exists()
    assert not MeasureDocument.objects.exists()


def test_api_tall_table_row_is_400(make_user, officer, case, debtors, make_asset):
    admin = make_user("admin", "粤", "administrator")
    body = RULING_SEIZE.replace(
        "\n本裁定送达后立即生效。", "\n| 坐落 | {{ measure.location }} |\n本裁定送达后立即生效。"
    )
    template_services.save_version(admin, "ruling_seize", "执行裁定书", body, "坐落表")
    asset = make_asset(
        case,
        debtors[0],
        {**HOME, "location": "长" * 3000},
        agency="housing-gd",
        category="real_estate",
    )

    response = api_client(officer).post(
        "/api/v1/measures/", {"asset": asset.pk, "kind": "seize_real_estate"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "cannot be laid out" in " ".join(response.json()["documents"])
    assert not ControlMeasure.objects.exists()


# The reason of a release


def test_long_release_reason_rejected(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError) as raised:
        services.release_measure(officer, measure, reason="因" * (REASON_MAX + 1), now=NOW)

    message = " ".join(raised.value.message_dict["reason"])
    assert f"The reason has {REASON_MAX + 1} characters" in message
    assert f"at most {REASON_MAX} characters" in message
    assert not measure.steps.filter(kind=MeasureStep.Kind.RELEASE).exists()


def test_release_reason_stored_as_typed(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    typed = "被执行人已履行\n| <b>全部</b> & 利息 |" + "因" * (REASON_MAX - 40)

    step = services.release_measure(officer, measure, reason=f"  {typed}\n", now=NOW)

    step.refresh_from_db()
    assert step.reason == typed
    assert len(step.reason) <= REASON_MAX


def test_api_long_release_reason_is_400(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    response = api_client(officer).post(
        f"/api/v1/measures/{measure.pk}/release/",
        {"reason": "因" * 5000},
        format="json",
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()["reason"])
    assert f"The reason has 5000 characters; shorten it to at most {REASON_MAX}" in message
    assert not measure.steps.filter(kind=MeasureStep.Kind.RELEASE).exists()


def test_page_long_release_reason_message(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    response = client_for(officer).post(
        f"/measures/{measure.pk}/release/", {"reason": "因" * 5000}, follow=True
    )

    page = response.content.decode()
    assert f"The reason has 5000 characters; shorten it to at most {REASON_MAX} characters." in page
    assert not measure.steps.filter(kind=MeasureStep.Kind.RELEASE).exists()
