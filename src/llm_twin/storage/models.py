"""Warehouse tables (SQLAlchemy 2). SQLite by default; the same models run on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, UTC
from typing import Any, TypedDict, cast

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite would otherwise hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Source(Base):
    """One imported export: which file, which format, when, and its content hash."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format_name: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    file_hash: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(256))
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The IANA zone a chat export's dates were read in and are shown in (`--timezone`); None
    # for other exports and for sources imported before it was recorded (shown in UTC).
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)

    documents: Mapped[list[Document]] = relationship(back_populates="source",
                                                     cascade="all, delete-orphan",
                                                     passive_deletes=True)


class DocumentMeta(TypedDict, total=False):
    """The keys of `Document.extra` that code after ingest reads. Importers also store keys of
    their own format (file, line, hashtags...) that nothing downstream relies on."""

    conversation: str  # a chat message's conversation, unique within its source
    position: int  # a chat message's place in its conversation
    posts: list[str]  # a thread's posts, in order
    language: str  # a code file's programming language (Document.language is the human one)
    path: str  # the file the document came from, relative to its export
    tag: str  # a special kind of text: "commit_message", "profile", "co_authored"...
    draft: bool  # never published
    # Counts the export carried, normalised across platforms (features.engagement):
    # {"likes", "reposts", "replies", "quotes"}, ints >= 0, a key only when the export had it.
    engagement: dict[str, int]


# Who a document was written for, normalised across platforms (Document.audience).
AUDIENCES = ("public", "unlisted", "followers", "private", "direct", "draft")
# What drafts for public platforms (and their training samples) may learn from by default.
PUBLIC_AUDIENCES = ("public", "unlisted")
# Export visibility values, lowercased, by audience: Mastodon (`public`, `unlisted`,
# `followers-only`/`private`, `direct`), LinkedIn shares (`MEMBER_NETWORK`, `CONNECTIONS`...),
# Ghost (`members`, `paid`, `tiers`), WordPress post status (`private`).
_VISIBILITY = {
    "public": "public", "anyone": "public", "member_network": "public", "logged_in": "public",
    "unlisted": "unlisted", "quiet_public": "unlisted",
    "followers": "followers", "followers-only": "followers", "followers_only": "followers",
    "private": "followers",  # Mastodon's API name for followers-only
    "connections": "followers", "connections_only": "followers", "members": "followers",
    "paid": "followers", "tiers": "followers", "group": "followers", "container": "followers",
    "direct": "direct", "mentioned": "direct", "limited": "direct",
}


def document_audience(kind: str, extra: object) -> str:
    """The audience of a document from what its importer read (one rule for every format).

    Chat messages are `private`; drafts (`extra["draft"]`) are `draft`; an export's own
    `visibility` (or WordPress's `status: private`) maps through `_VISIBILITY`, an unknown value
    to `private` (not known to be public); everything else was published: `public`."""
    if kind == "message":
        return "private"
    meta = extra if isinstance(extra, dict) else {}
    if meta.get("status") == "private":  # WordPress private posts (also flagged draft)
        return "private"
    if meta.get("draft") is True:
        return "draft"
    visibility = meta.get("visibility")
    if isinstance(visibility, str) and visibility.strip():
        return _VISIBILITY.get(visibility.strip().lower(), "private")
    return "public"


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


ENGAGEMENT_KEYS = ("likes", "reposts", "replies", "quotes")


def _is_engagement(value: object) -> bool:
    return isinstance(value, dict) and all(
        key in ENGAGEMENT_KEYS and isinstance(count, int) and not isinstance(count, bool)
        and count >= 0 for key, count in value.items())


_META_CHECKS: dict[str, Callable[[object], bool]] = {
    "conversation": _is_str, "position": lambda value: isinstance(value, int),
    "posts": _is_str_list, "language": _is_str, "path": _is_str, "tag": _is_str,
    "draft": lambda value: isinstance(value, bool), "engagement": _is_engagement}


def document_meta(extra: object) -> DocumentMeta:
    """The `DocumentMeta` keys of a stored `Document.extra`, each only when its value has the
    declared type: the column is free JSON (Markdown front matter lands there too)."""
    if not isinstance(extra, dict):
        return DocumentMeta()
    return cast(DocumentMeta, {key: value for key, value in extra.items()
                               if key in _META_CHECKS and _META_CHECKS[key](value)})


class Document(Base):
    """One piece of writing: raw text for style, a normalised copy for search."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("content_hash", name="uq_documents_content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    author: Mapped[str] = mapped_column(String(256))
    is_owner: Mapped[bool] = mapped_column(Boolean, index=True)
    title: Mapped[str | None] = mapped_column(Text)
    raw_text: Mapped[str] = mapped_column(Text)
    normalized_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Same words on another platform (URLs stripped): the later copy links to the first one.
    crosspost_key: Mapped[str | None] = mapped_column(String(64), index=True)
    crosspost_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(256))
    # One of AUDIENCES, set from `extra` at import by document_audience (revision 0002).
    audience: Mapped[str] = mapped_column(String(16), index=True, default="public",
                                          server_default="public")
    # `metadata` is reserved by SQLAlchemy's declarative base, hence the attribute name. The keys
    # read after ingest are named by DocumentMeta; read them through document_meta().
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)

    source: Mapped[Source] = relationship(back_populates="documents")
    chunks: Mapped[list[Chunk]] = relationship(back_populates="document",
                                               cascade="all, delete-orphan",
                                               passive_deletes=True)


class Chunk(Base):
    """A retrievable piece of a document; its id is the point id in the vector store."""

    __tablename__ = "chunks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    document_hash: Mapped[str] = mapped_column(String(64))
    embedding_model: Mapped[str] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="chunks")


class TrainingRun(Base):
    """One fine-tuning run (LoRA SFT or DPO): what it started from, how, and what it produced."""

    __tablename__ = "training_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "sft-20261128-130501"
    kind: Mapped[str] = mapped_column(String(8))  # "sft" | "dpo"
    parent_id: Mapped[str | None] = mapped_column(String(64))  # a DPO run's SFT run
    base_model: Mapped[str] = mapped_column(Text)  # "smollm2", a Hugging Face id or a path
    gguf_file: Mapped[str | None] = mapped_column(Text)
    dataset_id: Mapped[str] = mapped_column(String(128))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    adapter_path: Mapped[str] = mapped_column(Text)
    merged_path: Mapped[str | None] = mapped_column(Text)  # set by export
    gguf_path: Mapped[str | None] = mapped_column(Text)  # set by export
    ct2_path: Mapped[str | None] = mapped_column(Text)  # CTranslate2 conversion, made on first use
    # running | finished | failed | interrupted
    status: Mapped[str] = mapped_column(String(16), default="running")
    process: Mapped[str | None] = mapped_column(String(128))  # "host:pid" of the training process
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the weights saw (`twin forget` reads it): {"dataset_id", "dataset_sha256", "sources":
    # [{"id", "format", "path", "file_hash", "documents", "content_sha256"}], "source_ids" (a DPO
    # run's include its SFT parent's), "parent_id", "retrained_after_forget"}; None: not recorded.
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Export folders written from this run (`twin export`), removed with it by `twin forget`.
    exports: Mapped[list[str] | None] = mapped_column(JSON)


class GenerationRecord(Base):
    """One generated draft or chat answer, as served: what was asked, what the model saw (chunk ids,
    not their text), what it answered, how long it took, and what the user made of it."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), index=True)  # the drafts of one request share it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    endpoint: Mapped[str] = mapped_column(String(16))  # "write" | "chat"
    idea: Mapped[str | None] = mapped_column(Text)  # write: the idea; chat: the last user message
    platform: Mapped[str | None] = mapped_column(String(32))
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # parameters as asked
    model: Mapped[str] = mapped_column(Text)  # registry run id, or the base model id
    backend: Mapped[str] = mapped_column(String(32))
    retrieved_chunk_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # for `twin forget`
    draft_index: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_s: Mapped[float | None] = mapped_column(Float)
    first_token_s: Mapped[float | None] = mapped_column(Float)
    voice_score: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[str | None] = mapped_column(String(8))  # "up" | "down" | None
    edited_text: Mapped[str | None] = mapped_column(Text)  # the user's own version of the draft
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
