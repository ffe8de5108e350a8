"""The owner's documents as answer-sized units, each a verbatim slice of what they wrote.

Long articles become sections (cut at headings, then between paragraphs, never inside a fenced code
block); long code files are cut at top-level definitions. A unit is only kept when it is an exact
substring of the document's raw text, so an answer can never be text the owner did not write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from llm_twin.features.chunking import split_code
from llm_twin.platforms import max_answer_chars
from llm_twin.storage.models import Document, document_meta

COMMIT_MESSAGE = "commit_message"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.M)
_HEADING = re.compile(r"[ \t]*#{1,6}[ \t]")


@dataclass(frozen=True)
class LengthLimits:
    min_chars: int
    max_chars: int


POST_MIN_CHARS = 20
_ARTICLE_LIMITS = LengthLimits(40, 2000)  # per section: ~500 tokens, a CPU-sized training window
_CODE_LIMITS = LengthLimits(40, 3000)
_COMMIT_LIMITS = LengthLimits(15, 2000)
MESSAGE_LIMITS = LengthLimits(8, 2000)


def length_limits(platform: str, kind: str, tag: str | None = None) -> LengthLimits:
    if tag == COMMIT_MESSAGE:
        return _COMMIT_LIMITS
    if kind == "code":
        return _CODE_LIMITS
    if kind in ("article", "paper"):
        return _ARTICLE_LIMITS
    if kind == "message":
        return MESSAGE_LIMITS
    return LengthLimits(POST_MIN_CHARS, max_answer_chars(platform))  # the platform table's


@dataclass
class OwnerText:
    """One answer candidate: a verbatim slice of an owner document."""

    document_id: int
    source_id: int
    platform: str
    kind: str
    text: str
    title: str | None = None
    created_at: datetime | None = None
    language: str | None = None
    tag: str | None = None
    code_language: str | None = None
    path: str | None = None
    draft: bool = False
    audience: str = "public"  # the document's (storage.models.AUDIENCES)
    section: int | None = None  # position when the document was cut into sections
    sections: int = 1

    @property
    def limits(self) -> LengthLimits:
        return length_limits(self.platform, self.kind, self.tag)


def load_owner_documents(session: Session) -> list[Document]:
    """The owner's own writing, oldest first; chat messages go to the conversation dataset."""
    query = (select(Document).where(Document.is_owner.is_(True), Document.kind != "message")
             .order_by(Document.created_at, Document.id))
    return list(session.scalars(query))


def owner_texts(document: Document) -> tuple[list[OwnerText], int]:
    """The document's answer units, and how many too-long pieces had to be left out."""
    meta = document_meta(document.extra)
    base = OwnerText(
        document_id=document.id, source_id=document.source_id, platform=document.platform,
        kind=document.kind, text=document.raw_text.strip(), title=document.title,
        created_at=document.created_at, language=document.language, tag=meta.get("tag"),
        code_language=meta.get("language") if document.kind == "code" else None,
        path=meta.get("path"), draft=meta.get("draft", False), audience=document.audience)
    limit = base.limits.max_chars
    if len(base.text) <= limit:
        return [base], 0
    if base.kind in ("article", "paper", "code"):
        pieces = (split_code(base.text, limit, base.code_language) if base.kind == "code"
                  else section_slices(base.text, limit))
        kept = [p.strip() for p in pieces if p.strip() and len(p.strip()) <= limit]
        kept = [p for p in kept if p in base.text]  # verbatim only
        units = [_section_of(base, piece, i, len(kept)) for i, piece in enumerate(kept)]
        return units, len(pieces) - len(kept)
    return [base], 0  # a too-long post: the length filter counts it


def _section_of(base: OwnerText, text: str, index: int, total: int) -> OwnerText:
    unit = OwnerText(**{**base.__dict__, "text": text, "section": index, "sections": total})
    return unit


def section_slices(text: str, max_chars: int) -> list[str]:
    """Slices of `text` of at most max_chars, cut between paragraphs, a heading opening a new one.

    A paragraph longer than max_chars is returned alone (the caller drops it as too long).
    """
    spans = _paragraph_spans(text)
    pieces: list[str] = []
    start = end = None
    for para_start, para_end in spans:
        opens_section = _HEADING.match(text, para_start) is not None
        if start is not None and (para_end - start > max_chars or opens_section):
            pieces.append(text[start:end])
            start = None
        if start is None:
            start = para_start
        end = para_end
    if start is not None:
        pieces.append(text[start:end])
    return pieces


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph; a fenced code block with blank lines inside stays whole."""
    fenced = _fenced_ranges(text)
    spans: list[tuple[int, int]] = []
    start = 0
    for gap in _PARAGRAPH_BREAK.finditer(text):
        if any(a < gap.start() < b for a, b in fenced):
            continue
        if text[start:gap.start()].strip():
            spans.append((start, gap.start()))
        start = gap.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    marks = [m.start() for m in _FENCE.finditer(text)]
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]
