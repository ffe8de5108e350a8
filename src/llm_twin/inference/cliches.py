"""The anti-cliché lexicon: phrases the base model keeps using that the owner never writes.

Word 2-4 grams are counted over the base model's generations (for the owner's own prompts) and
over the owner's texts. A phrase is a cliché when it is frequent in the generations (in at least
`min_documents` of them and at least `min_share` of them) and never appears in the owner's texts.
Ranking subtracts a penalty per hit (see ranking.CLICHE_PENALTY); `twin write` lists the hits.

A phrase made only of stopwords ("it is a", "of the") is not a cliché: it carries no style, and the
owner simply may not have written that exact sequence yet.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_PHRASES = 200
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.!?;:\u2026]+(?=\s|$)|\n")
_STOPWORDS = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it its
this that these those i you we he she they me my our your their his her them us do does did so
not no have has had will would can could should just than then there here what which who how
""".split())


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def phrases(text: str, sizes: Iterable[int] = (2, 3, 4)) -> set[str]:
    """The distinct word n-grams of a text, within sentences (never across a sentence end)."""
    found = set()
    for sentence in _SENTENCE_BREAK.split(text):
        tokens = words(sentence)
        for size in sizes:
            for start in range(len(tokens) - size + 1):
                found.add(" ".join(tokens[start:start + size]))
    return found


def _has_content(phrase: str) -> bool:
    return any(word not in _STOPWORDS for word in phrase.split())


@dataclass
class ClicheLexicon:
    phrases: list[str] = field(default_factory=list)  # most frequent in the generations first

    @classmethod
    def fit(cls, owner_texts: list[str], base_texts: list[str], *, min_documents: int = 2,
            min_share: float = 0.05, max_phrases: int = MAX_PHRASES) -> ClicheLexicon:
        if not owner_texts:
            raise ValueError("the cliché lexicon needs the owner's texts: owner_texts is empty")
        owner_phrases: set[str] = set()
        for text in owner_texts:
            owner_phrases |= phrases(text)
        counts: Counter[str] = Counter()
        for text in base_texts:
            counts.update(phrases(text))
        needed = max(min_documents, int(min_share * len(base_texts) + 0.999))
        candidates = [(phrase, count) for phrase, count in counts.items()
                      if count >= needed and phrase not in owner_phrases and _has_content(phrase)]
        candidates.sort(key=lambda item: (-item[1], -len(item[0].split()), item[0]))
        return cls(_without_contained(candidates)[:max_phrases])

    def find(self, text: str) -> list[str]:
        """The lexicon's phrases that occur in `text`, in lexicon order."""
        present = phrases(text)
        return [phrase for phrase in self.phrases if phrase in present]

    def to_json(self) -> list[str]:
        return list(self.phrases)

    @classmethod
    def from_json(cls, data: list[str]) -> ClicheLexicon:
        if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
            raise ValueError("cliché lexicon: expected a list of phrases")
        return cls(list(data))


def _without_contained(ordered: list[tuple[str, int]]) -> list[str]:
    """Drop a phrase that only ever occurs inside a longer kept one (same document count), so
    one stock phrase counts once, not as each of its 2- and 3-grams."""
    kept: dict[str, int] = {}
    for phrase, count in sorted(ordered, key=lambda item: -len(item[0].split())):
        padded = f" {phrase} "
        if not any(padded in f" {longer} " and longer_count >= count
                   for longer, longer_count in kept.items()):
            kept[phrase] = count
    return [phrase for phrase, _ in ordered if phrase in kept]
