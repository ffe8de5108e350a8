"""What retrieval returns, and the reranker protocol that reorders it.

Its own module so the retriever (`retrieval`) and the rerankers (`rerank`) both import it and not
each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass
class RetrievedChunk:
    chunk_id: str
    score: float
    text: str
    document_id: int
    source_id: int
    platform: str
    kind: str
    title: str | None
    url: str | None
    created_at: datetime | None
    source_path: str
    # Filled by `explain`: where this chunk ranked in each method the fusion combined.
    fused_rank: int | None = None
    ranks: dict[str, tuple[int, float]] = field(default_factory=dict)
    vector: list[float] | None = field(default=None, repr=False)  # the stored dense vector
    audience: str = "public"  # the document's (storage.models.AUDIENCES)

    @property
    def label(self) -> str:
        when = self.created_at.date().isoformat() if self.created_at else "undated"
        name = self.title or self.text.splitlines()[0][:60]
        return f"{self.platform} {when} · {name}"


class Reranker(Protocol):
    def rerank(self, query: str, candidates: list[RetrievedChunk], k: int) -> list[RetrievedChunk]: ...
