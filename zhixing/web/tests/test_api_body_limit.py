"""An API request whose body is too large gets a JSON error that names the limit."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from zhixing.reports.models import SituationReport
from zhixing.reports.tests.test_api import api_client

pytestmark = pytest.mark.django_db


def test_oversized_body_gets_json_error(make_user):
    police = make_user("police", "粤0104", "judicial_police")
    body = json.dumps({"title": "要情", "narrative": "长" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})

    response = api_client(police).post("/api/v1/reports/", body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
    assert not SituationReport.objects.exists()
