"""The query-embedding cache a Retriever searches through: same vectors, fewer model calls."""

from __future__ import annotations

import numpy as np

from llm_twin.features.embeddings import QueryEmbeddingCache


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.model_id, self.calls = inner, inner.model_id, []

    @property
    def dimension(self):
        return self.inner.dimension

    def embed(self, texts, **options):
        self.calls.append(list(texts))
        return self.inner.embed(texts, **options)


def test_repeated_queries_are_embedded_once_and_match_the_model(embedder):
    counting = CountingEmbedder(embedder)
    cache = QueryEmbeddingCache(counting, size=2)
    first = cache.embed(["postgres queue", "flaky tests", "postgres queue"])
    again = cache.embed(["flaky tests", "postgres queue"])
    assert counting.calls == [["postgres queue", "flaky tests"]]
    assert np.allclose(first[0], first[2]) and np.allclose(again[1], first[0])
    assert np.allclose(first, embedder.embed(["postgres queue", "flaky tests", "postgres queue"]),
                       atol=1e-5)
    cache.embed(["a third query"])  # evicts the least recently used ("flaky tests")
    cache.embed(["postgres queue", "flaky tests"])
    assert counting.calls[-1] == ["flaky tests"]
    assert cache.embed([]).shape == (0, embedder.dimension)
    assert cache.dimension == embedder.dimension and cache.model_id == embedder.model_id
