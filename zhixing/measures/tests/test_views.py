"""Pages of measures: the form from an asset, lists, detail, documents, renewal and scope."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from django.utils import timezone

from zhixing.audit.models import AuditRecord
from zhixing.esign import verification
from zhixing.measures import services
from zhixing.measures.kinds import SPECS
from zhixing.measures.models import ControlMeasure, MeasureDocument
from zhixing.measures.rules import renewal_opens_on
from zhixing.measures.tests.conftest import ACCOUNT, CAR, HOME, answer_step, client_for


@pytest.fixture
def asset(case, debtors, make_asset):
    return make_asset(case, debtors[0], ACCOUNT)


@pytest.fixture
def measure(officer, asset):
    """A freeze of 6 months in force, so that its renewal window (the last 6 months) is open."""
    measure = services.request_measure(officer, asset, "freeze", amount="50000.00", period_months=6)
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    services.sync_gateway_states()
    measure.refresh_from_db()
    return measure


def test_assets_page_links_to_form(officer, case, asset, make_user):
    page = client_for(officer).get(f"/inquiry/cases/{case.pk}/assets/").content.decode()
    assert f'data-testid="measure-button-{asset.pk}"' in page

    clerk_page = client_for(make_user("clerk", "粤0104", "clerk")).get(
        f"/inquiry/cases/{case.pk}/assets/"
    )
    assert "measure-button" not in clerk_page.content.decode()


def test_form_shows_balance_currency(officer, case, debtors, make_asset):
    dollars = make_asset(case, debtors[0], {**ACCOUNT, "balance": "100.00", "currency": "USD"})

    page = client_for(officer).get(f"/measures/assets/{dollars.pk}/new/").content.decode()

    assert 'data-testid="reported-balance">100.00 USD<' in page
    assert "Reported balance (yuan)" not in page


def test_form_shows_period_and_creates(officer, asset):
    client = client_for(officer)
    page = client.get(f"/measures/assets/{asset.pk}/new/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="periods"' in text
    # The English page writes the period in English; only the sealed documents write 一年.
    assert "<td>1 year</td>" in text
    assert "一年" not in text
    assert '<option value="1">1 month</option>' in text
    assert '<option value="12">12 months</option>' in text
    assert "621226*********0123" in text
    assert ACCOUNT["account_number"] not in text

    response = client.post(
        f"/measures/assets/{asset.pk}/new/", {"kind": "freeze", "amount": "1000.00"}
    )

    measure = ControlMeasure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/measures/{measure.pk}/"


def test_form_errors_name_field(officer, asset):
    response = client_for(officer).post(
        f"/measures/assets/{asset.pk}/new/", {"kind": "freeze", "amount": ""}
    )

    assert response.status_code == 400
    assert 'id="id_amount-error"' in response.content.decode()
    assert not ControlMeasure.objects.exists()


def test_form_forbidden_to_clerk(make_user, asset):
    response = client_for(make_user("clerk", "粤0104", "clerk")).get(
        f"/measures/assets/{asset.pk}/new/"
    )
    assert response.status_code == 403


def test_lists_and_detail(officer, case, measure):
    client = client_for(officer)

    for url in ("/measures/", f"/measures/cases/{case.pk}/", f"/measures/{measure.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert ACCOUNT["account_number"] not in text
    detail = client.get(f"/measures/{measure.pk}/").content.decode()
    assert 'data-testid="renew"' in detail
    assert 'data-testid="release"' in detail


def test_document_download_audited(officer, measure):
    document = MeasureDocument.objects.filter(role="notice").get()

    response = client_for(officer).get(f"/measures/documents/{document.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert verification.verify_pdf(response.content).valid
    read = AuditRecord.objects.filter(action="read_personal", object_id=str(document.pk)).get()
    assert read.detail["measure_id"] == measure.pk


@pytest.mark.parametrize(
    ("username", "court", "role"),
    [("sibling", "粤0105", "commander"), ("other_city", "粤03", "commander")],
)
def test_scope_404(make_user, case, asset, measure, username, court, role):
    client = client_for(make_user(username, court, role))
    document = MeasureDocument.objects.first()

    for url in (
        f"/measures/{measure.pk}/",
        f"/measures/cases/{case.pk}/",
        f"/measures/assets/{asset.pk}/new/",
        f"/measures/documents/{document.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/measures/{measure.pk}/renew/", {"period_months": 12}).status_code == 404
    assert client.post(f"/measures/{measure.pk}/release/", {"reason": "x"}).status_code == 404
    assert f"/measures/{measure.pk}/" not in client.get("/measures/").content.decode()


def test_superior_sees_but_police_may_not_download(make_user, measure):
    commander = client_for(make_user("cmd", "粤", "commander"))
    assert commander.get(f"/measures/{measure.pk}/").status_code == 200
    police = client_for(make_user("police", "粤0104", "judicial_police"))
    document = MeasureDocument.objects.first()

    assert police.get(f"/measures/{measure.pk}/").status_code == 200
    assert police.get(f"/measures/documents/{document.pk}/").status_code == 403


def test_renew_and_release_buttons(officer, measure):
    client = client_for(officer)

    response = client.post(f"/measures/{measure.pk}/renew/", {"period_months": 12})
    assert response.status_code == 302
    assert measure.steps.filter(kind="renew").exists()

    refused = client.post(f"/measures/{measure.pk}/release/", {"reason": "paid"}, follow=True)
    assert "awaits" in refused.content.decode()


def test_period_preview_english(officer, asset):
    # Without an amount the form is shown again, with the preview of the chosen period.
    response = client_for(officer).post(
        f"/measures/assets/{asset.pk}/new/", {"kind": "freeze", "period_months": "12"}
    )
    preview = response.content.decode().split('data-testid="period-preview">')[1]
    assert preview.startswith("The chosen period: 1 year, from ")


def test_detail_explains_early_renewal(officer, asset):
    measure = services.request_measure(officer, asset, "freeze", amount="50000.00")
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    measure.refresh_from_db()
    opens = renewal_opens_on(measure.end_date)
    client = client_for(officer)

    detail = client.get(f"/measures/{measure.pk}/").content.decode()
    response = client.post(f"/measures/{measure.pk}/renew/", {"period_months": 12}, follow=True)

    assert 'data-testid="renew"' not in detail
    assert 'data-testid="release"' in detail
    assert f"Renew on or after {opens.isoformat()}." in detail
    assert not measure.steps.filter(kind="renew").exists()
    assert "too early" in response.content.decode()


def test_renewal_not_offered_twice(officer, measure):
    client = client_for(officer)

    client.post(f"/measures/{measure.pk}/renew/", {"period_months": 12})
    answer_step(measure.steps.get(kind="renew"), {"type": "renew"})
    measure.refresh_from_db()
    detail = client.get(f"/measures/{measure.pk}/").content.decode()
    again = client.post(f"/measures/{measure.pk}/renew/", {"period_months": 12})

    assert measure.renewals == 1
    assert 'data-testid="renew"' not in detail
    assert "too early" in detail
    assert again.status_code == 302
    assert measure.steps.filter(kind="renew").count() == 1


def test_expiry_page_by_court(officer, make_user, measure, case, debtors, make_asset):
    measure.end_date = timezone.localdate() + datetime.timedelta(days=10)
    measure.save()
    home = make_asset(case, debtors[1], HOME, agency="housing-gd", category="real_estate")
    later = services.request_measure(officer, home, "seize_real_estate")
    assert later.end_date is not None

    page = client_for(officer).get("/measures/expiring/").content.decode()
    assert f'data-testid="expiring-{measure.pk}"' in page
    assert f'data-testid="expiring-{later.pk}"' not in page
    assert 'data-testid="expiring-court-' in page

    sibling = client_for(make_user("sib", "粤0105", "commander")).get("/measures/expiring/")
    assert f'data-testid="expiring-{measure.pk}"' not in sibling.content.decode()


def test_expired_measure_flagged_on_command_home(make_user, measure):
    commander = make_user("cmd01", "粤01", "commander")
    assert 'data-testid="expired-measures"' not in client_for(commander).get("/").content.decode()

    measure.state = ControlMeasure.State.EXPIRED
    measure.end_date = timezone.localdate() - datetime.timedelta(days=2)
    measure.start_date = measure.end_date - datetime.timedelta(days=364)
    measure.save()

    page = client_for(commander).get("/").content.decode()
    assert 'data-testid="expired-measures"' in page
    assert "1 control measure expired without renewal" in page
    sibling = client_for(make_user("cmd03", "粤03", "commander")).get("/")
    assert 'data-testid="expired-measures"' not in sibling.content.decode()


# The amount field follows the kind of measure


@pytest.mark.parametrize(
    ("record", "agency", "category"),
    [(HOME, "housing-gd", "real_estate"), (CAR, "traffic-gd", "vehicle")],
)
def test_form_hides_amount_without_deposits(
    officer, case, debtors, make_asset, record, agency, category
):
    property_asset = make_asset(case, debtors[0], record, agency=agency, category=category)

    page = client_for(officer).get(f"/measures/assets/{property_asset.pk}/new/").content.decode()

    assert 'name="amount"' not in page
    assert "Deposits only" not in page
    assert 'data-amount-kinds=""' in page


def test_form_shows_amount_for_deposits(officer, asset):
    page = client_for(officer).get(f"/measures/assets/{asset.pk}/new/").content.decode()

    assert 'name="amount"' in page
    assert 'data-amount-kinds="freeze deduct"' in page
    assert '<div class="field" data-field="amount">' in page
    assert "measures/new.js" in page


def test_form_hides_amount_of_chosen_kind(officer, case, debtors, make_asset, monkeypatch):
    # The kinds that apply to one asset all agree on the amount, so distraint is made to need one.
    monkeypatch.setitem(SPECS, "distrain", replace(SPECS["distrain"], needs_amount=True))
    car = make_asset(case, debtors[0], CAR, agency="traffic-gd", category="vehicle")

    page = client_for(officer).get(f"/measures/assets/{car.pk}/new/").content.decode()

    assert 'data-amount-kinds="distrain"' in page
    assert '<div class="field" data-field="amount" hidden>' in page
