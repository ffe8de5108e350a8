"""Quality filters for training answers. Every filter counts what it dropped, for the dataset card.

Each filter takes items with `.text`, `.platform` and `.created_at` (oldest first) and returns the
ones it keeps; duplicates keep the oldest copy, the one the owner wrote first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol, TypeVar

from llm_twin.features.shingles import MINHASH_PERMUTATIONS, minhash_of, shingles, words
from llm_twin.storage.models import PUBLIC_AUDIENCES
from llm_twin.training_data.owner_texts import OwnerText

_MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_FENCED_CODE = re.compile(r"(```|~~~).*?(\1|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`]*`")
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[.!?:](\s|$)|\n")
_COMMIT_TEMPLATE = re.compile(
    r"^(Merge (branch|pull request|remote-tracking branch)|Bump \S+ from|Revert \"|"
    r"Initial commit$|Update \S+$|\[bot\]|Automated)", re.I)
LINK = "<link>"
TEMPLATE_MIN_DOCS = 5
TEMPLATE_MIN_SHARE = 0.05
TEMPLATE_LINKED_SHARE = 0.6
BOILERPLATE_MIN_DOCS = 3
BOILERPLATE_MIN_SHARE = 0.02
BOILERPLATE_MIN_LINE_CHARS = 20
LANGUAGE_MIN_LETTERS = 40
LANGUAGE_SAMPLE_CHARS = 1500


class TextItem(Protocol):
    text: str
    platform: str


Item = TypeVar("Item", bound=TextItem)
Kept = TypeVar("Kept")


@dataclass
class QualityReport:
    """What each filter dropped (and trimmed), by reason."""

    dropped: Counter[str] = field(default_factory=Counter)
    trimmed: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] += count

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"dropped": dict(sorted(self.dropped.items())),
                "trimmed": dict(sorted(self.trimmed.items()))}


def keep_where(items: Sequence[Kept], keep: Callable[[Kept], bool], reason: str,
               report: QualityReport) -> list[Kept]:
    kept = [item for item in items if keep(item)]
    report.drop(reason, len(items) - len(kept))
    return kept


# -- drafts and length -----------------------------------------------------------------------

def drop_drafts(items: Sequence[Item], report: QualityReport) -> list[Item]:
    """Unpublished drafts from an export are not yet the owner's voice as they chose to publish it."""
    return keep_where(items, lambda item: not getattr(item, "draft", False), "draft", report)


def keep_public(items: Sequence[Item], report: QualityReport) -> list[Item]:
    """Training answers for public posts come from public and unlisted texts only: a
    followers-only post, a direct message or a private post must not become something the model
    learns to say to everyone."""
    return keep_where(items, lambda item: getattr(item, "audience", "public") in PUBLIC_AUDIENCES,
                      "not_public", report)


def apply_length_limits(items: Sequence[OwnerText], report: QualityReport) -> list[OwnerText]:
    """Per-platform limits (`item.limits`): too short says nothing of the voice, too long cannot
    fit a training window."""
    kept = keep_where(items, lambda item: len(item.text) >= item.limits.min_chars
                      and len(words(item.text)) >= 3, "too_short", report)
    return keep_where(kept, lambda item: len(item.text) <= item.limits.max_chars, "too_long",
                      report)


# -- language --------------------------------------------------------------------------------

def prose_of(text: str) -> str:
    """The words of a text without code, links and URLs (what a language detector should see)."""
    text = _FENCED_CODE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _MARKDOWN_LINK.sub(lambda m: _link_text(m.group(0)), text)
    return _URL.sub(" ", text)


def _link_text(link: str) -> str:
    return link[link.index("[") + 1:link.index("]")] if not link.startswith("!") else " "


@lru_cache(maxsize=65536)  # the default language and the filter both ask about every text
def detect_language(text: str) -> str | None:
    """ISO 639-1 code, or None when the text has too few letters to tell."""
    prose = prose_of(text)[:LANGUAGE_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in prose) < LANGUAGE_MIN_LETTERS:
        return None
    import py3langid  # model ships in the wheel; imported late because loading it takes ~0.3 s

    return py3langid.classify(prose)[0]


def language_of(item) -> str | None:
    if getattr(item, "kind", None) == "code":
        return None
    declared = getattr(item, "language", None)
    if declared:
        return declared.split("-")[0].split("_")[0].lower()
    return detect_language(item.text)


def main_languages(items: Sequence[Item]) -> list[str]:
    """The owner's most common language; the filter's default when none is configured."""
    counts = Counter(lang for lang in map(language_of, items) if lang)
    return [counts.most_common(1)[0][0]] if counts else []


def filter_languages(items: Sequence[Item], languages: Sequence[str],
                     report: QualityReport) -> list[Item]:
    """Keep texts in the given languages; texts too short to tell, and code, are kept."""
    if not languages:
        return list(items)
    wanted = {lang.lower() for lang in languages}
    return keep_where(items, lambda item: (language_of(item) or next(iter(wanted))) in wanted,
                      "language", report)


# -- templated and boilerplate ---------------------------------------------------------------

def opening_signature(text: str, size: int = 2) -> tuple[str, ...]:
    """The first words of the first sentence, each link as one token and digits as 0."""
    return tuple(re.findall(r"<link>|\w+(?:'\w+)?", _linked_first_sentence(text))[:size])


def _linked_first_sentence(text: str) -> str:
    """The first sentence, lowercased, with links (Markdown or bare) replaced by <link> first, so
    that a sentence end inside a link title does not cut it."""
    head = _MARKDOWN_LINK.sub(f" {LINK} ", text.strip()[:600])
    head = _URL.sub(f" {LINK} ", head)
    head = _DIGITS.sub("0", unicodedata.normalize("NFKC", head).casefold()).strip()
    match = _SENTENCE_END.search(head, 1)
    return head[:match.end()] if match else head


def drop_templated(items: Sequence[Item], report: QualityReport) -> list[Item]:
    """Posts a tool wrote from a template, e.g. "Published fragment [title](/fragments/...)".

    A template shows as many posts on one platform opening with the same words and a link in the
    first sentence. An opening habit of the owner ("I've been ...") has no link and is kept: that
    is voice. Bot-like commit messages ("Bump x from 1 to 2") are templated too. The later
    sections of a templated post go with it.
    """
    signatures = _templated_signatures(items)

    def is_templated(item) -> bool:
        if getattr(item, "tag", None) == "commit_message" and _COMMIT_TEMPLATE.match(item.text):
            return True
        return (item.platform, opening_signature(item.text)) in signatures

    documents = {getattr(item, "document_id", None) for item in items
                 if getattr(item, "section", None) in (None, 0) and is_templated(item)} - {None}
    return keep_where(items, lambda item: not (is_templated(item) or getattr(
        item, "document_id", None) in documents), "templated", report)


def _templated_signatures(items: Sequence[Item]) -> set[tuple[str, tuple[str, ...]]]:
    # Shares are of documents, not of units: a long article cut into many sections is one post.
    groups: dict[tuple[str, tuple[str, ...]], dict[object, str]] = defaultdict(dict)
    documents: dict[str, set[object]] = defaultdict(set)
    for item in items:
        document = getattr(item, "document_id", None) or id(item)
        documents[item.platform].add(document)
        signature = opening_signature(item.text)
        if len(signature) == 2:
            groups[(item.platform, signature)].setdefault(document, item.text)
    templated = set()
    for (platform, signature), texts in groups.items():
        floor = max(TEMPLATE_MIN_DOCS, TEMPLATE_MIN_SHARE * len(documents[platform]))
        linked = sum(LINK in _linked_first_sentence(text) for text in texts.values())
        if len(texts) >= floor and linked >= TEMPLATE_LINKED_SHARE * len(texts):
            templated.add((platform, signature))
    return templated


def strip_boilerplate(items: Sequence[Item], report: QualityReport) -> list[Item]:
    """Lines repeated across many posts (sign-offs, "Originally published at ...", newsletter
    plugs) are not the post. They are trimmed from the start and end of an answer, so the answer
    stays one verbatim slice; a post that is nothing but such lines is dropped."""
    repeated = _repeated_lines(items)
    kept = []
    for item in items:
        lines = item.text.split("\n")
        common = repeated.get(item.platform, set())
        start, end = 0, len(lines)
        while start < end and (lines[start].strip() in common or not lines[start].strip()):
            start += 1
        while end > start and (lines[end - 1].strip() in common or not lines[end - 1].strip()):
            end -= 1
        body = "\n".join(lines[start:end]).strip()
        if not body or all(line.strip() in common or not line.strip() for line in lines[start:end]):
            report.drop("boilerplate")
            continue
        if body != item.text:
            report.trimmed["boilerplate_lines"] += 1
            item.text = body
        kept.append(item)
    return kept


def _repeated_lines(items: Sequence[Item]) -> dict[str, set[str]]:
    per_platform: dict[str, Counter[str]] = defaultdict(Counter)
    totals = Counter(item.platform for item in items)
    for item in items:
        lines = {line.strip() for line in item.text.split("\n")
                 if len(line.strip()) >= BOILERPLATE_MIN_LINE_CHARS}
        per_platform[item.platform].update(lines)
    return {platform: {line for line, n in counts.items()
                       if n >= max(BOILERPLATE_MIN_DOCS, BOILERPLATE_MIN_SHARE * totals[platform])}
            for platform, counts in per_platform.items()}


# -- duplicates ------------------------------------------------------------------------------

def drop_exact_duplicates(items: Sequence[Item], report: QualityReport) -> list[Item]:
    """The same words twice (a cross-post, a re-import under another name): keep the first."""
    return drop_repeated_keys(items, report, key=lambda item: " ".join(words(item.text)))


def drop_repeated_keys(items: Sequence[Kept], report: QualityReport,
                       key: Callable[[Kept], str]) -> list[Kept]:
    """Keep the first item of each key; the others count as exact duplicates."""
    seen: set[str] = set()

    def first_time(item: Kept) -> bool:
        k = key(item)
        if k in seen:
            return False
        seen.add(k)
        return True

    return keep_where(items, first_time, "exact_duplicate", report)


def drop_near_duplicates(items: Sequence[Item], threshold: float, report: QualityReport,
                         text_of: Callable[[Item], str] | None = None) -> list[Item]:
    """Near-copies (a post edited and reposted, one cross-posted with a new link): MinHash LSH on
    word 3-grams, keeping the first of each group whose estimated Jaccard is >= threshold."""
    from datasketch import MinHash, MinHashLSH

    text_of = text_of or (lambda item: item.text)
    index = MinHashLSH(threshold=threshold, num_perm=MINHASH_PERMUTATIONS)
    minhashes: dict[str, MinHash] = {}
    kept = []
    for position, item in enumerate(items):
        signature = minhash_of(shingles(text_of(item)))
        if any(other.jaccard(signature) >= threshold for other in
               (minhashes[key] for key in index.query(signature))):
            report.drop("near_duplicate")
            continue
        minhashes[str(position)] = signature
        index.insert(str(position), signature)
        kept.append(item)
    return kept
