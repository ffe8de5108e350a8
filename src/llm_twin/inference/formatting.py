"""The formatter that fits a generated draft to its platform's hard limits (`llm_twin.platforms`).

The model writes in the person's voice; this module only enforces what a platform would reject or
mangle: post length, thread numbering, hashtag count, the article title and subtitle. It also strips
the chat artefacts small models wrap around their answer. It never rewrites wording: emoji,
punctuation and single line breaks are where the voice lives, so they are kept.

`FormatHabits` (learned per platform by `inference.profiles`) bends the formatting towards the
owner's own: their thread numbering style and how many hashtags they use. The hard limits always win.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from llm_twin.platforms import PlatformRules, rules_for

MAX_THREAD_POSTS = 25
ARTICLE_TITLE_MAX_CHARS = 80  # a title derived from the first sentence
TITLE_MAX_CHARS = 100  # Medium and Substack show longer titles cut off
SUBTITLE_MAX_CHARS = 140
# How the posts of a thread are numbered: "1/3 ", "1/ ", "(1/3) ", or not at all.
THREAD_NUMBERING = ("i/n", "i/", "(i/n)", "none")


@dataclass(frozen=True)
class FormatHabits:
    """The owner's formatting habits on one platform (see inference.profiles)."""

    thread_numbering: str = "i/n"  # one of THREAD_NUMBERING
    max_hashtags: int | None = None  # the most the owner uses; None: no habit known

    def __post_init__(self) -> None:
        if self.thread_numbering not in THREAD_NUMBERING:
            raise ValueError(f"thread_numbering must be one of {', '.join(THREAD_NUMBERING)}, "
                             f"got {self.thread_numbering!r}")
        if self.max_hashtags is not None and self.max_hashtags < 0:
            raise ValueError(f"max_hashtags must be at least 0, got {self.max_hashtags}")


DEFAULT_HABITS = FormatHabits()


@dataclass
class FormattedDraft:
    platform: str
    posts: list[str]  # one item, except for an X thread
    title: str | None = None
    truncated: bool = False  # text was cut away to fit a limit
    notes: list[str] = field(default_factory=list)  # what the formatter changed, for the user
    subtitle: str | None = None  # articles only

    @property
    def body(self) -> str:
        return "\n\n".join(self.posts)

    def as_text(self) -> str:
        if self.title is None:
            return self.body
        subtitle = f"*{self.subtitle}*\n\n" if self.subtitle else ""
        return f"# {self.title}\n\n{subtitle}{self.body}".rstrip()


def format_draft(text: str, platform: str, habits: FormatHabits | None = None) -> FormattedDraft:
    """Clean a generated draft and fit it to the platform's limits (and the owner's habits)."""
    rules = rules_for(platform)
    habits = habits or DEFAULT_HABITS
    cleaned, notes = _clean(text)
    if not rules.needs_title:
        plain = _strip_markdown(cleaned)
        if plain != cleaned:
            cleaned = plain
            notes.append("removed Markdown the platform would show literally")
    if rules.is_thread_platform:
        draft = _format_thread(cleaned, rules, habits)
    elif rules.needs_title:
        draft = _format_article(cleaned, rules)
    else:
        draft = _format_post(cleaned, rules, habits)
    if not cleaned:
        notes.append("the draft is empty")
    draft.notes = notes + draft.notes
    return draft


# --- cleanup -------------------------------------------------------------------------------------

_WORD = re.compile(r"\w")
_ASSISTANT_HEADER = re.compile(
    r"<\|im_start\|>[ \t]*assistant|<\|start_header_id\|>\s*assistant\s*<\|end_header_id\|>", re.I)
_TURN_END = re.compile(r"<\|(?:im_end|endoftext|eot_id|end|eos)\|>|</s>", re.I)
_STRAY_TOKEN = re.compile(
    r"<\|start_header_id\|>\s*\w*\s*<\|end_header_id\|>|<\|im_start\|>[ \t]*(?:system|user)?"
    r"|<\|[a-z_]+\|>|</?s>|\[/?INST\]", re.I)
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_PREAMBLE_NOUN = re.compile(
    r"\b(?:post|tweet|thread|caption|article|draft|sample|example|version|message|text|content)s?\b",
    re.I)
_PREAMBLE_OPENER = re.compile(
    r"^\W*(?:sure|certainly|of course|absolutely|okay|ok|alright|great|here|below|happy to)\b",
    re.I)
_QUOTE_PAIRS = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb"}


def _clean(text: str) -> tuple[str, list[str]]:
    notes = []
    cleaned = _strip_role_tokens(text)
    if cleaned != text:
        notes.append("removed chat role tokens")
    cleaned = _tidy_lines(cleaned)
    for step, note in ((_strip_preamble, "removed the chat preamble before the draft"),
                       (_strip_wrapping_quotes, "removed the quotes around the draft")):
        stripped = step(cleaned)
        if stripped != cleaned:
            cleaned = stripped
            notes.append(note)
    if not _WORD.search(cleaned) and _WORD.search(text):
        cleaned = text.strip()  # safety net: every step above keeps the words, this should not run
    return cleaned, notes


_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)  # "## Title", never "#hashtag"
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


# A line of Markdown and punctuation only ("##", "***", "|", "·"): small models trail off in them.
_SYMBOL_LINE = re.compile(r"[\s#*_|&·•\-=~`>+.,:;!?/\\()\[\]{}<]*")


def _strip_markdown(text: str) -> str:
    """Posts on X, LinkedIn and Instagram are plain text: '### ', '**' and code fences would show
    as typed, and trailing lines of bare symbols are noise."""
    lines = [line for line in text.split("\n") if not _FENCE.match(line)]
    while lines and _SYMBOL_LINE.fullmatch(lines[-1]):
        lines.pop()
    text = "\n".join(lines).strip()
    return _MARKDOWN_EMPHASIS.sub(r"\2", _MARKDOWN_HEADING.sub("", text))


def _strip_role_tokens(text: str) -> str:
    """Keep the assistant's turn only: what follows its header, up to the end-of-turn token."""
    after_header = _ASSISTANT_HEADER.split(text)[-1]
    if _WORD.search(_STRAY_TOKEN.sub("", after_header)):
        text = after_header
    turns = [_STRAY_TOKEN.sub("", t) for t in _TURN_END.split(text)]
    return next((t for t in turns if _WORD.search(t)), "".join(turns))


def _tidy_lines(text: str) -> str:
    """Drop trailing spaces and runs of blank lines, except blank lines inside code fences."""
    lines: list[str] = []
    in_fence = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.rstrip()
        if not line and not in_fence and lines and not lines[-1]:
            continue
        lines.append(line)
        if _FENCE.match(line):
            in_fence = not in_fence
    return "\n".join(lines).strip()


def _strip_preamble(text: str) -> str:
    """Drop a first line like "Sure! Here's a LinkedIn post:" when a draft follows it.

    A line ending in ':' that names the form can also be a real hook ("3 lessons from my first
    article:"), so it must also open like a chat reply or be a bare label ("Tweet:").
    """
    first, _, rest = text.partition("\n")
    line = first.strip().strip("*_#").strip()
    if not (line.endswith(":") and _PREAMBLE_NOUN.search(line) and _WORD.search(rest)):
        return text
    if _PREAMBLE_OPENER.match(line) or len(line.split()) <= 4:
        return rest.strip()
    return text


def _strip_wrapping_quotes(text: str) -> str:
    close = _QUOTE_PAIRS.get(text[:1])
    if close is None or len(text) < 2 or text[-1] != close:
        return text
    inner = text[1:-1]
    if not _WORD.search(inner) or not _quotes_balanced(inner, text[0], close):
        return text
    return inner.strip()


def _quotes_balanced(inner: str, open_: str, close: str) -> bool:
    """True when the first and last characters quote the whole text, not two separate quotes."""
    if open_ == close:
        return open_ not in inner
    depth = 0
    for char in inner:
        depth += (char == open_) - (char == close)
        if depth < 0:
            return False
    return depth == 0


# --- single posts (LinkedIn, Instagram) ----------------------------------------------------------

# A sentence end, or a line break after a line that does not lead into the next one.
_SENTENCE_END = re.compile(
    r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s|$)|(?<=[^\s:,;(\-\u2013\u2014])(?=\n)")
_HASHTAG = re.compile(r"(?<![\w&#/])#(?=\w*[^\W\d_])\w+")  # "#1", "C#", "a/#b" are not hashtags


def _format_post(text: str, rules: PlatformRules, habits: FormatHabits) -> FormattedDraft:
    text, notes = _apply_hashtag_limits(text, rules, habits)
    limit = rules.max_chars_per_post
    text, boundary = _cut_to_limit(text, limit) if limit is not None else (text, None)
    if boundary:
        notes.append(f"cut to {limit:,} characters at a {boundary} boundary")
    return FormattedDraft(rules.name, [text], truncated=boundary is not None, notes=notes)


def _apply_hashtag_limits(text: str, rules: PlatformRules,
                          habits: FormatHabits) -> tuple[str, list[str]]:
    """The platform's hashtag limit, then the owner's habit when it is lower."""
    notes = []
    if rules.max_hashtags is not None:
        text, removed = _limit_hashtags(text, rules.max_hashtags)
        if removed:
            notes.append(f"removed {_hashtags(removed)} over {rules.label}'s limit of "
                         f"{rules.max_hashtags}")
    if habits.max_hashtags is not None:
        text, removed = _limit_hashtags(text, habits.max_hashtags)
        if removed:
            notes.append(f"removed {_hashtags(removed)}: you use at most {habits.max_hashtags} "
                         f"on {rules.label}")
    return text, notes


def _hashtags(count: int) -> str:
    return f"{count} hashtag" if count == 1 else f"{count} hashtags"


def _cut_to_limit(text: str, limit: int) -> tuple[str, str | None]:
    """Cut to `limit` characters; also returns the boundary cut at ("sentence", "word") or None."""
    if len(text) <= limit:
        return text, None
    end = _last_sentence_end(text, limit)
    # A sentence cut that gives up more than half the room reads worse than a word cut with "…".
    if end >= limit // 2:
        return text[:end].rstrip(), "sentence"
    return _cut_at_word(text, limit), "word"


def _last_sentence_end(text: str, limit: int) -> int:
    best = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > limit:
            break
        best = match.end()
    return best


def _cut_at_word(text: str, limit: int) -> str:
    space = re.search(r"\s\S*\Z", text[:limit])
    head = text[:space.start()] if space and space.start() > 0 else text[:limit - 1]
    head = head.rstrip().rstrip(",;:-\u2013\u2014 ") or text[:limit - 1]
    return head + "\u2026"


def _limit_hashtags(text: str, limit: int) -> tuple[str, int]:
    """Keep the first `limit` distinct hashtags (first occurrence each); drop every other one.
    Repeated because dropping "#a" from "#a#b" turns "#b" into a hashtag."""
    removed_total = 0
    while True:
        text, removed = _limit_hashtags_once(text, limit)
        if not removed:
            return text, removed_total
        removed_total += removed


def _limit_hashtags_once(text: str, limit: int) -> tuple[str, int]:
    tags = list(_HASHTAG.finditer(text))
    if len(tags) <= limit:
        return text, 0
    seen: set[str] = set()
    spans = []
    for tag in tags:
        key = tag.group().lower()
        if key not in seen and len(seen) < limit:
            seen.add(key)
        else:
            spans.append(_span_with_space(text, tag.start(), tag.end()))
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return _tidy_lines("".join(kept)), len(spans)


def _span_with_space(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a removed tag's span over the spaces on one side, so no double space is left."""
    before = len(text[:start]) - len(text[:start].rstrip(" \t"))
    if before:
        return start - before, end
    after = len(text[end:]) - len(text[end:].lstrip(" \t"))
    return start, end + after


# --- X threads -----------------------------------------------------------------------------------

_SLASH_NUMBER = r"[(\[]?(?P<n>\d{1,3})[ \t]*/[ \t]*(?P<of>\d{1,3})?[)\]]?"
_LABEL_NUMBER = r"(?:tweet|post)[ \t]+(?P<n2>\d{1,3})(?:[ \t]*/[ \t]*(?P<of2>\d{1,3}))?"
_LEADING_NUMBER = re.compile(
    rf"^[ \t]*(?:{_SLASH_NUMBER}|{_LABEL_NUMBER})(?!\d)[.:)\-]?[ \t]*", re.I | re.M)
_TRAILING_NUMBER = re.compile(r"[ \t]*[(\[]?(?P<n>\d{1,3})/(?P<of>\d{1,3})[)\]]?[ \t]*$", re.M)
_SENTENCE_GAP = re.compile(
    r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+|\s*\n\s*")


def split_thread(text: str, limit: int = 280, numbering: str = "i/n") -> list[str]:
    """Split `text` into posts of at most `limit` characters, numbered "1/n " (or in the
    `numbering` style) when more than one.

    Splits at sentence ends and line breaks, packing greedily; a sentence too long for a post is
    split between words, a word too long (a URL) is cut. Numbering the text already carries
    ("1/", "2/3", "(1/5)", "Tweet 1:") is removed first, and its posts stay separate.
    """
    if limit < 20:
        raise ValueError(f"limit must be at least 20 characters, got {limit}")
    FormatHabits(thread_numbering=numbering)  # validates the style
    segments = _strip_thread_numbering(text.strip()) or [text.strip()]
    return _number(_thread_chunks(segments, limit, numbering), numbering)


def _format_thread(text: str, rules: PlatformRules, habits: FormatHabits) -> FormattedDraft:
    text, notes = _apply_hashtag_limits(text, rules, habits)
    segments = _strip_thread_numbering(text)
    if segments:
        notes.append("removed the draft's own thread numbering")
    style = habits.thread_numbering
    if rules.max_chars_per_post is None:  # every thread platform has a per-post limit
        raise ValueError(f"Thread platform {rules.name} has no max_chars_per_post.")
    chunks = _thread_chunks(segments or [text], rules.max_chars_per_post, style)
    truncated = len(chunks) > MAX_THREAD_POSTS
    if truncated:
        notes.append(f"cut the thread to {MAX_THREAD_POSTS} posts (it needed {len(chunks)})")
        chunks = chunks[:MAX_THREAD_POSTS]
    if len(chunks) > 1:
        notes.append(f"split into a thread of {len(chunks)} posts")
    return FormattedDraft(rules.name, _number(chunks, style) or [""], truncated=truncated,
                          notes=notes)


def _strip_thread_numbering(text: str) -> list[str] | None:
    """The posts of a thread the model numbered itself, numbers removed; None if not numbered."""
    for pattern in (_LEADING_NUMBER, _TRAILING_NUMBER):
        marks = _sequential_marks(pattern.finditer(text))
        if len(marks) >= 2:
            bounds = [0] + [i for m in marks for i in m.span()] + [len(text)]
            pieces = (text[start:end].strip() for start, end in zip(bounds[::2], bounds[1::2]))
            return [piece for piece in pieces if piece]
    return None


def _sequential_marks(matches: Iterator[re.Match]) -> list[re.Match]:
    """Marks numbered 1, 2, 3... with one total; others ("24/7", "1/2 cup") are left in the text."""
    marks: list[re.Match] = []
    total = None
    for match in matches:
        groups = match.groupdict()
        number = int(groups.get("n") or groups["n2"])
        of = groups.get("of") or groups.get("of2")
        of = int(of) if of else None
        out_of_step = of is not None and (of < number or total not in (None, of))
        if number != len(marks) + 1 or out_of_step:
            continue
        total = of or total
        marks.append(match)
    return marks


def _thread_chunks(segments: list[str], limit: int, style: str = "i/n") -> list[str]:
    """Unnumbered posts, each short enough to take its numbering prefix within `limit`."""
    whole = "\n\n".join(segments)
    if len(whole) <= limit:
        return [whole] if whole else []
    digits = 1
    while True:
        budget = limit - _prefix_length(style, digits)
        chunks = [chunk for segment in segments for chunk in _pack(segment, budget)]
        if len(chunks) < 10 ** digits:
            return chunks
        digits += 1


def _prefix_length(style: str, digits: int) -> int:
    """The longest prefix with `digits`-digit numbers: "10/12 ", "10/ ", "(10/12) " or none."""
    return {"i/n": 2 * digits + 2, "i/": digits + 2, "(i/n)": 2 * digits + 4, "none": 0}[style]


def _number(chunks: list[str], style: str = "i/n") -> list[str]:
    if len(chunks) < 2 or style == "none":
        return list(chunks)
    total = len(chunks)
    prefixes = {"i/n": "{i}/{n} ", "i/": "{i}/ ", "(i/n)": "({i}/{n}) "}[style]
    return [prefixes.format(i=i, n=total) + chunk for i, chunk in enumerate(chunks, start=1)]


def _pack(text: str, budget: int) -> list[str]:
    posts: list[str] = []
    current = ""
    for separator, piece in _pieces(text, budget):
        if current and len(current) + len(separator) + len(piece) <= budget:
            current += separator + piece
        else:
            if current:
                posts.append(current)
            current = piece
    if current:
        posts.append(current)
    return posts


def _pieces(text: str, budget: int) -> Iterator[tuple[str, str]]:
    """(separator before, piece) pairs, each piece at most `budget` characters."""
    for separator, sentence in _sentences(text):
        if len(sentence) <= budget:
            yield separator, sentence
            continue
        for i, word in enumerate(sentence.split()):
            word_separator = separator if i == 0 else " "
            for start in range(0, len(word), budget):
                yield (word_separator if start == 0 else ""), word[start:start + budget]


def _sentences(text: str) -> list[tuple[str, str]]:
    """(separator before, sentence) pairs; a separator keeps line breaks, not runs of spaces."""
    pairs, separator, start = [], "", 0
    for gap in _SENTENCE_GAP.finditer(text):
        pairs.append((separator, text[start:gap.start()]))
        breaks = gap.group().count("\n")
        separator = "\n\n" if breaks >= 2 else "\n" if breaks else " "
        start = gap.end()
    pairs.append((separator, text[start:]))
    return [(sep, sentence) for sep, sentence in pairs if sentence]


# --- articles (Medium, Substack) -----------------------------------------------------------------

_EXPLICIT_HEADING = re.compile(
    r"^(?:#{1,6}\s|(?:\*\*|__)?\s*title\s*:|\*\*[^*]+\*\*$|__[^_]+__$)", re.I)
_TITLE_DECORATION = re.compile(r"^(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:title\s*:)?\s*(?:\*\*|__)?\s*",
                               re.I)
_NOT_A_TITLE = re.compile(r"^(?:[-*+>|]\s|```|~~~|\d+[.)]\s)")  # list item, quote, table, fence
_FIRST_SENTENCE = re.compile(r".+?[.!?\u2026](?=\s|$)")


_SUBTITLE = re.compile(r"^(?:(?:\*\*|__)?subtitle\s*:(?:\*\*|__)?\s*(?P<label>.+)"
                       r"|\*(?P<star>[^*\n]+)\*|_(?P<under>[^_\n]+)_)$", re.I)


def _format_article(text: str, rules: PlatformRules) -> FormattedDraft:
    first, _, rest = text.partition("\n")
    title = _heading_title(first.strip(), rest)
    if title is None:
        title = _title_from_first_sentence(text)
        notes = ["derived the title from the first sentence"] if title else []
        return FormattedDraft(rules.name, [text], title=title, notes=notes)
    notes = []
    if len(title) > TITLE_MAX_CHARS:
        title = _cut_at_word(title, TITLE_MAX_CHARS)
        notes.append(f"cut the title to {TITLE_MAX_CHARS} characters")
    body = rest.lstrip("\n") or text
    subtitle, body = _split_subtitle(body)
    if subtitle and len(subtitle) > SUBTITLE_MAX_CHARS:
        subtitle = _cut_at_word(subtitle, SUBTITLE_MAX_CHARS)
        notes.append(f"cut the subtitle to {SUBTITLE_MAX_CHARS} characters")
    return FormattedDraft(rules.name, [body], title=title, subtitle=subtitle, notes=notes)


def _split_subtitle(body: str) -> tuple[str | None, str]:
    """A subtitle the draft marked as one, right under the title: "*…*", "_…_" or "Subtitle: …".
    Unmarked first lines stay in the body: they are the article's opening."""
    first, _, rest = body.partition("\n")
    match = _SUBTITLE.match(first.strip())
    if not match or not _WORD.search(rest):
        return None, body
    subtitle = (match["label"] or match["star"] or match["under"]).strip().strip("*_").strip()
    if not _WORD.search(subtitle):
        return None, body
    return subtitle, rest.lstrip("\n")


def _heading_title(line: str, rest: str) -> str | None:
    """The title when the first line is a heading: "# T", "Title: T", "**T**", or a short line
    without a final period that has a body after it."""
    looks_like_heading = bool(_EXPLICIT_HEADING.match(line)) or (
        len(line) <= 100 and not line.endswith((".", ",", ";", ":", "\u2026"))
        and not _NOT_A_TITLE.match(line) and bool(_WORD.search(rest)))
    if not looks_like_heading:
        return None
    return _clean_title(line) or None


def _clean_title(line: str) -> str:
    title = _TITLE_DECORATION.sub("", line, count=1)
    title = re.sub(r"\s*(?:\*\*|__)$", "", title)
    title = re.sub(r"\s+#+$", "", title)  # closing hashes of "# Title #"
    return _strip_wrapping_quotes(title.strip()).strip()


def _title_from_first_sentence(text: str) -> str | None:
    line = next((ln for ln in text.split("\n") if _WORD.search(ln) and not _FENCE.match(ln)), "")
    line = _clean_title(re.sub(r"^\s*(?:[-*+>]\s+)+", "", line))
    sentence = _FIRST_SENTENCE.match(line)
    title = (sentence.group() if sentence else line).strip().rstrip(".")
    if len(title) > ARTICLE_TITLE_MAX_CHARS:
        title = _cut_at_word(title, ARTICLE_TITLE_MAX_CHARS)
    return title or None
