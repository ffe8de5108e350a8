"""Storing an import: all of an export lands in one transaction, or none of it does.

Why all-or-nothing: a half-imported export would silently skew the voice (a thread without its
tail, a year of posts missing) and a re-run could not tell what was already there. Parsing happens
fully before the first write, and the writes share one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from llm_twin.features.cleaning import clean_raw, content_hash, crosspost_key, normalize_for_search
from llm_twin.ingest.base import ImportedDocument, Importer, ImportResult
from llm_twin.storage.models import Document, Source, document_audience


@dataclass
class IngestReport:
    """What storing one export did. Counts: `read_documents` = `new_documents` + `duplicates`
    (documents already in the warehouse); `skipped` = items the importer left out, by reason;
    `repaired` and `notes` come from the importer (how a not well-formed export was read)."""

    path: str | Path
    format_name: str
    source_id: int | None
    new_documents: int
    duplicates: int
    already_imported: bool = False
    owner: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    read_documents: int = 0
    crossposts: int = 0
    repaired: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def found(self) -> int:
        """Everything the importer saw: documents read plus items skipped."""
        return self.read_documents + sum(self.skipped.values())


def ingest_path(location: str | Path, importer: Importer,
                sessions: sessionmaker[Session]) -> IngestReport:
    """Import one export unless the same one (same fingerprint) was imported before."""
    fingerprint_before = importer.fingerprint(location)
    if fingerprint_before is not None:
        existing = _existing_source(sessions, fingerprint_before, importer.format_name)
        if existing is not None:
            return _already_imported(location, importer, existing)
    result = importer.read(location)  # raises ImportFormatError before anything is written
    file_hash = fingerprint_before or result.fingerprint or _hash_text(str(location))
    if fingerprint_before is None:  # fetched sources are known only after reading
        existing = _existing_source(sessions, file_hash, importer.format_name)
        if existing is not None:
            return _already_imported(location, importer, existing)
    return store_import(location, file_hash, result, sessions)


def _existing_source(sessions: sessionmaker[Session], file_hash: str, format_name: str) -> Source | None:
    with sessions() as session:
        return session.scalar(select(Source).where(Source.file_hash == file_hash,
                                                   Source.format_name == format_name))


def _already_imported(location, importer: Importer, existing: Source) -> IngestReport:
    return IngestReport(location, importer.format_name, existing.id, 0, 0,
                        already_imported=True, owner=existing.owner)


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_import(location: str | Path, file_hash: str, result: ImportResult,
                 sessions: sessionmaker[Session]) -> IngestReport:
    """Store a parsed import in one transaction, skipping documents already in the warehouse.

    Rows go in through one bulk INSERT (executemany), not the ORM unit of work: an X archive of
    50,000 posts is stored in a few seconds rather than tens.
    """
    rows = [_to_row(doc) for doc in result.documents]
    with sessions.begin() as session:
        known = _existing_hashes(session, [row["content_hash"] for row in rows])
        where = str(location.resolve()) if isinstance(location, Path) else location
        source = Source(format_name=result.format_name, path=where,
                        file_hash=file_hash, owner=result.owner, skipped=dict(result.skipped),
                        timezone=result.timezone)
        session.add(source)
        session.flush()
        new_rows = []
        for row in rows:
            if row["content_hash"] not in known:
                known.add(row["content_hash"])
                new_rows.append({**row, "source_id": source.id})
        if new_rows:  # Core executemany: the ORM's bulk path batches into thousands of statements
            # The ignore: SQLAlchemy types __table__ as a FromClause; a mapped class's is a Table.
            session.connection().execute(insert(Document.__table__), new_rows)  # type: ignore[arg-type]
        source.document_count = len(new_rows)
        crossposts = _link_crossposts(session, source.id)
        source_id = source.id
    return IngestReport(location, result.format_name, source_id, len(new_rows),
                        len(rows) - len(new_rows), owner=result.owner,
                        skipped=dict(result.skipped), read_documents=len(rows),
                        crossposts=crossposts, repaired=result.repaired, notes=list(result.notes))


def _link_crossposts(session: Session, source_id: int) -> int:
    """Point each new document at the first one with the same words on another platform."""
    platforms = select(Document.platform).where(Document.source_id == source_id).distinct()
    other_platform = select(Document.id).where(Document.platform.not_in(platforms)).limit(1)
    if session.scalar(other_platform) is None:  # nothing to link to: skip the per-row subquery
        return 0
    earlier = aliased(Document)
    first_elsewhere = (select(func.min(earlier.id))
                       .where(earlier.crosspost_key == Document.crosspost_key,
                              earlier.platform != Document.platform,
                              earlier.id < Document.id)
                       .scalar_subquery())
    session.execute(update(Document)
                    .where(Document.source_id == source_id, Document.crosspost_key.is_not(None))
                    .values(crosspost_of_id=first_elsewhere)
                    .execution_options(synchronize_session=False))
    return session.scalar(select(func.count()).select_from(Document)
                          .where(Document.source_id == source_id,
                                 Document.crosspost_of_id.is_not(None))) or 0


def _existing_hashes(session: Session, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    connection = session.connection()
    for start in range(0, len(hashes), 5000):  # SQLite allows 32,766 bound parameters
        batch = hashes[start:start + 5000]
        found.update(connection.execute(select(Document.content_hash)
                                        .where(Document.content_hash.in_(batch))).scalars())
    return found


def _to_row(doc: ImportedDocument) -> dict:
    raw = clean_raw(doc.raw_text)
    normalized = normalize_for_search(raw)
    # Chat messages repeat ("ok", "thanks"): their identity includes who said it and where.
    identity = f"{doc.author}\x1f{doc.external_id}" if doc.kind == "message" else None
    return {"platform": doc.platform, "kind": doc.kind, "author": doc.author,
            "is_owner": doc.is_owner, "title": doc.title, "raw_text": raw,
            "normalized_text": normalized, "created_at": doc.created_at, "url": doc.url,
            "language": doc.language,
            "content_hash": content_hash(doc.platform, doc.kind, normalized, doc.title, identity),
            "crosspost_key": None if doc.kind == "message" else crosspost_key(normalized),
            "external_id": doc.external_id, "metadata": dict(doc.metadata),
            "audience": document_audience(doc.kind, doc.metadata)}
