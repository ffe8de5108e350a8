"""Hybrid retrieval over the owner's writing: dense + BM25 fused in the vector store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.base import Backend
from llm_twin.features.cleaning import normalize_for_search
from llm_twin.features.embeddings import Embedder
from llm_twin.inference.hits import Reranker, RetrievedChunk
from llm_twin.inference.query_expansion import expand_query, fuse_rankings
from llm_twin.storage.models import Chunk, Document
from llm_twin.storage.vector_store import SearchFilters, SearchHit, VectorStore


class Searcher(Protocol):
    """What prompt building needs of a retriever: a Retriever, or a BarredRetriever on one."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    def search(self, query: str, *, k: int = 5, filters: SearchFilters | None = None,
               one_per_document: bool = True) -> list[RetrievedChunk]: ...


class Retriever:
    """Hybrid search over the owner's writing, with optional query rewrites and a reranker.

    Pipeline: the query and its rewrites are each searched (dense + BM25, fused in the store),
    their rankings fused again by reciprocal rank, hydrated from the warehouse, reduced to the
    best chunk per document, then reranked (MMR for diversity, or a cross-encoder).
    """

    def __init__(self, store: VectorStore, embedder: Embedder, sessions: sessionmaker[Session], *,
                 expansions: int = 0, rewriter: Backend | None = None,
                 reranker: Reranker | None = None):
        self.store = store
        self.embedder = embedder
        self.sessions = sessions
        self.expansions = expansions
        self.rewriter = rewriter
        self.reranker = reranker

    def search(self, query: str, *, k: int = 5, filters: SearchFilters | None = None,
               one_per_document: bool = True) -> list[RetrievedChunk]:
        """The k best chunks; by default only the best chunk of each document, for variety."""
        if k <= 0:
            return []
        depth = k * 4 if one_per_document or self.reranker else k
        variants = expand_query(query, self.expansions, self.rewriter) if self.expansions else [query]
        hits = self._hydrate(self._fused_hits(variants, depth, filters))
        if filters is not None and filters.audiences is not None:
            # The warehouse has the last word: a chunk indexed before its payload carried an
            # audience passes the store's filter.
            hits = [hit for hit in hits if hit.audience in filters.audiences]
        if one_per_document:
            hits = _best_per_document(hits)
        if self.reranker is not None and hits:
            stored = self.store.vectors([hit.chunk_id for hit in hits])
            for hit in hits:
                hit.vector = stored.get(hit.chunk_id)
            hits = self.reranker.rerank(query, hits, k)
        return hits[:k]

    def _fused_hits(self, variants: list[str], depth: int,
                    filters: SearchFilters | None) -> list[SearchHit]:
        normalized = [normalize_for_search(v) for v in variants]
        vectors = self.embedder.embed(normalized)
        rankings = [self.store.search(vector.tolist(), text, limit=depth, filters=filters)
                    for vector, text in zip(vectors, normalized)]
        if len(rankings) == 1:
            return rankings[0]
        first_seen = {hit.chunk_id: hit for ranking in rankings for hit in reversed(ranking)}
        fused = fuse_rankings([[hit.chunk_id for hit in ranking] for ranking in rankings])
        return [SearchHit(chunk_id, score, first_seen[chunk_id].payload)
                for chunk_id, score in fused[:depth]]

    def explain(self, query: str, hits: list[RetrievedChunk], *,
                filters: SearchFilters | None = None, depth: int = 100) -> list[RetrievedChunk]:
        """Annotate hits with their fused rank and their rank and score in each single method."""
        normalized = normalize_for_search(query)
        dense = self.embedder.embed([normalized])[0].tolist()
        rankings = self.store.search_each(dense, normalized, limit=depth, filters=filters)
        positions = {name: {hit.chunk_id: (rank, hit.score) for rank, hit in enumerate(ranked, 1)}
                     for name, ranked in rankings.items()}
        for fused_rank, hit in enumerate(hits, 1):
            hit.fused_rank = fused_rank
            hit.ranks = {name: found[hit.chunk_id] for name, found in positions.items()
                         if hit.chunk_id in found}
        return hits

    def _hydrate(self, hits) -> list[RetrievedChunk]:
        """Join hits with the warehouse: the store holds vectors and filters, SQL holds the text."""
        ids = [hit.chunk_id for hit in hits]
        with self.sessions() as session:
            rows = session.execute(select(Chunk, Document).join(Document)
                                   .where(Chunk.id.in_(ids))).all()
            by_id = {chunk.id: (chunk, doc, doc.source.path) for chunk, doc in rows}
        results = []
        for hit in hits:
            if hit.chunk_id not in by_id:  # forgotten since indexing; never surface it
                continue
            chunk, doc, path = by_id[hit.chunk_id]
            results.append(RetrievedChunk(hit.chunk_id, hit.score, chunk.text, doc.id, doc.source_id,
                                          doc.platform, doc.kind, doc.title, doc.url,
                                          doc.created_at, path, audience=doc.audience))
        return results


class BarredRetriever:
    """A retriever that cannot see past a date or into some documents: nothing dated after
    `until`, none of `excluded_documents`. Training samples get their context through one (no
    text of the answer's own document, nothing written after it, no held-out post), and so do
    `twin eval`'s retrieval systems (nothing from the held-out period)."""

    def __init__(self, inner: Searcher, *, until: datetime | None,
                 excluded_documents: set[int] | frozenset[int] = frozenset()):
        self.inner = inner
        self.until = until
        self.excluded = frozenset(excluded_documents)

    def search(self, query: str, *, k: int = 5, filters: SearchFilters | None = None,
               **options: Any) -> list[RetrievedChunk]:
        filters = filters or SearchFilters()
        if self.until is not None:
            until = self.until if filters.until is None else min(filters.until, self.until)
            filters = replace(filters, until=until)
        hits = self.inner.search(query, k=k + len(self.excluded), filters=filters, **options)
        return [hit for hit in hits if hit.document_id not in self.excluded][:k]

    def __getattr__(self, name: str):  # everything else (explain, store, sessions, ...) as inner
        return getattr(self.inner, name)


def _best_per_document(hits: list[RetrievedChunk]) -> list[RetrievedChunk]:
    seen: set[int] = set()
    best = []
    for hit in hits:  # already ordered best first
        if hit.document_id not in seen:
            seen.add(hit.document_id)
            best.append(hit)
    return best
