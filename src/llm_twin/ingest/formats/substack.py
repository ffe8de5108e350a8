"""Substack publication export (Settings -> Import/Export), zipped or unzipped.

See docs/FORMATS.md section 4. `posts.csv` lists every post; its body is the HTML fragment
`posts/<post_id>.html`. Only those two are ever opened: `email_list.*.csv` holds subscribers'
e-mail addresses and `posts/*.opens.csv` / `*.delivers.csv` per-reader analytics, so this module
never reads them, not even to detect the format.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, UTC
from html import unescape
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.html_text import decode_text, html_to_text
from llm_twin.ingest.safe_zip import ExportTree

FALLBACK_AUTHOR = "owner"
POSTS_CSV = "posts.csv"
REQUIRED_COLUMNS = ("post_id", "post_date", "is_published")
_DETECT_HEAD_BYTES = 2048
_REPORT_EVERY = 100
_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no", ""})
# Subscribe and share buttons, embeds of other people's posts and tweets, galleries, LaTeX.
_BOILERPLATE_SELECTORS = (
    ".subscription-widget-wrap", "p.button-wrapper", ".paywall-jump", "div.tweet",
    ".digest-post-embed", ".image-gallery-embed", "div.latex-rendered",
    ".embedded-post-wrap",  # [unverified] a card quoting another publication's post
)


@dataclass(frozen=True)
class _Row:
    """One line of posts.csv, with its values keyed by lower-cased column name."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


class SubstackImporter(ArchiveImporter):
    format_name = "substack"

    def _detect(self, path: Path) -> bool:
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            name = tree.find(POSTS_CSV)
            if name is None:
                return False
            return _looks_like_posts_csv(tree.read_head(name, _DETECT_HEAD_BYTES))

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        result = ImportResult(self.format_name, [])
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            csv_name = tree.find(POSTS_CSV)
            if csv_name is None:
                raise ImportFormatError(path, "no posts.csv; not a Substack export")
            rows = _read_rows(tree, csv_name)
            for done, row in enumerate(rows, start=1):
                document = self._document(tree, csv_name, row, result)
                if document is not None:
                    result.documents.append(document)
                if done % _REPORT_EVERY == 0:
                    self.options.report(done, len(rows))
        self.options.report(len(rows), len(rows))
        return result

    def _document(self, tree: ExportTree, csv_name: str, row: _Row,
                  result: ImportResult) -> ImportedDocument | None:
        where = tree.display_name(csv_name)
        created_at = _post_date(row, where)
        is_published = _is_published(row, where)
        post_id = row.get("post_id")
        body_name = tree.find(f"posts/{post_id}.html")
        if body_name is None:
            result.skip("missing_body")
            return None
        text = _body_text(tree, body_name)
        if not text:
            result.skip("empty")
            return None
        metadata = _metadata(row, body_name)
        if not is_published or created_at is None:
            metadata["draft"] = True
        return ImportedDocument(
            platform="substack", kind="article",
            author=self.options.owner_name or FALLBACK_AUTHOR, is_owner=True, raw_text=text,
            title=_unescaped(row.get("title")), created_at=created_at, external_id=post_id,
            metadata=metadata,
        )


def _looks_like_posts_csv(head: bytes) -> bool:
    first_line = head.decode("utf-8-sig", errors="ignore").splitlines()[:1]
    if not first_line:
        return False
    columns = {column.strip().casefold() for column in next(csv.reader(first_line))}
    return {"post_id", "is_published"} <= columns


def _read_rows(tree: ExportTree, name: str) -> list[_Row]:
    where = tree.display_name(name)
    reader = csv.reader(io.StringIO(decode_text(tree.read_bytes(name), where), newline=""),
                        strict=True)
    try:
        header = [column.strip().casefold() for column in next(reader, [])]
        _check_header(header, where)
        rows: list[_Row] = []
        while True:
            line = reader.line_num + 1  # where this record starts; quoted fields span lines
            fields = next(reader, None)
            if fields is None:
                return rows
            if any(field.strip() for field in fields):
                rows.append(_row(header, fields, line, where))
    except csv.Error as error:
        raise ImportFormatError(where, f"malformed CSV: {error}", line=reader.line_num) from error


def _row(header: list[str], fields: list[str], line: int, where: str) -> _Row:
    if len(fields) != len(header):
        raise ImportFormatError(where, f"{len(fields)} fields where the header has "
                                       f"{len(header)}", line=line)
    row = _Row(line, dict(zip(header, fields)))
    if not row.get("post_id"):
        raise ImportFormatError(where, "empty post_id", line=line, field_name="post_id")
    return row


def _check_header(header: list[str], where: str) -> None:
    if not header:
        raise ImportFormatError(where, "empty file; expected a header line", line=1)
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise ImportFormatError(where, f"the header has no {column!r} column", line=1,
                                    field_name=column)


def _post_date(row: _Row, where: str) -> datetime | None:
    value = row.get("post_date")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ImportFormatError(where, f"unreadable date {value!r}", line=row.line,
                                field_name="post_date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _is_published(row: _Row, where: str) -> bool:
    value = row.get("is_published").casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImportFormatError(where, f"expected true or false, not {value!r}", line=row.line,
                            field_name="is_published")


def _metadata(row: _Row, body_name: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": body_name, "csv_line": row.line}
    for column in ("type", "audience", "subtitle", "email_sent_at", "podcast_url"):
        if row.get(column):
            metadata[column] = row.get(column)
    if "subtitle" in metadata:
        metadata["subtitle"] = _unescaped(metadata["subtitle"])
    return metadata


def _unescaped(value: str | None) -> str | None:
    """posts.csv writes titles and subtitles HTML-escaped (`&#x201C;`, `&amp;`): decode them."""
    return (unescape(value).strip() or None) if value else None


def _body_text(tree: ExportTree, name: str) -> str:
    html = decode_text(tree.read_bytes(name), tree.display_name(name))
    root = BeautifulSoup(html, "lxml")
    footnotes = _take_footnotes(root)
    _keep_only_captions(root)
    for selector in _BOILERPLATE_SELECTORS:
        for element in root.select(selector):
            element.decompose()
    return "\n\n".join(part for part in [html_to_text(root), *footnotes] if part)


def _take_footnotes(root: Tag) -> list[str]:
    """Remove the footnote markers and notes from the text; return the notes as "[n] text"."""
    for anchor in root.select("a.footnote-anchor"):
        anchor.decompose()
    notes = []
    for position, note in enumerate(root.select("div.footnote"), start=1):
        number_link = note.select_one(".footnote-number")
        number = number_link.get_text(strip=True) if number_link is not None else ""
        if number_link is not None:
            number_link.decompose()
        content = note.select_one(".footnote-content") or note
        text = html_to_text(content)
        note.decompose()
        if text:
            notes.append(f"[{number or position}] {text}")
    return notes


def _keep_only_captions(root: Tag) -> None:
    """An image block becomes its caption alone (the caption is the writer's own words)."""
    for container in root.select(".captioned-image-container"):
        captions = [caption.extract() for caption in container.find_all("figcaption")]
        if captions:
            container.replace_with(*captions)
        else:
            container.decompose()
