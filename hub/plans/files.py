"""A plan's files: what may be stored, judged by the bytes, never by the name or the type the
browser sent (a renamed executable stays an executable). The types are those plans are
written and annexed in: PDF, images of maps, office documents (OOXML and OpenDocument)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import filetype

from hub.errors import HubError
from models.plan import MAX_FILE_NAME_CHARS, MAX_PLAN_FILE_BYTES

ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
}
ALLOWED_NAMES = ", ".join(ALLOWED_TYPES.values())


@dataclass(frozen=True, slots=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str
    content: bytes


def clean_name(raw: str | None) -> str:
    """The file's name as shown and downloaded: its last path part (browsers on Windows send
    C:\\…), no control characters, at most MAX_FILE_NAME_CHARS."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise HubError("invalid", "each file needs a name")
    if len(name) > MAX_FILE_NAME_CHARS:
        raise HubError("invalid", f"a file name is at most {MAX_FILE_NAME_CHARS} characters")
    return name


def check_file(raw_name: str | None, content: bytes) -> CheckedFile:
    name = clean_name(raw_name)
    if not content:
        raise HubError("invalid", f"{name} is empty")
    if len(content) > MAX_PLAN_FILE_BYTES:
        raise HubError(
            "too_large", f"{name} exceeds {MAX_PLAN_FILE_BYTES // (1024 * 1024)} MB, a file's limit"
        )
    kind = filetype.guess(content)
    mime = None if kind is None else str(kind.mime)
    if mime not in ALLOWED_TYPES:
        found = "an unknown type" if mime is None else mime
        raise HubError(
            "invalid",
            f"{name} is {found}; a plan's files are {ALLOWED_NAMES}",
            file=name,
        )
    return CheckedFile(name, mime, len(content), hashlib.sha256(content).hexdigest(), content)
