"""Hard limits hold for any text (property-based, hypothesis): X 280 characters per post and
threads split at sentence ends, LinkedIn 3,000, Instagram 2,200 and 30 hashtags, articles with a
one-line title and subtitle. The owner's habits never loosen a limit."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_twin.inference.formatting import (MAX_THREAD_POSTS, SUBTITLE_MAX_CHARS, THREAD_NUMBERING,
                                           TITLE_MAX_CHARS, FormatHabits, format_draft,
                                           split_thread)

HASHTAG = re.compile(r"(?<![\w&#/])#(?=\w*[^\W\d_])\w+")
PREFIX = {"i/n": re.compile(r"^(\d+)/(\d+) "), "i/": re.compile(r"^(\d+)/ "),
          "(i/n)": re.compile(r"^\((\d+)/(\d+)\) ")}
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALPHABET = st.sampled_from(list("abcdefghij klmnop ") + [" ", " ", "\n", "\n\n", ".", "!", "?",
                                                         ",", "#", "1", "/", "*", "é", "🚀", "…"])
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
hashtags = words.map(lambda w: "#" + w)
any_text = st.lists(st.one_of(ALPHABET, words, hashtags), max_size=400).map("".join)
# Long enough to hit every limit: ~700 pieces of ~6 characters, then repeated.
long_text = st.lists(st.one_of(words, hashtags, st.sampled_from([" ", ". ", "\n"])),
                     min_size=100, max_size=300).map(lambda parts: " ".join(parts) * 6)
habits = st.builds(FormatHabits, thread_numbering=st.sampled_from(THREAD_NUMBERING),
                   max_hashtags=st.one_of(st.none(), st.integers(0, 40)))


def check_numbering(posts: list[str], style: str) -> None:
    if len(posts) < 2 or style == "none":
        return
    for i, post in enumerate(posts, 1):
        match = PREFIX[style].match(post)
        assert match, post
        assert int(match[1]) == i
        if match.lastindex == 2:
            assert int(match[2]) == len(posts)


@PROPERTY
@given(text=st.one_of(any_text, long_text), owner=habits)
def test_x_posts_never_exceed_280_and_threads_are_numbered(text, owner):
    draft = format_draft(text, "x", owner)
    assert 1 <= len(draft.posts) <= MAX_THREAD_POSTS
    assert all(len(post) <= 280 for post in draft.posts)
    check_numbering(draft.posts, owner.thread_numbering)
    if owner.max_hashtags is not None:
        assert len(HASHTAG.findall(draft.body)) <= owner.max_hashtags


@PROPERTY
@given(text=st.one_of(any_text, long_text), owner=habits)
def test_linkedin_and_instagram_limits(text, owner):
    linkedin = format_draft(text, "linkedin", owner)
    assert len(linkedin.posts) == 1 and len(linkedin.posts[0]) <= 3000
    instagram = format_draft(text, "instagram", owner)
    assert len(instagram.posts) == 1 and len(instagram.posts[0]) <= 2200
    allowed = 30 if owner.max_hashtags is None else min(30, owner.max_hashtags)
    assert len(HASHTAG.findall(instagram.body)) <= allowed
    if len(text) <= 2200 and "#" not in text and not instagram.truncated:
        assert not any("cut" in note for note in instagram.notes)


short_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
# At most ~90 characters: every sentence fits a post, so every cut can be at a sentence end.
sentence = st.lists(short_words, min_size=1, max_size=10).map(
    lambda ws: " ".join(ws).capitalize()).flatmap(
    lambda s: st.sampled_from([".", "!", "?"]).map(lambda end: s + end))


@PROPERTY
@given(sentences=st.lists(sentence, min_size=1, max_size=60),
       style=st.sampled_from(THREAD_NUMBERING), limit=st.integers(120, 280))
def test_threads_split_at_sentence_ends_and_keep_every_word(sentences, style, limit):
    text = " ".join(sentences)
    posts = split_thread(text, limit=limit, numbering=style)
    assert all(len(post) <= limit for post in posts)
    check_numbering(posts, style)
    bodies = [PREFIX[style].sub("", post) if style != "none" and len(posts) > 1 else post
              for post in posts]
    assert " ".join(bodies).split() == text.split()  # nothing lost, nothing reordered
    assert all(body.endswith((".", "!", "?")) for body in bodies)  # every cut at a sentence end


title_line = st.lists(words, min_size=1, max_size=30).map(" ".join)


@PROPERTY
@given(title=title_line, marker=st.sampled_from(["# ", "## ", "Title: ", "**"]),
       subtitle=st.one_of(st.none(), title_line), body=st.lists(sentence, min_size=1, max_size=12),
       platform=st.sampled_from(["medium", "substack"]))
def test_articles_have_one_line_title_subtitle_and_markdown_body(title, marker, subtitle, body,
                                                                  platform):
    closing = "**" if marker == "**" else ""
    text = f"{marker}{title}{closing}\n\n" + (f"*{subtitle}*\n\n" if subtitle else "")
    text += " ".join(body)
    draft = format_draft(text, platform)
    assert draft.title and "\n" not in draft.title and len(draft.title) <= TITLE_MAX_CHARS
    if len(title) <= TITLE_MAX_CHARS:
        assert draft.title == title
    if subtitle:
        assert draft.subtitle and len(draft.subtitle) <= SUBTITLE_MAX_CHARS
        assert "\n" not in draft.subtitle
    else:
        assert draft.subtitle is None
    assert draft.body == " ".join(body)
    assert draft.as_text().startswith(f"# {draft.title}\n\n")


@PROPERTY
@given(text=any_text, platform=st.sampled_from(["medium", "substack"]))
def test_any_article_text_gets_a_bounded_title(text, platform):
    draft = format_draft(text, platform)
    if draft.title is not None:
        assert "\n" not in draft.title and len(draft.title) <= TITLE_MAX_CHARS
    if draft.subtitle is not None:
        assert len(draft.subtitle) <= SUBTITLE_MAX_CHARS
