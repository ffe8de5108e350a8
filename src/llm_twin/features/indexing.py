"""`twin index`: chunk and embed only what is new or changed, and drop what was forgotten.

Order of writes: vectors first, then the chunk rows that record them. If a run dies between the
two, the next run sees the document as unindexed (re-embeds it) and removes the orphan points.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from llm_twin.features.chunking import chunk_document
from llm_twin.features.cleaning import normalize_for_search
from llm_twin.features.embeddings import Embedder
from llm_twin.storage.models import Chunk, Document
from llm_twin.storage.vector_store import IndexedChunk, VectorStore


@dataclass
class IndexReport:
    documents_indexed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    orphans_removed: int = 0
    seconds_embedding: float = 0.0
    seconds_total: float = 0.0


@dataclass
class PendingChunk:
    document: Document
    position: int
    text: str

    def embedding_text(self) -> str:
        title = f"{self.document.title}\n" if self.document.title else ""
        return normalize_for_search(title + self.text)


ProgressCallback = Callable[[int, int], None]  # (done, total) in chunks


def index_documents(sessions: sessionmaker[Session], store: VectorStore, embedder: Embedder, *,
                    max_chars: int = 1000, overlap_chars: int = 150, batch_size: int = 64,
                    on_progress: ProgressCallback | None = None) -> IndexReport:
    started = time.perf_counter()
    report = IndexReport()
    with sessions() as session:
        stale = _stale_documents(session, embedder.model_id)
        report.chunks_removed = _drop_stale_chunks(session, store, stale)
        pending = [chunk for doc in stale for chunk in chunks_of(doc, max_chars, overlap_chars)]
        report.documents_indexed = len(stale)
        done = 0
        for batch in _batches(pending, batch_size * 4):
            t0 = time.perf_counter()
            vectors = embedder.embed([c.embedding_text() for c in batch], batch_size=batch_size)
            report.seconds_embedding += time.perf_counter() - t0
            rows = [_chunk_row(c, embedder.model_id) for c in batch]
            store.upsert([_indexed(row, c, vec.tolist()) for row, c, vec in zip(rows, batch, vectors)])
            session.add_all(rows)
            session.commit()
            done += len(batch)
            report.chunks_added += len(batch)
            if on_progress:
                on_progress(done, len(pending))
        report.orphans_removed = _remove_orphans(session, store)
    report.seconds_total = time.perf_counter() - started
    return report


def _stale_documents(session: Session, model_id: str) -> list[Document]:
    """Documents with no chunks, chunks of an older text, or chunks from another embedding model."""
    documents = session.scalars(select(Document).options(selectinload(Document.chunks))
                                .order_by(Document.id)).all()
    return [doc for doc in documents
            if not doc.chunks or any(c.document_hash != doc.content_hash
                                     or c.embedding_model != model_id for c in doc.chunks)]


def _drop_stale_chunks(session: Session, store: VectorStore, documents: list[Document]) -> int:
    ids = [chunk.id for doc in documents for chunk in doc.chunks]
    if not ids:
        return 0
    store.delete(ids)
    for start in range(0, len(ids), 500):
        session.execute(delete(Chunk).where(Chunk.id.in_(ids[start:start + 500])))
    session.commit()
    session.expire_all()
    return len(ids)


def chunks_of(doc: Document, max_chars: int, overlap_chars: int) -> list[PendingChunk]:
    posts = doc.extra.get("posts") if isinstance(doc.extra, dict) else None
    pieces = chunk_document(doc.kind, doc.raw_text, max_chars=max_chars, overlap_chars=overlap_chars,
                            thread_posts=posts if isinstance(posts, list) else None)
    return [PendingChunk(doc, piece.position, piece.text) for piece in pieces]


def _chunk_row(chunk: PendingChunk, model_id: str) -> Chunk:
    return Chunk(id=str(uuid.uuid4()), document_id=chunk.document.id, position=chunk.position,
                 text=chunk.text, document_hash=chunk.document.content_hash,
                 embedding_model=model_id)


def _indexed(row: Chunk, chunk: PendingChunk, vector: list[float]) -> IndexedChunk:
    doc = chunk.document
    payload = {
        "document_id": doc.id, "source_id": doc.source_id, "position": chunk.position,
        "platform": doc.platform, "kind": doc.kind, "is_owner": int(doc.is_owner),
        "title": doc.title, "url": doc.url,
        "created_at": doc.created_at.isoformat() if doc.created_at else None,
        "created_ts": doc.created_at.timestamp() if doc.created_at else None,
    }
    return IndexedChunk(row.id, vector, chunk.embedding_text(), payload)


def _remove_orphans(session: Session, store: VectorStore) -> int:
    known = set(session.scalars(select(Chunk.id)))
    orphans = sorted(store.all_ids() - known)
    store.delete(orphans)
    return len(orphans)


def _batches(items: list[PendingChunk], size: int) -> Iterator[list[PendingChunk]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
