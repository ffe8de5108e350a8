"""Academic papers as PDF: one file, or a folder of them. See docs/FORMATS.md section 9.

Text comes from pypdf (BSD, pure Python). Its plain extraction follows the content stream, which
keeps two-column papers in reading order, but it loses paragraph breaks; its layout mode keeps
them but interleaves columns. So lines are taken from plain extraction together with each line's
position and font size (pypdf's `visitor_text`), and paragraphs are rebuilt from vertical gaps,
first-line indents and font size changes. Then: running headers/footers and page numbers go,
line-end hyphens are joined, and everything from the References/Bibliography heading on is dropped.

Papers are usually co-authored: a paper with more than one author gets metadata["coauthored"] and
a lower style weight (it is still the owner's knowledge, so it stays for retrieval).
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from statistics import median
from typing import Any

from pypdf import PasswordType, PdfReader

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import (MAX_DAMAGED_PDF_BYTES, MAX_PDF_PAGE_CONTENT_BYTES,
                                  ImportedDocument, ImportFormatError, ImportResult, megabytes,
                                  too_large)
from llm_twin.ingest.safe_zip import ExportTree
import itertools

PDF_MAGIC = b"%PDF-"
COAUTHORED_WEIGHT = 0.5
FALLBACK_AUTHOR = "owner"
# A PDF may start with a little junk before the header; readers accept it within the first KiB.
_MAGIC_WINDOW = 1024
_DETECT_SAMPLE = 50
_EDGE_LINES = 2  # how many lines at the top and bottom of a page may be a running header/footer
_REFERENCES_HEADING = re.compile(
    r"^\s*(?:[0-9IVX]+\.?\s*)?(?:references|bibliography|works cited|literature cited)\s*$",
    re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s*)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.IGNORECASE)
# Typesetting ligatures are not voice; full NFKC would also fold characters that are.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl",
                            "ﬅ": "st", "ﬆ": "st"})
_SENTENCE_ENDS = frozenset('.!?:"”)')
_JUNK_TITLES = re.compile(r"^(?:untitled|microsoft word - .*|.*\.(?:docx?|tex|dvi|pdf))$",
                          re.IGNORECASE)


@dataclass
class _Line:
    text: str
    x: float
    y: float
    size: float
    page: int


class PdfPaperImporter(ArchiveImporter):
    format_name = "pdf"

    def _detect(self, path: Path) -> bool:
        if path.is_file():
            with path.open("rb") as file:
                return _starts_like_pdf(file.read(_MAGIC_WINDOW))
        if not path.is_dir():
            return False
        with ExportTree(path, max_total_bytes=self.max_total_bytes, unwrap=False) as tree:
            return _mostly_pdfs(tree)

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        result = ImportResult(self.format_name, [], owner=self.options.owner_name)
        if path.is_file():
            document = self._paper(self._read_file(path), str(path), path.name, result)
            if document is not None:
                result.documents.append(document)
            return result
        with ExportTree(path, max_total_bytes=self.max_total_bytes, unwrap=False) as tree:
            names = [name for name in tree.list()
                     if _starts_like_pdf(tree.read_head(name, _MAGIC_WINDOW))]
            if not names:
                raise ImportFormatError(path, "no PDF files in this folder")
            for done, name in enumerate(names, 1):
                document = self._paper(tree.read_bytes(name), tree.display_name(name), name, result)
                if document is not None:
                    result.documents.append(document)
                self.options.report(done, len(names))
        return result

    def _read_file(self, path: Path) -> bytes:
        try:
            if path.stat().st_size > self.max_total_bytes:
                raise ImportFormatError(path, "larger than the limit of "
                                              f"{self.max_total_bytes} bytes")
            return path.read_bytes()
        except OSError as error:
            raise ImportFormatError(path, f"cannot read: {error.strerror or error}") from error

    def _paper(self, data: bytes, where: str, name: str,
               result: ImportResult) -> ImportedDocument | None:
        reader = _open_pdf(data, where)
        lines = _all_lines(reader, where)
        if not any(line.text.strip() for line in lines):
            result.skip("no_text_layer")  # a scan: there is no text to learn from without OCR
            return None
        info = _info(reader)
        title_lines = _title_lines(lines)
        title_ids = {id(line) for line in title_lines}
        body = [line for line in lines if id(line) not in title_ids]
        body = _drop_references(_drop_running_lines(body, len(reader.pages)))
        text = "\n\n".join(_paragraphs(body))
        if not text:
            result.skip("empty")
            return None
        authors = _split_authors(_text(info.get("/Author")))
        metadata: dict[str, Any] = {"file": name, "pages": len(reader.pages), "authors": authors}
        if len(authors) > 1:
            metadata.update(coauthored=True, weight=COAUTHORED_WEIGHT)
        return ImportedDocument(
            platform="paper", kind="paper",
            author=self.options.owner_name or ", ".join(authors) or FALLBACK_AUTHOR,
            is_owner=True,
            raw_text=text,
            title=_title(_text(info.get("/Title")), title_lines),
            created_at=_creation_date(reader),
            external_id=name,
            metadata=metadata,
        )


def _starts_like_pdf(head: bytes) -> bool:
    return PDF_MAGIC in head[:_MAGIC_WINDOW]


_STARTXREF = re.compile(rb"startxref\s+(\d{1,15})")
_OBJECT_HEADER = re.compile(rb"\d+\s+\d+\s+obj\b")
_XREF_TAIL = 1024


def _mostly_pdfs(tree: ExportTree) -> bool:
    """At least half of a sample of the (non-hidden) files are PDFs, so a blog with one PDF
    attachment is left to the importer of blogs."""
    names = [name for name in tree.list()
             if not any(part.startswith(".") for part in name.split("/"))]
    sample = names[:_DETECT_SAMPLE]
    pdfs = sum(_starts_like_pdf(tree.read_head(name, _MAGIC_WINDOW)) for name in sample)
    return pdfs > 0 and pdfs * 2 >= len(sample)


# pypdf reports damage with many exception types (its own, plus KeyError, ValueError, TypeError,
# struct and zlib errors from deep inside), so each call into it is guarded as a whole.
def _xref_intact(data: bytes) -> bool:
    """The last `startxref` points at an xref table or an xref stream object, so pypdf will not
    rebuild the table by scanning and parsing the whole file (pure Python, minutes on a damaged
    file of a few MB)."""
    # The last one counts (incremental updates append their own).
    found = next(reversed(list(_STARTXREF.finditer(data[-_XREF_TAIL:]))), None)
    if found is None:
        return False
    offset = int(found.group(1))
    if offset >= len(data):
        return False
    return data[offset:offset + 4] == b"xref" or \
        _OBJECT_HEADER.match(data, offset) is not None


def _open_pdf(data: bytes, where: str) -> PdfReader:
    if len(data) > MAX_DAMAGED_PDF_BYTES and not _xref_intact(data):
        raise ImportFormatError(where, f"the PDF is damaged (its cross-reference table is "
                                       f"missing or broken) and {megabytes(len(data))}; damaged "
                                       f"PDFs over {megabytes(MAX_DAMAGED_PDF_BYTES)} are not "
                                       "repaired (too slow): re-save it or print it to a new PDF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ImportFormatError(where, "the PDF is encrypted with a password; remove the "
                                           "password (or print it to a new PDF) and import that")
        len(reader.pages)
    except ImportFormatError:
        raise
    except Exception as error:
        raise ImportFormatError(where, f"not a readable PDF ({_describe(error)})") from error
    return reader


def _info(reader: PdfReader) -> dict[str, Any]:
    try:
        return dict(reader.metadata or {})
    except Exception:
        return {}


def _creation_date(reader: PdfReader) -> datetime | None:
    try:
        moment = reader.metadata.creation_date if reader.metadata else None
    except Exception:
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _all_lines(reader: PdfReader, where: str) -> list[_Line]:
    lines: list[_Line] = []
    for number, page in enumerate(reader.pages, 1):
        try:
            size = _content_size(page)
            if size > MAX_PDF_PAGE_CONTENT_BYTES:  # pypdf's text extraction is pure Python
                raise too_large(where, f"pages (page {number}'s drawing commands)", size,
                                MAX_PDF_PAGE_CONTENT_BYTES)
            lines.extend(_page_lines(page, number))
        except ImportFormatError:
            raise
        except Exception as error:
            raise ImportFormatError(where, f"page {number} cannot be read "
                                           f"({_describe(error)})") from error
    return lines


def _content_size(page: Any) -> int:
    """Bytes of a page's decoded content streams (zlib runs in C: fast even when large)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, list) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams)


def _page_lines(page: Any, number: int) -> list[_Line]:
    """Lines in pypdf's plain-extraction order, each with the position and size of its text."""
    lines: list[_Line] = []
    parts: list[str] = []
    where: list[float] = []

    def flush() -> None:
        text = "".join(parts).translate(_LIGATURES).strip()
        if text and where:
            lines.append(_Line(text, where[0], where[1], where[2], number))
        parts.clear()
        where.clear()

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                flush()
            if piece.strip() and not where:
                where.extend(_placement(cm, tm, size))
            parts.append(piece)

    page.extract_text(visitor_text=visit)
    flush()
    return lines


def _placement(cm: list[float], tm: list[float], size: float) -> tuple[float, float, float]:
    """Page coordinates and rendered font size of text drawn with matrices tm, then cm."""
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
    return x, y, (size or 0.0) * (scale or 1.0)


def _body_size(lines: list[_Line]) -> float:
    sizes = Counter(round(line.size, 1) for line in lines)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _title_lines(lines: list[_Line]) -> list[_Line]:
    """The lines at the top of page 1 set in the page's largest font, when that is above body."""
    first_page = [line for line in lines if line.page == 1]
    if not first_page:
        return []
    largest = max(line.size for line in first_page)
    body = _body_size(lines)
    if largest <= body * 1.15:
        return []
    large = [line for line in first_page if line.size >= largest - 0.5]
    top = max(line.y for line in large)
    if any(line.y > top for line in first_page if abs(line.size - body) <= 0.5):
        return []  # body text above it: a section heading, not the title
    return [line for line in large if top - line.y <= largest * 3]


def _title(metadata_title: str | None, title_lines: list[_Line]) -> str | None:
    if metadata_title and not _JUNK_TITLES.match(metadata_title):
        return metadata_title
    if title_lines:
        return " ".join(line.text for line in title_lines)
    return metadata_title


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split())).casefold()


def _drop_running_lines(lines: list[_Line], page_count: int) -> list[_Line]:
    """Remove page numbers and lines repeated at the top or bottom of most pages."""
    by_page: dict[int, list[_Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges = {page: _edges(page_lines) for page, page_lines in by_page.items()}
    seen = Counter(key for page_edges in edges.values()
                   for key in {_edge_key(line.text) for line in page_edges})
    threshold = max(2, math.ceil(page_count / 2))
    running = {key for key, count in seen.items() if count >= threshold}
    edge_ids = {id(line) for page_edges in edges.values() for line in page_edges}

    def is_running(line: _Line) -> bool:
        return id(line) in edge_ids and (_edge_key(line.text) in running
                                         or bool(_PAGE_NUMBER.match(line.text)))

    return [line for line in lines if not is_running(line)]


def _edges(page_lines: list[_Line]) -> list[_Line]:
    # Running heads are drawn anywhere in the content stream; where they sit on the page counts.
    ordered = sorted(page_lines, key=lambda line: -line.y)
    return ordered[:_EDGE_LINES] + ordered[_EDGE_LINES:][-_EDGE_LINES:]


def _drop_references(lines: list[_Line]) -> list[_Line]:
    # The last such heading: an earlier one may sit in a table of contents.
    for index in range(len(lines) - 1, -1, -1):
        if _REFERENCES_HEADING.match(lines[index].text):
            return lines[:index]
    return lines


def _paragraphs(lines: list[_Line]) -> list[str]:
    layout = _Layout.of(lines)
    paragraphs: list[list[str]] = []
    previous: _Line | None = None
    for line in lines:
        if previous is None or layout.starts_paragraph(previous, line):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
        previous = line
    return [_join_lines(paragraph) for paragraph in paragraphs]


@dataclass(frozen=True)
class _Layout:
    """What a normal line of this paper looks like: the gap to the next one and its length."""

    spacing: float
    full_length: float

    @classmethod
    def of(cls, lines: list[_Line]) -> _Layout:
        gaps = [a.y - b.y for a, b in itertools.pairwise(lines)
                if a.page == b.page and 0 < a.y - b.y < 3 * max(a.size, 1.0)]
        body = _body_size(lines)
        lengths = [len(line.text) for line in lines if abs(line.size - body) <= 0.5]
        return cls(median(gaps) if gaps else 0.0, median(lengths) if lengths else 0.0)

    def starts_paragraph(self, previous: _Line, line: _Line) -> bool:
        if abs(line.size - previous.size) > 0.5:
            return True  # a heading, or back to body text after one
        if self._ends_paragraph(previous):
            return True
        if line.page != previous.page or line.y > previous.y:
            # A new page or column: only an indent says a new paragraph starts there.
            return line.x - previous.x > line.size
        if self.spacing and previous.y - line.y > self.spacing * 1.4:
            return True
        return line.size < line.x - previous.x < 12 * line.size  # first-line indent, not a column

    def _ends_paragraph(self, line: _Line) -> bool:
        """A sentence that stops well short of the margin: the last line of a paragraph."""
        return (len(line.text) < 0.6 * self.full_length
                and line.text.rstrip()[-1:] in _SENTENCE_ENDS)


def _join_lines(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        if not re.search(r"[^\W\d_]-$", text):
            text = f"{text} {line}"
        elif line[:1].islower():
            text = text[:-1] + line  # "recur-" + "sion": a hyphen set only to break the line
        else:
            text += line  # "non-" + "Euclidean": a real hyphen that fell at the line end
    return text


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [name for name in _AUTHOR_SEPARATORS.split(value) if name.strip()]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None
