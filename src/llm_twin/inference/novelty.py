"""Novelty: warn when a draft repeats one of the owner's past posts.

MinHash on word 3-grams (the same shingles the dataset's near-duplicate filter uses). An LSH
Ensemble finds past posts that may contain much of the draft; the candidates are then measured
exactly: a warning needs Jaccard >= 0.5, or >= 0.6 of the draft's 3-grams inside one past post.
Building the index costs seconds on a few hundred long articles, so it is cached on disk per
warehouse content (a new or forgotten post makes a new cache file).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.features.shingles import MINHASH_PERMUTATIONS, minhash_of, shingles
from llm_twin.storage.models import Document

JACCARD_WARNING = 0.5
CONTAINMENT_WARNING = 0.6
PAST_POST_KINDS = ("post", "thread", "article")
_CACHE_VERSION = 1
_CACHE_PREFIX = "past-posts-"


@dataclass(frozen=True)
class PastPost:
    document_id: int | None
    label: str
    url: str | None
    text: str


class PastPostIndex:
    """The owner's past posts in an LSH Ensemble (containment search), with their texts."""

    def __init__(self, posts: Sequence[PastPost]):
        from datasketch import MinHashLSHEnsemble

        self.posts = list(posts)
        entries = []
        for key, post in enumerate(self.posts):
            grams = shingles(post.text)
            if grams:
                entries.append((key, minhash_of(grams), len(grams)))
        self._ensemble = None
        if entries:
            # Containment 0.5 catches every Jaccard >= 0.5 too (J >= 0.5 implies C >= 0.5).
            self._ensemble = MinHashLSHEnsemble(threshold=min(JACCARD_WARNING, CONTAINMENT_WARNING),
                                                num_perm=MINHASH_PERMUTATIONS, num_part=16)
            self._ensemble.index(entries)

    def __len__(self) -> int:
        return len(self.posts)

    def nearest(self, text: str) -> dict | None:
        """The most similar past post over a warning threshold, or None."""
        grams = shingles(text)
        if not grams or self._ensemble is None:
            return None
        best: dict | None = None
        for key in self._ensemble.query(minhash_of(grams), len(grams)):
            post = self.posts[key]
            found = _similarity(grams, shingles(post.text))
            warn = (found["jaccard"] >= JACCARD_WARNING
                    or found["containment"] >= CONTAINMENT_WARNING)
            if warn and (best is None or found["similarity"] > best["similarity"]):
                best = {"document_id": post.document_id, "label": post.label, "url": post.url,
                        **found}
        return best


def _similarity(draft: set[str], past: set[str]) -> dict[str, float]:
    shared = len(draft & past)
    jaccard = shared / len(draft | past)
    containment = shared / len(draft)
    return {"jaccard": round(jaccard, 3), "containment": round(containment, 3),
            "similarity": round(max(jaccard, containment), 3)}


def find_near_duplicate(text: str, past_texts: PastPostIndex | LazyPastPosts | Sequence[PastPost | str]
                        ) -> dict | None:
    """The past post this text repeats: {document_id, label, url, jaccard, containment,
    similarity}, or None. `past_texts` is an index (see `past_posts`) or posts / plain texts."""
    if isinstance(past_texts, (PastPostIndex, LazyPastPosts)):
        return past_texts.nearest(text)
    posts = [p if isinstance(p, PastPost) else PastPost(None, _first_line(p), None, p)
             for p in past_texts]
    return PastPostIndex(posts).nearest(text)


class LazyPastPosts:
    """The owner's past posts from the warehouse, indexed on the first query."""

    def __init__(self, sessions: sessionmaker[Session], cache_dir: Path | None = None):
        self.sessions = sessions
        self.cache_dir = cache_dir
        self._index: PastPostIndex | None = None

    def nearest(self, text: str) -> dict | None:
        return self.index().nearest(text)

    def index(self) -> PastPostIndex:
        if self._index is None:
            self._index = self._load_or_build()
        return self._index

    def _load_or_build(self) -> PastPostIndex:
        posts = load_past_posts(self.sessions)
        if self.cache_dir is None:
            return PastPostIndex(posts)
        cache = self.cache_dir / f"{_CACHE_PREFIX}{_fingerprint(posts)}.pkl"
        if cache.exists():
            try:
                with cache.open("rb") as handle:
                    return pickle.load(handle)
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                pass  # a damaged or outdated cache is rebuilt below
        index = PastPostIndex(posts)
        _write_cache(cache, index)
        return index


def past_posts(sessions: sessionmaker[Session], cache_dir: Path | None = None) -> LazyPastPosts:
    return LazyPastPosts(sessions, cache_dir)


def load_past_posts(sessions: sessionmaker[Session]) -> list[PastPost]:
    """The owner's own posts, threads and articles (not chats, code or commit messages)."""
    query = (select(Document).where(Document.is_owner.is_(True), Document.kind.in_(PAST_POST_KINDS),
                                    Document.platform != "code")
             .order_by(Document.id))
    with sessions() as session:
        return [PastPost(doc.id, _label(doc), doc.url, doc.raw_text)
                for doc in session.scalars(query)]


def _label(doc: Document) -> str:
    when = doc.created_at.date().isoformat() if doc.created_at else "undated"
    return f"{doc.platform} {when} · {doc.title or _first_line(doc.raw_text)}"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:60] if lines else ""


def _fingerprint(posts: list[PastPost]) -> str:
    digest = hashlib.sha256(f"v{_CACHE_VERSION}".encode())
    for post in posts:
        digest.update(f"\x1e{post.document_id}\x1f{post.label}\x1f{post.url}\x1f{post.text}"
                      .encode())
    return digest.hexdigest()[:20]


def _write_cache(path: Path, index: PastPostIndex) -> None:
    """Write to a temporary file and rename it; older caches of this warehouse go."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{_CACHE_PREFIX}*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)
