"""What every importer produces, and the small protocol each one implements.

An importer turns one export (a zip, a folder, a file) into `ImportedDocument`s. It never touches
the warehouse: the ingest pipeline stores a whole import in one transaction, so an export either
lands completely or not at all.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from llm_twin.errors import InputError
from llm_twin.ingest.timezones import zone_info
from llm_twin.platforms import KINDS


class ImportFormatError(InputError):
    """An export is malformed. The message names the file (and line or field when known)."""

    def __init__(self, file: str | Path, problem: str, *, line: int | None = None,
                 field_name: str | None = None):
        self.file = str(file)
        self.problem = problem
        self.line = line
        self.field_name = field_name
        where = self.file
        if line is not None:
            where += f", line {line}"
        if field_name is not None:
            where += f", field '{field_name}'"
        super().__init__(f"{where}: {problem}")


# Size caps per parsed unit: the third-party parsers behind some importers are pure Python and slow
# on multi-megabyte input (measured on one core: BeautifulSoup builds ~30,000 tags/s, feedparser
# ~100 KB/s of dense markup, pylatexenc ~100 KB/s, pypdf's text extraction on a page's content
# stream a few MB/s), so a unit over its cap is refused with `too_large` before it reaches them,
# keeping every input under 5 s of CPU. Real exports stay far below: a long blog post or article
# page is ~100 KB and a few thousand tags, a paper's LaTeX source ~50-200 KB.
MAX_HTML_BYTES = 5 * 1024 ** 2           # one HTML page or HTML field
MAX_HTML_TAGS = 40_000                   # '<' characters in one HTML page or field
MAX_FEED_BYTES = 5 * 1024 ** 2           # one RSS/Atom document
MAX_FEED_TAGS = 40_000                   # '<' characters (escaped ones too) in one feed
MAX_LATEX_BYTES = 384 * 1024             # the LaTeX text of one paper, \input files included
MAX_PDF_PAGE_CONTENT_BYTES = 2 * 1024 ** 2  # one PDF page's decoded content stream
MAX_DAMAGED_PDF_BYTES = 1024 ** 2       # a PDF whose xref table pypdf would rebuild by scanning


def megabytes(size: int) -> str:
    """A size for a message: "12 MB", "1.5 MB", "384 KB"."""
    if size >= 1024 ** 2:
        value = size / 1024 ** 2
        return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def too_large(where: str | Path, what: str, size: int, limit: int, *,
              unit: str = "bytes") -> ImportFormatError:
    """The error for a unit over its cap, e.g. "export/page.html: 12 MB; HTML pages over 5 MB
    are not imported (a cap that keeps each import fast)"."""
    if unit == "bytes":
        amount, cap = megabytes(size), megabytes(limit)
    else:
        amount, cap = f"{size:,} {unit}", f"{limit:,} {unit}"
    return ImportFormatError(where, f"{amount}; {what} over {cap} are not imported "
                                    "(a cap that keeps each import fast)")


def check_markup(where: str | Path, what: str, text: str | bytes, *, max_bytes: int,
                 max_tags: int) -> None:
    """Raise `too_large` when markup is over `max_bytes` or holds more than `max_tags` tags."""
    if len(text) > max_bytes:
        raise too_large(where, what, len(text), max_bytes)
    tags = text.count(b"<") if isinstance(text, bytes) else text.count("<")
    if tags > max_tags:
        raise too_large(where, what, tags, max_tags, unit="tags")


def json_problem(error: ValueError | RecursionError) -> str:
    """What json.loads' failures other than a syntax error mean, for an ImportFormatError."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).split(";")[0]  # e.g. a number past Python's 4300-digit conversion limit


@dataclass
class ImportedDocument:
    """One document as read from an export, before it is stored."""

    platform: str
    kind: str
    author: str
    is_owner: bool
    raw_text: str
    title: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    language: str | None = None
    external_id: str | None = None
    # Stored as Document.extra: the keys read after import are storage.models.DocumentMeta's,
    # the rest belong to the format.
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown document kind {self.kind!r}; expected one of {KINDS}")


@dataclass(frozen=True)
class ImportOptions:
    """What the user told `twin ingest` that importers may need.

    owner_name: the owner's display name (from settings), when known.
    me: names/handles/emails that identify the owner in chats (`--me`, repeatable); matched
        case-insensitively against sender names when the export has no account data of its own.
    allow_private: let the web importer fetch private and loopback addresses (tests, intranets).
    progress: optional callback (done, total) for long imports; total may be None.
    timezone: the IANA zone (`Europe/Paris`) chat exports' zone-less local times are read in
        (`--timezone`); None reads them as UTC. A name that is not a zone raises InputError.
    """

    owner_name: str | None = None
    me: tuple[str, ...] = ()
    allow_private: bool = False
    progress: Callable[[int, int | None], None] | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.timezone is not None:
            object.__setattr__(self, "timezone", zone_info(self.timezone).key)

    def report(self, done: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(done, total)


@dataclass
class ImportResult:
    """Everything one importer read from one export."""

    format_name: str
    documents: list[ImportedDocument]
    owner: str | None = None
    # Items the importer saw and deliberately left out, by reason (e.g. {"retweet": 12}).
    skipped: dict[str, int] = field(default_factory=dict)
    # For sources read over the network (a URL), a hash of what was fetched; files are hashed
    # by the pipeline itself.
    fingerprint: str | None = None
    # What the user should know about how the export was read, one line each: e.g. a WXR file
    # that was not well-formed XML, the lines repaired and how many items were recovered.
    notes: list[str] = field(default_factory=list)
    # How many places were repaired to read an export that was not well-formed (e.g. the lines of
    # a WXR file whose bare `&` were escaped); shown as "repaired" in `twin ingest`'s report.
    repaired: int = 0
    # The IANA zone this export's dates are read and shown in (chat exports: `--timezone`),
    # stored as Source.timezone; None for exports whose dates need no zone.
    timezone: str | None = None

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count


@runtime_checkable
class Importer(Protocol):
    """One export format. `detect` looks at content, not just names; `read` parses it;
    `fingerprint` tells a second import of the same export before it is read."""

    format_name: str

    def detect(self, location: str | Path) -> bool:
        """True when `location` (a path, or a URL for the web, feed and git importers) holds this
        format. Must be cheap and never raise on foreign input."""
        ...

    def read(self, location: str | Path) -> ImportResult:
        """Parse the whole export. Raises `ImportFormatError` naming the file on bad input."""
        ...

    def fingerprint(self, location: str | Path) -> str | None:
        """What identifies this export before reading it: an equal value means it was imported
        already. None when only reading can tell (a URL): `read` then sets
        `ImportResult.fingerprint`."""
        ...


class ImporterBase(ABC):
    """The default `fingerprint`: a local export is identified by its bytes, a URL after reading."""

    format_name: str

    @abstractmethod
    def detect(self, location: str | Path) -> bool: ...

    @abstractmethod
    def read(self, location: str | Path) -> ImportResult: ...

    def fingerprint(self, location: str | Path) -> str | None:
        return file_fingerprint(location) if isinstance(location, Path) else None


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file, or of a folder's relative paths and file contents, in sorted order."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
