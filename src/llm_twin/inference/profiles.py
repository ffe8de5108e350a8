"""Platform profiles: how the owner writes on each platform, learned from their own history.

A profile holds the length distribution, the line-break rhythm, emoji and hashtag habits, the
shapes of openings and closings, and (on X) thread length and numbering. It steers the prompt
(`prompt_hints`, `steer_rules`) and the formatter (`format_habits`); the platform's hard limits
stay with `formatting.format_draft` and always win. With fewer than MIN_TEXTS texts on a platform
there is no profile and the PlatformRules defaults apply.

Profiles are cheap to compute; `load_profiles` still caches them in `<workspace>/profiles.json`,
keyed on the owner's document count, so a write does not rescan a large warehouse.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from llm_twin.inference.formatting import FormatHabits, FrontMatterField, FrontMatterShape
from llm_twin.platforms import (DRAFT_PLATFORMS, PlatformRules, form_rules, is_long_form,
                                rules_for, source_rules)
from llm_twin.storage.models import Document, document_meta

MIN_TEXTS = 5
PROFILE_FILE = "profiles.json"
CACHE_VERSION = 2
PROFILE_KINDS = ("post", "thread", "article", "paper")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\U00002600-\U000027BF\U0001F000-\U0001F2FF]")
HASHTAG = re.compile(r"(?<![\w&#/])#(?=\w*[^\W\d_])\w+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_CALL_TO_ACTION = re.compile(
    r"\b(?:let me know|what do you think|what's your|what is your|tell me|share your|follow|"
    r"subscribe|link in bio|comment|dm me|reach out)\b", re.I)
_URL = re.compile(r"https?://\S+")
_NUMBER_OPENING = re.compile(r"^\W*\d")
# A thread post's own number: "1/", "1/5", "(1/5)", at its start.
_POST_NUMBER = re.compile(r"^\s*(?P<paren>\()?\d{1,3}/(?P<of>\d{1,3})?\)?(?=\s|$)")


@dataclass
class PlatformProfile:
    platform: str
    texts: int
    median_chars: int
    p25_chars: int
    p75_chars: int
    median_paragraphs: float
    median_paragraph_chars: int
    single_line_break_share: float  # texts with line breaks inside paragraphs
    emoji_share: float  # texts with at least one emoji
    hashtag_share: float  # texts with at least one hashtag
    median_hashtags: float  # hashtags per text, among texts that have any
    max_hashtags: int
    hashtags_at_end_share: float  # of texts with hashtags, those ending in a run of them
    hooks: dict[str, float] = field(default_factory=dict)  # opening shape -> share
    closings: dict[str, float] = field(default_factory=dict)  # closing shape -> share
    thread_share: float = 0.0
    median_thread_posts: float = 0.0
    thread_numbering: str = "none"  # one of formatting.THREAD_NUMBERING
    # A blog's front matter: FrontMatterField.to_json() per key, in the owner's order.
    front_matter: list[dict] | None = None

    def steer_rules(self, rules: PlatformRules) -> PlatformRules:
        """The platform rules with the owner's usual length as the target (within the limit)."""
        if rules.paper_forms:  # whole papers say nothing of an abstract's length
            return rules
        target = max(40, self.median_chars)
        if rules.max_chars_per_post is not None:
            target = min(target, rules.max_chars_per_post)
        return replace(rules, target_chars=_round_length(target))

    def format_habits(self) -> FormatHabits:
        numbering = self.thread_numbering if self.thread_share > 0 else "i/n"
        front_matter = (FrontMatterShape(tuple(FrontMatterField.from_json(f)
                                               for f in self.front_matter))
                        if self.front_matter else None)
        return FormatHabits(thread_numbering=numbering, max_hashtags=self.max_hashtags,
                            front_matter=front_matter)

    def prompt_hints(self) -> list[str]:
        """Short instructions in the owner's voice, each only when the habit is clear."""
        hints = [hint for hint in (self._paragraph_hint(), self._emoji_hint(),
                                   self._hashtag_hint(), self._hook_hint(), self._closing_hint(),
                                   self._thread_hint()) if hint]
        return hints

    def _paragraph_hint(self) -> str | None:
        if self.median_paragraphs <= 1 and self.median_chars > 200:
            return "I write it as one block, without blank lines."
        if self.median_paragraphs >= 3 and self.median_paragraph_chars <= 200:
            return "I use short paragraphs of one or two sentences, with a blank line between them."
        return None

    def _emoji_hint(self) -> str:
        if self.emoji_share < 0.1:
            return "I rarely use emoji: use none."
        if self.emoji_share >= 0.5:
            return "I usually use an emoji or two."
        return "I use an emoji now and then, at most one."

    def _hashtag_hint(self) -> str:
        if self.hashtag_share < 0.1:
            return "I do not use hashtags."
        if self.hashtag_share >= 0.5:
            low = max(1, int(self.median_hashtags))
            high = max(low + 1, min(self.max_hashtags, low + 2))
            where = "End with" if self.hashtags_at_end_share >= 0.5 else "Use"
            return f"{where} {low}-{high} hashtags."
        return "I only sometimes use a hashtag."

    def _hook_hint(self) -> str | None:
        shape, share = _dominant(self.hooks)
        if share < 0.4:
            return None
        return {"question": "I often open with a question.",
                "number": "I often open with a number.",
                "short line": "I open with a short first line on its own."}.get(shape)

    def _closing_hint(self) -> str | None:
        shape, share = _dominant(self.closings)
        if share < 0.4:
            return None
        return {"question": "I often end with a question to readers.",
                "call to action": "I often end by asking readers to reply or share.",
                "link": "I often end with a link."}.get(shape)

    def _thread_hint(self) -> str | None:
        if self.thread_share < 0.2:
            return None
        posts = max(2, round(self.median_thread_posts))
        numbered = {"i/n": f' numbered "1/{posts}"', "i/": ' numbered "1/"',
                    "(i/n)": f' numbered "(1/{posts})"'}.get(self.thread_numbering, "")
        return f"When it needs more room, I write a thread of about {posts} posts{numbered}."

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> PlatformProfile:
        return cls(**data)


def learn_profile(platform: str, documents: list[Document]) -> PlatformProfile | None:
    """The profile of the owner's texts on one platform; None with fewer than MIN_TEXTS."""
    texts = [d.raw_text.strip() for d in documents if d.raw_text and d.raw_text.strip()]
    if len(texts) < MIN_TEXTS:
        return None
    threads = [_thread_posts(d) for d in documents if d.kind == "thread"]
    single = [t for d, t in zip(documents, texts) if d.kind != "thread"] or texts
    lengths = sorted(len(t) for t in (single if _is_thread_platform(platform) else texts))
    paragraphs = [_paragraphs(t) for t in texts]
    tag_counts = [len(HASHTAG.findall(t)) for t in texts]
    tagged = [(t, c) for t, c in zip(texts, tag_counts) if c]
    return PlatformProfile(
        platform=platform, texts=len(texts),
        median_chars=int(statistics.median(lengths)),
        p25_chars=_quantile(lengths, 0.25), p75_chars=_quantile(lengths, 0.75),
        median_paragraphs=float(statistics.median(len(p) for p in paragraphs)),
        median_paragraph_chars=int(statistics.median(len(x) for p in paragraphs for x in p)),
        single_line_break_share=_share(any("\n" in x for x in p) for p in paragraphs),
        emoji_share=_share(bool(EMOJI.search(t)) for t in texts),
        hashtag_share=len(tagged) / len(texts),
        median_hashtags=float(statistics.median(c for _, c in tagged)) if tagged else 0.0,
        max_hashtags=max(tag_counts),
        hashtags_at_end_share=_share(_ends_with_hashtags(t) for t, _ in tagged) if tagged else 0.0,
        hooks=_shares(hook_shape(t) for t in texts),
        closings=_shares(closing_shape(t) for t in texts),
        thread_share=len(threads) / len(documents),
        median_thread_posts=float(statistics.median(len(p) for p in threads)) if threads else 0.0,
        thread_numbering=_numbering_style(threads),
        front_matter=([f.to_json() for f in learn_front_matter(documents).fields]
                      if _has_front_matter(platform) else None),
    )


# Keys of Document.extra that importers add themselves, never from a file's front matter.
_NOT_FRONT_MATTER = frozenset({"path", "conversation", "position", "posts", "tag", "engagement",
                               "file"})
_TAG_KEYS = re.compile(r"^(?:tags?|categor(?:y|ies)|keywords?|topics?|labels?)$", re.I)
_SUMMARY_KEYS = re.compile(r"^(?:description|summary|excerpt|subtitle|abstract|tl;?dr|lead|"
                           r"teaser)$", re.I)
FRONT_MATTER_MIN_SHARE = 0.5  # a key in at least half the owner's files is their habit
CONSTANT_MIN_SHARE = 0.8  # a value most of those files share is copied as is ("layout: post")


def learn_front_matter(documents: list[Document]) -> FrontMatterShape:
    """The front matter of the owner's blog files, from what the markdown-folder importer kept:
    the title and date (stored as the document's own), then the other keys in the files' order
    (`Document.extra`). Tags fields keep the owner's tags as their vocabulary; a one-line
    description or summary is filled from the draft; a value most files share is copied."""
    if not documents:
        return FrontMatterShape()
    total = len(documents)
    fields = []
    if sum(bool(d.title) for d in documents) / total >= FRONT_MATTER_MIN_SHARE:
        fields.append(FrontMatterField("title", "title"))
    if sum(d.created_at is not None for d in documents) / total >= FRONT_MATTER_MIN_SHARE:
        fields.append(FrontMatterField("date", "date"))
    values: dict[str, list] = {}
    for document in documents:
        extra = document.extra if isinstance(document.extra, dict) else {}
        for key, value in extra.items():
            if key in _NOT_FRONT_MATTER or (key == "draft" and value is True):
                continue
            values.setdefault(key, []).append(value)
    for key, seen in values.items():
        if len(seen) / total >= FRONT_MATTER_MIN_SHARE:
            field_ = _front_matter_field(key, seen)
            if field_ is not None:
                fields.append(field_)
    return FrontMatterShape(tuple(fields)) if fields else FrontMatterShape()


def _front_matter_field(key: str, seen: list) -> FrontMatterField | None:
    lists = [v for v in seen if isinstance(v, list) and all(isinstance(x, str) for x in v)]
    texts = [v for v in seen if isinstance(v, str)]
    if len(lists) == len(seen) or (_TAG_KEYS.match(key) and len(texts) == len(seen)):
        tags = lists or [[t.strip() for t in text.split(",") if t.strip()] for text in texts]
        vocabulary = tuple(tag for tag, _ in Counter(t for v in tags for t in v).most_common())
        usual = max(1, round(statistics.median(len(v) for v in tags))) if tags else 1
        return FrontMatterField(key, "tags" if lists else "tags_text", vocabulary=vocabulary,
                                max_tags=usual)
    if _SUMMARY_KEYS.match(key) and len(texts) == len(seen):
        return FrontMatterField(key, "summary")
    if key.casefold() == "slug":
        return FrontMatterField(key, "slug")
    scalars = [json.dumps(v) for v in seen if isinstance(v, (str, bool, int, float))]
    if scalars:
        value, count = Counter(scalars).most_common(1)[0]
        if count / len(seen) >= CONSTANT_MIN_SHARE:
            return FrontMatterField(key, "constant", value=json.loads(value))
    return None  # a value of its own per post (an image, a permalink): not made up


def _has_front_matter(platform: str) -> bool:
    rules = source_rules(platform)
    return rules is not None and rules.front_matter


def hook_shape(text: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    if first.endswith("?"):
        return "question"
    if _NUMBER_OPENING.match(first):
        return "number"
    if len(first) <= 60 and "\n" in text.strip():
        return "short line"
    return "statement"


def closing_shape(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().split("\n") if ln.strip()]
    last = lines[-1] if lines else ""
    if last and all(word.startswith("#") for word in last.split()):
        return "hashtags"
    if _URL.search(last):
        return "link"
    if HASHTAG.sub("", last).strip().endswith("?"):
        return "question"
    if _CALL_TO_ACTION.search(last):
        return "call to action"
    return "statement"


def owner_documents_by_platform(session: Session) -> dict[str, list[Document]]:
    query = (select(Document).where(Document.is_owner.is_(True),
                                    Document.kind.in_(PROFILE_KINDS))
             .order_by(Document.id))
    grouped: dict[str, list[Document]] = {}
    for document in session.scalars(query):
        grouped.setdefault(document.platform, []).append(document)
    return grouped


def learn_profiles(session: Session) -> dict[str, PlatformProfile]:
    """Profiles for the platforms `twin write` serves, where the owner has enough texts."""
    grouped = owner_documents_by_platform(session)
    profiles = {}
    for platform in DRAFT_PLATFORMS:
        documents = [d for d in grouped.get(platform, []) if _fits_platform(platform, d)]
        profile = learn_profile(platform, documents)
        if profile is not None:
            profiles[platform] = profile
    return profiles


def load_profiles(session: Session, workspace: Path) -> dict[str, PlatformProfile]:
    """Profiles from `<workspace>/profiles.json` when the owner's document count is unchanged;
    learned again (and cached) otherwise."""
    count = session.scalar(select(func.count()).select_from(Document)
                           .where(Document.is_owner.is_(True))) or 0
    path = Path(workspace) / PROFILE_FILE
    cached = _read_cache(path, count)
    if cached is not None:
        return cached
    profiles = learn_profiles(session)
    _write_cache(path, count, profiles)
    return profiles


def _read_cache(path: Path, count: int) -> dict[str, PlatformProfile] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION or data.get("owner_documents") != count:
            return None
        return {name: PlatformProfile.from_json(p) for name, p in data["profiles"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing or stale cache: learn again


def _write_cache(path: Path, count: int, profiles: dict[str, PlatformProfile]) -> None:
    data = {"version": CACHE_VERSION, "owner_documents": count,
            "profiles": {name: p.to_json() for name, p in profiles.items()}}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def _fits_platform(platform: str, document: Document) -> bool:
    """Articles shape long-form platforms' profiles (Medium, Substack, blog); papers and articles
    the paper profile; posts and threads the others'."""
    rules = source_rules(platform)
    if rules is not None and rules.paper_forms:
        return document.kind in ("paper", "article")
    return (document.kind == "article") == is_long_form(platform)


def _is_thread_platform(platform: str) -> bool:
    """A thread platform's length profile is of single posts: threads would inflate it."""
    rules = source_rules(platform)
    return rules is not None and rules.is_thread_platform


def _thread_posts(document: Document) -> list[str]:
    posts = document_meta(document.extra).get("posts")
    if posts:
        return posts
    return [p for p in _PARAGRAPH_BREAK.split(document.raw_text) if p.strip()]


def _numbering_style(threads: list[list[str]]) -> str:
    """The style most threads use, from their first post: "i/n", "i/", "(i/n)" or "none"."""
    styles: Counter[str] = Counter()
    for posts in threads:
        match = _POST_NUMBER.match(posts[0]) if posts else None
        if match is None:
            styles["none"] += 1
        elif match["paren"]:
            styles["(i/n)"] += 1
        else:
            styles["i/n" if match["of"] else "i/"] += 1
    return styles.most_common(1)[0][0] if styles else "none"


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()] or [text]


def _ends_with_hashtags(text: str) -> bool:
    return closing_shape(text) == "hashtags" or bool(re.search(r"#\w+\s*$", text))


def _quantile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _share(flags) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def _shares(labels) -> dict[str, float]:
    counts = Counter(labels)
    total = sum(counts.values())
    return {label: round(count / total, 3) for label, count in counts.most_common()}


def _dominant(shares: dict[str, float]) -> tuple[str, float]:
    return max(shares.items(), key=lambda item: item[1]) if shares else ("", 0.0)


def _round_length(chars: int) -> int:
    step = 10 if chars < 500 else 50
    return max(step, round(chars / step) * step)


def rules_and_habits(platform: str, profile: PlatformProfile | None, idea: str = ""
                     ) -> tuple[PlatformRules, FormatHabits | None, list[str]]:
    """What a write on `platform` uses: rules (for a paper, those of the part the idea asks
    for), formatter habits and prompt hints."""
    rules = form_rules(rules_for(platform), idea)
    if profile is None:
        return rules, None, []
    return profile.steer_rules(rules), profile.format_habits(), profile.prompt_hints()
