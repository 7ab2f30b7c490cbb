"""Errors of the template editor's fields name the value typed and the limit, in the page's
language, and store no version."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from zhixing.documents.models import DocumentTemplate
from zhixing.documents.tests.test_pages import BODY, CODE, admin, one_version  # noqa: F401

LONG_TITLE = "财产报告令" * 30
SHOWN_TITLE = LONG_TITLE[:39] + "…"

MESSAGES = {
    "en": f"Document title is too long: 150 characters where at most 100 fit; shorten "
    f"“{SHOWN_TITLE}”.",
    "zh-hans": f"文书标题过长：共 150 个字符，最多 100 个；请缩短“{SHOWN_TITLE}”。",
}


def client_for(user, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_long_title_named_not_stored(admin, language):  # noqa: F811
    response = client_for(admin, language).post(
        reverse("document-template-edit", args=[CODE]), {"title": LONG_TITLE, "body": BODY}
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors["title"]) == [MESSAGES[language]]
    assert MESSAGES[language] in response.content.decode()
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_preview_names_long_title(admin, language):  # noqa: F811
    response = client_for(admin, language).post(
        reverse("document-template-preview", args=[CODE]), {"title": LONG_TITLE, "body": BODY}
    )

    assert response.status_code == 400
    [shown] = re.findall(r'data-testid="preview-error">(.*?)</p>', response.content.decode(), re.S)
    assert MESSAGES[language] in shown


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Change note is too long: 301 characters where at most 300 fit; shorten “"),
        ("zh-hans", "修改说明过长：共 301 个字符，最多 300 个；请缩短“"),
    ],
)
def test_long_note_named(admin, language, message):  # noqa: F811
    response = client_for(admin, language).post(
        reverse("document-template-edit", args=[CODE]),
        {"title": "新标题", "body": BODY, "note": "改" * 301},
    )

    [error] = response.context["form"].errors["note"]
    assert error.startswith(message)
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1
