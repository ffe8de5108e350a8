"""Indexing (`twin index`, `POST /api/index`, after an upload): chunk and embed new or changed
documents, drop the vectors of forgotten ones, and re-embed everything when the embedding model
changed."""

from __future__ import annotations

from dataclasses import dataclass

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import StoreHolder, StorePerUse, Workspace
from llm_twin.features.indexing import IndexReport, index_documents
from llm_twin.storage.disk_space import STORE_MARGIN, SpaceCheckedStore, ensure_free_space
from llm_twin.storage.vector_store import VectorStore

EMBEDDING = "embedding"


@dataclass
class IndexOutcome:
    report: IndexReport
    chunks: int  # what the store holds afterwards
    rebuilt_after_model_change: str | None = None  # the model the dropped index was built with

    @property
    def chunks_removed(self) -> int:
        return self.report.chunks_removed + self.report.orphans_removed

    def as_dict(self) -> dict:
        return {"documents_indexed": self.report.documents_indexed,
                "chunks_added": self.report.chunks_added, "chunks_removed": self.chunks_removed,
                "chunks": self.chunks,
                "rebuilt_after_model_change": self.rebuilt_after_model_change}


def embedding_model_change(ws: Workspace) -> str | None:
    """The model the store was built with, when it differs from the configured one."""
    built = ws.built_embedding_model()
    return built if built is not None and built != ws.settings.embedding_model else None


def index_workspace(ws: Workspace, *, rebuild: bool = False, progress: Progress = SILENT,
                    holder: StoreHolder | None = None) -> IndexOutcome:
    """Bring the index up to date; `rebuild` (or a changed embedding model) drops it first."""
    holder = holder or StorePerUse(ws)
    previous = embedding_model_change(ws)
    if rebuild or previous:
        progress.report(f"dropping the index built with {previous}" if previous
                        else "dropping the old index", 0, None)
        with holder.closed_store():
            reset_index(ws)
    progress.report(f"loading the embedding model {ws.settings.embedding_model}", 0, None)
    _ = ws.embedder.dimension
    progress.report(EMBEDDING, 0, None)
    local = ws.settings.vector_store_url is None
    if local:  # opening the embedded store may write (WAL replay, a new shard)
        ensure_free_space(ws.settings.resolved_vector_store_path, STORE_MARGIN, "the vector store")
    with holder.store() as store:
        checked = SpaceCheckedStore(store, ws.settings.resolved_vector_store_path) if local else store
        report = index_into(ws, checked, progress)
        chunks = store.count()
    return IndexOutcome(report, chunks, previous)


def index_into(ws: Workspace, store: VectorStore, progress: Progress = SILENT) -> IndexReport:
    """Chunk and embed new or changed documents into the open `store`."""
    s = ws.settings
    report = index_documents(ws.sessions, store, ws.embedder, max_chars=s.chunk_max_chars,
                             overlap_chars=s.chunk_overlap_chars, batch_size=s.embedding_batch_size,
                             on_progress=lambda done, total: progress.report(EMBEDDING, done,
                                                                             total))
    if report.chunks_added or report.chunks_removed:
        store.optimize()
    return report


def reset_index(ws: Workspace) -> None:
    """Drop every vector and chunk row (the store must be closed)."""
    from sqlalchemy import delete

    from llm_twin.storage.models import Chunk
    from llm_twin.storage.stores import wipe_vector_store

    wipe_vector_store(ws.settings)
    with ws.sessions.begin() as session:
        session.execute(delete(Chunk))
