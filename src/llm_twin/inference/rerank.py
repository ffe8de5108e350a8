"""Second-stage reranking of the fused candidates: MMR for variety, or a cross-encoder for precision.

Both keep each chunk's original fused `score` and record their own verdict in
`chunk.ranks[<name>] = (position, score)`, the same shape `Retriever.explain` uses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llm_twin.features.cleaning import normalize_for_search
from llm_twin.features.embeddings import Embedder
from llm_twin.inference.hits import Reranker, RetrievedChunk

MMR = "mmr"
CROSS_ENCODER = "cross_encoder"


class MmrReranker:
    """Maximal marginal relevance: each pick trades relevance to the query against similarity to
    what was already picked, so near-duplicate chunks do not crowd out the rest."""

    def __init__(self, embedder: Embedder, lambda_: float = 0.7, relevance: str = "cosine"):
        """relevance: "cosine" (query-chunk similarity) or "fused" (the hybrid search's own score,
        scaled to [0, 1]): with "fused" the first pick stays the hybrid's best hit and MMR only
        diversifies what follows, which keeps hybrid precision while avoiding repeats."""
        if not 0.0 <= lambda_ <= 1.0:
            raise ValueError(f"lambda_ must be within [0, 1], got {lambda_}")
        if relevance not in ("cosine", "fused"):
            raise ValueError(f"relevance must be 'cosine' or 'fused', got {relevance!r}")
        self.embedder = embedder
        self.lambda_ = lambda_
        self.relevance = relevance

    def rerank(self, query: str, candidates: list[RetrievedChunk], k: int) -> list[RetrievedChunk]:
        if k <= 0 or not candidates:
            return []
        vectors = _unit_rows(self._vectors(query, candidates))
        relevance = vectors[1:] @ vectors[0]
        if self.relevance == "fused":
            fused = np.asarray([c.score for c in candidates], dtype=np.float64)
            relevance = fused / fused.max() if fused.max() > 0 else relevance
        similarity = vectors[1:] @ vectors[1:].T
        picked: list[RetrievedChunk] = []
        for position, (index, score) in enumerate(self._greedy(relevance, similarity, k), 1):
            chunk = candidates[index]
            chunk.ranks[MMR] = (position, score)
            picked.append(chunk)
        return picked

    def _vectors(self, query: str, candidates: list[RetrievedChunk]) -> np.ndarray:
        """Query first, then candidates; stored vectors are reused (re-embedding 40 chunk texts
        per query would cost seconds on a CPU)."""
        query_vector = self.embedder.embed([normalize_for_search(query)])
        if all(c.vector is not None for c in candidates):
            return np.vstack([query_vector, np.asarray([c.vector for c in candidates], dtype=np.float32)])
        return np.vstack([query_vector, self.embedder.embed([c.text for c in candidates])])

    def _greedy(self, relevance: np.ndarray, similarity: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(candidate index, MMR score) in pick order."""
        remaining = list(range(len(relevance)))
        # Nothing picked yet: no redundancy penalty for the first choice.
        redundancy = np.zeros(len(relevance))
        order: list[tuple[int, float]] = []
        while remaining and len(order) < k:
            scores = self.lambda_ * relevance[remaining] - (1 - self.lambda_) * redundancy[remaining]
            best = int(np.argmax(scores))  # first of equals: ties keep the fused order
            chosen = remaining.pop(best)
            order.append((chosen, float(scores[best])))
            redundancy = np.maximum(redundancy, similarity[chosen])
        return order


class CrossEncoderReranker:
    """Scores each (query, chunk text) pair jointly with a cross-encoder; loaded on first use."""

    def __init__(self, model_id_or_path: str | Path, device: str = "cpu"):
        self.model_id = str(model_id_or_path)
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import CrossEncoder

            local_only = Path(self.model_id).exists()
            self._model = CrossEncoder(self.model_id, device=self.device, local_files_only=local_only)
        return self._model

    def rerank(self, query: str, candidates: list[RetrievedChunk], k: int) -> list[RetrievedChunk]:
        if k <= 0 or not candidates:
            return []
        pairs = [(normalize_for_search(query), c.text) for c in candidates]
        scores = np.asarray(self.model.predict(pairs, show_progress_bar=False), dtype=np.float64)
        if scores.ndim > 1:  # a multi-label head: its first column is the relevance logit
            scores = scores[:, 0]
        # Stable sort, so equal scores keep the fused order.
        order = np.argsort(-scores, kind="stable")[:k]
        picked = []
        for position, index in enumerate(order, 1):
            chunk = candidates[int(index)]
            chunk.ranks[CROSS_ENCODER] = (position, float(scores[index]))
            picked.append(chunk)
        return picked


def build_reranker(cross_encoder: str | None, embedder: Embedder) -> Reranker:
    """The cross-encoder when one is configured, else MMR over the retrieval embedder."""
    if cross_encoder:
        return CrossEncoderReranker(cross_encoder)
    return MmrReranker(embedder, relevance="fused")


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, so dot products are cosines whatever the embedder returns."""
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
