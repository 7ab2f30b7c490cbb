"""The officer's phone on documents: printed when known, its label left out when not.

Covers the stored templates (version 2 from migration 0004), the measures app's fallback texts
and the office phones that the demo gives its case officers.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps

from zhixing.cases import demo_data
from zhixing.courts.models import User
from zhixing.documents.defaults import ADDED_IN_0003, CHANGED_IN_0004, DEFAULTS, DEFAULTS_V1
from zhixing.documents.kinds import DocumentKind
from zhixing.documents.models import DocumentTemplate
from zhixing.documents.rendering import render, render_source
from zhixing.documents.samples import sample_context
from zhixing.measures.fallback_texts import FALLBACK_TEXTS

from .helpers import text_with_pypdf

PHONE = "020-80104010"
migration = importlib.import_module("zhixing.documents.migrations.0004_phone_when_known")


def _compact(text: str) -> str:
    return "".join(text.split())


def _context(code: str, phone: str) -> dict:
    context = sample_context(None, code)
    context["officer"] = {"name": "陈建国", "phone": phone}
    return context


@pytest.mark.django_db
@pytest.mark.parametrize("code", sorted(CHANGED_IN_0004))
def test_stored_template_leaves_out_empty_phone(code):
    without = _compact(text_with_pypdf(render(code, _context(code, "")).pdf))
    assert "陈建国" in without
    assert "联系电话" not in without
    with_phone = _compact(text_with_pypdf(render(code, _context(code, PHONE)).pdf))
    assert "联系电话" in with_phone
    assert PHONE in with_phone


@pytest.mark.parametrize("code", [code for code in FALLBACK_TEXTS if "notice" in code])
def test_fallback_notice_leaves_out_empty_phone(code):
    title, body = FALLBACK_TEXTS[code]
    context = _context(DocumentKind.ASSISTANCE_NOTICE_RELEASE_REAL_ESTATE, "")
    seizure = sample_context(None, DocumentKind.ASSISTANCE_NOTICE_SEIZE_REAL_ESTATE)["measure"]
    context["measure"] = {
        **seizure,
        **context["measure"],
        "property": "小型轿车一辆",
        "verb": "查封",
    }
    without = _compact(text_with_pypdf(render_source(title, body, context).pdf))
    assert "联系人：陈建国" in without
    assert "联系电话" not in without
    context["officer"]["phone"] = PHONE
    with_phone = _compact(text_with_pypdf(render_source(title, body, context).pdf))
    assert f"联系电话：{PHONE}" in with_phone


@pytest.mark.django_db
def test_migration_stored_version_2_in_use():
    for code, (title, body) in CHANGED_IN_0004.items():
        template = DocumentTemplate.objects.active(code)
        assert (template.version, template.title, template.body) == (2, title, body)
    assert set(DEFAULTS) == set(DocumentKind.values)
    assert all(DEFAULTS[code] == CHANGED_IN_0004[code] for code in CHANGED_IN_0004)


@pytest.mark.django_db
def test_migration_keeps_administrators_text():
    edited, untouched = DocumentKind.ASSISTANCE_NOTICE_FREEZE, DocumentKind.BORDER_CONTROL_REQUEST
    originals = {**DEFAULTS_V1, **ADDED_IN_0003}
    DocumentTemplate.objects.filter(code__in=[edited, untouched]).delete()
    title, body = originals[edited]
    DocumentTemplate.objects.create(
        code=edited, version=1, title=title, body=body + "请注意。\n", active=True
    )
    title, body = originals[untouched]
    DocumentTemplate.objects.create(code=untouched, version=1, title=title, body=body, active=True)

    migration.add_version_2(django_apps, None)

    assert list(DocumentTemplate.objects.filter(code=edited).values_list("version", flat=True)) == [
        1
    ]
    assert DocumentTemplate.objects.active(untouched).version == 2
    migration.remove_version_2(django_apps, None)
    assert DocumentTemplate.objects.active(untouched).version == 1
    assert DocumentTemplate.objects.active(untouched).body == originals[untouched][1]


@pytest.mark.django_db
def test_demo_case_officers_have_office_phone(courts):
    profiles = [
        profile for profile in demo_data.court_profiles() if profile.code in {"粤0104", "粤0303"}
    ]
    assert demo_data.ensure_case_officers(profiles, per_court=2) == 4
    phones = {
        user.username: user.phone for user in User.objects.filter(username__startswith="officer_")
    }
    assert phones["officer_0104_1"] == "020-80104010"
    assert phones["officer_0303_2"].startswith("0755-8")
    assert len(set(phones.values())) == 4
    assert all(re.fullmatch(r"0\d{2,3}-8\d{6,7}", phone) for phone in phones.values())
