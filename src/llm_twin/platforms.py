"""The platform table: every platform a document can come from, and what `twin write` drafts for.

One row per platform. Everything that depends on a platform reads its row here: importers and
the self-query parser (which names exist), the writer and its formatter (limits, thread or
title, the request wording), platform profiles and training answers (long-form or not, the
longest text kept), `twin reply` (which platforms have chats). Adding a draft platform is adding
a row with `drafts=True`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from llm_twin.errors import InputError

KINDS = ("post", "thread", "article", "message", "paper", "code")
DEFAULT_MAX_ANSWER_CHARS = 3000


@dataclass(frozen=True)
class PlatformRules:
    name: str
    # How the platform is named in prompts and notes ("How I write on LinkedIn"). Common nouns
    # (blog, web) stay lowercase: they are used mid-sentence ("a short blog post").
    label: str
    aliases: tuple[str, ...] = ()  # other names `rules_for` accepts ("twitter")
    long_form: bool = False  # its posts are articles
    chat: bool = False  # it has chats `twin reply` can answer in
    # The longest single text kept as a training answer (a thread counts whole).
    max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS
    # Drafting, for the platforms `twin write` serves (drafts=True).
    drafts: bool = False
    # A noun phrase, used in the prompt as "Write {style_hint}, about {target_chars} characters".
    style_hint: str = ""
    target_chars: int = 0
    max_chars_per_post: int | None = None
    max_hashtags: int | None = None
    is_thread_platform: bool = False
    needs_title: bool = False
    # A Markdown file with YAML front matter shaped like the owner's own blog files (blog).
    front_matter: bool = False
    # Drafts one part of a paper (abstract, introduction or a section): see PAPER_FORMS (paper).
    paper_forms: bool = False
    # The kinds of the owner's texts the style examples fall back to when the platform itself
    # has too few; empty: articles for long-form platforms, posts and threads for the others.
    example_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.drafts and not (self.style_hint and self.target_chars > 0):
            raise ValueError(f"draft platform {self.name!r} needs a style_hint and target_chars")


_ARTICLE_HINT = ("an article with a title line, a one-line subtitle in italics, then a Markdown "
                 "body")
# Draft platforms first: their order is the order `twin write` and the web app offer them in.
PLATFORM_TABLE = (
    PlatformRules(
        "linkedin", "LinkedIn", chat=True, drafts=True,
        style_hint="a LinkedIn post: a strong first line, short paragraphs, line breaks between "
                   "them",
        target_chars=1200, max_chars_per_post=3000),
    PlatformRules(
        "x", "X", aliases=("twitter",), drafts=True,
        max_answer_chars=4000,  # a post, or a thread of up to ~15 posts
        style_hint="a short post, or a numbered thread when the idea needs more room",
        target_chars=260, max_chars_per_post=280, is_thread_platform=True),
    PlatformRules(
        "instagram", "Instagram", chat=True, drafts=True,
        max_answer_chars=2200,  # Instagram's own limit
        style_hint="an Instagram caption with a few hashtags at the end",
        target_chars=600, max_chars_per_post=2200, max_hashtags=30),
    PlatformRules("medium", "Medium", long_form=True, drafts=True, style_hint=_ARTICLE_HINT,
                  target_chars=3000, needs_title=True),
    PlatformRules("substack", "Substack", long_form=True, drafts=True, style_hint=_ARTICLE_HINT,
                  target_chars=3000, needs_title=True),
    PlatformRules(
        "blog", "blog", long_form=True, drafts=True,
        style_hint="a blog post in Markdown: a title line, then the body, with ## headings "
                   "where it helps",
        target_chars=4000, max_chars_per_post=20000, needs_title=True, front_matter=True,
        example_kinds=("article",)),
    PlatformRules(
        "paper", "paper", long_form=True, drafts=True,
        style_hint="the abstract of a paper: one paragraph in a formal register, no headings",
        target_chars=1200, max_chars_per_post=2000, paper_forms=True,
        example_kinds=("paper", "article")),
    PlatformRules("mastodon", "Mastodon"),
    PlatformRules("bluesky", "Bluesky"),
    PlatformRules("whatsapp", "WhatsApp", chat=True),
    PlatformRules("telegram", "Telegram", chat=True),
    PlatformRules("messenger", "Messenger", chat=True),
    PlatformRules("web", "web"),
    PlatformRules("code", "code"),
)
_BY_NAME = {rules.name: rules for rules in PLATFORM_TABLE}
_DRAFT_NAMES = {name: rules.name for rules in PLATFORM_TABLE if rules.drafts
                for name in (rules.name, *rules.aliases)}

SOURCE_PLATFORMS = tuple(_BY_NAME)  # every platform a document can come from
DRAFT_PLATFORMS = tuple(rules.name for rules in PLATFORM_TABLE if rules.drafts)  # what `twin write` drafts
CHAT_PLATFORMS = tuple(rules.name for rules in PLATFORM_TABLE if rules.chat)  # what `twin reply` answers in


@dataclass(frozen=True)
class PaperForm:
    """One part of a paper `twin write --platform paper` drafts."""

    name: str
    heading: str | None  # the heading the formatter puts over it; None: the draft's own
    style_hint: str
    target_chars: int
    max_chars: int


PAPER_FORMS = {form.name: form for form in (
    PaperForm("abstract", "Abstract",
              "the abstract of a paper: one paragraph in a formal register, no headings",
              1200, 2000),
    PaperForm("introduction", "Introduction",
              "the introduction of a paper in Markdown: the problem, why it matters and what "
              "this work does, in a formal register", 3000, 12000),
    PaperForm("section", None,
              "one section of a paper in Markdown, under its own ## heading, in a formal "
              "register", 3000, 12000),
)}
DEFAULT_PAPER_FORM = "abstract"
# "introduction: …", "the intro for my paper on …", "a section on related work", "abstract - …"
_PAPER_FORM_OPENING = re.compile(
    r"^\W*(?:(?:write|draft)\s+)?(?:(?:an?|the|my)\s+)?(?P<form>abstract|introduction|intro|section)"
    r"(?:\s*[:\-\u2013\u2014]|\s+(?:for|of|on|about)\b)", re.I)


def paper_form(idea: str) -> str:
    """Which part of a paper an idea asks for: an idea opening with "introduction:", "the
    introduction for …", "section on …" (or "abstract: …") names it; anything else is an
    abstract."""
    match = _PAPER_FORM_OPENING.match(idea or "")
    if match is None:
        return DEFAULT_PAPER_FORM
    form = match["form"].lower()
    return "introduction" if form == "intro" else form


def form_rules(rules: PlatformRules, idea: str) -> PlatformRules:
    """The rules for the part of a paper the idea asks for; other platforms' rules unchanged."""
    if not rules.paper_forms:
        return rules
    form = PAPER_FORMS[paper_form(idea)]
    return replace(rules, style_hint=form.style_hint, target_chars=form.target_chars,
                   max_chars_per_post=form.max_chars)


def rules_for(platform: str) -> PlatformRules:
    """A draft platform's rules, by name or alias, in any case."""
    key = platform.strip().lower() if isinstance(platform, str) else None
    if key not in _DRAFT_NAMES:
        raise InputError(f"unknown platform {platform!r}; expected one of: "
                         f"{', '.join(DRAFT_PLATFORMS)}")
    return _BY_NAME[_DRAFT_NAMES[key]]


def source_rules(platform: str | None) -> PlatformRules | None:
    """Any platform's row by its exact name; None for a name not in the table."""
    return _BY_NAME.get(platform) if isinstance(platform, str) else None


def is_long_form(platform: str | None) -> bool:
    rules = source_rules(platform)
    return rules is not None and rules.long_form


def label_of(platform: str) -> str:
    """The platform's label; the name itself for one not in the table."""
    rules = source_rules(platform)
    return rules.label if rules is not None else platform


def max_answer_chars(platform: str) -> int:
    rules = source_rules(platform)
    return rules.max_answer_chars if rules is not None else DEFAULT_MAX_ANSWER_CHARS
