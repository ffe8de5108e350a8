"""The near-duplicate warning: a draft repeating a past post names it; a new draft does not."""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import make_doc

from llm_twin.inference.novelty import (LazyPastPosts, PastPost, find_near_duplicate,
                                        load_past_posts)

QUEUE_POST = ("We moved our job queue into Postgres last spring. SKIP LOCKED made workers simple, "
              "one table replaced a whole broker, and backups finally covered the jobs too. The "
              "catch was vacuum: a hot queue table bloats unless autovacuum runs often.")
OTHER_POSTS = ["Hiring juniors is the best investment a small team can make, if you pair daily.",
               "On-call got calmer once every alert had a runbook and an owner who could fix it."]


def past() -> list[PastPost]:
    return [PastPost(i, f"blog · post {i}", f"https://example.org/{i}", text)
            for i, text in enumerate([QUEUE_POST, *OTHER_POSTS])]


def test_a_lightly_edited_repost_is_flagged_with_the_past_post():
    draft = QUEUE_POST.replace("last spring", "this year").replace("finally", "at last")
    found = find_near_duplicate(draft, past())
    assert found is not None
    assert (found["document_id"], found["url"]) == (0, "https://example.org/0")
    assert found["jaccard"] >= 0.5


def test_a_draft_copied_from_part_of_a_long_post_is_flagged_by_containment():
    long_post = " ".join([QUEUE_POST, *OTHER_POSTS] * 3) + " " + " ".join(
        f"Paragraph {i} about unrelated matters number {i}." for i in range(60))
    draft = QUEUE_POST.split(". The catch")[0] + "."
    found = find_near_duplicate(draft, [PastPost(7, "blog · long", None, long_post)])
    assert found is not None and found["document_id"] == 7
    assert found["jaccard"] < 0.5 <= 0.6 <= found["containment"]


def test_a_new_draft_on_the_same_topic_is_not_flagged():
    draft = ("Three things I learned running queues in Postgres: index the status column, keep "
             "payloads small, and watch table bloat every week.")
    assert find_near_duplicate(draft, past()) is None
    assert find_near_duplicate(draft, []) is None
    assert find_near_duplicate("", past()) is None


def test_plain_texts_work_as_past_posts():
    assert find_near_duplicate(QUEUE_POST, [QUEUE_POST])["similarity"] == 1.0


def test_past_posts_come_from_the_owners_posts_and_the_index_is_cached(sessions, ingest, tmp_path):
    when = datetime(2023, 4, 1, tzinfo=timezone.utc)
    ingest(make_doc(QUEUE_POST, title="Postgres as a queue", created_at=when,
                    url="https://example.org/queue"),
           make_doc(QUEUE_POST + " (quoted)", author="Sam", is_owner=False, platform="x"),
           make_doc(QUEUE_POST + " in a chat", kind="message", platform="whatsapp"))
    posts = load_past_posts(sessions)
    assert [p.label for p in posts] == ["blog 2023-04-01 · Postgres as a queue"]

    cache = tmp_path / "cache"
    found = LazyPastPosts(sessions, cache).nearest(QUEUE_POST)
    assert found["url"] == "https://example.org/queue"
    files = list(cache.glob("past-posts-*.pkl"))
    assert len(files) == 1
    assert LazyPastPosts(sessions, cache).nearest(QUEUE_POST) == found  # read from the cache

    ingest(make_doc("A brand new post about something else entirely, written today."))
    LazyPastPosts(sessions, cache).nearest(QUEUE_POST)
    assert len(list(cache.glob("past-posts-*.pkl"))) == 1 and not files[0].exists()


def test_a_damaged_cache_is_rebuilt(sessions, ingest, tmp_path):
    ingest(make_doc(QUEUE_POST))
    cache = tmp_path / "cache"
    LazyPastPosts(sessions, cache).index()
    [written] = cache.glob("past-posts-*.pkl")
    written.write_bytes(b"not a pickle")
    assert LazyPastPosts(sessions, cache).nearest(QUEUE_POST) is not None
