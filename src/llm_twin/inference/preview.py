"""What a platform will show of a draft: the one preview model `twin write --preview` and the web
app render (the web app's `preview.js` recounts as you type with the same rules, which the server
sends in each preview's `rules`).

- X: the thread's posts, each with its length against the per-post limit and the owner's numbering
  (the formatter's `FormattedDraft.posts` already carry it).
- LinkedIn: the text before the "…see more" fold (after the first ~210 characters or 3 lines,
  whichever comes first) and the rest.
- Instagram: the caption, its length against 2,200 and its hashtags against 30.
- Medium, Substack (any platform that `needs_title`): title, subtitle and body.
- blog: a Markdown file, its front matter (title, date, tags as the owner's files have them), title
  and body.
- paper: the part's heading (Abstract, Introduction, a section's own) and body against the part's
  length limit (`platforms.PAPER_FORMS`).
- any other draft platform: the text against its limit, if it has one.

Lengths are counted in Unicode code points (Python's `len`, the browser's `Array.from(text)`), the
same count the formatter cuts to. Limits come from `llm_twin.platforms`; title and subtitle lengths
from `inference.formatting`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from llm_twin.inference.formatting import (SUBTITLE_MAX_CHARS, THREAD_NUMBERING, TITLE_MAX_CHARS,
                                           FormattedDraft, format_draft, split_thread)
from llm_twin.platforms import PAPER_FORMS, PlatformRules, rules_for

# LinkedIn shows the first ~210 characters or 3 lines of a post, whichever is shorter, then
# "…see more". Kept here (not in the platform table) because only the preview needs it.
FOLDS = {"linkedin": (210, 3)}
SEE_MORE = "…see more"
# Hashtags as the formatter counts them ("#1", "C#", "a/#b" are not hashtags); preview.js has the
# same pattern in JavaScript's Unicode classes.
HASHTAG = re.compile(r"(?<![\w&#/])#(?=\w*[^\W\d_])\w+")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_FRONT_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:[ \t]*(?P<value>.*)$", re.M)
# A post of a numbered thread starts a line with its number: "1/3 ", "1/ ", "(1/3) ".
_POST_MARK = re.compile(r"\n[ \t]*\n(?=[ \t]*[(\[]?\d{1,3}[ \t]*/)")
_NUMBERING_STYLES = ((re.compile(r"^\(\d{1,3}/\d{1,3}\)"), "(i/n)"),
                     (re.compile(r"^\d{1,3}/\d{1,3}(?!\d)"), "i/n"),
                     (re.compile(r"^\d{1,3}/(?!\d)"), "i/"))


def count_chars(text: str) -> int:
    """Characters as the platforms' limits and the formatter count them: code points."""
    return len(text)


def count_hashtags(text: str) -> int:
    return len(HASHTAG.findall(text))


def fold_at(text: str, chars: int, lines: int) -> int:
    """Where a "…see more" fold cuts `text`: after `chars` characters or `lines` lines, whichever
    comes first, moved back to the last space when that falls inside a word; len(text) when the
    whole text shows."""
    cut = min(len(text), chars)
    breaks = [i for i, char in enumerate(text) if char == "\n"]
    if len(breaks) >= lines:
        cut = min(cut, breaks[lines - 1])
    if cut >= len(text):
        return len(text)
    if not text[cut].isspace() and not text[cut - 1].isspace():
        space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
        if space > 0:
            cut = space
    return cut


@dataclass
class PreviewPart:
    """One piece of what the platform shows: a post of a thread, the text before or after a fold,
    a caption, a title, a subtitle, a body, a blog's front matter."""

    # post | visible | more | caption | title | subtitle | body | front_matter | section | text
    role: str
    text: str
    limit: int | None = None  # the most characters the platform takes for this part
    label: str = ""  # "1/3" for a thread's post

    @property
    def chars(self) -> int:
        return count_chars(self.text)

    @property
    def over(self) -> bool:
        return self.limit is not None and self.chars > self.limit

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "text": self.text, "chars": self.chars, "limit": self.limit,
                "over": self.over, "label": self.label}


@dataclass
class Preview:
    platform: str
    label: str  # the platform's label ("LinkedIn")
    layout: str  # thread | fold | caption | article | markdown | paper | plain
    parts: list[PreviewPart]
    rules: dict[str, Any] = field(default_factory=dict)  # the limits the browser recounts with
    hashtags: int = 0
    max_hashtags: int | None = None
    numbering: str | None = None  # a thread's numbering style (formatting.THREAD_NUMBERING)
    front_matter: dict[str, str] = field(default_factory=dict)  # blog posts
    chars: int = 0  # the whole text's length (a fold's two parts together)
    max_chars: int | None = None  # the whole text's limit, where its parts have none of their own

    @property
    def hashtags_over(self) -> bool:
        return self.max_hashtags is not None and self.hashtags > self.max_hashtags

    @property
    def over_limit(self) -> list[str]:
        """What is over a limit, in words (empty when nothing is)."""
        problems = [f"{_part_name(p)} has {p.chars:,} characters, over {p.limit:,}"
                    for p in self.parts if p.over]
        if self.max_chars is not None and self.chars > self.max_chars:
            problems.append(f"the post has {self.chars:,} characters, over {self.max_chars:,}")
        if self.hashtags_over:
            problems.append(f"{self.hashtags} hashtags, over {self.max_hashtags}")
        return problems

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "label": self.label, "layout": self.layout,
                "parts": [p.to_json() for p in self.parts], "rules": self.rules,
                "hashtags": self.hashtags, "max_hashtags": self.max_hashtags,
                "hashtags_over": self.hashtags_over, "numbering": self.numbering,
                "front_matter": self.front_matter, "chars": self.chars,
                "max_chars": self.max_chars, "over_limit": self.over_limit}


def _part_name(part: PreviewPart) -> str:
    if part.role == "post":
        return f"post {part.label}" if part.label else "the post"
    return {"visible": "the text before the fold", "more": "the text after the fold"}.get(
        part.role, f"the {part.role.replace('_', ' ')}")


def layout_of(rules: PlatformRules) -> str:
    if rules.is_thread_platform:
        return "thread"
    if rules.name in FOLDS:
        return "fold"
    if rules.max_hashtags is not None:
        return "caption"
    if rules.front_matter:
        return "markdown"  # a Markdown file with front matter
    if rules.paper_forms:
        return "paper"
    if rules.needs_title:
        return "article"
    return "plain"


def preview_rules(platform: str) -> dict[str, Any]:
    """The limits a preview is checked against, as the browser needs them to recount."""
    rules = rules_for(platform)
    fold = FOLDS.get(rules.name)
    return {"platform": rules.name, "label": rules.label, "layout": layout_of(rules),
            "max_chars": rules.max_chars_per_post, "max_hashtags": rules.max_hashtags,
            "fold_chars": fold[0] if fold else None, "fold_lines": fold[1] if fold else None,
            "see_more": SEE_MORE, "title_max": TITLE_MAX_CHARS if _titled(rules) else None,
            "subtitle_max": SUBTITLE_MAX_CHARS if _titled(rules) else None}


def _titled(rules: PlatformRules) -> bool:
    return rules.needs_title or layout_of(rules) == "markdown"


def preview_draft(draft: FormattedDraft) -> Preview:
    """The preview of a draft as the formatter left it (its posts, title and subtitle)."""
    rules = rules_for(draft.platform)
    layout = layout_of(rules)
    if layout == "thread":
        return _thread(rules, list(draft.posts))
    if layout == "article" and draft.title is not None:
        return _article(rules, draft.title, draft.subtitle, draft.body)
    if layout == "markdown" and draft.front_matter is not None:
        fenced = draft.front_matter_text() or ""
        front = {key: str(value) for key, value in (draft.front_matter_json() or {}).items()}
        return _markdown_parts(rules, fenced.removeprefix("---\n").removesuffix("\n---").strip("\n"),
                               draft.title or front.get("title", ""), draft.body, front)
    if layout == "paper":
        return _paper(rules, draft.section, draft.body, draft.form)
    return preview_text(draft.as_text(), rules.name)


def preview_text(text: str, platform: str, *, numbering: str | None = None) -> Preview:
    """The preview of a draft's text as the writer edited it. A thread is split where its posts'
    numbers start ("1/3 ", "2/ ", "(3/3) "); text without numbers longer than a post is split as
    the formatter would, in `numbering` style (default "i/n")."""
    rules = rules_for(platform)
    text = text.replace("\r\n", "\n").strip()
    layout = layout_of(rules)
    if layout == "thread":
        return _thread(rules, _thread_posts(text, rules, numbering))
    if layout == "article":
        formatted = format_draft(text, rules.name)
        return _article(rules, formatted.title or "", formatted.subtitle, formatted.body)
    if layout == "markdown":
        return _markdown(rules, text)
    if layout == "paper":
        heading = re.match(r"#{1,6}[ \t]+(.+)\n*", text)
        section = heading[1].strip() if heading else None
        form = next((f.name for f in PAPER_FORMS.values() if f.heading == section), None)
        return _paper(rules, section, text[heading.end():] if heading else text,
                      form or ("section" if section else None))
    if layout == "fold":
        chars, lines = FOLDS[rules.name]
        cut = fold_at(text, chars, lines)
        parts = [PreviewPart("visible", text[:cut].rstrip())]
        if cut < len(text):
            parts.append(PreviewPart("more", text[cut:].strip()))
        return _preview(rules, parts, text)
    role = "caption" if layout == "caption" else "text"
    return _preview(rules, [PreviewPart(role, text, rules.max_chars_per_post)], text)


def _preview(rules: PlatformRules, parts: list[PreviewPart], text: str) -> Preview:
    whole_limit = None if any(p.limit is not None for p in parts) else rules.max_chars_per_post
    return Preview(rules.name, rules.label, layout_of(rules), parts, rules=preview_rules(rules.name),
                   hashtags=count_hashtags(text), max_hashtags=rules.max_hashtags,
                   chars=count_chars(text), max_chars=whole_limit)


def _thread(rules: PlatformRules, posts: list[str]) -> Preview:
    limit = rules.max_chars_per_post
    parts = [PreviewPart("post", post, limit, f"{i}/{len(posts)}")
             for i, post in enumerate(posts, 1)]
    preview = _preview(rules, parts, "\n\n".join(posts))
    preview.numbering = thread_numbering(posts)
    return preview


def thread_numbering(posts: list[str]) -> str:
    """The numbering style a thread's posts carry ("none" for one post or unnumbered posts)."""
    if len(posts) < 2:
        return "none"
    for pattern, style in _NUMBERING_STYLES:
        if all(pattern.match(post.lstrip()) for post in posts):
            return style
    return "none"


def _thread_posts(text: str, rules: PlatformRules, numbering: str | None) -> list[str]:
    if not text:
        return [""]
    posts = [post.strip() for post in _POST_MARK.split(text) if post.strip()]
    if len(posts) > 1 and thread_numbering(posts) != "none":
        return posts
    limit = rules.max_chars_per_post or 280
    if count_chars(text) <= limit:
        return [text]
    style = numbering if numbering in THREAD_NUMBERING else "i/n"
    return split_thread(text, limit, style)


def _article(rules: PlatformRules, title: str, subtitle: str | None, body: str) -> Preview:
    parts = [PreviewPart("title", title, TITLE_MAX_CHARS)]
    if subtitle:
        parts.append(PreviewPart("subtitle", subtitle, SUBTITLE_MAX_CHARS))
    parts.append(PreviewPart("body", body, rules.max_chars_per_post))
    return _preview(rules, parts, body)


def _markdown(rules: PlatformRules, text: str) -> Preview:
    """A Markdown file: its front matter (between '---' lines) and body; the title from the front
    matter, else from a first '# ' heading."""
    front: dict[str, str] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        front = {m["key"]: m["value"].strip().strip("'\"")
                 for m in _FRONT_FIELD.finditer(match["yaml"])}
        body = text[match.end():].lstrip("\n")
    title = front.get("title", "")
    heading = re.match(r"#[ \t]+(.+)\n*", body)
    if not title and heading:
        title, body = heading[1].strip(), body[heading.end():]
    return _markdown_parts(rules, match["yaml"] if match else None, title, body, front)


def _markdown_parts(rules: PlatformRules, yaml: str | None, title: str, body: str,
                    front: dict[str, str]) -> Preview:
    parts = [PreviewPart("front_matter", yaml)] if yaml is not None else []
    parts += [PreviewPart("title", title, TITLE_MAX_CHARS),
              PreviewPart("body", body, rules.max_chars_per_post)]
    preview = _preview(rules, parts, body)
    preview.front_matter = front
    return preview


def _paper(rules: PlatformRules, section: str | None, body: str, form: str | None) -> Preview:
    """A part of a paper: its heading ("Abstract", "Introduction" or the section's own) and body,
    against the form's length limit."""
    limit = PAPER_FORMS[form].max_chars if form in PAPER_FORMS else rules.max_chars_per_post
    parts = [PreviewPart("section", section)] if section else []
    parts.append(PreviewPart("body", body.strip(), limit))
    return _preview(rules, parts, body)
