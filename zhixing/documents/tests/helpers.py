"""Reading rendered PDFs in tests: text with poppler's pdftotext or pypdf, fonts with pypdf."""

from __future__ import annotations

import io
import shutil
import subprocess

import pypdf

HAS_POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdffonts") is not None


def text_with_pypdf(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def text_with_poppler(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def font_dictionaries(pdf: bytes) -> list[dict]:
    """Return each font that the pages use, with its base name, subtype and embedded file."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found: dict[str, dict] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        page_fonts = resources.get("/Font") or {}
        for reference in page_fonts.values():
            font = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            file = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            found[str(font["/BaseFont"])] = {
                "base_font": str(font["/BaseFont"]),
                "subtype": str(font["/Subtype"]),
                "to_unicode": "/ToUnicode" in font,
                "font_file": file.get_object().get_data() if file is not None else None,
            }
    return list(found.values())
