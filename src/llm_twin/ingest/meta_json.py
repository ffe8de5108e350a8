"""Helpers for the importers of Meta's "Download your information" JSON (Instagram, Messenger).

Meta writes every UTF-8 byte of a string as its own `\\u00XX` escape, so `Café` loads as
`CafÃ©` (FORMATS.md section 5). `load_meta_json` parses a file and undoes that everywhere.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from llm_twin.ingest.base import ImportFormatError, json_problem
from llm_twin.ingest.safe_zip import DEFAULT_MAX_TOTAL_BYTES, ExportTree

HTML_DOWNLOAD_HINT = ("this is the HTML version of Meta's download, which cannot be imported. "
                      "Request the download again (Accounts Center → Your information and "
                      "permissions → Download your information) and choose Format: JSON")
DETECT_HEAD_BYTES = 4096
_INSTAGRAM_FOLDER = "your_instagram_activity"
_PERSONAL_INFORMATION = re.compile(r"(?:^|/)personal_information\.json$", re.IGNORECASE)
_INSTAGRAM_CONTENT = re.compile(
    r"^(?:your_instagram_activity/)?(?:content|media)/"
    r"(?:posts_\d+|reels|stories|archived_posts|igtv_videos)\.(?:json|html)$", re.IGNORECASE)
# Meta's largest timestamps in seconds are ~1.7e9; anything past 1e11 can only be milliseconds.
_MILLISECONDS_FROM = 10 ** 11


def fix_mojibake(value: Any) -> Any:
    """Undo Meta's latin-1 escaping in every string of a loaded JSON value (keys included)."""
    if isinstance(value, str):
        return _fix_string(value)
    if isinstance(value, list):
        return [fix_mojibake(item) for item in value]
    if isinstance(value, dict):
        return {fix_mojibake(key): fix_mojibake(item) for key, item in value.items()}
    return value


def _fix_string(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text  # already clean: a character above U+00FF, or bytes that are not UTF-8


def load_meta_json(tree: ExportTree, name: str) -> Any:
    """Parse one JSON file of the export, mojibake fixed; errors name the file and line."""
    text = tree.read_text(name)
    where = tree.display_name(name)
    if looks_like_html(text):
        raise ImportFormatError(where, HTML_DOWNLOAD_HINT)
    if not text.strip():
        raise ImportFormatError(where, "the file is empty; the download may be incomplete")
    try:
        return fix_mojibake(json.loads(text))
    except json.JSONDecodeError as error:
        raise ImportFormatError(where, f"invalid JSON: {error.msg} (column {error.colno})",
                                line=error.lineno) from error
    except (ValueError, RecursionError) as error:  # nesting past the recursion limit, a huge int
        raise ImportFormatError(where, f"unreadable JSON: {json_problem(error)}") from None


def looks_like_html(text: str) -> bool:
    return text.lstrip()[:1] == "<"


def read_head_text(tree: ExportTree, name: str, size: int = DETECT_HEAD_BYTES) -> str:
    """The first bytes of a file as text, for cheap detection (undecodable bytes dropped)."""
    return tree.read_head(name, size).decode("utf-8-sig", errors="ignore").lstrip()


def open_export(path: Path, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> ExportTree:
    """The export as a tree of files; a bare JSON file (one chat's message_1.json, saved on its
    own) is a tree of that one file."""
    if path.is_file() and path.suffix.casefold() == ".json":
        return ExportTree.of_file(path, max_total_bytes=max_total_bytes)
    return ExportTree(path, max_total_bytes=max_total_bytes)


def looks_like_instagram(tree: ExportTree) -> bool:
    """True when the export carries Instagram's own files, not just Meta chat threads."""
    names = tree.list()
    if any(_under_instagram_folder(tree, name) for name in names):
        return True
    if any(_INSTAGRAM_CONTENT.match(name) for name in names):
        return True
    return any(_PERSONAL_INFORMATION.search(name)
               and "profile_user" in read_head_text(tree, name) for name in names)


def _under_instagram_folder(tree: ExportTree, name: str) -> bool:
    # The original path, not the public name: ExportTree drops a folder that wraps everything,
    # which is what a messages-only Instagram download's your_instagram_activity/ is.
    parts = Path(tree.display_name(name)).parts
    return _INSTAGRAM_FOLDER in (part.casefold() for part in parts)


def utc_from_timestamp(value: Any, where: str, field_name: str, *,
                       milliseconds: bool | None = None) -> datetime:
    """A unix timestamp (seconds or milliseconds; None means guess by size) as aware UTC."""
    number = _as_number(value)
    if number is None:
        raise ImportFormatError(where, f"unreadable timestamp {value!r}", field_name=field_name)
    if milliseconds is None:
        milliseconds = abs(number) >= _MILLISECONDS_FROM
    try:
        return datetime.fromtimestamp(number / 1000 if milliseconds else number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ImportFormatError(where, f"timestamp {value!r} is out of range",
                                field_name=field_name) from None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def text_of(value: Any) -> str | None:
    """A non-blank string as it is, else None."""
    return value if isinstance(value, str) and value.strip() else None


def dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
