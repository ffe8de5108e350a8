"""Grounding: first-person factual claims in a draft that none of the owner's writing supports.

A claim is a sentence in the first person ("I", "we", "my", "our"...) carrying a checkable fact: a
number (units, %, years, money), a proper name (a capitalised word not opening the sentence:
employers, products, places, people) or an anecdote marker ("last year", "when I was at"). A
number or a name is supported when it appears in the texts the prompt used or anywhere in the
owner's own documents; an anecdote when one such text holds most of the sentence's content words.
Cheap on purpose: regular expressions and set lookups, no model.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.storage.models import Document

_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"')\]]*|\n|$)")
_FIRST_PERSON = re.compile(r"\bI\b|\b[Uu]s\b|\b(?i:we|my|our|me|mine|ours|myself|ourselves)\b")
_THREAD_MARK = re.compile(r"(?m)^\s*\d+\s*/\s*\d*\s*|\s\d+/\d+\s*$")
_MARKUP = re.compile(r"[*_`#>]+")

_NUMBER = re.compile(
    r"(?<![\w.,/])(?P<currency>[$€£])?\s?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?(?!\d|\s?/\s?\d)"
    r"(?:\s?(?P<unit>%|percent\b|per\s?cent\b|k\b|m\b|bn\b|thousand\b|million\b|billion\b))?"
    r"(?:\s(?P<currency_word>dollars?|euros?|pounds?|usd|eur|gbp)\b)?", re.IGNORECASE)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}

# A capitalised word (or an acronym, or a CamelCase product name) and the capitalised words or
# connectors that continue it: "Acme Corp", "Bank of England".
_NAME = re.compile(r"(?<![#@\w'’])[A-Z][\w&'’.-]*(?:\s+(?:of\s+|de\s+|&\s+)?[A-Z][\w&'’.-]*)*")
_NOT_NAMES = frozenset("""
i i'm i've i'd i'll we my our me us a an the this that these those it its he she they you your
and but or so if then when while after before because once here there what why how who which
at in on for with from to by of as about into over under since during until
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december today tomorrow yesterday ok okay yes no hi hey
thanks thank please also just still even every each all some many most one two three
""".split())

_ANECDOTE = re.compile(
    r"\b(?:last|this past|earlier this) (?:year|month|week|summer|winter|spring|fall|autumn)\b"
    r"|\b(?:years?|months?|weeks?|days?) ago\b|\bwhen (?:I|we) (?:was|were) (?:at|in|a)\b"
    r"|\bback (?:in|when|at)\b|\bat my (?:last|previous|first|old) (?:job|company|role|team)\b"
    r"|\bmy (?:first|last|previous|old) (?:job|company|role|team|boss|manager)\b"
    r"|\bI (?:once|remember)\b|\byesterday\b", re.IGNORECASE)
_WORD = re.compile(r"[\w'’]+")
_STOPWORDS = frozenset("""
a an the and or but so if then than that this these those it its is are was were be been being
to of in on at by for with from as into about over after before up down out off not no yes do
does did done have has had having will would can could should may might must just very really
i me my mine we us our ours you your he she they them their his her what which who when where
why how all any some more most much many one also only even still too there here now again
last year years ago month months week weeks back once remember time got get went go going
""".split())
_ANECDOTE_MIN_SHARE = 0.5
_CONTENT_MIN_CHARS = 4


class UnsupportedClaim(str):
    """A draft sentence stating first-person facts found in none of the owner's writing.

    It is the sentence itself (so a list of claims is a list of strings, as `Draft` declares);
    `facts` names what could not be found: numbers, names, or the anecdote marker.
    """

    facts: tuple[str, ...]

    def __new__(cls, sentence: str, facts: Iterable[str]) -> UnsupportedClaim:
        claim = super().__new__(cls, sentence)
        claim.facts = tuple(facts)
        return claim

    def __reduce__(self):
        return UnsupportedClaim, (str(self), self.facts)

    def as_dict(self) -> dict:
        return {"sentence": str(self), "facts": list(self.facts)}


@dataclass(frozen=True)
class Claim:
    sentence: str
    numbers: dict[str, tuple[float, str]]  # as written -> (value, unit: "%", "money" or "")
    names: list[str]
    anecdote: str | None
    content_words: frozenset[str]


class Evidence:
    """Texts indexed for fact lookups: numbers by value, names by phrase, words by text."""

    def __init__(self, texts: Iterable[str]):
        self._texts = [_plain(t) for t in texts if t and t.strip()]
        self._lowered = "\n".join(t.casefold() for t in self._texts)
        self._numbers: set[tuple[float, str]] = {
            value for text in self._texts for value in _numbers_in(text).values()}
        self._postings: dict[str, set[int]] | None = None

    def has_number(self, value: float, unit: str) -> bool:
        if (value, unit) in self._numbers:
            return True
        return (value, "") in self._numbers or (not unit and any(
            known == value for known, _ in self._numbers))

    def has_name(self, name: str) -> bool:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, name.casefold().split())) + r"(?!\w)"
        return re.search(pattern, self._lowered) is not None

    def has_anecdote(self, content_words: frozenset[str]) -> bool:
        """One text holds at least half of the sentence's content words."""
        if not content_words:
            return False
        counts: dict[int, int] = defaultdict(int)
        for word in content_words:
            for index in self._word_postings().get(word, ()):
                counts[index] += 1
        needed = max(1, round(len(content_words) * _ANECDOTE_MIN_SHARE))
        return any(count >= needed for count in counts.values())

    def _word_postings(self) -> dict[str, set[int]]:
        if self._postings is None:
            postings: dict[str, set[int]] = defaultdict(set)
            for index, text in enumerate(self._texts):
                for word in set(_WORD.findall(text.casefold())):
                    postings[word].add(index)
            self._postings = postings
        return self._postings


class LazyEvidence(Evidence):
    """Evidence whose texts are loaded on the first lookup (most drafts never need them)."""

    def __init__(self, load: Callable[[], Evidence]):
        self._load = load
        self._loaded: Evidence | None = None

    def _evidence(self) -> Evidence:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def has_number(self, value: float, unit: str) -> bool:
        return self._evidence().has_number(value, unit)

    def has_name(self, name: str) -> bool:
        return self._evidence().has_name(name)

    def has_anecdote(self, content_words: frozenset[str]) -> bool:
        return self._evidence().has_anecdote(content_words)


@dataclass
class _OwnerEvidenceCache:
    key: tuple | None = None
    evidence: Evidence | None = None


_owner_cache = _OwnerEvidenceCache()


def owner_evidence(sessions: sessionmaker[Session]) -> Evidence:
    """Everything the owner wrote, loaded on first use and kept while the warehouse is unchanged."""

    def load() -> Evidence:
        with sessions() as session:
            key = (str(session.get_bind().engine.url), *session.execute(
                select(func.count(Document.id), func.max(Document.id))
                .where(Document.is_owner.is_(True))).one())
            if _owner_cache.key != key or _owner_cache.evidence is None:
                texts = session.scalars(select(Document.raw_text).where(Document.is_owner.is_(True)))
                _owner_cache.evidence = Evidence(texts)
                _owner_cache.key = key
            return _owner_cache.evidence

    return LazyEvidence(load)


def find_claims(text: str) -> list[Claim]:
    """The first-person sentences of `text` that carry a number, a name or an anecdote."""
    claims = []
    for sentence in _sentences(_plain(text)):
        if not _FIRST_PERSON.search(sentence):
            continue
        numbers = _numbers_in(sentence)
        names = _names_in(sentence)
        anecdote = _ANECDOTE.search(sentence)
        if numbers or names or anecdote:
            claims.append(Claim(sentence, numbers, names, anecdote.group(0) if anecdote else None,
                                _content_words(sentence)))
    return claims


def find_unsupported_claims(text: str, source_texts: Iterable[str], *,
                            owner_documents: Evidence | None = None) -> list[UnsupportedClaim]:
    """Claims of `text` with facts found neither in `source_texts` (what the prompt showed the
    model) nor in `owner_documents` (everything the owner wrote; see `owner_evidence`)."""
    claims = find_claims(text)
    if not claims:
        return []
    sources = Evidence(source_texts)
    evidence = [sources] if owner_documents is None else [sources, owner_documents]
    flagged = []
    for claim in claims:
        missing = _unsupported_facts(claim, evidence)
        if missing:
            flagged.append(UnsupportedClaim(claim.sentence, missing))
    return flagged


def _unsupported_facts(claim: Claim, evidence: list[Evidence]) -> list[str]:
    missing = [written for written, (value, unit) in claim.numbers.items()
               if not any(e.has_number(value, unit) for e in evidence)]
    missing += [name for name in claim.names if not any(e.has_name(name) for e in evidence)]
    if (claim.anecdote and not claim.numbers and not claim.names
            and not any(e.has_anecdote(claim.content_words) for e in evidence)):
        missing.append(claim.anecdote)
    return missing


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _MARKUP.sub("", _THREAD_MARK.sub(" ", text)).replace("’", "'")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _numbers_in(text: str) -> dict[str, tuple[float, str]]:
    found = {}
    for match in _NUMBER.finditer(text):
        value = float(match["digits"].replace(",", "") + (match["fraction"] or ""))
        unit = (match["unit"] or "").casefold().replace(" ", "")
        value *= _MULTIPLIERS.get(unit, 1)
        if unit in ("%", "percent"):
            kind = "%"
        elif match["currency"] or match["currency_word"]:
            kind = "money"
        else:
            kind = ""
        found[match.group(0).strip()] = (value, kind)
    return found


def _names_in(sentence: str) -> list[str]:
    names = []
    for match in _NAME.finditer(sentence):
        words = match.group(0).rstrip(".'’-").split()
        if match.start() == _first_word_start(sentence) and len(words) == 1:
            continue  # one capitalised word opening the sentence says nothing
        while words and words[0].casefold().removesuffix("'s") in _NOT_NAMES:
            words = words[1:]
        while words and words[-1].casefold() in _NOT_NAMES:
            words = words[:-1]
        name = " ".join(words)
        name = name[:-2] if name.endswith("'s") else name
        if name and not _starts_a_clause(sentence, match.start()):
            names.append(name)
    return names


def _first_word_start(sentence: str) -> int:
    match = re.search(r"\w", sentence)
    return match.start() if match else 0


def _starts_a_clause(sentence: str, position: int) -> bool:
    """After a colon, an opening quote or a list bullet a capital is a sentence start too."""
    before = sentence[:position].rstrip()
    return bool(before) and before[-1] in ":\"“(-•"


def _content_words(sentence: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(sentence.casefold())
                     if len(w) >= _CONTENT_MIN_CHARS and w not in _STOPWORDS and not w.isdigit())




class DraftChecker:
    """What `twin write` checks in each draft: unsupported first-person claims, and a past post
    the draft repeats. The owner's documents and past posts load on first need only."""

    def __init__(self, sessions: sessionmaker[Session], cache_dir: Path | None = None):
        from llm_twin.inference.novelty import past_posts

        self.owner_documents = owner_evidence(sessions)
        self.past_posts = past_posts(sessions, cache_dir)

    def unsupported_claims(self, text: str, source_texts: Iterable[str]) -> list[UnsupportedClaim]:
        return find_unsupported_claims(text, source_texts, owner_documents=self.owner_documents)

    def near_duplicate(self, text: str) -> dict | None:
        from llm_twin.inference.novelty import find_near_duplicate

        return find_near_duplicate(text, self.past_posts)
