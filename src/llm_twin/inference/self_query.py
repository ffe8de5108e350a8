"""Self-query: turn "my LinkedIn posts from 2023 about hiring" into a topic plus search filters.

`parse_query_rules` is a rule-based parser that always works offline; `parse_query` optionally asks
the chat backend for a JSON answer and keeps, field by field, only what validates.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from llm_twin.backends.base import Backend, GenerationParams, Message
from llm_twin.platforms import KINDS, PLATFORM_TABLE, SOURCE_PLATFORMS, is_long_form
from llm_twin.storage.vector_store import SearchFilters

ONE_SECOND = timedelta(seconds=1)


@dataclass
class ParsedQuery:
    topic: str
    platform: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    owner_only: bool = False

    def to_filters(self) -> SearchFilters:
        return SearchFilters(platform=self.platform, kind=self.kind,
                             is_owner=True if self.owner_only else None,
                             since=self.since, until=self.until)


# --- dates ---------------------------------------------------------------------------------------

_MONTH_NUMBERS = {name: i for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_YEAR = r"(?:19|20)\d{2}"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# A period with an explicit year: ISO day or month, "May 5, 2024", "5 May 2024", "May 2024", "2024".
_PERIOD = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{4}}-\d{{2}}|{_MONTH}\s+{_DAY},?\s+{_YEAR}"
           rf"|{_DAY}\s+{_MONTH}\s+{_YEAR}|{_MONTH}\s+{_YEAR}|{_YEAR})(?!\d|-\d{2}\b)")
# Also a bare month name ("since March"): only ever allowed after a preposition.
_LOOSE = rf"(?:{_PERIOD}|{_MONTH}(?![\w-]))"
_NUMBER_WORDS = {w: i for i, w in enumerate(["one", "two", "three", "four", "five", "six", "seven",
                                              "eight", "nine", "ten", "eleven", "twelve"], start=1)}
_UNIT = r"(day|week|month|year)s?"


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _period(text: str, today: date) -> tuple[datetime, datetime]:
    """The first and last second (UTC) of a period written as `_LOOSE` matches it."""
    text = text.lower().replace(",", " ").replace(".", " ")
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        start = date(int(m[1]), int(m[2]), int(m[3]))
        return _utc(start), _utc(start + timedelta(days=1)) - ONE_SECOND
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        start = date(int(m[1]), int(m[2]), 1)
        return _utc(start), _utc(_add_months(start, 1)) - ONE_SECOND
    words = text.split()
    year = next((int(w) for w in words if re.fullmatch(_YEAR, w)), None)
    month = next((_MONTH_NUMBERS[w[:3]] for w in words if w[:3] in _MONTH_NUMBERS), None)
    # A _DAY is one or two digits, maybe with an ordinal suffix ("5th").
    day = next((int(w.rstrip("stndrh")) for w in words if re.fullmatch(_DAY, w)), None)
    if month is None:
        if year is None:  # _LOOSE matches a year or a month
            raise ValueError(f"No year or month in the period {text!r}")
        return _utc(date(year, 1, 1)), _utc(date(year + 1, 1, 1)) - ONE_SECOND
    if year is None:  # the latest such month that is not in the future
        year = today.year if month <= today.month else today.year - 1
    if day is not None:
        start = date(year, month, day)
        return _utc(start), _utc(start + timedelta(days=1)) - ONE_SECOND
    start = date(year, month, 1)
    return _utc(start), _utc(_add_months(start, 1)) - ONE_SECOND


def _relative(count: str | None, unit: str, today: date) -> tuple[datetime, None]:
    """"the last N units": from N units before today, open-ended."""
    n = 1 if not count else int(count) if count.isdigit() else _NUMBER_WORDS[count]
    unit = unit.lower()
    if unit == "day":
        start = today - timedelta(days=n)
    elif unit == "week":
        start = today - timedelta(weeks=n)
    else:
        start = _add_months(today, -n * (12 if unit == "year" else 1))
    return _utc(start), None


def _calendar(which: str, unit: str, today: date) -> tuple[datetime, datetime | None]:
    """"last year", "this month", "last week", "past year" (the past year is a rolling 12 months)."""
    which, unit = which.lower(), unit.lower()
    if which == "past":
        return _relative(None, unit, today)
    back = 1 if which == "last" else 0
    if unit == "year":
        start = date(today.year - back, 1, 1)
        end = date(start.year + 1, 1, 1)
    elif unit == "month":
        start = _add_months(today.replace(day=1), -back)
        end = _add_months(start, 1)
    else:
        start = today - timedelta(days=today.weekday(), weeks=back)
        end = start + timedelta(weeks=1)
    return _utc(start), _utc(end) - ONE_SECOND


_N = rf"(\d+|{'|'.join(_NUMBER_WORDS)})"
_DATE_RULES = [  # (pattern, handler(match, today) -> (since, until)); most specific first
    (rf"\bbetween\s+({_LOOSE})\s+(?:and|&)\s+({_LOOSE})",
     lambda m, t: (_period(m[1], t)[0], _period(m[2], t)[1])),
    (rf"\b(?:from\s+)?({_PERIOD})\s*(?:to|until|till|through|thru|-|–)\s*({_PERIOD})",
     lambda m, t: (_period(m[1], t)[0], _period(m[2], t)[1])),
    (rf"\b(?:in|over|during|within|from)?\s*the\s+(?:last|past|previous)\s+(?:{_N}\s+)?{_UNIT}\b",
     lambda m, t: _relative(m[1], m[2], t)),
    (r"\b(?:from\s+|in\s+|during\s+|over\s+)?(last|this|past)\s+(year|month|week)\b",
     lambda m, t: _calendar(m[1], m[2], t)),
    (rf"\b(?:since|starting(?:\s+(?:from|in))?)\s+({_LOOSE})", lambda m, t: (_period(m[1], t)[0], None)),
    (rf"\b(?:from\s+)?({_LOOSE})\s+onwards?\b", lambda m, t: (_period(m[1], t)[0], None)),
    (rf"\bafter\s+({_LOOSE})", lambda m, t: (_period(m[1], t)[1] + ONE_SECOND, None)),
    (rf"\bbefore\s+({_LOOSE})", lambda m, t: (None, _period(m[1], t)[0] - ONE_SECOND)),
    (rf"\b(?:until|till|through|up\s+to)\s+({_LOOSE})", lambda m, t: (None, _period(m[1], t)[1])),
    (rf"\b(?:in|from|during|on|throughout|of)\s+({_LOOSE})", lambda m, t: _period(m[1], t)),
    (rf"\b({_PERIOD})", lambda m, t: _period(m[1], t)),
]
_DATE_PATTERNS = [(re.compile(p, re.IGNORECASE), handler) for p, handler in _DATE_RULES]


def _extract_dates(text: str, today: date) -> tuple[datetime | None, datetime | None, str]:
    """Since, until and the text with the date phrases that set them blanked out."""
    since = until = None
    for pattern, handler in _DATE_PATTERNS:
        for match in list(pattern.finditer(text)):
            new_since, new_until = handler(match, today)
            if (new_since and not since) or (new_until and not until):
                since, until = since or new_since, until or new_until
                text = text[:match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    return since, until, text


# --- platforms and kinds -------------------------------------------------------------------------

# (pattern, platform, kind, case-sensitive). Plain nouns ("posts", "code") also mean other things,
# so after a topic marker ("about ...") a term only counts after "on/in/from".
_PLATFORM_TERMS = [
    (r"X(?![-'])", "x", None, True),
    (r"twitter|x\.com|tweets?", "x", None, False),
    (r"threads?", "x", "thread", False),
    (r"linked\s?in", "linkedin", None, False),
    (r"instagram|insta|ig", "instagram", None, False),
    (r"captions?", "instagram", "post", False),
    (r"Medium", "medium", None, True),
    (r"substack|newsletters?", "substack", None, False),
    (r"blogs?", "blog", None, False),
    (r"mastodon|fediverse", "mastodon", None, False),
    (r"toots?", "mastodon", "post", False),
    (r"bluesky|bsky|skeets?", "bluesky", None, False),
    (r"whatsapp", "whatsapp", "message", False),
    (r"telegram", "telegram", "message", False),
    (r"(?:facebook\s+)?messenger", "messenger", "message", False),
    (r"(?:research\s+|scientific\s+)?papers?|publications?", "paper", "paper", False),
    (r"(?:source\s+)?code", "code", "code", False),
    (r"commits?(?:\s+messages?)?", "code", "post", False),
    (r"repos?|repositor(?:y|ies)|github", "code", None, False),
    (r"web\s?pages?", "web", None, False),
]
# A platform none of the terms above names is found by its name and aliases.
_NAMED_PLATFORMS = {platform for _, platform, _, _ in _PLATFORM_TERMS}
_TERMS = [
    *_PLATFORM_TERMS,
    *(("|".join(re.escape(name) for name in (rules.name, *rules.aliases)), rules.name, None, False)
      for rules in PLATFORM_TABLE if rules.name not in _NAMED_PLATFORMS),
    (r"posts?", None, "post", False),
    (r"articles?|essays?|stories", None, "article", False),
    (r"messages?|chats?|dms?|direct\s+messages?|conversations?", None, "message", False),
]
_PREFIX = r"(?:\b(?:on|in|from|via|across)\s+(?:my\s+)?)"
_TERM_PATTERNS = [(re.compile(rf"(?P<prefix>{_PREFIX})?\b(?:{p})\b", 0 if cased else re.IGNORECASE),
                   platform, kind) for p, platform, kind, cased in _TERMS]
_TOPIC_MARKER = re.compile(r"\b(?:about|regarding|concerning|on\s+the\s+topic\s+of|related\s+to|"
                           r"mentioning|discussing|re:)", re.IGNORECASE)


@dataclass
class _TermMatch:
    start: int
    end: int
    platform: str | None
    kind: str | None


def _term_matches(text: str) -> list[_TermMatch]:
    marker = _TOPIC_MARKER.search(text)
    topic_start = marker.start() if marker else len(text)
    found: list[_TermMatch] = []
    for pattern, platform, kind in _TERM_PATTERNS:
        for m in pattern.finditer(text):
            if m.start() >= topic_start and not m["prefix"]:
                continue
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue  # an earlier (more specific) term already took these words
            found.append(_TermMatch(m.start(), m.end(), platform, kind))
    return sorted(found, key=lambda f: f.start)


def _extract_terms(text: str) -> tuple[str | None, str | None, str]:
    """Platform, kind and the text without the terms that set them. The first platform named
    wins; terms naming another platform stay in the topic."""
    matches = _term_matches(text)
    platform = next((m.platform for m in matches if m.platform), None)
    used = [m for m in matches if m.platform in (None, platform)]
    explicit = [m.kind for m in used if m.platform is None]
    implied = [m.kind for m in used if m.platform and m.kind]
    kind = explicit[0] if explicit else implied[0] if implied else None
    if kind == "post" and explicit and is_long_form(platform):
        kind = None  # a long-form platform's "posts" are articles: "posts" must not narrow
    for m in sorted(used, key=lambda m: m.start, reverse=True):
        text = text[:m.start] + " " + text[m.end:]
    return platform, kind, text


# --- owner and topic -----------------------------------------------------------------------------

_WROTE = r"(?:wrote|written|posted|said|say|write|post|tweeted|shared|published|sent)"
_OWNER = re.compile(rf"\b(?:my|mine|myself|by\s+me|(?:that\s+|did\s+)?i(?:'ve|\s+have)?\s+{_WROTE})\b",
                    re.IGNORECASE)
_COMMAND = re.compile(r"^\s*(?:please\s+)?(?:show(?:\s+me)?|give\s+me|find(?:\s+me)?|search(?:\s+for)?"
                      r"|look\s+(?:up|for)|get(?:\s+me)?|list|fetch|retrieve|pull\s+up)\b", re.IGNORECASE)
_EDGE_WORDS = {"about", "on", "from", "in", "of", "the", "a", "an", "for", "with", "by", "to", "and",
               "or", "that", "which", "where", "when", "what", "regarding", "concerning", "related",
               "mentioning", "discussing", "re", "i", "me", "did", "do", "is", "are", "was",
               "were", "have", "has", "had", "some", "any", "all", "during", "since", "before",
               "after", "between", "there", "here", "written"}


def _strip_edges(text: str) -> str:
    words = re.sub(r"[?!.,;:]+(?=\s|$)", " ", text).split()
    while words and words[0].lower().strip("'\"") in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1].lower().strip("'\"") in _EDGE_WORDS:
        words.pop()
    return " ".join(words)


def _before_topic(text: str) -> tuple[str, str]:
    """The request split at the topic marker: "my posts" | "about my dog"."""
    marker = _TOPIC_MARKER.search(text)
    cut = marker.start() if marker else len(text)
    return text[:cut], text[cut:]


def _is_owner_query(text: str) -> bool:
    """Owner hints count before the topic marker only ("posts about my dog" is not one)."""
    return _OWNER.search(_before_topic(text)[0]) is not None


def _drop_owner_and_commands(text: str) -> str:
    head, tail = _before_topic(text)
    return _COMMAND.sub(" ", _OWNER.sub(" ", head)) + tail


def parse_query_rules(text: str, *, today: date | None = None) -> ParsedQuery:
    """Always answers: filters from the phrases it recognises, the rest of the request as topic."""
    today = today or datetime.now(UTC).date()
    owner_only = _is_owner_query(text)
    since, until, rest = _extract_dates(text, today)
    platform, kind, rest = _extract_terms(rest)
    rest = _drop_owner_and_commands(rest)
    topic = _strip_edges(rest) or " ".join(text.split())
    return ParsedQuery(topic, platform, kind, since, until, owner_only)


# --- the optional LLM path -----------------------------------------------------------------------

_SYSTEM = (
    "You turn a search request over someone's own writing into search filters. Answer with one "
    "JSON object and nothing else, with the keys: \"topic\" (what the texts are about, without "
    "filter words), \"platform\" (one of {platforms}, or null), \"kind\" (one of {kinds}, or null), "
    "\"since\" and \"until\" (dates as YYYY-MM-DD, or null). Today is {today}.")
_PARAMS = GenerationParams(max_new_tokens=120, temperature=0.0, repetition_penalty=1.0,
                           no_repeat_ngram_size=0)


def _first_json_object(output: str) -> dict:
    start = output.index("{")
    value, _ = json.JSONDecoder().raw_decode(output[start:])
    if not isinstance(value, dict):
        raise TypeError("not a JSON object")
    return value


def _choice(value: object, allowed: tuple[str, ...]) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip().lower() in allowed else None


def _iso_day(value: object, *, end: bool) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return _utc(day + timedelta(days=1)) - ONE_SECOND if end else _utc(day)


def _merge(answer: dict, rules: ParsedQuery) -> ParsedQuery:
    """The model's answer where a field validates; the rules' value otherwise (also for null)."""
    topic = answer.get("topic")
    since = _iso_day(answer.get("since"), end=False) or rules.since
    until = _iso_day(answer.get("until"), end=True) or rules.until
    if since and until and since > until:
        since, until = rules.since, rules.until
    return ParsedQuery(
        topic=topic.strip() if isinstance(topic, str) and topic.strip() else rules.topic,
        platform=_choice(answer.get("platform"), SOURCE_PLATFORMS) or rules.platform,
        kind=_choice(answer.get("kind"), KINDS) or rules.kind,
        since=since, until=until, owner_only=rules.owner_only)


def parse_query(text: str, backend: Backend | None = None, *, today: date | None = None) -> ParsedQuery:
    """The rules' parse, refined field by field by the backend's JSON answer when one is given."""
    today = today or datetime.now(UTC).date()
    rules = parse_query_rules(text, today=today)
    if backend is None:
        return rules
    system = _SYSTEM.format(platforms=", ".join(SOURCE_PLATFORMS), kinds=", ".join(KINDS),
                            today=today.isoformat())
    messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    try:
        output = backend.generate([messages], _PARAMS)[0].text
        return _merge(_first_json_object(output), rules)
    except Exception:
        return rules
