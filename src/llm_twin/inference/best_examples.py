"""`twin write --like-my-best`: style examples from the owner's most engaging posts on the
platform (features.engagement), the ones closest to the idea among them.

The pool is the platform's top posts by relative engagement score: the best `POOL_PER_EXAMPLE`
x wanted of them, or the best `POOL_SHARE` of all posts with counts when that is more. Among the
pool, the examples are the posts whose indexed chunk is most similar to the idea (cosine of the
stored dense vectors with the idea's embedding); a retriever without an embedder keeps the pool's
engagement order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import select

from llm_twin.features.cleaning import normalize_for_search
from llm_twin.features.engagement import EngagedPost, engaged_posts
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.platforms import PlatformRules
from llm_twin.storage.models import Chunk, Document

POOL_PER_EXAMPLE = 4
POOL_SHARE = 0.1


def no_engagement_notice(platform_label: str) -> str:
    return (f"no engagement counts for {platform_label} in your imports; using the most relevant "
            "examples")


def best_pool(posts: Sequence[EngagedPost], wanted: int) -> list[EngagedPost]:
    """The top of `posts` (already best first) the examples are chosen from."""
    size = max(POOL_PER_EXAMPLE * wanted, math.ceil(POOL_SHARE * len(posts)))
    return list(posts[:size])


def best_style_examples(retriever, idea: str, rules: PlatformRules, wanted: int, *,
                        audiences: Sequence[str] | None,
                        until: datetime | None = None) -> list[RetrievedChunk] | None:
    """Up to `wanted` examples from the owner's best posts on `rules`' platform; None when no
    post there has engagement counts (the caller falls back to the most relevant examples).
    `audiences` and `until` bound the posts as they bound every retrieval of the request."""
    with retriever.sessions() as session:
        posts = engaged_posts(session, platform=rules.name, audiences=audiences, until=until)
        if not posts:
            return None
        pool = best_pool(posts, wanted)
        rank = {post.document_id: index for index, post in enumerate(pool)}
        rows = session.execute(select(Chunk, Document).join(Document)
                               .where(Chunk.document_id.in_(list(rank)))
                               .order_by(Chunk.document_id, Chunk.position)).all()
        candidates = [RetrievedChunk(chunk.id, 0.0, chunk.text, doc.id, doc.source_id,
                                     doc.platform, doc.kind, doc.title, doc.url, doc.created_at,
                                     doc.source.path, audience=doc.audience)
                      for chunk, doc in rows]
    similarity = _similarities(retriever, idea, candidates)
    best: dict[int, RetrievedChunk] = {}
    for candidate in candidates:
        candidate.score = similarity.get(candidate.chunk_id, 0.0)
        known = best.get(candidate.document_id)
        if known is None or candidate.score > known.score:
            best[candidate.document_id] = candidate
    if similarity:
        ordered = sorted(best.values(), key=lambda c: (-c.score, rank[c.document_id]))
    else:  # no embedder: the pool's engagement order
        ordered = sorted(best.values(), key=lambda c: rank[c.document_id])
    return ordered[:wanted]


def _similarities(retriever, idea: str, candidates: list[RetrievedChunk]) -> dict[str, float]:
    """Cosine of each candidate's stored vector with the idea's; {} when either is unavailable."""
    embedder, store = getattr(retriever, "embedder", None), getattr(retriever, "store", None)
    if embedder is None or store is None or not candidates:
        return {}
    vectors = store.vectors([c.chunk_id for c in candidates])
    if not vectors:
        return {}
    query = np.asarray(embedder.embed([normalize_for_search(idea)])[0], dtype=float)
    query_norm = float(np.linalg.norm(query)) or 1.0
    scores = {}
    for chunk_id, vector in vectors.items():
        values = np.asarray(vector, dtype=float)
        scores[chunk_id] = float(values @ query) / ((float(np.linalg.norm(values)) or 1.0)
                                                    * query_norm)
    return scores
