"""Ranked and streamed `twin write`: voice score and clichés on every draft, N drafts best first,
loops trimmed, the platform profile in the prompt. Generation uses the real SmolLM2-135M with few
tokens; the voice model is fitted on constructed texts."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_doc
from llm_twin.backends.base import Generation
from llm_twin.cli.app import app
from llm_twin.features.indexing import index_documents
from llm_twin.inference.cliches import ClicheLexicon
from llm_twin.inference.formatting import format_draft
from llm_twin.inference.ranking import (CLICHE_PENALTY, UNSUPPORTED_PENALTY, RankingParts,
                                        RankingWeights, best_index, rank, relevance_to_idea,
                                        repetition_share)
from llm_twin.inference.voice import VoiceScorer
from llm_twin.inference.writer import Draft, trim_repetition

OWNER = [f"tbh the {thing} just lives in postgres now — measured first, boring wins. ngl i was "
         f"wrong about {other}. shipped it friday, nobody noticed."
         for thing, other in [("queue", "kafka"), ("cron", "redis"), ("cache", "mongo"),
                              ("search", "elastic"), ("audit log", "s3"), ("sessions", "memcached")]]
OTHER = ["In today's fast-paced world, it is important to stay ahead of the curve. Here are five "
         f"key takeaways about {topic} that every leader should know. Let's dive in!"
         for topic in ["data", "teams", "growth", "culture", "hiring", "strategy"]]


@pytest.fixture(scope="module")
def scorer() -> VoiceScorer:
    fitted = VoiceScorer().fit(OWNER, OTHER)
    fitted.cliches = ClicheLexicon.fit(OWNER, OTHER)
    return fitted


def draft(text: str, scorer: VoiceScorer) -> Draft:
    made = Draft(format_draft(text, "linkedin"), Generation(text, 0, 0, True))
    made.voice_score = scorer.score([text])[0]
    made.cliches = scorer.cliches.find(text)
    return made


def ranked_draft(text: str, relevance: float, scorer: VoiceScorer, unsupported: int = 0) -> Draft:
    made = draft(text, scorer)
    made.ranking = RankingParts(relevance=relevance, cliches=len(made.cliches),
                                unsupported=unsupported, repetition=repetition_share(text),
                                voice=made.voice_score)
    return made


def test_ranking_prefers_relevant_drafts_and_penalises_each_part(scorer):
    on_topic = ranked_draft("ngl the queue lives in postgres now — boring wins, shipped it friday.",
                            0.7, scorer)
    off_topic = ranked_draft("ngl the cron lives somewhere now, shipped it friday.", 0.2, scorer)
    cliched = ranked_draft("ngl the queue lives in postgres now — in today's fast-paced world, "
                           "let's dive in.", 0.7, scorer)
    looping = ranked_draft("the queue lives in postgres the queue lives in postgres the queue "
                           "lives in postgres", 0.7, scorer)
    invented = ranked_draft("ngl the queue lives in postgres now, shipped it friday.", 0.7, scorer,
                            unsupported=2)
    assert cliched.cliches and not on_topic.cliches
    assert cliched.ranking_score == pytest.approx(0.7 - CLICHE_PENALTY * len(cliched.cliches)
                                                  - cliched.ranking.repetition)
    assert invented.ranking_score == pytest.approx(0.7 - 2 * UNSUPPORTED_PENALTY)
    assert looping.ranking.repetition > 0.5 and on_topic.ranking.repetition == 0
    order = rank([looping, off_topic, invented, cliched, on_topic])
    assert order[0] is on_topic and order[-1] is looping and order.index(off_topic) == 3
    # The voice score is a part, weighted 0 by default (it selected typical drafts, not human ones).
    assert on_topic.ranking.to_json()["voice"] == on_topic.voice_score
    voiced = RankingWeights(voice=1.0)
    assert on_topic.ranking.score(voiced) == pytest.approx(
        on_topic.ranking.score() + on_topic.voice_score - 0.5)
    assert best_index([off_topic.ranking, on_topic.ranking, on_topic.ranking]) == 1


def test_relevance_to_the_idea_with_the_real_embedding_model(embedder):
    idea = "why we moved the job queue into Postgres"
    near, far = relevance_to_idea(embedder.embed, idea, [
        "Our job queue lives in Postgres now: one table, SKIP LOCKED, no Redis.",
        "My cat sleeps on the keyboard every afternoon."])
    assert -1.0 <= far < near <= 1.0
    assert relevance_to_idea(embedder.embed, idea, []) == []


@pytest.mark.parametrize("text, expected, cut", [
    ("We kept Postgres. It was boring. We kept Postgres. It was boring.",
     "We kept Postgres. It was boring.", True),
    ("Ship it today.\nShip it today.\nShip it today.", "Ship it today.", True),
    ("Yes. Yes. We did it.", "Yes. Yes. We did it.", False),  # short repeats are not a loop
    ("One idea here. Another idea there.", "One idea here. Another idea there.", False),
])
def test_trim_repetition(text, expected, cut):
    assert trim_repetition(text) == (expected, cut)


@pytest.fixture
def indexed_workspace(workspace, ingest):
    """Indexed, with the vector store closed again (the CLI opens it in this same process)."""
    docs = [make_doc(t, platform="linkedin", title=None) for t in OWNER[:5]]
    docs += [make_doc("Postgres as a queue: SKIP LOCKED and one table. Boring works.",
                      platform="blog", kind="article", title="Queues")]
    ingest(*docs)
    with workspace.vector_store() as store:
        index_documents(workspace.sessions, store, workspace.embedder)
    return workspace


@pytest.fixture
def store(indexed_workspace):
    with indexed_workspace.vector_store() as opened:
        yield opened


@pytest.mark.models
def test_write_n_ranks_the_batch_and_scores_every_draft(indexed_workspace, store,
                                                         generation_backend, scorer):
    writer = indexed_workspace.writer(store, generation_backend, voice=scorer,
                                      max_new_tokens=12, seed=3)
    writer.options.context_tokens = 480  # a short prompt: batched prefill is the slow part on CPU
    result = writer.write("why the queue lives in postgres", "linkedin", n=3)
    assert result.ranked and len(result.drafts) == 3
    scores = [d.ranking_score for d in result.drafts]
    assert scores == sorted(scores, reverse=True)
    assert all(d.ranking.relevance is not None for d in result.drafts)
    # The backend wrote the drafts and scores them: fluency is a mean log-prob per token.
    assert all(d.ranking.fluency is not None and d.ranking.fluency < 0 for d in result.drafts)
    assert result.to_json()["drafts"][0]["ranking"]["score"] == pytest.approx(scores[0], abs=1e-4)
    texts = [d.formatted.as_text() for d in result.drafts]
    assert [d.voice_score for d in result.drafts] == pytest.approx(scorer.score(texts))
    assert [d.cliches for d in result.drafts] == [scorer.cliches.find(t) for t in texts]
    # Five LinkedIn posts of the owner: the profile's habits are in the prompt.
    assert "How I write on LinkedIn:" in result.prompt.messages[-1]["content"]
    assert result.profile is not None and result.profile.texts == 5

    writer.options.rank = False
    unranked = writer.write("why the queue lives in postgres", "x", n=2)
    assert not unranked.ranked and all(d.voice_score is not None for d in unranked.drafts)


@pytest.mark.models
def test_a_single_draft_streams_and_is_scored(indexed_workspace, store, generation_backend,
                                              scorer):
    writer = indexed_workspace.writer(store, generation_backend, voice=scorer,
                                      max_new_tokens=16, seed=1)
    stream = writer.stream("why the queue lives in postgres", "x")
    pieces = list(stream)
    assert pieces and stream.result is not None
    (only,) = stream.result.drafts
    assert "".join(pieces).strip() == only.generation.text
    assert 0.0 <= only.voice_score <= 1.0 and not stream.result.ranked
    assert all(len(post) <= 280 for post in only.formatted.posts)


MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the other tests


@pytest.mark.models
def test_cli_write_n_fits_the_voice_model_on_first_use(indexed_workspace):
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "12", "TWIN_SEED": "2",
           "TWIN_CONTEXT_TOKENS": "480", "COLUMNS": "200", "TWIN_RANK_FLUENCY_WEIGHT": "-0.5"}
    root = ["--workspace", str(indexed_workspace.settings.workspace)]
    written = runner.invoke(app, [*root, "write", "why the queue lives in postgres", "-n", "2",
                                  "--json"], env=env)
    assert written.exit_code == 0, written.output
    payload = json.loads(written.output[written.output.index("{\n"):])
    assert "No voice model yet" in written.output and payload["ranked"]
    scores = [d["ranking_score"] for d in payload["drafts"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= d["voice_score"] <= 1 for d in payload["drafts"])
    for shown in payload["drafts"]:  # every part in --json, fluency weighted by the setting
        ranking = shown["ranking"]
        assert ranking["fluency"] < 0 and ranking["weights"]["fluency"] == -0.5
        parts = RankingParts(relevance=ranking["relevance"], cliches=ranking["cliches"],
                             unsupported=ranking["unsupported_claims"],
                             repetition=ranking["repetition"], voice=ranking["voice"],
                             fluency=ranking["fluency"])
        assert ranking["score"] == pytest.approx(parts.score(RankingWeights(fluency=-0.5)),
                                                 abs=1e-3)
    shown = runner.invoke(app, [*root, "voice", "show", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    card = json.loads(shown.output)["card"]
    assert card["owner_texts"] == 6 and card["base_model_texts"] >= 2
    assert card["dataset_id"] is None and card["reference_texts"] >= 10
