"""A folder of Markdown files with YAML front matter (Jekyll, Hugo, or a plain notes folder).

Each file becomes one document. The body is kept verbatim (only blank lines around it are
trimmed): punctuation, emoji and line-break rhythm are style signal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, UTC
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from collections.abc import Callable

import yaml
from frontmatter.default_handlers import YAMLHandler

from llm_twin.ingest.base import ImportedDocument, ImporterBase, ImportFormatError, ImportResult
from llm_twin.ingest.safe_zip import DEFAULT_MAX_TOTAL_BYTES, ExportTree
from llm_twin.platforms import KINDS, SOURCE_PLATFORMS
from llm_twin.storage.models import DocumentMeta

MARKDOWN_SUFFIXES = (".md", ".markdown")
DEFAULT_PLATFORM = "blog"
DEFAULT_KIND = "article"
FALLBACK_AUTHOR = "owner"
_DETECT_SAMPLE = 20
_OPENING_FENCE = re.compile(r"-{3,}[ \t]*\n")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_DATE_KEYS = ("published_at", "date")
_URL_KEYS = ("url", "permalink", "source")
_LANGUAGE_KEYS = ("lang", "language")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z")
T = TypeVar("T")


@dataclass
class _MarkdownFile:
    name: str
    front_matter: dict[str, Any]
    body: str

    @property
    def author(self) -> str | None:
        value = self.front_matter.get("author")
        if isinstance(value, list) and value:
            value = value[0]
        return _as_text(value)


class MarkdownFolderImporter(ImporterBase):
    format_name = "markdown-folder"

    def __init__(self, owner: str | None = None, *,
                 max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES):
        self.owner = owner
        self.max_total_bytes = max_total_bytes

    def detect(self, location: str | Path) -> bool:
        path = Path(location)
        try:
            with self._open(Path(path)) as tree:
                sample = _markdown_names(tree)[:_DETECT_SAMPLE]
                return any(_starts_with_fence(tree.read_head(name, 16)) for name in sample)
        except (ImportFormatError, OSError):
            return False

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        with self._open(Path(path)) as tree:
            files = [_parse_file(tree, name) for name in _markdown_names(tree)]
        owner_name = self.owner or _most_common_author(files)
        result = ImportResult(self.format_name, [], owner=owner_name)
        for file in files:
            if not file.body:
                result.skip("empty")
                continue
            result.documents.append(self._document(file, owner_name))
        return result

    def _open(self, path: Path) -> ExportTree:
        # A folder's own layout is the document id; only a zip may carry a wrapping folder.
        return ExportTree(path, max_total_bytes=self.max_total_bytes, unwrap=not path.is_dir())

    def _document(self, file: _MarkdownFile, owner_name: str | None) -> ImportedDocument:
        meta = dict(file.front_matter)
        author = file.author
        title = meta.pop("title", None)
        platform = _pop_choice(meta, "platform", SOURCE_PLATFORMS) or DEFAULT_PLATFORM
        kind = _pop_choice(meta, "kind", KINDS) or DEFAULT_KIND
        if author is not None:
            meta.pop("author")
        if meta.get("draft") is True or meta.get("published") is False:
            meta["draft"] = True
        return ImportedDocument(
            platform=platform, kind=kind,
            author=author or owner_name or FALLBACK_AUTHOR,
            is_owner=self._is_owner(author),
            raw_text=file.body,
            title=None if title is None else str(title),
            created_at=_pop_first(meta, _DATE_KEYS, _to_utc),
            url=_pop_first(meta, _URL_KEYS, _as_url),
            language=_pop_first(meta, _LANGUAGE_KEYS, _as_text),
            external_id=file.name,
            metadata={**_json_safe(meta), **DocumentMeta(path=file.name)},
        )

    def _is_owner(self, author: str | None) -> bool:
        if self.owner is None or author is None:
            return True
        return author.casefold() == self.owner.strip().casefold()


def _markdown_names(tree: ExportTree) -> list[str]:
    return [name for name in tree.list()
            if name.casefold().endswith(MARKDOWN_SUFFIXES)
            and not any(part.startswith(".") for part in PurePosixPath(name).parts)]


def _starts_with_fence(head: bytes) -> bool:
    return head.decode("utf-8-sig", errors="ignore").startswith("---")


def _parse_file(tree: ExportTree, name: str) -> _MarkdownFile:
    text = tree.read_text(name)
    front_matter, body = _split_front_matter(text, tree.display_name(name))
    return _MarkdownFile(name, front_matter, _trim_blank_lines(body))


def _split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    if not _OPENING_FENCE.match(text):
        return {}, text
    handler = YAMLHandler()
    try:
        raw, body = handler.split(text)
    except ValueError:
        raise ImportFormatError(where, "front matter opened with '---' is never closed",
                                line=1) from None
    if len(raw) > MAX_FRONT_MATTER_CHARS:  # PyYAML reads ~1 MB/s: megabytes would hang the import
        raise ImportFormatError(where, f"front matter is {len(raw)} characters long, over the "
                                       f"limit of {MAX_FRONT_MATTER_CHARS}", line=1)
    try:
        loaded = handler.load(raw)
    except yaml.YAMLError as error:
        raise _yaml_error(where, error) from error
    except (ValueError, OverflowError, RecursionError) as error:  # a date like 2024-13-45
        raise ImportFormatError(where, f"invalid value in the front matter: {error}",
                                line=1) from None
    if loaded is None:
        return {}, body
    if not isinstance(loaded, dict):
        raise ImportFormatError(where, "front matter is not a mapping of keys to values", line=1)
    if _exceeds(loaded, MAX_FRONT_MATTER_VALUES):
        raise ImportFormatError(where, f"front matter expands to over {MAX_FRONT_MATTER_VALUES} "
                                       "values (YAML aliases nested inside each other?)", line=1)
    return {str(key): value for key, value in loaded.items()}, body


def _yaml_error(where: str, error: yaml.YAMLError) -> ImportFormatError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    # The YAML text starts on the opening '---' line, so its 0-based line is the file's 1-based.
    line = mark.line + 1 if mark is not None else None
    return ImportFormatError(where, f"invalid YAML front matter: {problem}", line=line)


# YAML aliases share one object per anchor; copying them into metadata expands them, and a few
# lines of nested aliases (a "billion laughs") expand to billions of values.
MAX_FRONT_MATTER_VALUES = 100_000
# Real front matter is a few hundred bytes; a page of it is generous.
MAX_FRONT_MATTER_CHARS = 256 * 1024


def _exceeds(value: Any, limit: int) -> bool:
    """True when `value`, with every alias expanded, holds more than `limit` values."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return False


def _trim_blank_lines(body: str) -> str:
    return _LEADING_BLANK_LINES.sub("", body).rstrip()


def _most_common_author(files: list[_MarkdownFile]) -> str | None:
    authors = Counter(file.author for file in files if file.author)
    return authors.most_common(1)[0][0] if authors else None


def _pop_choice(meta: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    if meta.get(key) in allowed:
        return meta.pop(key)
    return None


def _pop_first(meta: dict[str, Any], keys: tuple[str, ...],
               convert: Callable[[Any], T | None]) -> T | None:
    """Convert the first key whose value converts; that key leaves the metadata, others stay."""
    for key in keys:
        if key in meta and (value := convert(meta[key])) is not None:
            del meta[key]
            return value
    return None


def _to_utc(value: Any) -> datetime | None:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = _parse_date_text(value.strip())
    else:
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_date_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _as_url(value: Any) -> str | None:
    # Front matter `source` is sometimes a repository reference, not a link; keep that as metadata.
    if isinstance(value, str) and value.strip().startswith(("http://", "https://")):
        return value.strip()
    return None


def _as_text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _json_safe(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
