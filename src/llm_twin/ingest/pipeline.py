"""Storing an import: all of an export lands in one transaction, or none of it does.

Why all-or-nothing: a half-imported export would silently skew the voice (a thread without its
tail, a year of posts missing) and a re-run could not tell what was already there. Parsing happens
fully before the first write, and the writes share one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.features.cleaning import clean_raw, content_hash, crosspost_key, normalize_for_search
from llm_twin.ingest.base import ImportedDocument, Importer, ImportResult
from llm_twin.storage.models import Document, Source


@dataclass
class IngestReport:
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


def fingerprint(path: Path) -> str:
    """SHA-256 of a file, or of a folder's relative paths and file contents, in sorted order."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def ingest_path(location: str | Path, importer: Importer,
                sessions: sessionmaker[Session]) -> IngestReport:
    """Import one export unless the same one (same fingerprint) was imported before."""
    fingerprint_before = _fingerprint_before_reading(location, importer)
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


def _fingerprint_before_reading(location: str | Path, importer: Importer) -> str | None:
    """Local files are hashed here; importers with a cheaper identity (a git HEAD) provide it."""
    own = getattr(importer, "fingerprint", None)
    if callable(own):
        return own(location)
    if isinstance(location, Path):
        return fingerprint(location)
    return None


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
    """Store a parsed import in one transaction, skipping documents already in the warehouse."""
    rows = [_to_row(doc) for doc in result.documents]
    with sessions.begin() as session:
        known = _existing_hashes(session, [row.content_hash for row in rows])
        where = str(location.resolve()) if isinstance(location, Path) else location
        source = Source(format_name=result.format_name, path=where,
                        file_hash=file_hash, owner=result.owner, skipped=dict(result.skipped))
        session.add(source)
        new_rows = []
        for row in rows:
            if row.content_hash in known:
                continue
            known.add(row.content_hash)
            row.source = source
            new_rows.append(row)
        session.add_all(new_rows)
        source.document_count = len(new_rows)
        session.flush()
        crossposts = _link_crossposts(session, new_rows)
        source_id = source.id
    return IngestReport(location, result.format_name, source_id, len(new_rows),
                        len(rows) - len(new_rows), owner=result.owner,
                        skipped=dict(result.skipped), read_documents=len(rows),
                        crossposts=crossposts)


def _link_crossposts(session: Session, rows: list[Document]) -> int:
    """Point each new document at an earlier one with the same words on another platform."""
    keyed = [row for row in rows if row.crosspost_key]
    first_by_key: dict[str, Document] = {}
    for start in range(0, len(keyed), 500):
        keys = [row.crosspost_key for row in keyed[start:start + 500]]
        for doc in session.scalars(select(Document).where(Document.crosspost_key.in_(keys))
                                   .order_by(Document.id)):
            first_by_key.setdefault(doc.crosspost_key, doc)
    linked = 0
    for row in keyed:
        first = first_by_key[row.crosspost_key]
        if first.id != row.id and first.platform != row.platform:
            row.crosspost_of_id = first.id
            linked += 1
    return linked


def _existing_hashes(session: Session, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 500):  # stay under SQLite's bound-parameter limit
        batch = hashes[start:start + 500]
        found.update(session.scalars(select(Document.content_hash)
                                     .where(Document.content_hash.in_(batch))))
    return found


def _to_row(doc: ImportedDocument) -> Document:
    raw = clean_raw(doc.raw_text)
    normalized = normalize_for_search(raw)
    # Chat messages repeat ("ok", "thanks"): their identity includes who said it and where.
    identity = f"{doc.author}\x1f{doc.external_id}" if doc.kind == "message" else None
    return Document(platform=doc.platform, kind=doc.kind, author=doc.author, is_owner=doc.is_owner,
                    title=doc.title, raw_text=raw, normalized_text=normalized,
                    created_at=doc.created_at, url=doc.url, language=doc.language,
                    content_hash=content_hash(doc.platform, doc.kind, normalized, doc.title,
                                              identity),
                    crosspost_key=None if doc.kind == "message" else crosspost_key(normalized),
                    external_id=doc.external_id, extra=dict(doc.metadata))
