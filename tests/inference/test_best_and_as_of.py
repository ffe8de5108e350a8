"""`twin write --like-my-best` and `--as-of` at the retrieval level, on a real indexed corpus in
both vector stores: the embedded Qdrant Edge shard and the Qdrant server store (qdrant-client's
local mode always; a real server too when QDRANT_URL is set, as tests/storage does)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from sqlalchemy import select

from conftest import make_doc, make_result, store_result
from llm_twin.backends.base import GenerationParams
from llm_twin.features.indexing import index_documents
from llm_twin.inference.best_examples import best_pool
from llm_twin.inference.retrieval import BarredRetriever, Retriever
from llm_twin.inference.writer import DraftWriter, WriterOptions, retrieve_context
from llm_twin.platforms import rules_for
from llm_twin.prompts.era import era_hint
from llm_twin.storage.models import Document
from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore
from llm_twin.storage.qdrant_server_store import QdrantServerStore, wipe_collection
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

QDRANT_URL = os.environ.get("QDRANT_URL")
QDRANT_API_KEY = os.environ.get("QDRANT_API_KEY")


def when(year: int) -> datetime:
    return datetime(year, 6, 1, tzinfo=timezone.utc)


def x_post(text: str, year: int, likes: int, reposts: int = 0):
    return make_doc(text, platform="x", created_at=when(year),
                    metadata={"engagement": {"likes": likes, "reposts": reposts}})


DOCS = {
    "sourdough": x_post("Sourdough bread baking: my starter finally doubled overnight.", 2020, 5),
    "borrow": x_post("The Rust borrow checker rejected my code until I understood lifetimes.",
                     2021, 200, 20),
    "tokio": x_post("Rust async runtimes: what tokio taught me about futures and executors.",
                    2022, 150),
    "anyhow": x_post("Rust error handling with anyhow and thiserror, result types everywhere.",
                     2023, 1),
    "hiring": x_post("Hiring engineers for remote teams: pay for the take-home project.", 2024,
                     300),
    "tomatoes": x_post("Balcony tomatoes need six hours of sun and deep watering.", 2021, 2),
    "marathon": x_post("Ran my first marathon in Berlin and hit the wall at kilometre 32.", 2022,
                       3),
    "piano": x_post("Learning jazz piano at forty: voicings and a lot of wrong notes.", 2023, 4),
    "linkedin": make_doc("Rust in production: a year of lessons from our payments team.",
                         platform="linkedin", created_at=when(2021)),
    "blog-2024": make_doc("Rust error handling, revisited: anyhow for apps, thiserror for "
                          "libraries.", platform="blog", kind="article", title="Errors",
                          created_at=when(2024)),
}
RUST_ERRORS = "error handling in Rust with anyhow"


def _edge(root: Path, embedder):
    return QdrantEdgeStore(root / "vectors", embedding_model=embedder.model_id,
                           dimension=embedder.dimension)


class _Server:
    def __init__(self, url: str | None):
        self.url, self.collection = url, f"twin_test_{uuid.uuid4().hex[:12]}"
        self.client = (QdrantClient(url=url, api_key=QDRANT_API_KEY) if url
                       else QdrantClient(":memory:"))

    def __call__(self, root: Path, embedder):
        return QdrantServerStore(self.url, collection=self.collection,
                                 embedding_model=embedder.model_id, dimension=embedder.dimension,
                                 client=self.client)


@pytest.fixture(scope="module", params=[
    "edge", "server-local",
    pytest.param("server", marks=pytest.mark.skipif(
        not QDRANT_URL, reason="set QDRANT_URL (and QDRANT_API_KEY if needed) to test a real "
                               "server"))])
def corpus(request, tmp_path_factory, embedder):
    """The corpus indexed once per store kind: (retriever, document ids by name)."""
    root = tmp_path_factory.mktemp(f"best-{request.param}")
    server = None if request.param == "edge" else _Server(QDRANT_URL if request.param == "server"
                                                          else None)
    engine = create_warehouse_engine(f"sqlite:///{root / 'twin.db'}")
    sessions = session_factory(engine)
    store = (server or _edge)(root, embedder)
    try:
        store_result(make_result(*DOCS.values()), sessions, root / "exports")
        index_documents(sessions, store, embedder)
        with sessions() as session:
            ids = {d.raw_text: d.id for d in session.scalars(select(Document))}
        yield Retriever(store, embedder, sessions), {n: ids[d.raw_text] for n, d in DOCS.items()}
    finally:
        store.close()
        if server is not None:
            wipe_collection(server.url, server.collection, QDRANT_API_KEY, client=server.client)
            server.client.close()
        engine.dispose()


def names(chunks, ids) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[c.document_id] for c in chunks]


def test_the_pool_is_the_top_by_engagement_or_a_tenth() -> None:
    posts = list(range(100))
    assert best_pool(posts, 1) == list(range(10))  # a tenth of 100 beats 4 x 1
    assert best_pool(posts, 3) == list(range(12))  # 4 x 3
    assert best_pool(posts[:5], 3) == list(range(5))


def only_once(request) -> None:
    """A test of the writer, not of the store: run on the embedded store only."""
    if request.node.callspec.params["corpus"] != "edge":
        pytest.skip("store-independent: run on the edge store")


def test_plain_examples_are_the_most_relevant(corpus, request) -> None:
    only_once(request)
    retriever, ids = corpus
    examples, _ = retrieve_context(retriever, RUST_ERRORS, rules_for("x"), examples=1, notes=0)
    assert names(examples, ids) == ["anyhow"]


def test_like_my_best_takes_the_most_relevant_of_the_top_posts(corpus) -> None:
    retriever, ids = corpus
    notices: list[str] = []
    examples, notes = retrieve_context(retriever, RUST_ERRORS, rules_for("x"), examples=1,
                                       notes=3, like_my_best=True, notices=notices)
    # The pool is hiring, borrow, tokio and sourdough (4 x 1 example): the barely liked
    # "anyhow" post is not in it; of the pool, a Rust post is closest to the idea.
    assert names(examples, ids)[0] in {"borrow", "tokio"}
    assert notices == []
    assert ids["anyhow"] in {n.document_id for n in notes}  # still found as a note


def test_like_my_best_without_counts_says_so_and_uses_relevance(corpus) -> None:
    retriever, ids = corpus
    notices: list[str] = []
    examples, _ = retrieve_context(retriever, "Rust in production lessons", rules_for("linkedin"),
                                   examples=1, notes=0, like_my_best=True, notices=notices)
    assert notices == ["no engagement counts for LinkedIn in your imports; using the most "
                       "relevant examples"]
    assert names(examples, ids) == ["linkedin"]


@pytest.mark.parametrize("like_my_best", [False, True])
def test_as_of_keeps_notes_and_examples_up_to_the_date(corpus, like_my_best) -> None:
    retriever, ids = corpus
    until = datetime(2021, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    examples, notes = retrieve_context(BarredRetriever(retriever, until=until), RUST_ERRORS,
                                       rules_for("x"), examples=2, notes=4,
                                       like_my_best=like_my_best, until=until)
    found = names(examples + notes, ids)
    assert found and all(DOCS[name].created_at <= until for name in found)
    assert "borrow" in found  # the only Rust post on X by then
    if like_my_best:
        assert names(examples, ids)[0] == "borrow"


def test_the_writer_bars_later_texts_and_asks_for_the_era(corpus, request) -> None:
    from serving.live_server import shared_backend

    only_once(request)
    retriever, ids = corpus
    until = datetime(2022, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    options = WriterOptions(owner="Dana", style_examples=2, retrieval_k=3,
                            generation=GenerationParams(max_new_tokens=4, seed=1),
                            like_my_best=True, as_of=until, era=2022)
    # The prompt `write` sends, without generating (generation is the same with or without these
    # options; `twin write`'s CLI test generates).
    plan = DraftWriter(retriever, shared_backend(), options)._plan(RUST_ERRORS, "x")
    used = names(plan.prompt.examples + plan.prompt.notes, ids)
    assert used and all(DOCS[name].created_at <= until for name in used)
    assert "anyhow" not in used and "blog-2024" not in used
    assert era_hint(2022) in plan.prompt.messages[-1]["content"]
    assert plan.notices == []
