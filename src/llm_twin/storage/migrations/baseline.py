"""The warehouse schema of revision 0001, frozen: what the first Alembic release found in place.

`storage/models.py` moves on with later revisions; these definitions must not. Revision 0001 creates
them, and a workspace made before revisions existed is brought to them (missing tables created,
missing nullable columns added) before it is stamped 0001.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint)


def baseline_metadata() -> MetaData:
    metadata = MetaData()
    stamp = DateTime(timezone=True)
    Table("sources", metadata,
          Column("id", Integer, primary_key=True),
          Column("format_name", String(64), nullable=False),
          Column("path", Text, nullable=False),
          Column("file_hash", String(64), nullable=False),
          Column("imported_at", stamp, nullable=False),
          Column("owner", String(256)),
          Column("document_count", Integer, nullable=False),
          Column("skipped", JSON, nullable=False),
          Index("ix_sources_file_hash", "file_hash"))
    Table("documents", metadata,
          Column("id", Integer, primary_key=True),
          Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
          Column("platform", String(32), nullable=False),
          Column("kind", String(16), nullable=False),
          Column("author", String(256), nullable=False),
          Column("is_owner", Boolean, nullable=False),
          Column("title", Text),
          Column("raw_text", Text, nullable=False),
          Column("normalized_text", Text, nullable=False),
          Column("created_at", stamp),
          Column("url", Text),
          Column("language", String(16)),
          Column("content_hash", String(64), nullable=False),
          Column("crosspost_key", String(64)),
          Column("crosspost_of_id", Integer, ForeignKey("documents.id", ondelete="SET NULL")),
          Column("external_id", String(256)),
          Column("metadata", JSON, nullable=False),
          UniqueConstraint("content_hash", name="uq_documents_content_hash"),
          Index("ix_documents_source_id", "source_id"),
          Index("ix_documents_platform", "platform"),
          Index("ix_documents_kind", "kind"),
          Index("ix_documents_is_owner", "is_owner"),
          Index("ix_documents_created_at", "created_at"),
          Index("ix_documents_crosspost_key", "crosspost_key"))
    Table("chunks", metadata,
          Column("id", String(36), primary_key=True),
          Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
          Column("position", Integer, nullable=False),
          Column("text", Text, nullable=False),
          Column("document_hash", String(64), nullable=False),
          Column("embedding_model", Text, nullable=False),
          Column("indexed_at", stamp, nullable=False),
          Index("ix_chunks_document_id", "document_id"))
    Table("training_runs", metadata,
          Column("id", String(64), primary_key=True),
          Column("kind", String(8), nullable=False),
          Column("parent_id", String(64)),
          Column("base_model", Text, nullable=False),
          Column("gguf_file", Text),
          Column("dataset_id", String(128), nullable=False),
          Column("hyperparameters", JSON, nullable=False),
          Column("metrics", JSON, nullable=False),
          Column("adapter_path", Text, nullable=False),
          Column("merged_path", Text),
          Column("gguf_path", Text),
          Column("ct2_path", Text),
          Column("status", String(16), nullable=False),
          Column("process", String(128)),
          Column("started_at", stamp, nullable=False),
          Column("finished_at", stamp),
          Column("duration_s", Float),
          Column("is_active", Boolean, nullable=False))
    Table("generations", metadata,
          Column("id", Integer, primary_key=True),
          Column("request_id", String(36), nullable=False),
          Column("created_at", stamp, nullable=False),
          Column("endpoint", String(16), nullable=False),
          Column("idea", Text),
          Column("platform", String(32)),
          Column("request", JSON, nullable=False),
          Column("model", Text, nullable=False),
          Column("backend", String(32), nullable=False),
          Column("retrieved_chunk_ids", JSON, nullable=False),
          Column("source_ids", JSON, nullable=False),
          Column("draft_index", Integer, nullable=False),
          Column("output", Text, nullable=False),
          Column("prompt_tokens", Integer),
          Column("completion_tokens", Integer),
          Column("latency_s", Float),
          Column("first_token_s", Float),
          Column("voice_score", Float),
          Column("rating", String(8)),
          Column("edited_text", Text),
          Column("feedback_at", stamp),
          Index("ix_generations_request_id", "request_id"),
          Index("ix_generations_created_at", "created_at"))
    return metadata
