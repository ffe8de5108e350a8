import random
import re

import pytest

from llm_twin.inference.formatting import (MAX_THREAD_POSTS, FormattedDraft, format_draft,
                                           split_thread)
from llm_twin.platforms import DRAFT_PLATFORMS

NUMBER_PREFIX = re.compile(r"^(\d+)/(\d+) ")


def sentences(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["voice", "draft", "model", "thread", "idea", "write", "post", "small", "clear", "ship"]
    return " ".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 14))).capitalize()
                    + "." for _ in range(count))


def assert_numbered(posts: list[str]) -> list[str]:
    """Check the "i/n " prefixes run 1..n in order; return the posts without them."""
    bodies = []
    for i, post in enumerate(posts, start=1):
        match = NUMBER_PREFIX.match(post)
        assert match, post
        assert (int(match[1]), int(match[2])) == (i, len(posts))
        bodies.append(post[match.end():])
    return bodies


# --- cleanup -------------------------------------------------------------------------------------

@pytest.mark.parametrize("preamble", [
    "Sure! Here's a LinkedIn post:",
    "Here is your tweet:",
    "Certainly! Below is a draft for your Instagram caption:",
    "**LinkedIn post:**",
    "Thread:",
    "Okay, here's the article:",
])
def test_chat_preamble_is_stripped(preamble):
    draft = format_draft(f"{preamble}\n\nI changed jobs this week.\nIt was scary.", "linkedin")
    assert draft.body == "I changed jobs this week.\nIt was scary."
    assert "removed the chat preamble before the draft" in draft.notes


def test_hook_line_that_names_the_form_is_kept():
    text = "3 lessons from shipping my first article:\n\n1. Start small.\n2. Ship."
    assert format_draft(text, "linkedin").body == text


def test_preamble_alone_is_not_emptied():
    assert format_draft("Sure! Here's a post:", "linkedin").body == "Sure! Here's a post:"


def test_role_tokens_are_stripped_and_later_turns_dropped():
    raw = "<|im_start|>assistant\nShipped the beta today 🎉<|im_end|>\n<|im_start|>user\nThanks!"
    draft = format_draft(raw, "x")
    assert draft.posts == ["Shipped the beta today 🎉"]
    assert "removed chat role tokens" in draft.notes


def test_role_token_before_text_does_not_empty_it():
    assert format_draft("<|im_end|>Hello there<|endoftext|>", "x").posts == ["Hello there"]


@pytest.mark.parametrize("wrapped", ['"Ship small, ship often."',
                                     "\u201cShip small, ship often.\u201d"])
def test_quotes_around_the_whole_text_are_stripped(wrapped):
    draft = format_draft(wrapped, "linkedin")
    assert draft.body == "Ship small, ship often."
    assert "removed the quotes around the draft" in draft.notes


@pytest.mark.parametrize("text", [
    '"Done" is better than "perfect"',
    "\u201cDone\u201d beats \u201cperfect\u201d",
])
def test_separate_quotes_at_both_ends_are_kept(text):
    assert format_draft(text, "linkedin").body == text


def test_preamble_then_quotes_then_whitespace():
    raw = 'Sure! Here\'s a tweet:\n"Coffee first. Code second. ☕️"   \n\n'
    assert format_draft(raw, "x").posts == ["Coffee first. Code second. ☕️"]


def test_blank_line_runs_collapse_but_single_breaks_and_emoji_stay():
    raw = "First line 👋   \nsecond line!!\n\n\n\n\nNew paragraph…  \n\n"
    expected = "First line 👋\nsecond line!!\n\nNew paragraph…"
    assert format_draft(raw, "linkedin").body == expected


def test_clean_text_passes_through_without_notes():
    text = "Small models, big lessons 🤖\n\nHere is what I learned."
    draft = format_draft(text, "linkedin")
    assert draft.posts == [text] and draft.notes == [] and not draft.truncated


def test_empty_input_gives_one_empty_post():
    for platform in DRAFT_PLATFORMS:
        draft = format_draft("   \n ", platform)
        assert draft.posts == [""] and draft.title is None
        assert "the draft is empty" in draft.notes


# --- X -------------------------------------------------------------------------------------------

def test_exactly_280_chars_is_one_post():
    text = ("x" * 9 + " ") * 27 + "y" * 10
    assert len(text) == 280
    draft = format_draft(text, "x")
    assert draft.posts == [text] and not draft.truncated


def test_281_chars_becomes_a_thread():
    text = "Short sentence. " * 17 + "The end!!"
    assert len(text) == 281
    posts = format_draft(text, "x").posts
    assert len(posts) == 2
    assert all(len(p) <= 280 for p in posts)
    assert assert_numbered(posts)


def test_long_paragraph_without_newlines_becomes_numbered_thread():
    text = sentences(40, seed=1)
    assert len(text) >= 2000 and "\n" not in text
    draft = format_draft(text, "x")
    assert all(len(p) <= 280 for p in draft.posts)
    bodies = assert_numbered(draft.posts)
    assert " ".join(bodies).split() == text.split()
    assert all(b.endswith(".") for b in bodies)  # split at sentence ends
    assert f"split into a thread of {len(draft.posts)} posts" in draft.notes
    assert draft.body == "\n\n".join(draft.posts)


def test_two_digit_threads_account_for_prefix_width():
    text = sentences(120, seed=2)
    posts = split_thread(text)
    assert len(posts) >= 10
    assert all(len(p) <= 280 for p in posts)
    assert " ".join(assert_numbered(posts)).split() == text.split()
    assert posts[-1].startswith(f"{len(posts)}/{len(posts)} ")


def test_sentence_longer_than_a_post_splits_between_words():
    text = " ".join(f"word{i}" for i in range(120)) + "."
    posts = split_thread(text)
    assert all(len(p) <= 280 for p in posts)
    assert " ".join(assert_numbered(posts)).split() == text.split()


def test_url_longer_than_a_post_is_hard_cut():
    url = "https://example.com/" + "a1b2c3d4" * 48 + "/end"
    assert len(url) > 400
    text = f"Read this before your next launch. {url} Worth it."
    posts = split_thread(text)
    assert all(len(p) <= 280 for p in posts)
    joined = "".join(assert_numbered(posts))
    assert url in joined.replace(" ", "")
    assert posts[0].endswith("launch.")


def test_existing_numbering_is_replaced():
    parts = [f"{i}/ " + sentences(2, seed=i) for i in range(1, 5)]
    text = "\n\n".join(parts)
    assert len(text) > 280
    draft = format_draft(text, "x")
    bodies = assert_numbered(draft.posts)
    assert not any(re.match(r"\d+/", b) for b in bodies)
    assert bodies == [p.split(" ", 1)[1] for p in parts]  # the model's own posts stay separate
    assert "removed the draft's own thread numbering" in draft.notes


@pytest.mark.parametrize("marker", ["{i}/{n}", "({i}/{n})", "Tweet {i}:", "{i}/"])
def test_numbering_styles_are_recognised(marker):
    parts = [marker.format(i=i, n=3) + " " + sentences(3, seed=i) for i in range(1, 4)]
    posts = split_thread("\n".join(parts))
    assert len(posts) == 3
    assert assert_numbered(posts) == [sentences(3, seed=i) for i in range(1, 4)]


def test_trailing_numbering_is_replaced():
    parts = [sentences(3, seed=i) + f" ({i}/3)" for i in range(1, 4)]
    posts = split_thread("\n\n".join(parts))
    assert assert_numbered(posts) == [sentences(3, seed=i) for i in range(1, 4)]


def test_short_numbered_thread_becomes_one_post_without_numbers():
    assert format_draft("1/ Ship it.\n2/ Then fix it.", "x").posts == ["Ship it.\n\nThen fix it."]


@pytest.mark.parametrize("text", ["1/2 cup flour\n3/4 cup sugar", "24/7 on call\n1/ burnout"])
def test_fractions_are_not_thread_numbering(text):
    assert format_draft(text, "x").posts == [text]


def test_emoji_and_line_breaks_preserved_in_thread():
    text = "\n".join(f"Step {i} 🚀 keep going, it's worth it 💪🏽!" for i in range(12))
    posts = format_draft(text, "x").posts
    bodies = assert_numbered(posts)
    assert "\n".join(bodies) == text
    assert all(len(p) <= 280 for p in posts)


def test_thread_is_capped_at_25_posts():
    draft = format_draft(sentences(400, seed=3), "x")
    assert len(draft.posts) == MAX_THREAD_POSTS
    assert draft.truncated
    assert draft.posts[-1].startswith("25/25 ")
    assert any(n.startswith("cut the thread to 25 posts") for n in draft.notes)
    assert all(len(p) <= 280 for p in draft.posts)


def test_split_thread_edges():
    assert split_thread("") == []
    assert split_thread("  just one  ") == ["just one"]
    posts = split_thread(sentences(10, seed=4), limit=100)
    assert len(posts) > 1 and all(len(p) <= 100 for p in posts)
    with pytest.raises(ValueError):
        split_thread("text", limit=5)


def test_random_texts_fit_and_keep_every_word():
    alphabet = "abcdefghijklmnopqrstuvwxyzäéß"
    for seed in range(200):
        rng = random.Random(seed)
        text_parts = []
        for _ in range(rng.randint(1, 40)):
            words = ["".join(rng.choice(alphabet) for _ in range(rng.choice([1, 3, 5, 8, 30])))
                     for _ in range(rng.choice([1, 5, 12, 60]))]
            if rng.random() < 0.2:
                words.append("🔥")
            text_parts.append(" ".join(words) + rng.choice([".", "!", "?", "…", ""]))
            text_parts.append(rng.choice([" ", " ", "\n", "\n\n", "  "]))
        text = "".join(text_parts).strip()
        posts = split_thread(text)
        assert all(len(p) <= 280 for p in posts), seed
        bodies = assert_numbered(posts) if len(posts) > 1 else posts
        assert " ".join(bodies).split() == text.split(), seed
        if len(posts) <= MAX_THREAD_POSTS:
            assert format_draft(text, "x").posts == posts, seed


# --- LinkedIn ------------------------------------------------------------------------------------

def test_linkedin_long_post_cut_at_sentence_end():
    text = sentences(100, seed=5)
    assert len(text) >= 5000
    draft = format_draft(text, "linkedin")
    (post,) = draft.posts
    assert 1500 < len(post) <= 3000
    assert post.endswith(".") and text.startswith(post)
    assert draft.truncated
    assert draft.notes == ["cut to 3,000 characters at a sentence boundary"]


def test_linkedin_without_sentence_ends_cut_at_word():
    text = " ".join(f"word{i}" for i in range(1000))
    draft = format_draft(text, "linkedin")
    (post,) = draft.posts
    assert len(post) <= 3000 and post.endswith("\u2026")
    assert text.startswith(post[:-1] + " ")
    assert draft.notes == ["cut to 3,000 characters at a word boundary"]


def test_linkedin_cut_may_end_at_a_line_break():
    text = "\n".join("Lesson learned 🙌" for _ in range(400))
    (post,) = format_draft(text, "linkedin").posts
    assert len(post) <= 3000 and post.endswith("🙌") and text.startswith(post)


def test_linkedin_under_limit_untouched():
    text = sentences(20, seed=6)
    assert len(text) < 3000
    draft = format_draft(text, "linkedin")
    assert draft.posts == [text] and not draft.truncated and draft.title is None


# --- Instagram -----------------------------------------------------------------------------------

def test_instagram_keeps_first_30_hashtags():
    tags = [f"#tag{i}" for i in range(40)]
    text = "Sunset run 🌅 felt great.\n\n" + " ".join(tags)
    draft = format_draft(text, "instagram")
    assert draft.body == "Sunset run 🌅 felt great.\n\n" + " ".join(tags[:30])
    assert draft.notes == ["removed 10 hashtags over Instagram's limit of 30"]
    assert not draft.truncated


def test_instagram_duplicates_count_once_and_extra_copies_go():
    tags = [f"#t{i}" for i in range(30)]
    text = "#t0 morning\n" + " ".join(tags + ["#T1", "#new"])
    body = format_draft(text, "instagram").body
    assert re.findall(r"#\w+", body) == ["#t0"] + tags[1:]
    assert "  " not in body


def test_instagram_inline_hashtags_under_limit_untouched():
    text = "Loving #python and C# and being #1 at https://x.com/a#frag"
    assert format_draft(text, "instagram").body == text


def test_instagram_hashtag_then_length():
    text = sentences(60, seed=7) + "\n\n" + " ".join(f"#t{i}" for i in range(35))
    draft = format_draft(text, "instagram")
    assert len(draft.body) <= 2200 and draft.truncated
    assert draft.notes[0] == "removed 5 hashtags over Instagram's limit of 30"
    assert draft.notes[1].startswith("cut to 2,200 characters")


# --- Medium / Substack ---------------------------------------------------------------------------

@pytest.mark.parametrize("first_line", [
    "# Why small models win",
    "## Why small models win",
    "Title: Why small models win",
    "**Title:** Why small models win",
    "**Why small models win**",
    '# "Why small models win"',
    "Why small models win",
])
def test_article_title_from_heading(first_line):
    body = "Most of my drafts start on a train.\n\nHere is why."
    draft = format_draft(f"{first_line}\n\n{body}", "medium")
    assert draft.title == "Why small models win"
    assert draft.body == body
    assert draft.as_text() == f"# Why small models win\n\n{body}"


def test_article_title_from_first_sentence():
    text = "I rewrote my blog engine twice this year. The second time it stuck.\n\nMore below."
    draft = format_draft(text, "substack")
    assert draft.title == "I rewrote my blog engine twice this year"
    assert draft.body == text
    assert draft.notes == ["derived the title from the first sentence"]


def test_derived_title_is_cut_at_a_word():
    text = ("Every team I have worked with underestimated how long it takes to make a small "
            "language model sound like a real person on the page. Really.")
    title = format_draft(text, "medium").title
    assert len(title) <= 80 and title.endswith("\u2026")
    assert text.startswith(title[:-1])
    assert not title[:-1].endswith(" ")


def test_article_with_only_a_title_keeps_text_as_body():
    draft = format_draft("# Just a heading", "medium")
    assert draft.title == "Just a heading"
    assert draft.body == "# Just a heading"


def test_article_keeps_code_fences_intact():
    code = "```python\ndef f():\n\n\n\n    return 1  \n```"
    draft = format_draft(f"# Code notes\n\nSome intro.\n\n{code}\n\nOutro.", "medium")
    assert "```python\ndef f():\n\n\n\n    return 1\n```" in draft.body
    assert draft.body.endswith("Outro.")


def test_article_preamble_and_list_start():
    text = "Here's a Medium article:\n\n- first point\n- second point"
    draft = format_draft(text, "medium")
    assert draft.title == "first point"
    assert draft.body == "- first point\n- second point"


def test_formatted_draft_as_text_without_title():
    draft = FormattedDraft("x", ["1/2 a", "2/2 b"])
    assert draft.as_text() == draft.body == "1/2 a\n\n2/2 b"
    assert draft.notes == [] and not draft.truncated


@pytest.mark.parametrize("platform", ["x", "linkedin", "instagram"])
def test_markdown_headings_and_bold_become_plain_text_on_post_platforms(platform):
    draft = format_draft("### 3. What I learned\n**Boring** is a feature. #postgres #oncall", platform)
    assert draft.posts == ["3. What I learned\nBoring is a feature. #postgres #oncall"]
    assert any("Markdown" in note for note in draft.notes)


def test_articles_keep_their_markdown():
    draft = format_draft("# Slow work\n\n## Why\n\n**Boring** is a feature.", "medium")
    assert draft.title == "Slow work"
    assert "## Why" in draft.body and "**Boring**" in draft.body


@pytest.mark.parametrize("preamble", ["Here's a sample of your work:",
                                      "Sure! Here is a short message for the team, with the text below:"])
def test_small_model_preambles_are_removed(preamble):
    draft = format_draft(f"{preamble}\nBoring is a feature. We kept Postgres.", "linkedin")
    assert draft.posts == ["Boring is a feature. We kept Postgres."]


def test_plain_text_platforms_drop_code_fences_and_trailing_symbol_lines():
    text = ("```\nWe moved the queue into Postgres.\nIt worked.\n\nemoji stay 🌱\n👨‍💻\n##\n***\n"
            "|\n&\n·")
    draft = format_draft(text, "linkedin")
    assert draft.posts == ["We moved the queue into Postgres.\nIt worked.\n\nemoji stay 🌱\n👨‍💻"]
    assert "removed Markdown the platform would show literally" in draft.notes
    kept = format_draft("Before\n---\nAfter", "linkedin")  # a separator inside the post stays
    assert kept.posts == ["Before\n---\nAfter"]
    article = format_draft("# Title\n\n```python\nx = 1\n```\n\nBody.", "medium")
    assert "```python\nx = 1\n```" in article.body  # Markdown platforms keep code blocks


def test_an_unknown_platform_is_refused():
    with pytest.raises(ValueError, match="unknown platform 'myspace'"):
        format_draft("hello", "myspace")
