"""The formatter that fits a generated draft to its platform's hard limits (`llm_twin.platforms`).

The model writes in the person's voice; this module only enforces what a platform would reject or
mangle: post length, thread numbering, hashtag count, the article title and subtitle. It also strips
the chat artefacts small models wrap around their answer. It never rewrites wording: emoji,
punctuation and single line breaks are where the voice lives, so they are kept.

`FormatHabits` (learned per platform by `inference.profiles`) bends the formatting towards the
owner's own: their thread numbering style, how many hashtags they use and, on a blog, the keys of
their front matter. The hard limits always win.

The scaffolding filter (`filter_scaffolding`) catches drafts that talk about their prompt instead
of the idea: "Here's your 12th example from my blog", "based on my notes", "as requested", "as an
AI", echoes of the prompt's own headers ("Examples of how I write:"), and hashtags glued from the
idea's words (`#Whywestopusing` for the idea "Why we stop using …"). A sentence or line that is
only scaffolding is cut; one that also carries the draft's content is left in and flagged. Each
cut and flag is a note, and the draft counts them (`FormattedDraft.scaffolding`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from frontmatter.default_handlers import YAMLHandler

from llm_twin.platforms import PAPER_FORMS, PlatformRules, form_rules, paper_form, rules_for

MAX_THREAD_POSTS = 25
ARTICLE_TITLE_MAX_CHARS = 80  # a title derived from the first sentence
TITLE_MAX_CHARS = 100  # Medium and Substack show longer titles cut off
SUBTITLE_MAX_CHARS = 140
# How the posts of a thread are numbered: "1/3 ", "1/ ", "(1/3) ", or not at all.
THREAD_NUMBERING = ("i/n", "i/", "(i/n)", "none")


# What a front matter key holds: the draft's title, today's date, a few tags (a YAML list, or
# one comma-separated string), a one-line summary, a slug made of the title, or a value the owner
# gives every post (layout: post).
FRONT_MATTER_FILLS = ("title", "date", "tags", "tags_text", "summary", "slug", "constant")
SUMMARY_MAX_CHARS = 160
DEFAULT_TAGS = 3


@dataclass(frozen=True)
class FrontMatterField:
    key: str
    fill: str  # one of FRONT_MATTER_FILLS
    value: Any = None  # the value of a "constant" field
    vocabulary: tuple[str, ...] = ()  # a tags field's values in the owner's files, most used first
    max_tags: int = DEFAULT_TAGS  # how many tags the owner usually gives a post

    def __post_init__(self) -> None:
        if self.fill not in FRONT_MATTER_FILLS:
            raise ValueError(f"front matter fill must be one of {', '.join(FRONT_MATTER_FILLS)}, "
                             f"got {self.fill!r}")

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "fill": self.fill, "value": self.value,
                "vocabulary": list(self.vocabulary), "max_tags": self.max_tags}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrontMatterField:
        return cls(data["key"], data["fill"], data.get("value"),
                   tuple(data.get("vocabulary") or ()), int(data.get("max_tags", DEFAULT_TAGS)))


@dataclass(frozen=True)
class FrontMatterShape:
    """The front matter of the owner's blog files: their keys in their order and what each holds
    (learned by `inference.profiles`); the default is title, date and tags."""

    fields: tuple[FrontMatterField, ...] = (
        FrontMatterField("title", "title"), FrontMatterField("date", "date"),
        FrontMatterField("tags", "tags"))


DEFAULT_FRONT_MATTER = FrontMatterShape()


@dataclass(frozen=True)
class FormatHabits:
    """The owner's formatting habits on one platform (see inference.profiles)."""

    thread_numbering: str = "i/n"  # one of THREAD_NUMBERING
    max_hashtags: int | None = None  # the most the owner uses; None: no habit known
    front_matter: FrontMatterShape | None = None  # a blog's; None: DEFAULT_FRONT_MATTER

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
    # A blog post's front matter, keys in the owner's order (as_text writes it as YAML).
    front_matter: dict[str, Any] | None = None
    form: str | None = None  # a paper's part: one of platforms.PAPER_FORMS
    section: str | None = None  # the heading over a paper's part ("Abstract", "Introduction")
    scaffolding_cut: int = 0  # sentences, lines and hashtags about the prompt that were cut
    scaffolding_flagged: int = 0  # ones left in because cutting them would break the text

    @property
    def body(self) -> str:
        return "\n\n".join(self.posts)

    @property
    def scaffolding(self) -> dict[str, int]:
        return {"cut": self.scaffolding_cut, "flagged": self.scaffolding_flagged}

    def front_matter_json(self) -> dict[str, Any] | None:
        """The front matter with dates as ISO text, for JSON."""
        if self.front_matter is None:
            return None
        return {key: value.isoformat() if isinstance(value, date) else value
                for key, value in self.front_matter.items()}

    def front_matter_text(self) -> str | None:
        """The front matter as the YAML block a blog file opens with, fences included."""
        if self.front_matter is None:
            return None
        return f"---\n{_YAML.export(self.front_matter, sort_keys=False)}\n---"

    def as_text(self) -> str:
        if self.front_matter is not None:
            heading = (f"# {self.title}\n\n" if self.title and "title" not in self.front_matter
                       else "")
            return f"{self.front_matter_text()}\n\n{heading}{self.body}".rstrip()
        section = f"## {self.section}\n\n" if self.section else ""
        if self.title is None:
            return f"{section}{self.body}"
        subtitle = f"*{self.subtitle}*\n\n" if self.subtitle else ""
        return f"# {self.title}\n\n{subtitle}{section}{self.body}".rstrip()


_YAML = YAMLHandler()


def format_draft(text: str, platform: str, habits: FormatHabits | None = None, *,
                 idea: str = "", today: date | None = None) -> FormattedDraft:
    """Clean a generated draft, cut the prompt's scaffolding, and fit it to the platform's limits
    (and the owner's habits). `idea` is what the draft was asked for: hashtags glued from its
    words are scaffolding, and it names the part of a paper. `today` dates a blog post."""
    rules = form_rules(rules_for(platform), idea)
    habits = habits or DEFAULT_HABITS
    cleaned, notes, scaffolding = _clean(text, idea)
    if not (rules.needs_title or rules.paper_forms):
        plain = _strip_markdown(cleaned)
        if plain != cleaned:
            cleaned = plain
            notes.append("removed Markdown the platform would show literally")
    if rules.is_thread_platform:
        draft = _format_thread(cleaned, rules, habits)
    elif rules.paper_forms:
        draft = _format_paper(cleaned, rules, paper_form(idea))
    elif rules.front_matter:
        draft = _format_blog(cleaned, rules, habits.front_matter or DEFAULT_FRONT_MATTER, idea,
                             today or date.today())
    elif rules.needs_title:
        draft = _format_article(cleaned, rules)
    else:
        draft = _format_post(cleaned, rules, habits)
    if not cleaned:
        notes.append("the draft is empty")
    draft.notes = notes + draft.notes
    draft.scaffolding_cut = scaffolding.cut
    draft.scaffolding_flagged = scaffolding.flagged
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


def _clean(text: str, idea: str = "") -> tuple[str, list[str], ScaffoldingResult]:
    notes = []
    cleaned = _strip_role_tokens(text)
    if cleaned != text:
        notes.append("removed chat role tokens")
    cleaned = _tidy_lines(cleaned)
    # Before the preamble step, so "Here's your 12th example:" is counted as scaffolding.
    scaffolding = filter_scaffolding(cleaned, idea)
    cleaned = scaffolding.text
    notes += scaffolding.notes
    for step, note in ((_strip_preamble, "removed the chat preamble before the draft"),
                       (_strip_wrapping_quotes, "removed the quotes around the draft")):
        stripped = step(cleaned)
        if stripped != cleaned:
            cleaned = stripped
            notes.append(note)
    if not _WORD.search(cleaned) and _WORD.search(text):
        cleaned = text.strip()  # safety net: every step above keeps the words, this should not run
    return cleaned, notes, scaffolding


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


_EMPTY_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]*$")


def _tidy_markdown(text: str) -> tuple[str, list[str]]:
    """Markup a small model leaves behind that would render broken: heading marks with no heading
    ("##" alone on a line) and a code fence never closed (everything after it would show as
    code). The last unmatched fence line goes."""
    lines = text.split("\n")
    kept = [line for line in lines if not _EMPTY_HEADING.match(line)]
    notes = []
    if len(kept) < len(lines):
        count = len(lines) - len(kept)
        notes.append(f"removed {count} empty heading{'s' if count > 1 else ''}")
    fences = [i for i, line in enumerate(kept) if _FENCE.match(line)]
    if len(fences) % 2:
        del kept[fences[-1]]
        notes.append("removed a code fence that was never closed")
    return _tidy_lines("\n".join(kept)) if notes else text, notes


def _format_article(text: str, rules: PlatformRules) -> FormattedDraft:
    text, notes = _tidy_markdown(text)
    first, _, rest = text.partition("\n")
    title = _heading_title(first.strip(), rest)
    if title is None:
        title = _title_from_first_sentence(text)
        if title:
            notes.append("derived the title from the first sentence")
        return FormattedDraft(rules.name, [text], title=title, notes=notes)
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


# --- blogs: Markdown with the owner's front matter -------------------------------------------

_TAG_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_IDEA_STOPWORDS = frozenset("""
a an and are as at be but by do does for from how i in into is it its my of on or our so that the
their this to was we what when where which who why will with you your about after before over
than then them they us vs not no more most less least very just can could should would
""".split())


def _format_blog(text: str, rules: PlatformRules, shape: FrontMatterShape, idea: str,
                 today: date) -> FormattedDraft:
    """An article (title, optional subtitle, body) whose title and summary go to the front
    matter, in the keys and order of the owner's blog files."""
    article = _format_article(text, rules)
    body, notes = article.body, list(article.notes)
    if rules.max_chars_per_post is not None:
        body, boundary = _cut_to_limit(body, rules.max_chars_per_post)
        if boundary:
            notes.append(f"cut to {rules.max_chars_per_post:,} characters at a {boundary} "
                         "boundary")
            article.truncated = True
    front: dict[str, Any] = {}
    for item in shape.fields:
        value = _front_matter_value(item, article.title, article.subtitle, body, idea, today)
        if value not in (None, "", []):
            front[item.key] = value
    return FormattedDraft(rules.name, [body], title=article.title, subtitle=article.subtitle,
                          truncated=article.truncated, notes=notes, front_matter=front)


def _front_matter_value(item: FrontMatterField, title: str | None, subtitle: str | None,
                        body: str, idea: str, today: date) -> Any:
    if item.fill == "title":
        return title
    if item.fill == "date":
        return today
    if item.fill in ("tags", "tags_text"):
        tags = choose_tags(idea, f"{title or ''}\n{body}", item.vocabulary, item.max_tags)
        return tags if item.fill == "tags" else ", ".join(tags)
    if item.fill == "summary":
        return subtitle or _summary(body)
    if item.fill == "slug":
        return "-".join(_TAG_WORD.findall((title or "").casefold())) or None
    return item.value


def choose_tags(idea: str, text: str, vocabulary: tuple[str, ...], limit: int) -> list[str]:
    """The owner's own tags the idea or the draft mentions (most used first); failing those, the
    idea's content words."""
    if limit <= 0:
        return []
    haystack = " ".join(_TAG_WORD.findall(f"{idea}\n{text}".casefold()))
    chosen = [tag for tag in vocabulary
              if (phrase := " ".join(_TAG_WORD.findall(str(tag).casefold())))
              and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", haystack)][:limit]
    if chosen:
        return chosen
    lowercase = all(str(tag) == str(tag).lower() for tag in vocabulary)
    words = [w for w in _TAG_WORD.findall(idea) if w.casefold() not in _IDEA_STOPWORDS
             and len(w) > 2 and not w.isdigit()]
    unique = list(dict.fromkeys(w.lower() if lowercase else w for w in words))
    return unique[:limit]


def _summary(body: str) -> str | None:
    line = next((ln.strip() for ln in body.split("\n")
                 if _WORD.search(ln) and not _FENCE.match(ln) and not ln.lstrip().startswith("#")),
                "")
    sentence = _FIRST_SENTENCE.match(line)
    summary = (sentence.group() if sentence else line).strip()
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = _cut_at_word(summary, SUMMARY_MAX_CHARS)
    return summary or None


# --- papers: an abstract, an introduction or a section ---------------------------------------

_PART_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:\d+(?:\.\d+)*\.?\s+)?(?P<name>[^\n]*?)\s*(?:\*\*|__)?"
    r"\s*[:.]?\s*(?:\*\*|__)?\s*$")
_PART_NAMES = {"abstract": "abstract", "summary": "abstract", "introduction": "introduction",
               "intro": "introduction"}


def _format_paper(text: str, rules: PlatformRules, form: str) -> FormattedDraft:
    """The part of a paper: an explicit title line ("# Title", "Title: …") is kept as the title,
    the part's own heading ("Abstract", "1 Introduction") moves to `section`, and the body is cut
    to the part's limit. An abstract is one paragraph of plain text."""
    notes: list[str] = []
    title = None
    first, _, rest = text.partition("\n")
    if (re.match(r"^\s*(?:#\s|(?:\*\*|__)?\s*title\s*:)", first, re.I) and _WORD.search(rest)
            and _part_of(first) is None):
        title = _clean_title(first.strip()) or None
        text = rest.strip()
    heading = PAPER_FORMS[form].heading
    first, _, rest = text.partition("\n")
    named = _part_of(first)
    own_heading = first.strip() if re.match(r"^\s*#{1,6}\s", first) else None
    if named is not None and _WORD.search(rest):
        text = rest.strip()
        if named != form:
            notes.append(f"the draft is headed as the {named}, not the {form} asked for")
    elif form == "section" and own_heading and _WORD.search(rest):
        heading = _clean_title(own_heading)
        text = rest.strip()
    if form == "abstract":
        plain = _strip_markdown(text)
        joined = re.sub(r"\s*\n\s*", " ", plain).strip()
        if joined != text:
            notes.append("joined the abstract into one paragraph of plain text")
        text = joined
    truncated = False
    if rules.max_chars_per_post is not None:
        text, boundary = _cut_to_limit(text, rules.max_chars_per_post)
        if boundary:
            truncated = True
            notes.append(f"cut the {form} to {rules.max_chars_per_post:,} characters at a "
                         f"{boundary} boundary")
    return FormattedDraft(rules.name, [text], title=title, truncated=truncated, notes=notes,
                          form=form, section=heading)


def _part_of(line: str) -> str | None:
    """The paper part a heading line names ("## Abstract", "**1. Introduction**"), if any."""
    if len(line) > 60:
        return None
    match = _PART_HEADING.match(line)
    return _PART_NAMES.get(match["name"].strip().casefold()) if match else None


# --- the scaffolding filter ----------------------------------------------------------------------

_FORM_NOUNS = (r"(?:post|tweet|thread|caption|article|blog post|newsletter|essay|abstract|"
               r"introduction|section|draft|version|text)s?")
_PLATFORM_NAMES = r"(?:linkedin|x|twitter|instagram|medium|substack|mastodon|bluesky)"
_PRESENTS = r"(?:here(?:'s|’s| is| are)|below is|below are|this is|sure[,!]?\s+here(?:'s|’s| is))"
_ORDINAL = (r"(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
            r"tenth|next|another|new|final|revised|updated)")
_AFTER_NOUN = r"(?=\s*(?:about|on|for|of|from|in|that|based|written|inspired|:|[.!]|$))"
_WRITING_FRAME = (r"(?:i(?:'m|’m| am)\s+(?:going\s+to\s+)?(?:writ(?:ing|e)|draft(?:ing)?|"
                  r"shar(?:ing|e))|let\s+me\s+(?:write|draft|share)|i(?:'ll|’ll| will)\s+"
                  r"(?:write|draft|share))")
# A sentence that presents the draft instead of being it: always pure scaffolding.
_PRESENTING = re.compile(
    rf"\b{_PRESENTS}\s+(?:"
    rf"your\s+(?:[\w'’-]+\s+){{0,3}}?{_FORM_NOUNS}|your\s+(?:[\w'’-]+\s+){{0,2}}?examples?"
    rf"|(?:an?|the|my)\s+(?:{_ORDINAL}\s+)?{_PLATFORM_NAMES}\s+{_FORM_NOUNS}"
    rf"|(?:an?|the|my)\s+(?:{_ORDINAL}\s+)?(?:[\w'’-]+\s+){{0,2}}?(?:draft|version|rewrite|"
    rf"sample)s?"
    rf"|(?:an?|the|my)\s+{_ORDINAL}\s+(?:[\w'’-]+\s+){{0,2}}?examples?"
    # "Here's a post for LinkedIn:", "Here is a caption for Instagram about…"
    rf"|(?:an?|the|my)\s+(?:[\w'’-]+\s+){{0,2}}?{_FORM_NOUNS}\s+for\s+{_PLATFORM_NAMES}"
    rf"){_AFTER_NOUN}"
    # "I'm writing a LinkedIn post about…", "Let me draft an X thread on…"
    rf"|\b{_WRITING_FRAME}\s+(?:an?|this|the|my)\s+(?:{_ORDINAL}\s+)?{_PLATFORM_NAMES}\s+"
    rf"{_FORM_NOUNS}{_AFTER_NOUN}", re.I)
# Phrases about the prompt: the sentence holding one is cut when little else is in it.
_TALKS_ABOUT_PROMPT = [re.compile(pattern, re.I) for pattern in (
    # the prompt's own headers and request, echoed (prompts/wording.py)
    r"\bexamples? of how i write\b", r"\bthings i(?:'ve| have) said about (?:this|it)\b",
    r"\bhow i write on (?:\w+)\b", r"\babout \d[\d,]* characters(?: long)?\b",
    r"\breply with the (?:draft|message) only\b", r"\bwriting twin\b",
    # the examples and notes it was shown
    r"\b(?:\d+(?:st|nd|rd|th)|another) example\b", r"\bexamples? from my\b",
    r"\b(?:my|your|the) \w+(?:'s|’s) notes\b", r"\b(?:from|in) (?:my|the|your) notes\b",
    r"\bnotes (?:above|below|provided|given|you (?:gave|provided|shared|sent))\b",
    r"\bexamples? (?:above|below|provided|given|you (?:gave|provided|shared|sent))\b",
    r"\b(?:the|these|those) (?:above|following|provided|given) (?:examples?|notes)\b",
    r"\b(?:based on|according to|drawing on) (?:the|my|your) (?:[\w-]+(?:'s|’s) )?"
    r"(?:notes|examples?|prompt|request|instructions?)\b",
    r"\bin the style of (?:the|my|your) (?:examples?|posts)\b",
    # the request
    r"\bas (?:you )?(?:requested|instructed)\b", r"\bas you asked\b",
    r"\bper (?:your|the) (?:request|instructions?|prompt)\b",
    r"\byour (?:prompt|request|instructions?|brief)\b",
    r"\bthe (?:prompt|request|instructions?) (?:above|below|you (?:gave|sent|provided|shared))\b",
    r"\b(?:the|this) (?:prompt|request) (?:asks|asked|says|said|wants)\b",
)]
# The request itself and the assistant behind it: never the owner's words, whatever else the
# sentence says.
_ALWAYS_SCAFFOLDING = re.compile(
    r"\bon this idea\s*:|\bas an? (?:ai|a\.i\.|language model|large language model|llm|"
    r"ai (?:language )?model|assistant)\b|\bi(?:'m|’m| am) (?:just )?an? "
    r"(?:ai|language model|assistant)\b", re.I)
# "the examples above" is the draft's own when it shows code or numbered examples itself.
_OWN_EXAMPLES = re.compile(r"^\s*(?:```|~~~|(?:example|e\.g\.)\s*\d*\s*[:.)])", re.I | re.M)
_EXAMPLES_PLACE = re.compile(r"\bexamples? (?:above|below)\b|\b(?:above|following) examples?\b",
                             re.I)
_SCAFFOLD_SENTENCE = re.compile(r"[^.!?\u2026\n]+(?:[.!?\u2026]+[\"')\]\u201d\u2019]*|$)[ \t]*")
_CHAT_OPENER_ONLY = re.compile(
    r"\W*(?:(?:sure|certainly|of course|absolutely|okay|ok|alright|great|happy to help)\W*)*",
    re.I)
PURE_SCAFFOLDING_WORDS = 3  # a sentence with at most this many other words is only scaffolding
MIN_GLUED_WORDS = 3  # "#MachineLearning" is a real tag; three or more glued idea words are not
MIN_GLUED_CHARS = 8


@dataclass
class ScaffoldingResult:
    text: str
    cut: int = 0
    flagged: int = 0
    notes: list[str] = field(default_factory=list)


def filter_scaffolding(text: str, idea: str = "") -> ScaffoldingResult:
    """Cut what talks about the prompt rather than the idea; flag what cannot be cut cleanly.

    A sentence that presents the draft ("Here is a LinkedIn post about …", "Here's your 12th
    example from my blog") is cut whole. A sentence with a phrase about the examples, notes,
    request or prompt ("as requested", "the examples above", "as an AI") is cut when at most
    PURE_SCAFFOLDING_WORDS other words remain, and flagged otherwise. A hashtag glued from
    MIN_GLUED_WORDS or more consecutive words of the idea is cut in a run of hashtags and
    flagged inside a sentence. Nothing is cut that would leave the draft without words."""
    result = ScaffoldingResult(text)
    own_examples = bool(_OWN_EXAMPLES.search(text))
    lines = text.split("\n")
    kept_lines: list[str] = []
    for index, line in enumerate(lines):
        pieces: list[str] = []
        cut_before = result.cut
        for match in _SCAFFOLD_SENTENCE.finditer(line):
            sentence = match.group()
            verdict = _scaffolding_verdict(sentence, own_examples)
            rest_of_draft = "\n".join([*kept_lines, "".join(pieces), line[match.end():],
                                       *lines[index + 1:]])
            if verdict == "cut" and _WORD.search(rest_of_draft):
                result.cut += 1
                opening = not _WORD.search("\n".join(kept_lines)) and _PRESENTING.search(sentence)
                result.notes.append("removed the chat preamble before the draft" if opening
                                    else f"cut scaffolding about the prompt: "
                                         f"\"{_quote(sentence)}\"")
                continue
            if verdict is not None:
                result.flagged += 1
                result.notes.append(f"check: \"{_quote(sentence)}\" talks about the prompt, "
                                    "not the idea (left in: cutting it would break the text)")
            pieces.append(sentence)
        rebuilt = "".join(pieces).rstrip()
        if result.cut > cut_before and _CHAT_OPENER_ONLY.fullmatch(rebuilt):
            rebuilt = ""  # "Sure!" left of "Sure! Here's a LinkedIn post:"
        if rebuilt.strip() or not line.strip():
            kept_lines.append(rebuilt if rebuilt.strip() else line)
    result.text = _tidy_lines("\n".join(kept_lines))
    if idea:
        _filter_glued_hashtags(result, idea)
    return result


def _scaffolding_verdict(sentence: str, own_examples: bool) -> str | None:
    """"cut" for a sentence that is only scaffolding, "flag" for one that also says something,
    None for one that does not talk about the prompt."""
    if _PRESENTING.search(sentence) or _ALWAYS_SCAFFOLDING.search(sentence):
        return "cut"
    spans = [m.span() for pattern in _TALKS_ABOUT_PROMPT for m in pattern.finditer(sentence)
             if not (own_examples and _EXAMPLES_PLACE.search(m.group()))]
    if not spans:
        return None
    rest = list(sentence)
    for start, end in spans:
        rest[start:end] = [" "] * (end - start)
    other_words = [w for w in re.findall(r"[^\W_]+", "".join(rest))
                   if w.casefold() not in _IDEA_STOPWORDS]
    return "cut" if len(other_words) <= PURE_SCAFFOLDING_WORDS else "flag"


def _quote(sentence: str, limit: int = 80) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= limit else _cut_at_word(sentence, limit)


def glued_from_idea(hashtag: str, idea: str) -> bool:
    """True when the hashtag is MIN_GLUED_WORDS or more consecutive words of the idea glued
    together (the last one may be cut short): "#Whywestopusing" for "Why we stop using cron"."""
    body = re.sub(r"[\W_]+", "", hashtag.lstrip("#")).casefold()
    words = [w.casefold() for w in re.findall(r"[^\W_]+", idea)]
    if len(body) < MIN_GLUED_CHARS or len(words) < MIN_GLUED_WORDS:
        return False
    for start in range(len(words)):
        glued, spanned = "", 0
        for word in words[start:]:
            if len(glued) >= len(body):
                break
            glued += word
            spanned += 1
        if glued.startswith(body) and spanned >= MIN_GLUED_WORDS:
            return True
    return False


_HASHTAG_RUN_LINE = re.compile(r"^(?:\s*#\w+)+\s*$")


def _filter_glued_hashtags(result: ScaffoldingResult, idea: str) -> None:
    lines = result.text.split("\n")
    cut, flagged, notes = 0, 0, []
    for number, line in enumerate(lines):
        glued = [tag for tag in _HASHTAG.finditer(line) if glued_from_idea(tag.group(), idea)]
        if not glued:
            continue
        in_run = _HASHTAG_RUN_LINE.match(line) is not None
        for tag in reversed(glued):
            trailing = not _WORD.search(_HASHTAG.sub("", line[tag.end():]))
            if in_run or trailing:
                start, end = _span_with_space(line, tag.start(), tag.end())
                line = line[:start] + line[end:]
                cut += 1
                notes.append(f"cut the hashtag {tag.group()}: it glues the idea's words "
                                    "together")
            else:
                flagged += 1
                notes.append(f"check: the hashtag {tag.group()} glues the idea's words "
                                    "together (left in: it is part of a sentence)")
        lines[number] = line.rstrip()
    text = _tidy_lines("\n".join(lines))
    if cut and not _WORD.search(text):  # only glued hashtags: flag them, keep the draft
        cut, flagged, text = 0, flagged + cut, result.text
        notes = [f"check: the draft is only hashtags glued from the idea's words ({_quote(text)})"]
    result.text = text
    result.cut += cut
    result.flagged += flagged
    result.notes += notes
