"""Query expansion (a few rewrites of one query) and reciprocal rank fusion of their rankings.

With a chat backend the rewrites are the model's paraphrases; without one, or when it fails, a
deterministic fallback gives lexical variants, so retrieval never depends on a model being loaded.
"""

from __future__ import annotations

import re

from llm_twin.backends.base import Backend, GenerationParams, Message

STOPWORDS = frozenset(re.findall(r"\S+", """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves
"""))

_SYSTEM = ("You rewrite search queries. Answer with the alternative phrasings only, one per line, "
           "with no numbering and no commentary.")
_PARAMS = GenerationParams(max_new_tokens=160, temperature=0.0, repetition_penalty=1.0,
                           no_repeat_ngram_size=0)
_LIST_MARKER = re.compile(r"^\s*(?:\(?\d+[.):]|[-*•·])\s*")
_QUOTES = "\"'“”‘’`"
_WORD = re.compile(r"[\w'-]+")


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _unique(candidates: list[str], limit: int) -> list[str]:
    """The first `limit` candidates, each once (case- and whitespace-insensitively)."""
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        key = _normal(candidate)
        if key and key not in seen:
            seen.add(key)
            kept.append(" ".join(candidate.split()))
    return kept[:limit]


# --- deterministic fallback ----------------------------------------------------------------------

def _undouble(stem: str) -> str:
    """shipp -> ship, but fall/miss stay."""
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    return stem


def _restore_e(stem: str) -> str:
    """hir -> hire, writ -> write, mak -> make: a short stem ending consonant-vowel-consonant."""
    vowels = "aeiou"
    vowel_groups = len(re.findall(r"[aeiouy]+", stem))
    if (len(stem) >= 3 and vowel_groups == 1 and stem[-1] not in vowels + "wxy"
            and stem[-2] in vowels and stem[-3] not in vowels):
        return stem + "e"
    return stem


def stem_word(word: str) -> str:
    """A tiny suffix stemmer: plurals to singular, -ing and -ed stripped. Not a linguist."""
    lower = word.lower()
    if len(lower) <= 3 or not lower.isalpha():
        return word
    if lower.endswith("ies") and len(lower) > 4:
        return lower[:-3] + "y"
    if lower.endswith(("sses", "ches", "shes", "xes")):
        return lower[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return lower[:-1]
    for suffix in ("ing", "ed"):
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            stem = lower[:-len(suffix)]
            undoubled = _undouble(stem)  # a doubled consonant means a short vowel: no "e" back
            return undoubled if undoubled != stem else _restore_e(stem)
    return word


def _pluralise(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _content_words(query: str) -> list[str]:
    return [w for w in _WORD.findall(query) if w.lower() not in STOPWORDS]


def _morphological_variant(query: str) -> str:
    """Every word stemmed; if that changes nothing, the last content word made plural."""
    words = _WORD.findall(query)
    stemmed = [w if w.lower() in STOPWORDS else stem_word(w) for w in words]
    if _normal(" ".join(stemmed)) != _normal(" ".join(words)):
        return " ".join(stemmed)
    content = [i for i, w in enumerate(words) if w.lower() not in STOPWORDS and w.isalpha()]
    if not content:
        return query
    words[content[-1]] = _pluralise(words[content[-1]])
    return " ".join(words)


def fallback_rewrites(query: str) -> list[str]:
    """Without stopwords; stemmed (or pluralised); key terms longest first. Each differs from the
    query (those that would not are dropped)."""
    content = _content_words(query)
    candidates = [" ".join(content), _morphological_variant(query),
                  " ".join(sorted(content, key=len, reverse=True))]
    original = _normal(query)
    return [c for c in candidates if _normal(c) and _normal(c) != original]


# --- the model path ------------------------------------------------------------------------------

def _clean_line(line: str) -> str:
    return _LIST_MARKER.sub("", line).strip().strip(_QUOTES).strip()


def _model_rewrites(query: str, n: int, backend: Backend) -> list[str]:
    messages: list[Message] = [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": f"Write {n} short alternative phrasings of this search query, "
                                    f"one per line.\nQuery: {query}"}]
    output = backend.generate([messages], _PARAMS)[0].text
    lines = (_clean_line(line) for line in output.splitlines())
    return [line for line in lines if line and len(line) <= 3 * len(query)]


def expand_query(query: str, n: int = 3, backend: Backend | None = None) -> list[str]:
    """The query first, then up to n distinct rewrites (the model's, topped up by the fallback's)."""
    if n <= 0 or not query.strip():
        return [query]
    rewrites: list[str] = []
    if backend is not None:
        try:
            rewrites = _model_rewrites(query, n, backend)
        except Exception:
            rewrites = []
    return _unique([query, *rewrites, *fallback_rewrites(query)], n + 1)


# --- fusion --------------------------------------------------------------------------------------

def fuse_rankings(rankings: list[list[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(id) = sum over rankings of 1 / (k + rank), rank from 1.
    An id repeated within one ranking counts at its best rank; ties keep first-appearance order."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores: dict[str, float] = {}
    for ranking in rankings:
        seen: set[str] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])
