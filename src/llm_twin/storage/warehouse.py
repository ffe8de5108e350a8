"""Opening the warehouse and the queries the pipeline needs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.errors import WorkspaceError
from llm_twin.storage.models import Base, Chunk, Document, Source


def create_warehouse_engine(database_url: str) -> Engine:
    """An engine with the schema in place. SQLite gets WAL and enforced foreign keys."""
    is_sqlite = database_url.startswith("sqlite")
    engine = create_engine(database_url, connect_args={"timeout": 30} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", _configure_sqlite)
    Base.metadata.create_all(engine)
    add_missing_columns(engine)
    return engine


def add_missing_columns(engine: Engine) -> list[str]:
    """Bring a workspace made by an older version up to date by adding new nullable columns.

    Only additive changes happen this way (the schema so far has grown by columns alone); a change
    that rewrites data would need a real migration tool (Alembic) and is refused here.
    """
    inspector = inspect(engine)
    added = []
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise WorkspaceError(f"The warehouse table {table.name!r} lacks the required "
                                         f"column {column.name!r}; re-create the workspace.")
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                added.append(f"{table.name}.{column.name}")
    return added


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@dataclass
class WarehouseSummary:
    sources: int
    documents: int
    owner_documents: int
    by_platform_kind: dict[tuple[str, str], int]
    chunks: int
    embedding_models: list[str]


def summarize(session: Session) -> WarehouseSummary:
    rows = session.execute(select(Document.platform, Document.kind, func.count())
                           .group_by(Document.platform, Document.kind)).all()
    models = session.scalars(select(Chunk.embedding_model).distinct()).all()
    return WarehouseSummary(
        sources=session.scalar(select(func.count()).select_from(Source)) or 0,
        documents=sum(count for _, _, count in rows),
        owner_documents=session.scalar(select(func.count()).select_from(Document)
                                       .where(Document.is_owner)) or 0,
        by_platform_kind={(platform, kind): count for platform, kind, count in rows},
        chunks=session.scalar(select(func.count()).select_from(Chunk)) or 0,
        embedding_models=list(models),
    )


def most_common_owner(session: Session) -> str | None:
    owners = Counter(o for o in session.scalars(select(Source.owner)) if o)
    return owners.most_common(1)[0][0] if owners else None
