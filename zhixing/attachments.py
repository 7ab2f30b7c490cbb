"""Files attached to reports and orders: type and size checks, and storage in the data dir.

A file is accepted when its extension is one of the allowed kinds and its first bytes match
that kind, so a renamed program is not stored as a photo. Files are kept under
``DATA_DIR/attachments`` with a random name and served only through views that check the
reader's scope, never as public media.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

logger = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """An accepted kind of file: its extensions, content type, size limit and magic bytes."""

    name: str
    extensions: tuple[str, ...]
    content_type: str
    max_bytes: int
    # (offset, bytes) pairs; the file matches when any pair matches.
    signatures: tuple[tuple[int, bytes], ...]


# Names of the kinds, in the words of the messages.
KIND_LABELS = {"photo": _lazy("photo"), "video": _lazy("video"), "document": _lazy("document")}

KINDS = (
    FileKind("photo", (".jpg", ".jpeg"), "image/jpeg", 20 * MB, ((0, b"\xff\xd8\xff"),)),
    FileKind("photo", (".png",), "image/png", 20 * MB, ((0, b"\x89PNG\r\n\x1a\n"),)),
    FileKind("video", (".mp4", ".m4v", ".mov"), "video/mp4", 500 * MB, ((4, b"ftyp"),)),
    FileKind("document", (".pdf",), "application/pdf", 50 * MB, ((0, b"%PDF-"),)),
    FileKind(
        "document",
        (".docx", ".xlsx"),
        "application/vnd.openxmlformats-officedocument",
        50 * MB,
        ((0, b"PK\x03\x04"),),
    ),
)
HEAD_BYTES = 16


def kind_for(name: str) -> FileKind | None:
    """Return the kind of file that ``name``'s extension stands for, or None."""
    suffix = Path(name).suffix.lower()
    return next((kind for kind in KINDS if suffix in kind.extensions), None)


def allowed_extensions() -> str:
    """Return the allowed extensions for messages and the file input's ``accept``."""
    return ",".join(extension for kind in KINDS for extension in kind.extensions)


def check(name: str, size: int, head: bytes) -> FileKind:
    """Return the kind of an uploaded file, or raise ``ValidationError`` naming the fix."""
    kind = kind_for(name)
    if kind is None:
        raise ValidationError(
            _("%(name)s is not an accepted file; attach photos, videos or documents (%(ext)s).")
            % {"name": name, "ext": allowed_extensions()}
        )
    if size > kind.max_bytes:
        raise ValidationError(
            _(
                "%(name)s is %(size)s MB, over the %(max)s MB allowed for a %(kind)s; shorten or "
                "compress it."
            )
            % {
                "name": name,
                "size": round(size / MB, 1),
                "max": kind.max_bytes // MB,
                "kind": KIND_LABELS[kind.name],
            }
        )
    if size == 0 or not any(head[offset:].startswith(magic) for offset, magic in kind.signatures):
        raise ValidationError(
            _("%(name)s is not a valid %(ext)s file; save it again and attach the saved file.")
            % {"name": name, "ext": Path(name).suffix.lower()}
        )
    return kind


def folder() -> Path:
    path = settings.DATA_DIR / "attachments"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class StoredFile:
    """A checked file written to the attachments folder."""

    stored_name: str
    original_name: str
    kind: str
    content_type: str
    size: int
    sha256: str


def store(upload: UploadedFile) -> StoredFile:
    """Check ``upload`` and write it under a random name; raise ``ValidationError`` if invalid."""
    name = Path(upload.name or "file").name[:200]
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = check(name, upload.size or 0, head)
    stored_name = f"{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    digest = hashlib.sha256()
    target = folder() / stored_name
    with target.open("xb") as output:
        for chunk in upload.chunks():
            digest.update(chunk)
            output.write(chunk)
    target.chmod(0o600)
    logger.info("Stored attachment %s (%s bytes, %s)", stored_name, upload.size, kind.name)
    return StoredFile(
        stored_name=stored_name,
        original_name=name,
        kind=kind.name,
        content_type=kind.content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
    )


def path_of(stored_name: str) -> Path:
    """Return the path of a stored file; raise ``ValueError`` for a name that is not ours."""
    if Path(stored_name).name != stored_name or not stored_name:
        raise ValueError(f"invalid stored attachment name {stored_name!r}")
    return folder() / stored_name
