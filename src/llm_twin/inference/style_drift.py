"""How the owner's style drifted by year (`twin voice fit`'s card): per calendar year of their
dated, public, non-chat, non-code texts in the warehouse:

- `sentence_words`: mean words per sentence, over all the year's sentences;
- `emoji_per_post`, `hashtags_per_post`: means per text (inference.profiles' EMOJI and HASHTAG);
- `formality`: the share of sentences with none of these informal markers: a contraction
  ("don't", "I'm", "it's"), an exclamation mark, an emoji, a first- or second-person pronoun
  ("I", "me", "my", "we", "you"...), or a lower-case first letter. 1.0: every sentence reads like
  an article's; 0.0: every one like a chat line. It is a rough register measure, comparable
  across the owner's own years, not across people or languages (the markers are English).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from llm_twin.inference.profiles import EMOJI, HASHTAG
from llm_twin.storage.models import PUBLIC_AUDIENCES, Document

_SENTENCE = re.compile(r"[^.!?\u2026\n]+[.!?\u2026]*")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_LINK = re.compile(r"https?://\S+|\S+@\S+")
_CONTRACTION = re.compile(r"\b\w+['\u2019](?:t|s|m|re|ve|ll|d)\b", re.I)
_PERSONAL = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our|ours|you|your|yours)\b", re.I)


@dataclass(frozen=True)
class YearStyle:
    year: int
    posts: int
    sentence_words: float
    emoji_per_post: float
    hashtags_per_post: float
    formality: float

    def to_json(self) -> dict:
        return asdict(self)


def sentences(text: str) -> list[str]:
    """The text's sentences (and lines), links and hashtags left out; those without words too."""
    cleaned = HASHTAG.sub(" ", _LINK.sub(" ", text))
    return [" ".join(s.split()) for s in _SENTENCE.findall(cleaned) if _WORD.search(s)]


def is_informal(sentence: str) -> bool:
    first = next((ch for ch in sentence if ch.isalpha()), "")
    return bool(_CONTRACTION.search(sentence) or "!" in sentence or EMOJI.search(sentence)
                or _PERSONAL.search(sentence) or (first and first.islower()))


def drift_by_year(texts: Iterable[tuple[datetime, str]]) -> list[YearStyle]:
    """One row per year with texts, oldest first."""
    by_year: dict[int, list[str]] = {}
    for created_at, text in texts:
        if text.strip():
            by_year.setdefault(created_at.year, []).append(text)
    rows = []
    for year, year_texts in sorted(by_year.items()):
        said = [s for text in year_texts for s in sentences(text)]
        words = [len(_WORD.findall(s)) for s in said]
        rows.append(YearStyle(
            year=year, posts=len(year_texts),
            sentence_words=round(statistics.fmean(words), 2) if words else 0.0,
            emoji_per_post=round(statistics.fmean(len(EMOJI.findall(t)) for t in year_texts), 3),
            hashtags_per_post=round(statistics.fmean(len(HASHTAG.findall(t))
                                                     for t in year_texts), 3),
            formality=round(sum(not is_informal(s) for s in said) / len(said), 3) if said else 0.0))
    return rows


def owner_drift(session: Session) -> list[YearStyle]:
    """`drift_by_year` of the owner's dated public texts (no chats, no code) in the warehouse."""
    query = (select(Document.created_at, Document.raw_text)
             .where(Document.is_owner.is_(True), Document.kind.not_in(("message", "code")),
                    Document.audience.in_(PUBLIC_AUDIENCES), Document.created_at.is_not(None)))
    return drift_by_year((created_at, text) for created_at, text in session.execute(query)
                         if created_at is not None)
