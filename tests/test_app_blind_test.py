"""app.blind_test: rounds, picks, scores with their Wilson interval, the preference pairs a dataset
build makes of them, and "what you already said" (past posts on an idea)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from conftest import make_doc
from llm_twin.app.blind_test import (ENDPOINT, BlindTestError, answer_round, blind_test_scores,
                                     held_out_posts, past_posts, start_round, wilson_interval)
from llm_twin.app.dataset import DatasetSpec, build_dataset
from llm_twin.app.indexing import index_into
from llm_twin.errors import InputError, NotFoundError
from llm_twin.storage.models import Document, GenerationRecord

pytestmark = pytest.mark.models

TOPICS = ["Postgres job queues with SKIP LOCKED kept our worker loop tiny and boring.",
          "We said no to Kafka because nobody on the team had run it at night.",
          "Code review is a conversation, not a gate; small pull requests keep it that way.",
          "Our on-call rotation got calmer once alerts had owners and runbooks.",
          "Feature flags let us ship on Fridays without the dread, most of the time.",
          "Writing the migration before the feature saved us two rollbacks this quarter.",
          "Pairing with a new hire for a week taught me more than it taught them.",
          "Postgres again: a queue table handled forty jobs a second with room to spare."]


def test_wilson_interval_known_values():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson_interval(10, 10)
    assert round(low, 4) == 0.7225 and round(high, 6) == 1.0


@pytest.fixture
def posts(workspace, store, ingest):
    docs = [make_doc(text, platform="x", created_at=datetime(2023, 1 + i, 3, tzinfo=UTC),
                     url=f"https://x.com/dana/status/{100 + i}") for i, text in enumerate(TOPICS)]
    docs.append(make_doc("Postgres queues, private thoughts on SKIP LOCKED for my followers only.",
                         platform="x", created_at=datetime(2023, 12, 1, tzinfo=UTC),
                         metadata={"visibility": "followers"}))
    ingest(*docs)
    index_into(workspace, store)
    workspace.settings.max_new_tokens = 12
    return docs


# ~18 s: 3 rounds and a dataset build with one base-model pair (12 tokens each)
def test_rounds_scores_and_pairs_in_the_dataset_card(workspace, store, posts, generation_backend):
    first = start_round(workspace, store, generation_backend, seed=1, max_new_tokens=12)
    with workspace.sessions() as session:
        record = session.get(GenerationRecord, first.id)
        real = session.get(Document, record.request["document_id"])
        assert record.endpoint == ENDPOINT and record.model == "base"
        assert record.request["pick"] is None
        assert real.audience == "public" and real.raw_text in first.texts
        twin_letter = "ab"[record.request["order"].index("twin")]
        draft = first.texts["ab".index(twin_letter)]
        assert draft == record.output and draft != real.raw_text
    outcome = answer_round(workspace, first.id, twin_letter.upper())
    assert outcome.fooled and outcome.twin == twin_letter and outcome.url == real.url
    assert (outcome.score.rounds, outcome.score.fooled) == (1, 1)
    with pytest.raises(BlindTestError, match="already answered"):
        answer_round(workspace, first.id, "a")
    with pytest.raises(InputError, match="pick"):
        answer_round(workspace, first.id, "c")
    with pytest.raises(NotFoundError):
        answer_round(workspace, first.id + 100, "a")

    second = start_round(workspace, store, generation_backend, seed=2, max_new_tokens=12)
    with workspace.sessions() as session:
        record2 = session.get(GenerationRecord, second.id)
        assert record2.request["document_id"] != record.request["document_id"]  # a fresh post
        real_letter = "ab"[record2.request["order"].index("real")]
    assert not answer_round(workspace, second.id, real_letter).fooled
    unanswered = start_round(workspace, store, generation_backend, seed=3, max_new_tokens=12)
    score = blind_test_scores(workspace)["base"]
    assert (score.rounds, score.fooled) == (2, 1)  # the unanswered round does not count
    assert score.interval == wilson_interval(1, 2)

    stored, _ = build_dataset(workspace, generation_backend, DatasetSpec(
        instructions="extractive", preferences=True, max_pairs=1, served_prompts=False))
    assert stored.card["preferences"]["by_origin"]["feedback:blind_test"] == 2
    pairs = [json.loads(line) for name in ("preference_train.jsonl", "preference_test.jsonl")
             for line in stored.file(name).read_text().splitlines()]
    chosen = {p["chosen"][-1]["content"] for p in pairs}
    assert real.raw_text in chosen and unanswered.id  # the real post is the chosen answer

    # With a dataset, rounds draw from its held-out posts only.
    held = held_out_posts(workspace, "x")
    tests = {json.loads(line)["document_id"] for line in stored.file("test.jsonl").read_text()
             .splitlines()}
    assert held and all(p.origin == f"dataset:{stored.id}" for p in held)
    assert {p.document_id for p in held} <= tests


def test_no_posts_on_a_platform_names_it(workspace, posts):
    with pytest.raises(BlindTestError, match="linkedin"):
        start_round(workspace, None, None, platform="linkedin")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="platform"):
        held_out_posts(workspace, "myspace")


def test_past_posts_newest_first_public_only(workspace, store, posts):
    found = past_posts(workspace, store, "Postgres job queue with SKIP LOCKED", k=3)
    dates = [p.created_at for p in found]
    assert found and dates == sorted(dates, reverse=True)
    assert all("followers only" not in p.first_line for p in found)
    assert any("Postgres" in p.first_line for p in found)
    assert all(p.url and p.platform == "x" for p in found)
    private = past_posts(workspace, store, "Postgres job queue with SKIP LOCKED", k=9,
                         include_private=True)
    assert any("followers only" in p.first_line for p in private)
    assert past_posts(workspace, store, "Postgres queues") == []  # fewer than 3 words
