"""`twin index`: chunk and embed only what is new or changed, and drop what was forgotten.

Chat messages are embedded as windows: each of the owner's messages with the few messages before
it in its conversation. Other people's messages are context only and get no chunk of their own.

Order of writes, so that a run killed at any point (kill -9, power cut) leaves every chunk row
with its vector: new vectors first, then the chunk rows that record them; stale chunk rows are
deleted first, then their vectors. A run that dies between two writes leaves only vectors without a
chunk row (never shown: search joins hits with chunk rows), and the next run removes them. A chunk
row whose vector is missing all the same (a store restored from a backup, a lost write) makes its
document stale, so the next run re-embeds it.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from llm_twin.features.chunking import chat_window, chunk_document
from llm_twin.features.cleaning import normalize_for_search
from llm_twin.features.embeddings import Embedder
from llm_twin.storage.models import Chunk, Document, DocumentMeta, document_meta
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
ConversationKey = tuple[Any, ...]
# Message document id -> its conversation's (author, text) lines in order, and its place there.
Conversations = dict[int, tuple[list[tuple[str, str]], int]]
CHAT_WINDOW = 6  # messages before each of the owner's messages


def index_documents(sessions: sessionmaker[Session], store: VectorStore, embedder: Embedder, *,
                    max_chars: int = 1000, overlap_chars: int = 150, batch_size: int = 64,
                    on_progress: ProgressCallback | None = None) -> IndexReport:
    started = time.perf_counter()
    report = IndexReport()
    with sessions() as session:
        _drop_chunks_without_vectors(session, store)
        documents = _all_documents(session)
        stale = [doc for doc in documents if _is_stale(doc, embedder.model_id)]
        # Read before the drop below expires every loaded row (a reload would cost a query each).
        conversations = _conversations(documents) if any(map(_is_owner_message, stale)) else {}
        report.chunks_removed = _drop_stale_chunks(session, store, stale)
        pending = [chunk for doc in stale
                   for chunk in _pending_chunks(doc, conversations, max_chars, overlap_chars)]
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


def _all_documents(session: Session) -> list[Document]:
    return list(session.scalars(select(Document).options(selectinload(Document.chunks))
                                .order_by(Document.id)))


def _is_stale(doc: Document, model_id: str) -> bool:
    """No chunks, chunks of an older text, or chunks from another embedding model. Other people's
    messages are up to date with no chunks (any they have date from before chat windows)."""
    if _is_context_only(doc):
        return bool(doc.chunks)
    return not doc.chunks or any(c.document_hash != doc.content_hash
                                 or c.embedding_model != model_id for c in doc.chunks)


def _is_context_only(doc: Document) -> bool:
    return doc.kind == "message" and not doc.is_owner


def _is_owner_message(doc: Document) -> bool:
    return doc.kind == "message" and doc.is_owner


def _conversation_key(doc: Document) -> ConversationKey:
    conversation = document_meta(doc.extra).get("conversation")
    return ("source", doc.source_id, conversation) if conversation else ("alone", doc.id)


def _conversations(documents: list[Document]) -> Conversations:
    """Every message's conversation, in the order it was written."""
    grouped: dict[ConversationKey, list[tuple[int, int, str, str]]] = defaultdict(list)
    for doc in documents:
        if doc.kind == "message":
            order = document_meta(doc.extra).get("position", doc.id)
            grouped[_conversation_key(doc)].append((order, doc.id, doc.author, doc.raw_text))
    places: Conversations = {}
    for messages in grouped.values():
        messages.sort()
        lines = [(author, text) for _, _, author, text in messages]
        places.update((doc_id, (lines, i)) for i, (_, doc_id, _, _) in enumerate(messages))
    return places


def _drop_stale_chunks(session: Session, store: VectorStore, documents: list[Document]) -> int:
    """Chunk rows first, then their vectors: a kill in between leaves orphan vectors (swept by the
    next run), never a chunk row without its vector."""
    ids = [chunk.id for doc in documents for chunk in doc.chunks]
    if not ids:
        return 0
    _delete_chunk_rows(session, ids)
    session.expire_all()
    store.delete(ids)
    return len(ids)


def _drop_chunks_without_vectors(session: Session, store: VectorStore) -> int:
    """Delete the chunk rows whose vector the store lacks, so their documents are re-embedded."""
    missing = sorted(set(session.scalars(select(Chunk.id))) - store.all_ids())
    _delete_chunk_rows(session, missing)
    return len(missing)


def _delete_chunk_rows(session: Session, ids: list[str]) -> None:
    for start in range(0, len(ids), 500):
        session.execute(delete(Chunk).where(Chunk.id.in_(ids[start:start + 500])))
    session.commit()


def _pending_chunks(doc: Document, conversations: Conversations, max_chars: int,
                    overlap_chars: int) -> list[PendingChunk]:
    if _is_context_only(doc):
        return []
    if doc.kind == "message":
        return [PendingChunk(doc, 0, _window_of(doc, conversations, max_chars))]
    return chunks_of(doc, max_chars, overlap_chars)


def _window_of(doc: Document, conversations: Conversations, max_chars: int) -> str:
    lines, index = conversations.get(doc.id, ([], 0))
    before = lines[max(0, index - CHAT_WINDOW):index]
    return chat_window([*before, (doc.author, doc.raw_text)], max_chars, size=CHAT_WINDOW)


def chunks_of(doc: Document, max_chars: int, overlap_chars: int) -> list[PendingChunk]:
    """The chunks of one document on its own (a message without its conversation stays whole)."""
    meta = document_meta(doc.extra)
    pieces = chunk_document(doc.kind, doc.raw_text, max_chars=max_chars, overlap_chars=overlap_chars,
                            thread_posts=meta.get("posts"),
                            language=_code_language(meta) if doc.kind == "code" else None)
    return [PendingChunk(doc, piece.position, piece.text) for piece in pieces]


def _code_language(meta: DocumentMeta) -> str | None:
    language, path = meta.get("language"), meta.get("path")
    if language:
        return language
    if path is not None:
        return PurePosixPath(path).suffix or None
    return None


def _chunk_row(chunk: PendingChunk, model_id: str) -> Chunk:
    return Chunk(id=str(uuid.uuid4()), document_id=chunk.document.id, position=chunk.position,
                 text=chunk.text, document_hash=chunk.document.content_hash,
                 embedding_model=model_id)


def _indexed(row: Chunk, chunk: PendingChunk, vector: list[float]) -> IndexedChunk:
    doc = chunk.document
    payload = {
        "document_id": doc.id, "source_id": doc.source_id, "position": chunk.position,
        "platform": doc.platform, "kind": doc.kind, "is_owner": int(doc.is_owner),
        "audience": doc.audience,
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
