"""The generation log: every served draft and chat answer, with the user's feedback and edit.

Rows keep the ids of the chunks the model saw, never their text, so forgetting a source only has
to drop the rows that drew on it (`forget_generations`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from llm_twin.errors import InputError, NotFoundError
from llm_twin.storage.models import GenerationRecord, utcnow

RATINGS = ("up", "down")
UNCHANGED: Any = object()  # a feedback field the request left out


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass
class ServedOutput:
    """One output of a request, ready to log."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    voice_score: float | None = None


@dataclass
class ServedRequest:
    request_id: str
    endpoint: str  # "write" | "chat"
    model: str
    backend: str
    idea: str | None = None
    platform: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    retrieved_chunk_ids: list[str] = field(default_factory=list)
    source_ids: list[int] = field(default_factory=list)
    latency_s: float | None = None
    first_token_s: float | None = None


def log_generations(session: Session, served: ServedRequest,
                    outputs: Sequence[ServedOutput]) -> list[GenerationRecord]:
    """One row per output; the caller commits."""
    rows = [GenerationRecord(
        request_id=served.request_id, endpoint=served.endpoint, idea=served.idea,
        platform=served.platform, request=served.request, model=served.model,
        backend=served.backend, retrieved_chunk_ids=list(served.retrieved_chunk_ids),
        source_ids=sorted(set(served.source_ids)), draft_index=index, output=output.text,
        prompt_tokens=output.prompt_tokens, completion_tokens=output.completion_tokens,
        latency_s=served.latency_s, first_token_s=served.first_token_s,
        voice_score=output.voice_score) for index, output in enumerate(outputs)]
    session.add_all(rows)
    session.flush()
    return rows


def set_feedback(session: Session, generation_id: int, *, rating: Any = UNCHANGED,
                 edited_text: Any = UNCHANGED) -> GenerationRecord:
    """Record a rating ("up", "down" or None to clear) and/or the user's edited version (None or
    blank clears it). Fields left UNCHANGED keep their value."""
    record = session.get(GenerationRecord, generation_id)
    if record is None:
        raise NotFoundError(f"No generation #{generation_id}.")
    if rating is not UNCHANGED:
        if rating is not None and rating not in RATINGS:
            raise InputError(f"rating must be 'up', 'down' or null, not {rating!r}.")
        record.rating = rating
    if edited_text is not UNCHANGED:
        edited = (edited_text or "").strip()
        record.edited_text = edited if edited and edited != record.output.strip() else None
    record.feedback_at = utcnow()
    session.flush()
    return record


def recent_generations(session: Session, *, limit: int = 50, offset: int = 0) -> list[GenerationRecord]:
    query = (select(GenerationRecord).order_by(GenerationRecord.id.desc())
             .limit(limit).offset(offset))
    return list(session.scalars(query))


def forget_generations(session: Session, source_ids: Sequence[int]) -> int:
    """Delete the logged generations that drew on any of these sources; returns how many."""
    forgotten = set(source_ids)
    doomed = [row_id for row_id, used in session.execute(
        select(GenerationRecord.id, GenerationRecord.source_ids)) if forgotten & set(used or ())]
    for start in range(0, len(doomed), 500):
        session.execute(delete(GenerationRecord).where(
            GenerationRecord.id.in_(doomed[start:start + 500])))
    return len(doomed)


def as_dict(record: GenerationRecord) -> dict[str, Any]:
    return {"id": record.id, "request_id": record.request_id,
            "created_at": record.created_at.isoformat() if record.created_at else None,
            "endpoint": record.endpoint, "idea": record.idea, "platform": record.platform,
            "model": record.model, "backend": record.backend, "output": record.output,
            "draft_index": record.draft_index, "voice_score": record.voice_score,
            "rating": record.rating, "edited_text": record.edited_text,
            "latency_s": record.latency_s, "first_token_s": record.first_token_s,
            "prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens,
            "retrieved_chunk_ids": record.retrieved_chunk_ids or [], "request": record.request or {}}
