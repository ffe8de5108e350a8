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
from llm_twin.inference.platforms import format_draft
from llm_twin.inference.ranking import CLICHE_PENALTY, rank
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


def test_ranking_puts_the_owners_voice_first_and_penalises_cliches(scorer):
    owner_like = draft("ngl the queue lives in postgres now — boring wins, shipped it friday.", scorer)
    generic = draft("Here are five key takeaways that every leader should know about data.", scorer)
    cliched = draft("ngl the queue lives in postgres now — in today's fast-paced world, "
                    "let's dive in.", scorer)
    assert owner_like.voice_score > 0.5 > generic.voice_score
    assert cliched.cliches and not owner_like.cliches
    assert cliched.ranking_score == pytest.approx(
        cliched.voice_score - CLICHE_PENALTY * len(cliched.cliches))
    assert rank([generic, cliched, owner_like]) == [owner_like, cliched, generic] or \
        rank([generic, cliched, owner_like])[0] is owner_like
    assert rank([generic, owner_like])[0] is owner_like


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
           "TWIN_CONTEXT_TOKENS": "480", "COLUMNS": "200"}
    root = ["--workspace", str(indexed_workspace.settings.workspace)]
    written = runner.invoke(app, [*root, "write", "why the queue lives in postgres", "-n", "2",
                                  "--json"], env=env)
    assert written.exit_code == 0, written.output
    payload = json.loads(written.output[written.output.index("{\n"):])
    assert "No voice model yet" in written.output and payload["ranked"]
    scores = [d["ranking_score"] for d in payload["drafts"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= d["voice_score"] <= 1 for d in payload["drafts"])
    shown = runner.invoke(app, [*root, "voice", "show", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    card = json.loads(shown.output)["card"]
    assert card["owner_texts"] == 6 and card["base_model_texts"] >= 2
    assert card["dataset_id"] is None and card["reference_texts"] >= 10
