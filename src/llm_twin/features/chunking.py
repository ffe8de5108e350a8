"""Chunking by kind: short posts whole, threads whole or by post, long texts by section/paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class TextChunk:
    position: int
    text: str


def chunk_document(kind: str, text: str, *, max_chars: int = 1000, overlap_chars: int = 150,
                   thread_posts: list[str] | None = None) -> list[TextChunk]:
    if kind in ("post", "message") or len(text) <= max_chars:
        pieces = [text]
    elif kind == "thread" and thread_posts:
        pieces = _pack(thread_posts, max_chars, overlap_chars=0)
    elif kind == "code":
        pieces = _pack(_PARAGRAPH_BREAK.split(text), max_chars, overlap_chars=0)
    else:
        pieces = _split_long_text(text, max_chars, overlap_chars)
    return [TextChunk(i, piece.strip()) for i, piece in enumerate(pieces) if piece.strip()]


def _split_long_text(text: str, max_chars: int, overlap_chars: int) -> list[str]:
    chunks: list[str] = []
    for section in _sections(text):
        paragraphs = [p for p in _PARAGRAPH_BREAK.split(section) if p.strip()]
        chunks.extend(_pack(paragraphs, max_chars, overlap_chars))
    return chunks


def _sections(text: str) -> list[str]:
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def _pack(units: list[str], max_chars: int, overlap_chars: int) -> list[str]:
    """Greedily pack units (paragraphs or posts) into chunks; split any unit that is too long."""
    pieces: list[str] = []
    current = ""
    for unit in _fit_units(units, max_chars):
        candidate = f"{current}\n\n{unit}" if current else unit
        if len(candidate) <= max_chars:
            current = candidate
            continue
        pieces.append(current)
        tail = _overlap_tail(current, overlap_chars)
        current = f"{tail}\n\n{unit}" if tail and len(tail) + len(unit) + 2 <= max_chars else unit
    if current:
        pieces.append(current)
    return pieces


def _fit_units(units: list[str], max_chars: int) -> list[str]:
    fitted: list[str] = []
    for unit in units:
        unit = unit.strip()
        if len(unit) <= max_chars:
            fitted.append(unit)
            continue
        fitted.extend(_pack_words(_SENTENCE_END.split(unit), max_chars))
    return fitted


def _pack_words(sentences: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # a sentence longer than a chunk: cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        candidate = f"{current} {sentence}".strip()
        if len(candidate) <= max_chars:
            current = candidate
        else:
            out.append(current)
            current = sentence
    if current:
        out.append(current)
    return out


def _overlap_tail(text: str, overlap_chars: int) -> str:
    """The last sentences of a chunk, up to overlap_chars, so context carries across a cut."""
    if overlap_chars <= 0:
        return ""
    sentences = _SENTENCE_END.split(text)
    tail = ""
    for sentence in reversed(sentences):
        candidate = f"{sentence} {tail}".strip()
        if len(candidate) > overlap_chars:
            break
        tail = candidate
    return tail
