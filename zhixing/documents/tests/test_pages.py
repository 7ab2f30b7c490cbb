"""Template pages: administrators only, editing with validation, preview, history and audit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from zhixing.audit.models import AuditRecord
from zhixing.documents import services
from zhixing.documents.defaults import DEFAULTS
from zhixing.documents.models import DocumentTemplate
from zhixing.documents.samples import SAMPLE_TEMPLATE

from .helpers import text_with_pypdf

CODE = SAMPLE_TEMPLATE
TITLE, BODY = DEFAULTS[CODE]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def one_version(db):
    """Start from one stored version of the kind, with its current default text.

    Migration 0004 stores a version 2 of this kind; the version numbers below count from one.
    """
    DocumentTemplate.objects.filter(code=CODE).delete()
    DocumentTemplate.objects.create(code=CODE, version=1, title=TITLE, body=BODY, active=True)


@pytest.fixture
def admin(make_user):
    return make_user("admin", "粤", "administrator")


def _pages(version: int = 1) -> list[tuple[str, str, dict]]:
    """Return (method, url, data) for every page of the app."""
    edit = reverse("document-template-edit", args=[CODE])
    return [
        ("get", reverse("document-template-list"), {}),
        ("get", edit, {}),
        ("post", edit, {"title": TITLE, "body": BODY + "\n正文。", "note": ""}),
        ("post", reverse("document-template-preview", args=[CODE]), {"title": TITLE, "body": BODY}),
        ("get", reverse("document-template-history", args=[CODE]), {}),
        ("get", reverse("document-template-version", args=[CODE, version]), {}),
        ("get", reverse("document-template-version-preview", args=[CODE, version]), {}),
        ("post", reverse("document-template-restore", args=[CODE, version]), {}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("court", "role"),
    [
        ("粤0104", "case_officer"),
        ("粤0104", "bureau_head"),
        ("粤", "commander"),
        ("粤01", "clerk"),
        # Administrators of the courts below: the templates serve the whole province.
        ("粤01", "administrator"),
        ("粤0104", "administrator"),
    ],
)
def test_pages_reject_non_administrators(make_user, court, role):
    client = client_for(make_user("someone", court, role))
    for method, url, data in _pages():
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1


@pytest.mark.django_db
def test_pages_require_login(courts):
    client = Client()
    for method, url, data in _pages():
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_list_shows_every_kind(admin):
    response = client_for(admin).get(reverse("document-template-list"))
    assert response.status_code == 200
    text = response.content.decode()
    for code in DEFAULTS:
        assert f'data-testid="template-{code}"' in text
    assert "协助冻结存款通知书" in text


@pytest.mark.django_db
def test_navigation_links_templates_for_administrators(admin, make_user):
    home = reverse("home")
    assert 'data-testid="nav-documents"' in client_for(admin).get(home).content.decode()
    officer = make_user("officer0104", "粤0104", "case_officer")
    assert 'data-testid="nav-documents"' not in client_for(officer).get(home).content.decode()


@pytest.mark.django_db
def test_unknown_kind_is_404(admin):
    response = client_for(admin).get(reverse("document-template-edit", args=["no_such_kind"]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_save_adds_version_and_audits(admin):
    client = client_for(admin)
    body = BODY.replace("冻结期限届满", "请注意：冻结期限届满")
    response = client.post(
        reverse("document-template-edit", args=[CODE]),
        {"title": TITLE, "body": body, "note": "补充提示"},
    )
    assert response.status_code == 302
    versions = list(DocumentTemplate.objects.filter(code=CODE).order_by("version"))
    assert [template.version for template in versions] == [1, 2]
    assert [template.active for template in versions] == [False, True]
    assert versions[1].updated_by == admin
    assert versions[1].note == "补充提示"
    assert DocumentTemplate.objects.active(CODE).body == body
    created = AuditRecord.objects.get(
        action=AuditRecord.Action.CREATE,
        object_type="documents.documenttemplate",
        object_id=str(versions[1].pk),
    )
    assert created.user == admin
    updated = AuditRecord.objects.get(
        action=AuditRecord.Action.UPDATE,
        object_type="documents.documenttemplate",
        object_id=str(versions[0].pk),
    )
    assert updated.user == admin
    assert updated.detail["changes"] == {"active": [True, False]}


@pytest.mark.django_db
def test_invalid_template_rejected_with_line(admin):
    client = client_for(admin)
    audited = AuditRecord.objects.filter(object_type="documents.documenttemplate").count()
    body = (
        "# {{ court.name }}\n## {{ title }}\n{% if debtor.name %}\n正文。\n@ {{ date|cn_date }}\n"
    )
    response = client.post(
        reverse("document-template-edit", args=[CODE]), {"title": TITLE, "body": body}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "does not render with the sample data" in text
    assert "Line 3" in text
    assert "endif" in text
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1
    assert AuditRecord.objects.filter(object_type="documents.documenttemplate").count() == audited


@pytest.mark.django_db
def test_unchanged_text_not_stored(admin):
    response = client_for(admin).post(
        reverse("document-template-edit", args=[CODE]), {"title": TITLE, "body": BODY}
    )
    assert response.status_code == 400
    assert "same as in the version in use" in response.content.decode()
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1


@pytest.mark.django_db
def test_preview_renders_unsaved_text_inline(admin):
    body = BODY.replace("冻结期限届满", "预览专用句子。冻结期限届满")
    response = client_for(admin).post(
        reverse("document-template-preview", args=[CODE]), {"title": TITLE, "body": body}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert "Content-Security-Policy" not in response
    text = "".join(text_with_pypdf(response.content).split())
    assert "预览专用句子" in text
    # The preview uses the administrator's court.
    assert "广东省高级人民法院" in text
    assert DocumentTemplate.objects.filter(code=CODE).count() == 1


@pytest.mark.django_db
def test_preview_of_invalid_text_shows_error(admin):
    body = "# {{ court.name }}\n{{ debtor.nmae }}\n@ {{ date|cn_date }}\n"
    response = client_for(admin).post(
        reverse("document-template-preview", args=[CODE]), {"title": TITLE, "body": body}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Line 2:" in text
    assert "debtor.nmae" in text
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_history_and_restore(admin):
    changed = BODY.replace("冻结期限届满", "第二版。冻结期限届满")
    services.save_version(admin, CODE, TITLE, changed, "第二版")
    client = client_for(admin)
    history = client.get(reverse("document-template-history", args=[CODE])).content.decode()
    assert 'data-testid="version-1"' in history
    assert 'data-testid="version-2"' in history
    assert "第二版" in history
    detail = client.get(reverse("document-template-version", args=[CODE, 1]))
    assert "version-restore" in detail.content.decode()
    preview = client.get(reverse("document-template-version-preview", args=[CODE, 1]))
    assert preview["Content-Type"] == "application/pdf"
    assert "第二版" not in "".join(text_with_pypdf(preview.content).split())

    response = client.post(reverse("document-template-restore", args=[CODE, 1]))
    assert response.status_code == 302
    active = DocumentTemplate.objects.active(CODE)
    assert active.version == 3
    assert active.body == BODY
    assert active.note == "Restored from version 1"
    assert DocumentTemplate.objects.filter(code=CODE, active=True).count() == 1


@pytest.mark.django_db
def test_service_rejects_non_administrator(make_user):
    officer = make_user("officer0104", "粤0104", "case_officer")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.save_version(officer, CODE, TITLE, BODY + "\n正文。")


@pytest.mark.django_db
def test_preview_error_in_chinese(admin):
    body = "# {{ court.name }}\n{{ debtor.nmae }}\n正文。\n"
    client = client_for(admin)

    response = client.post(
        reverse("document-template-preview", args=[CODE]),
        {"title": TITLE, "body": body},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "文书数据中没有变量“debtor.nmae”" in text
