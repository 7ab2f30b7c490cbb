"""The Chinese font that documents and seal images are set in.

Font: Noto Serif SC (思源宋体), regular and bold, version v35 of Google Fonts, as static
TrueType files (glyf outlines, about 14.8 MB each), from the npm package
``@expo-google-fonts/noto-serif-sc`` 0.4.3, pinned in ``package.json``. The package's own
code is under the MIT licence and the font files under the SIL Open Font License 1.1
(``LICENSE_FONT`` in the package, copyright 2012 Google Inc.), which allows embedding
subsets in documents. ``npm ci`` (run by ``./run install``) puts it in ``node_modules``.
Nothing is fetched at run time and no system font is used.

A serif (Song) face is the closest freely licensed match for the Song and FangSong faces of
printed court documents. ReportLab embeds only the glyphs a document uses, as TrueType subsets
with a ToUnicode map, so that the text can be searched and copied.

Production deployments need ``node_modules`` at run time for this font, not only when
collecting static files.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

PACKAGE = "@expo-google-fonts/noto-serif-sc"
REGULAR = "ZhixingSerif"
BOLD = "ZhixingSerif-Bold"

_FILES = {
    REGULAR: Path("400Regular") / "NotoSerifSC_400Regular.ttf",
    BOLD: Path("700Bold") / "NotoSerifSC_700Bold.ttf",
}


def font_path(name: str = REGULAR) -> Path:
    """Return the file of the regular or bold face, raising if the package is not installed."""
    path = Path(settings.NODE_MODULES) / PACKAGE / _FILES[name]
    if not path.is_file():
        raise ImproperlyConfigured(
            f"The document font {path} is missing. Install the front-end packages with "
            "`./run install` (or `npm ci` in the checkout) and try again."
        )
    return path


@functools.cache
def register() -> None:
    """Register both faces with ReportLab once per process, as one family for <b> markup."""
    for name in _FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)


@functools.cache
def _covered_code_points() -> frozenset[int]:
    register()
    font = pdfmetrics.getFont(REGULAR)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


def missing_characters(text: str) -> list[str]:
    """Return the characters of ``text`` that the font has no glyph for, each once, in order."""
    covered = _covered_code_points()
    missing: dict[str, None] = {}
    for character in text:
        if character not in "\n\r\t" and ord(character) not in covered:
            missing.setdefault(character)
    return list(missing)
