"""Platform profiles learned from the owner's own history, and how they steer prompt and format."""

from __future__ import annotations

import json
import statistics

import pytest

from conftest import make_doc
from llm_twin.inference.formatting import FormatHabits, format_draft
from llm_twin.inference.profiles import (PROFILE_FILE, closing_shape, hook_shape, learn_profiles,
                                         load_profiles, rules_and_habits)
from llm_twin.platforms import rules_for

LINKEDIN = [
    f"Why do small teams {topic}?\n\nWe tried it for a year.\n\nIt worked better than planned.\n\n"
    f"Here is what I would keep: fewer meetings, more writing.\n\n{tags}"
    for topic, tags in [("ship faster", "#teams #shipping"), ("skip Kafka", "#postgres #kafka #ops"),
                        ("write runbooks", "#oncall #docs"), ("avoid rewrites", "#eng #legacy #ops"),
                        ("pair on incidents", "#oncall #sre"), ("keep one database", "#db #a #b")]]
X_SINGLE = ["Boring tech wins again ☕", "Shipped the queue move today 🚀", "Postgres 17 is out. Upgrading 🎉",
            "Runbooks > heroics 🔥", "Cycled in through the rain 🚲"]
X_THREADS = [[f"{i}/ {line}" for i, line in enumerate(lines, 1)] for lines in [
    ["We moved our queue into Postgres 🧵", "SKIP LOCKED did the heavy lifting.", "No new infra."],
    ["On-call lessons from a small team 🧵", "Write the runbook first.", "Then sleep."],
    ["Why we said no to Kafka 🧵", "Four engineers.", "One database is plenty."]]]


@pytest.fixture
def history(ingest):
    docs = [make_doc(t, platform="linkedin") for t in LINKEDIN]
    docs += [make_doc(t, platform="x") for t in X_SINGLE]
    docs += [make_doc("\n\n".join(posts), platform="x", kind="thread", metadata={"posts": posts})
             for posts in X_THREADS]
    docs += [make_doc(f"Caption {i} #sun", platform="instagram") for i in range(3)]  # too few
    docs += [make_doc("Not mine at all, lots of #tags #here #now", platform="linkedin",
                      author="Someone", is_owner=False),
             make_doc("a chat line of mine", platform="linkedin", kind="message")]
    ingest(*docs)


def test_profiles_need_five_texts_and_only_the_owners_posts(history, sessions):
    with sessions() as session:
        profiles = learn_profiles(session)
    assert set(profiles) == {"linkedin", "x"}
    assert profiles["linkedin"].texts == 6 and profiles["x"].texts == 8
    rules, habits, hints = rules_and_habits("instagram", None)
    assert rules == rules_for("instagram") and habits is None and hints == []


def test_linkedin_profile_learns_length_rhythm_hashtags_and_hooks(history, sessions):
    with sessions() as session:
        profile = learn_profiles(session)["linkedin"]
    assert profile.median_chars == int(statistics.median(len(t) for t in LINKEDIN))
    assert profile.median_paragraphs == 5 and profile.median_paragraph_chars < 60
    assert profile.emoji_share == 0 and profile.hashtag_share == 1.0
    assert (profile.median_hashtags, profile.max_hashtags) == (2.5, 3)
    assert profile.hashtags_at_end_share == 1.0
    assert profile.hooks == {"question": 1.0} and profile.closings == {"hashtags": 1.0}
    assert profile.thread_share == 0
    assert profile.prompt_hints() == [
        "I use short paragraphs of one or two sentences, with a blank line between them.",
        "I rarely use emoji: use none.", "End with 2-3 hashtags.", "I often open with a question."]
    rules = profile.steer_rules(rules_for("linkedin"))
    assert rules.target_chars == round(profile.median_chars / 10) * 10
    assert rules.max_chars_per_post == 3000  # the hard limit is untouched


def test_x_profile_learns_threads_numbering_and_emoji(history, sessions):
    with sessions() as session:
        profile = learn_profiles(session)["x"]
    assert profile.thread_share == pytest.approx(3 / 8)
    assert profile.median_thread_posts == 3 and profile.thread_numbering == "i/"
    assert profile.median_chars == int(statistics.median(len(t) for t in X_SINGLE))
    assert profile.emoji_share == 1.0 and profile.max_hashtags == 0
    hints = profile.prompt_hints()
    assert "I usually use an emoji or two." in hints and "I do not use hashtags." in hints
    assert 'When it needs more room, I write a thread of about 3 posts numbered "1/".' in hints
    assert profile.format_habits() == FormatHabits(thread_numbering="i/", max_hashtags=0)


def test_habits_shape_the_formatter_but_limits_win(history, sessions):
    with sessions() as session:
        _, habits, _ = rules_and_habits("x", learn_profiles(session)["x"])
    draft = format_draft("Queues in Postgres work. " * 30 + "#postgres #queues", "x", habits)
    assert len(draft.posts) > 1
    assert all(post.startswith(f"{i}/ ") for i, post in enumerate(draft.posts, 1))
    assert all(len(post) <= 280 for post in draft.posts)
    assert "#" not in draft.body
    assert any("you use at most 0" in note for note in draft.notes)


def test_profiles_are_cached_on_the_owner_document_count(history, sessions, settings, ingest):
    with sessions() as session:
        first = load_profiles(session, settings.workspace)
    cache = settings.workspace / PROFILE_FILE
    data = json.loads(cache.read_text(encoding="utf-8"))
    assert data["owner_documents"] == 18 and set(data["profiles"]) == {"linkedin", "x"}
    data["profiles"]["x"]["median_chars"] = 12345  # a marker: read back only from the cache
    cache.write_text(json.dumps(data), encoding="utf-8")
    with sessions() as session:
        assert load_profiles(session, settings.workspace)["x"].median_chars == 12345
    ingest(make_doc("One more post about queues 🚀", platform="x"))
    with sessions() as session:
        fresh = load_profiles(session, settings.workspace)
    assert fresh["x"].texts == first["x"].texts + 1 and fresh["x"].median_chars < 100
    cache.write_text("{broken", encoding="utf-8")
    with sessions() as session:
        assert load_profiles(session, settings.workspace)["x"].texts == 9


@pytest.mark.parametrize("text, hook, closing", [
    ("Why Postgres?\n\nBecause.", "question", "statement"),
    ("3 lessons from on-call.\nOne.", "number", "statement"),
    ("Short line.\n\nThen a longer paragraph. What do you think?", "short line", "question"),
    ("A long opening statement that just keeps going without any line breaks at all, really. "
     "Let me know in the comments", "statement", "call to action"),
    ("Read it here https://x.dev/a", "statement", "link"),
    ("Post.\n#a #b", "short line", "hashtags"),
])
def test_hook_and_closing_shapes(text, hook, closing):
    assert (hook_shape(text), closing_shape(text)) == (hook, closing)
