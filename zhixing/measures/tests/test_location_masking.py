"""A natural person's home on the measure pages and in the API: masked until an audited reveal."""

from __future__ import annotations

import re

import pytest

from zhixing.audit.models import AuditRecord
from zhixing.cases.models import Party
from zhixing.documents.tests.helpers import text_with_pypdf
from zhixing.measures import services
from zhixing.measures.masking import masks_location, shown_asset_label
from zhixing.measures.models import ControlMeasure, MeasureDocument
from zhixing.measures.tests.conftest import ACCOUNT, HOME, answer_step, client_for
from zhixing.measures.tests.test_api import api_client

pytestmark = pytest.mark.django_db

MASKED_HOME = "广州市越秀区****"
STREET = "中山五路"


@pytest.fixture
def home(case, debtors, make_asset):
    return make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")


@pytest.fixture
def seizure(officer, home):
    return services.request_measure(officer, home, "seize_real_estate")


@pytest.fixture
def commander01(make_user):
    """A commander of the intermediate court above the case's court."""
    return make_user("commander01", "粤01", "commander")


def location_reads(measure: ControlMeasure):
    return AuditRecord.objects.filter(
        action="read_personal",
        object_type="measures.controlmeasure",
        object_id=str(measure.pk),
    ).order_by("id")


@pytest.mark.parametrize(
    ("asset_type", "party_kind", "label", "masked", "shown"),
    [
        ("real_estate", Party.Kind.PERSON, HOME["location"], True, MASKED_HOME),
        ("real_estate", Party.Kind.ORGANISATION, HOME["location"], False, HOME["location"]),
        ("bank_account", Party.Kind.PERSON, "中国工商银行", False, "中国工商银行"),
        ("vehicle", Party.Kind.PERSON, "比亚迪 秦", False, "比亚迪 秦"),
        ("real_estate", Party.Kind.PERSON, "", True, ""),
    ],
)
def test_shown_label_by_asset_and_party(asset_type, party_kind, label, masked, shown):
    measure = ControlMeasure(asset_type=asset_type, asset_label=label, party=Party(kind=party_kind))

    assert masks_location(measure) is masked
    assert shown_asset_label(measure) == shown
    assert shown_asset_label(measure, reveal=True) == label


def test_lists_mask_home(officer, commander01, case, seizure):
    for user in (officer, commander01):
        client = client_for(user)
        for path in ("/measures/", f"/measures/cases/{case.pk}/"):
            page = client.get(path).content.decode()
            assert f'data-testid="measure-{seizure.pk}"' in page, (user, path)
            assert MASKED_HOME in page, (user, path)
            assert STREET not in page, (user, path)


def test_expiring_page_masks_home(officer, home):
    measure = services.request_measure(officer, home, "seize_real_estate", period_months=1)
    answer_step(measure.steps.get(), {"type": "seize", "result": "done"})
    measure.refresh_from_db()
    assert measure.is_active

    page = client_for(officer).get("/measures/expiring/", {"days": 60}).content.decode()

    assert f'data-testid="expiring-{measure.pk}"' in page
    assert MASKED_HOME in page
    assert STREET not in page


def test_form_masks_home(officer, commander01, home):
    for user in (officer, commander01):
        page = client_for(user).get(f"/measures/assets/{home.pk}/new/").content.decode()
        assert MASKED_HOME in page, user
        assert STREET not in page, user


def test_bank_label_shown_in_full(officer, case, debtors, make_asset):
    account = make_asset(case, debtors[0], ACCOUNT)
    measure = services.request_measure(officer, account, "freeze", amount="5000.00")

    page = client_for(officer).get(f"/measures/{measure.pk}/").content.decode()

    assert "中国工商银行" in page
    assert 'data-testid="reveal"' not in page


def test_detail_masks_home_above(commander01, seizure):
    client = client_for(commander01)
    page = client.get(f"/measures/{seizure.pk}/").content.decode()

    assert f'data-testid="measure-asset-label">{MASKED_HOME}<' in page
    assert STREET not in page
    assert 'data-testid="reveal"' not in page
    assert client.post(f"/measures/{seizure.pk}/reveal/").status_code == 403
    assert not location_reads(seizure).exists()


def test_reveal_shows_home_and_audits(officer, case, seizure):
    client = client_for(officer)
    page = client.get(f"/measures/{seizure.pk}/").content.decode()
    assert 'data-testid="reveal"' in page
    assert STREET not in page

    response = client.post(f"/measures/{seizure.pk}/reveal/")

    assert response.status_code == 200
    revealed = response.content.decode()
    assert f'data-testid="measure-asset-label">{HOME["location"]}<' in revealed
    assert "recorded in the audit trail" in revealed
    assert 'data-testid="reveal"' not in revealed
    assert "no-store" in response["Cache-Control"]
    record = location_reads(seizure).get()
    assert record.user == officer
    assert record.subject_court_path == case.court.path
    assert record.detail["fields"] == ["asset_label"]
    assert record.detail["purpose"] == "measure detail"
    assert record.detail["case_id"] == case.pk
    assert record.detail["party_id"] == seizure.party_id
    assert record.detail["asset_id"] == seizure.asset_id
    assert STREET not in str(record.detail)
    assert STREET not in record.object_repr

    client.post(f"/measures/{seizure.pk}/reveal/")
    assert location_reads(seizure).count() == 2


@pytest.mark.parametrize(
    ("username", "court", "role", "allowed"),
    [
        ("clerk0104", "粤0104", "clerk", True),
        ("head0104", "粤0104", "bureau_head", True),
        ("head01", "粤01", "bureau_head", True),
        ("officer0104", "粤0104", "case_officer", False),
        ("commander0104", "粤0104", "commander", False),
        ("clerk01", "粤01", "clerk", False),
    ],
)
def test_reveal_allowed_by_role(make_user, seizure, username, court, role, allowed):
    """The roles of the assets page: the case's own officer, its court's clerks, bureau heads."""
    client = client_for(make_user(username, court, role))

    page = client.get(f"/measures/{seizure.pk}/").content.decode()
    response = client.post(f"/measures/{seizure.pk}/reveal/")

    assert ('data-testid="reveal"' in page) is allowed
    assert response.status_code == (200 if allowed else 403)
    assert location_reads(seizure).count() == (1 if allowed else 0)


def test_api_masks_home(commander01, officer, seizure):
    client = api_client(commander01)

    listed = client.get("/api/v1/measures/")
    detail = client.get(f"/api/v1/measures/{seizure.pk}/")

    assert [row["asset"]["label"] for row in listed.json()["results"]] == [MASKED_HOME]
    assert detail.json()["asset"]["label"] == MASKED_HOME
    assert STREET not in listed.content.decode()
    assert STREET not in detail.content.decode()
    assert client.get(f"/api/v1/measures/{seizure.pk}/", {"reveal": "1"}).status_code == 403
    assert not location_reads(seizure).exists()


def test_api_reveal_audits(officer, seizure):
    response = api_client(officer).get(f"/api/v1/measures/{seizure.pk}/", {"reveal": "1"})

    assert response.status_code == 200
    assert response.json()["asset"]["label"] == HOME["location"]
    assert "no-store" in response["Cache-Control"]
    record = location_reads(seizure).get()
    assert record.user == officer
    assert record.detail["purpose"] == "api"
    assert record.detail["fields"] == ["asset_label"]


def test_sealed_documents_keep_full_address(seizure):
    for document in MeasureDocument.objects.filter(step__measure=seizure):
        text = re.sub(r"\s+", "", text_with_pypdf(bytes(document.pdf)))
        assert "广州市越秀区中山五路1号" in text, document.role
