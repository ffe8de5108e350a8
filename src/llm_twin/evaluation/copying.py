"""Copying: does a draft reproduce a training text? A draft copies when it holds a span of at least
MIN_SPAN consecutive words of one training text (case-insensitive); the longest such span is
reported in words. Eight words is long enough that shared phrases ("one of the most important")
do not count and short enough to catch a recycled sentence."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

MIN_SPAN = 8
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words_of(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


class SpanIndex:
    """Every MIN_SPAN-word window of the training texts, for exact longest-span lookups."""

    def __init__(self, texts: Iterable[str], min_span: int = MIN_SPAN):
        if min_span < 1:
            raise ValueError(f"min_span must be at least 1, not {min_span}.")
        self.min_span = min_span
        self.texts = [words_of(t) for t in texts]
        self._windows: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
        for doc, words in enumerate(self.texts):
            for start in range(len(words) - min_span + 1):
                self._windows[tuple(words[start:start + min_span])].append((doc, start))

    def longest_span(self, text: str) -> int:
        """The longest run of consecutive words `text` shares with one training text, in words;
        0 when no run reaches min_span."""
        words = words_of(text)
        longest = 0
        covered: dict[tuple[int, int], int] = {}  # alignment (doc, offset) -> end already measured
        for start in range(len(words) - self.min_span + 1):
            for doc, position in self._windows.get(tuple(words[start:start + self.min_span]), ()):
                alignment = (doc, position - start)
                if covered.get(alignment, -1) > start:
                    continue  # inside a run already measured on this alignment
                length = self._run(words, start, self.texts[doc], position)
                covered[alignment] = start + length
                longest = max(longest, length)
        return longest

    def _run(self, words: list[str], start: int, source: list[str], position: int) -> int:
        length = self.min_span
        while (start + length < len(words) and position + length < len(source)
               and words[start + length] == source[position + length]):
            length += 1
        return length
