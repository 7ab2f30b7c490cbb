"""Checks on the Simplified Chinese catalogue: complete, compiled, and used by Django.

The .po file is the source of the translation and the committed .mo is what Django loads, so
the tests parse the .po themselves and compare it with the .mo through the standard library.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# Python-format placeholders such as %(name)s or %(counter)d. "%%" is a literal percent sign,
# matched only so that "%%s" does not count as a placeholder.
PLACEHOLDER = re.compile(r"%%|%\([^)]+\)[sd]|%[sd]")

# Escape sequences that xgettext writes inside quoted PO strings.
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class PoEntry:
    """One message of a PO file, with the forms of a plural entry in ``msgstr`` by index."""

    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def placeholders(text: str) -> list[str]:
    return sorted(found for found in PLACEHOLDER.findall(text) if found != "%%")


def unquote(text: str, path: Path, number: int) -> str:
    """Decode one quoted PO string such as ``"a \\"b\\"\\n"``."""
    text = text.strip()
    if len(text) < 2 or not text.startswith('"') or not text.endswith('"'):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape not in ESCAPES:
            raise ValueError(f"{path}:{number}: invalid escape \\{escape}")
        return ESCAPES[escape]

    return re.sub(r"\\(.)", replace, text[1:-1])


def parse_po(path: Path) -> tuple[PoEntry, list[PoEntry]]:
    """Parse a PO file into its header entry and its message entries.

    Obsolete entries (``#~``) and comments other than flags are skipped. Raises ValueError on
    a line that starts with no PO keyword, so a broken file fails loudly instead of parsing
    to fewer entries.
    """
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    # Field that a bare quoted continuation line extends, such as ("msgid", None) or
    # ("msgstr", 1) for the second plural form.
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()

    def append(entry: PoEntry, name: str, index: int | None, text: str) -> None:
        if name == "msgstr":
            assert index is not None
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue

        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{path}:{number}: continuation line outside an entry")
            append(current, target[0], target[1], unquote(line, path, number))
            continue

        plural_form = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword in ("msgctxt", "msgid") and (current is None or current.msgstr):
            # A msgctxt, or a msgid without one, opens a new entry once the previous
            # entry has its msgstr.
            current = PoEntry(line=number, flags=pending_flags)
            pending_flags = set()
            entries.append(current)
        if current is None:
            raise ValueError(f"{path}:{number}: {keyword} before any msgid")
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            target = (keyword, None)
        elif keyword == "msgstr":
            target = ("msgstr", 0)
        elif plural_form:
            target = ("msgstr", int(plural_form.group(1)))
        else:
            raise ValueError(f"{path}:{number}: unexpected line {raw!r}")
        if target[0] == "msgid" and current.msgid:
            raise ValueError(f"{path}:{number}: second msgid in one entry, so a msgstr is missing")
        # Set the field even when the first string is "" so that an empty msgstr still counts.
        append(current, target[0], target[1], unquote(rest, path, number))

    if not entries or entries[0].msgid != "":
        raise ValueError(f'{path}: the header entry (msgid "") is missing')
    return entries[0], entries[1:]


def header_fields(header: PoEntry) -> dict[str, str]:
    fields = {}
    for line in header.msgstr.get(0, "").splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


@pytest.fixture(scope="module")
def catalogue() -> tuple[PoEntry, list[PoEntry]]:
    return parse_po(PO_PATH)


def test_po_header_fields_set(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    header, _ = catalogue
    fields = header_fields(header)

    assert fields.get("Language") == "zh_Hans"
    assert fields.get("Plural-Forms") == "nplurals=1; plural=0;"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert "fuzzy" not in header.flags, "the header is marked fuzzy; msgfmt would skip it"


def test_po_has_entries(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    _, entries = catalogue
    msgids = {entry.msgid for entry in entries}

    # Strings from Python code, from templates and from a plural block, so that a
    # makemessages run that missed a source kind fails here.
    assert "Audit trail" in msgids
    assert "Log in" in msgids
    assert "%(counter)s court in your scope" in msgids


def test_po_every_entry_translated(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    _, entries = catalogue

    empty = [
        entry.label
        for entry in entries
        if not entry.msgstr or any(not text for text in entry.msgstr.values())
    ]
    fuzzy = [entry.label for entry in entries if "fuzzy" in entry.flags]

    assert not empty, "entries with an empty msgstr:\n" + "\n".join(empty)
    assert not fuzzy, "entries marked fuzzy:\n" + "\n".join(fuzzy)


def test_po_plural_forms_complete(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    header, entries = catalogue
    plural_forms = header_fields(header).get("Plural-Forms", "")
    declared = re.search(r"nplurals=(\d+)", plural_forms)
    assert declared, f"no nplurals in the Plural-Forms header {plural_forms!r}"
    nplurals = int(declared.group(1))

    wrong = [
        f"{entry.label} has forms {sorted(entry.msgstr)}"
        for entry in entries
        if entry.msgid_plural is not None and sorted(entry.msgstr) != list(range(nplurals))
    ]
    singular_without_msgstr = [
        entry.label for entry in entries if entry.msgid_plural is None and 0 not in entry.msgstr
    ]

    assert not wrong, f"plural entries without exactly {nplurals} form(s):\n" + "\n".join(wrong)
    assert not singular_without_msgstr, "singular entries without msgstr:\n" + "\n".join(
        singular_without_msgstr
    )


def test_po_placeholders_kept(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    _, entries = catalogue

    mismatched = []
    for entry in entries:
        if "python-format" not in entry.flags:
            continue
        expected = placeholders(entry.msgid_plural or entry.msgid)
        for index, text in entry.msgstr.items():
            found = placeholders(text)
            if found != expected:
                mismatched.append(f"{entry.label} msgstr[{index}] has {found}, not {expected}")

    assert not mismatched, "translations that change placeholders:\n" + "\n".join(mismatched)


def test_mo_matches_po(catalogue: tuple[PoEntry, list[PoEntry]]) -> None:
    _, entries = catalogue
    with MO_PATH.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    stale = []
    for entry in entries:
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                found = compiled.gettext(entry.msgid)
            else:
                found = compiled.pgettext(entry.msgctxt, entry.msgid)
            if found != entry.msgstr.get(0):
                stale.append(f"{entry.label}: .po has {entry.msgstr.get(0)!r}, .mo {found!r}")
            continue
        # GNUTranslations.plural is the function compiled from the .mo's Plural-Forms header;
        # typeshed does not declare it.
        for count in (0, 1, 2, 5, 21):
            expected = entry.msgstr.get(compiled.plural(count))  # type: ignore[attr-defined]
            if entry.msgctxt is None:
                found = compiled.ngettext(entry.msgid, entry.msgid_plural, count)
            else:
                found = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
            if found != expected:
                stale.append(f"{entry.label} n={count}: .po has {expected!r}, .mo {found!r}")

    assert not stale, (
        "django.mo is older than django.po; run `django-admin compilemessages` in zhixing/:\n"
        + "\n".join(stale)
    )


UI_STRINGS = [
    ("Log in", "登录"),
    ("Court tree", "法院树"),
    ("Audit trail", "审计日志"),
    ("Case officer", "承办人"),
    ("Court code", "法院代字"),
]


@pytest.mark.parametrize(("english", "chinese"), UI_STRINGS)
def test_gettext_zh_hans_returns_chinese(english: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese


@pytest.mark.parametrize(("english", "chinese"), UI_STRINGS)
def test_gettext_en_returns_english(english: str, chinese: str) -> None:
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_template_plural_in_both_languages() -> None:
    template = Template(
        "{% load i18n %}{% translate 'Court tree' %}|"
        "{% blocktranslate count counter=total %}{{ counter }} court in your scope"
        "{% plural %}{{ counter }} courts in your scope{% endblocktranslate %}"
    )

    with translation.override("zh-hans"):
        one = template.render(Context({"total": 1}))
        many = template.render(Context({"total": 7}))
    with translation.override("en"):
        english_one = template.render(Context({"total": 1}))
        english_many = template.render(Context({"total": 7}))

    assert one == "法院树|您的数据范围内有 1 个法院"
    assert many == "法院树|您的数据范围内有 7 个法院"
    assert english_one == "Court tree|1 court in your scope"
    assert english_many == "Court tree|7 courts in your scope"


def test_catalogue_covers_source_strings(tmp_path: Path) -> None:
    """Extract the messages again from a copy of the source; none may be missing."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        message = "xgettext (GNU gettext) not found; install gettext to check the catalogue"
        if os.environ.get("ZHIXING_REQUIRE_GETTEXT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    package = Path(settings.BASE_DIR) / "zhixing"
    copy = tmp_path / "zhixing"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
            "--settings=zhixing.settings",
            f"--pythonpath={tmp_path}",
        ],
        cwd=copy,
        env={**os.environ, "ZHIXING_DATA_DIR": str(tmp_path / "data")},
        check=True,
        capture_output=True,
        timeout=120,
    )
    _, extracted = parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [
        entry.msgid for entry in extracted if not entry.msgstr.get(0) or "fuzzy" in entry.flags
    ]
    assert missing == [], f"Not in the catalogue; run makemessages and translate: {missing}"
