"""Engagement: the likes, reposts, replies and quotes an export carried for the owner's posts, one
score from them, and the owner's best posts by it.

Importers store the counts normalised in `Document.extra["engagement"]` (storage.models.
DocumentMeta): `{"likes", "reposts", "replies", "quotes"}`, a key only when the export had that
count. What each export carries: X archives `favorite_count` and `retweet_count` (and
`reply_count`/`quote_count` when present); Mastodon outboxes the `likes`, `shares` and `replies`
collections' `totalItems` when the server wrote them; Bluesky's repo.car and LinkedIn's
Shares.csv carry no counts at all (other people's likes live in their own repositories, and
LinkedIn exports no reactions).

The score of a post is `likes + 2 x reposts + 2 x quotes + replies` (sharing a post or quoting it
puts it before another audience, so it counts twice a like; a reply counts as a like). Audiences
differ by platform, so posts are compared by their *relative* score: the score divided by the
median score of the owner's posts on the same platform (at least 1), so 2.0 means "twice as
engaging as a typical post of mine there" on any platform.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from llm_twin.storage.models import ENGAGEMENT_KEYS, Document, document_meta

WEIGHTS = {"likes": 1.0, "reposts": 2.0, "quotes": 2.0, "replies": 1.0}
CHATS = ("message",)
MAX_REPEATS = 3  # dataset weighting: the most copies of one sample


def engagement_counts(**counts: object) -> dict[str, int]:
    """`Document.extra["engagement"]` from what an export read: each of likes, reposts, replies
    and quotes kept only when it is a whole number >= 0 (numbers in strings too: X writes "31")."""
    unknown = set(counts) - set(ENGAGEMENT_KEYS)
    if unknown:
        raise ValueError(f"not an engagement count: {', '.join(sorted(unknown))}")
    kept: dict[str, int] = {}
    for key in ENGAGEMENT_KEYS:
        value = counts.get(key)
        if isinstance(value, bool) or value is None:
            continue
        try:
            number = int(value) if isinstance(value, (int, str)) else None
        except ValueError:
            number = None
        if number is not None and number >= 0:
            kept[key] = number
    return kept


def document_engagement(extra: object) -> dict[str, int] | None:
    """The stored counts of a document; None when its export carried none."""
    counts = document_meta(extra).get("engagement")
    return dict(counts) if counts else None


def engagement_score(counts: dict[str, int]) -> float:
    """likes + 2 x reposts + 2 x quotes + replies (absent counts are 0)."""
    return sum(WEIGHTS[key] * counts.get(key, 0) for key in WEIGHTS)


def relative_scores(scores: Sequence[float]) -> list[float]:
    """Each score over the median of all of them (the median at least 1): one platform's posts."""
    if not scores:
        return []
    median = max(statistics.median(scores), 1.0)
    return [score / median for score in scores]


def sample_repeats(relative: float | None) -> int:
    """Copies of a training sample whose post scored `relative` (dataset `--weight-by-engagement`):
    1 below twice the platform median (or without counts), 2 from twice, 3 from four times."""
    if relative is None or relative < 2.0:
        return 1
    return min(MAX_REPEATS, 1 + int(math.log2(relative)))


@dataclass(frozen=True)
class EngagedPost:
    document_id: int
    platform: str
    kind: str
    created_at: datetime | None
    text: str
    url: str | None
    audience: str
    counts: dict[str, int]
    score: float
    relative: float  # score / the platform's median score

    @property
    def first_line(self) -> str:
        return next((line.strip() for line in self.text.splitlines() if line.strip()), "")

    def to_json(self) -> dict:
        return {"document_id": self.document_id, "platform": self.platform, "kind": self.kind,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "first_line": self.first_line, "url": self.url, "counts": self.counts,
                "score": self.score, "relative": round(self.relative, 3)}


def engaged_posts(session: Session, *, platform: str | None = None,
                  audiences: Iterable[str] | None = None,
                  until: datetime | None = None) -> list[EngagedPost]:
    """The owner's non-chat texts whose export carried counts, best first (by relative score
    within their platform; the median is taken over the texts returned for that platform).
    `audiences`: only those (None: any); `until`: nothing dated after it, nothing undated."""
    query = select(Document).where(Document.is_owner.is_(True), Document.kind.not_in(CHATS))
    if platform is not None:
        query = query.where(Document.platform == platform)
    if audiences is not None:
        query = query.where(Document.audience.in_(list(audiences)))
    if until is not None:
        query = query.where(Document.created_at.is_not(None), Document.created_at <= until)
    by_platform: dict[str, list[tuple[Document, dict[str, int]]]] = {}
    for document in session.scalars(query):
        counts = document_engagement(document.extra)
        if counts is not None:
            by_platform.setdefault(document.platform, []).append((document, counts))
    posts: list[EngagedPost] = []
    for rows in by_platform.values():
        scores = [engagement_score(counts) for _, counts in rows]
        for (document, counts), score, relative in zip(rows, scores, relative_scores(scores)):
            posts.append(EngagedPost(document.id, document.platform, document.kind,
                                     document.created_at, document.raw_text, document.url,
                                     document.audience, counts, score, relative))
    posts.sort(key=lambda p: (-p.relative, -p.score, p.document_id))
    return posts


def top_posts(session: Session, limit: int = 3) -> dict[str, list[EngagedPost]]:
    """The owner's `limit` best posts on each platform with counts (`twin status`)."""
    best: dict[str, list[EngagedPost]] = {}
    for post in engaged_posts(session):
        shown = best.setdefault(post.platform, [])
        if len(shown) < limit:
            shown.append(post)
    return dict(sorted(best.items()))
