"""Forgetting a source completely: its documents and chunks (warehouse), its vectors, the dataset
builds holding its text, and the logged generations that drew on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.storage.history import forget_generations
from llm_twin.storage.models import Document, Source
from llm_twin.storage.vector_store import VectorStore
from llm_twin.training_data.store import forget_sources as forget_dataset_builds


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


def describe_source(sessions: sessionmaker[Session], source_id: int) -> SourceSummary:
    with sessions() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise LookupError(f"No source #{source_id}; see `twin sources`.")
        count = session.scalar(select(func.count()).select_from(Document)
                               .where(Document.source_id == source_id)) or 0
        return SourceSummary(source_id, source.path, count)


def forget_source(sessions: sessionmaker[Session], store: VectorStore | None, workspace: Path,
                  source_id: int) -> ForgetReport:
    """Vectors first: if that fails, the warehouse still lists the source and a retry works."""
    summary = describe_source(sessions, source_id)
    if store is not None:
        store.delete_source(source_id)
    with sessions.begin() as session:
        generations = forget_generations(session, [source_id])
        session.execute(delete(Source).where(Source.id == source_id))
    builds = forget_dataset_builds(workspace, [source_id])
    return ForgetReport(summary, builds, generations)
