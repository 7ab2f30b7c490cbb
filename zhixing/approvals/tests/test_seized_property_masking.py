"""A person's home address outside the measure pages: renewal applications and the audit trail.

A seizure renewal linked to a seizure of a person's home copies the full address into
``seized_property``. The tests expect the application page and its API to mask it for readers
who may not reveal it on the measure pages, as the measure pages do.
"""

from __future__ import annotations

import pytest
from django.test import Client

from zhixing.approvals.tests.test_api import api_client
from zhixing.approvals.tests.test_linked_seizure import draft
from zhixing.audit.models import AuditRecord
from zhixing.measures import services as measure_services

pytestmark = pytest.mark.django_db

STREET = "中山五路"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def home_seizure(case, make_measure):
    return make_measure(case, "seize_real_estate")


def test_measure_page_masks_home_above(staff, home_seizure):
    """Baseline: the measure page keeps the home masked for the intermediate commander."""
    assert not measure_services.may_reveal_location(staff["commander01"], home_seizure)
    page = client_for(staff["commander01"]).get(f"/measures/{home_seizure.pk}/").content.decode()
    assert STREET not in page


def test_renewal_page_masks_home_above(staff, case, home_seizure):
    application = draft(staff, case, home_seizure)
    assert STREET in application.seized_property

    page = client_for(staff["commander01"]).get(f"/approvals/{application.pk}/")

    assert page.status_code == 200
    assert STREET not in page.content.decode(), "full home address shown to a commander above"
    assert "广州市越秀区****" in page.content.decode()


def test_renewal_api_masks_home_above(staff, case, home_seizure):
    application = draft(staff, case, home_seizure)

    response = api_client(staff["commander01"]).get(f"/api/v1/approvals/{application.pk}/")

    assert response.status_code == 200
    assert STREET not in response.content.decode(), "full home address in the API"


def test_audit_page_masks_home(staff, case, home_seizure):
    application = draft(staff, case, home_seizure)
    records = AuditRecord.objects.filter(
        object_type="approvals.application", object_id=str(application.pk)
    )
    stored = " ".join(str(record.detail) for record in records)

    page = client_for(staff["head00"]).get(
        "/audit/", {"object_type": "approvals.application", "object_id": str(application.pk)}
    )

    assert STREET not in stored, "full home address stored in the audit trail"
    assert STREET not in page.content.decode(), "full home address on the audit page"
