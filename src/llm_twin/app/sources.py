"""The imported sources (`twin sources`, `GET /api/sources`) and forgetting one completely
(`twin forget`, `DELETE /api/sources/{id}`): its documents and chunks (warehouse), its vectors,
the dataset builds holding its text, and the logged generations that drew on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from llm_twin.app.workspace import Workspace
from llm_twin.errors import NotFoundError
from llm_twin.storage.history import forget_generations
from llm_twin.storage.models import Document, Source
from llm_twin.storage.vector_store import VectorStore
from llm_twin.training_data.store import forget_sources as forget_dataset_builds


@dataclass
class SourceListing:
    id: int
    format_name: str
    path: str
    imported_at: datetime
    owner: str | None
    documents: dict[tuple[str, str], int]  # (platform, kind) -> count

    @property
    def total(self) -> int:
        return sum(self.documents.values())


@dataclass
class SourceSummary:
    id: int
    path: str
    documents: int


@dataclass
class ForgetReport:
    source: SourceSummary
    dataset_builds_removed: list[str]
    generations_removed: int


def list_sources(ws: Workspace) -> list[SourceListing]:
    """Every imported source, oldest first, with its document counts by platform and kind."""
    with ws.sessions() as session:
        sources = session.scalars(select(Source).order_by(Source.id)).all()
        counts = session.execute(select(Document.source_id, Document.platform, Document.kind,
                                        func.count()).group_by(Document.source_id,
                                                               Document.platform, Document.kind))
        by_source: dict[int, dict[tuple[str, str], int]] = {}
        for source_id, platform, kind, count in counts:
            by_source.setdefault(source_id, {})[(platform, kind)] = count
        return [SourceListing(s.id, s.format_name, s.path, s.imported_at, s.owner,
                              by_source.get(s.id, {})) for s in sources]


def describe_source(ws: Workspace, source_id: int) -> SourceSummary:
    with ws.sessions() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"No source #{source_id}; see `twin sources`.")
        count = session.scalar(select(func.count()).select_from(Document)
                               .where(Document.source_id == source_id)) or 0
        return SourceSummary(source_id, source.path, count)


def forget_source(ws: Workspace, store: VectorStore | None, source_id: int) -> ForgetReport:
    """Forget everything of a source; `store`: the open vector store, None when never built.
    Vectors go first: if that fails, the warehouse still lists the source and a retry works."""
    summary = describe_source(ws, source_id)
    if store is not None:
        store.delete_source(source_id)
    with ws.sessions.begin() as session:
        generations = forget_generations(session, [source_id])
        session.execute(delete(Source).where(Source.id == source_id))
    builds = forget_dataset_builds(ws.settings.workspace, [source_id])
    return ForgetReport(summary, builds, generations)
