"""The model registry: every fine-tuning run in the warehouse, and which one `twin write` uses."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from llm_twin.errors import InputError, NotFoundError
from llm_twin.storage.models import Document, Source, TrainingRun, utcnow

BASE_MODEL_NAME = "base"  # what `twin models use base` and `twin write --model base` call no run


class UnknownModel(NotFoundError, ValueError):
    """A run id that is not in the registry."""


def new_run_id(kind: str, session: Session, now: datetime | None = None) -> str:
    stamp = (now or utcnow()).strftime("%Y%m%d-%H%M%S")
    run_id, n = f"{kind}-{stamp}", 1
    while session.get(TrainingRun, run_id) is not None:
        n += 1
        run_id = f"{kind}-{stamp}-{n}"
    return run_id


def record_run(session: Session, *, run_id: str, kind: str, base_model: str, dataset_id: str,
               adapter_path: str, hyperparameters: dict[str, Any], parent_id: str | None = None,
               gguf_file: str | None = None, lineage: dict[str, Any] | None = None) -> TrainingRun:
    """Store a run as "running" now, so an interrupted run is visible and resumable.
    `lineage`: what its weights see (`build_lineage`)."""
    if kind not in ("sft", "dpo"):
        raise ValueError(f"Unknown training run kind {kind!r}; expected 'sft' or 'dpo'.")
    run = TrainingRun(id=run_id, kind=kind, parent_id=parent_id, base_model=base_model,
                      gguf_file=gguf_file, dataset_id=dataset_id, hyperparameters=hyperparameters,
                      metrics={}, adapter_path=adapter_path, status="running", started_at=utcnow(),
                      is_active=False, process=this_process(), lineage=lineage)
    session.add(run)
    session.commit()
    return run


def finish_run(session: Session, run_id: str, *, status: str = "finished",
               metrics: dict[str, Any] | None = None, duration_s: float | None = None) -> TrainingRun:
    if status not in ("finished", "failed", "running", "interrupted"):
        raise ValueError(f"Unknown run status {status!r}.")
    run = get_run(session, run_id)
    run.status = status
    if status == "running":
        run.process = this_process()
    run.finished_at = utcnow() if status != "running" else None
    if metrics is not None:
        run.metrics = {**(run.metrics or {}), **metrics}  # a new dict: JSON columns track assignment
    if duration_s is not None:
        run.duration_s = duration_s
    session.commit()
    return run


def update_metrics(session: Session, run_id: str, metrics: dict[str, Any]) -> TrainingRun:
    run = get_run(session, run_id)
    run.metrics = {**(run.metrics or {}), **metrics}
    session.commit()
    return run


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def mark_interrupted(session: Session) -> list[str]:
    """Runs still "running" whose training process on this machine is gone (killed, crashed, the
    server stopped) become "interrupted"; `twin train sft|dpo --resume` continues them."""
    host = socket.gethostname()
    stopped = []
    for run in session.scalars(select(TrainingRun).where(TrainingRun.status == "running")):
        where, _, pid = (run.process or "").rpartition(":")
        if where == host and pid.isdigit() and not _alive(int(pid)):
            run.status, run.finished_at = "interrupted", utcnow()
            stopped.append(run.id)
    if stopped:
        session.commit()
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def list_runs(session: Session) -> list[TrainingRun]:
    return list(session.scalars(select(TrainingRun).order_by(TrainingRun.started_at.desc(),
                                                             TrainingRun.id.desc())))


def get_run(session: Session, run_id: str) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        known = [r.id for r in list_runs(session)][:5]
        hint = f" Known runs: {', '.join(known)}." if known else " No model has been trained yet."
        raise UnknownModel(f"No trained model {run_id!r} in the registry.{hint} `twin models` lists them.")
    return run


def active_run(session: Session) -> TrainingRun | None:
    return session.scalars(select(TrainingRun).where(TrainingRun.is_active)).first()


def use_run(session: Session, run_id: str | None) -> TrainingRun | None:
    """Make `run_id` the model `twin write` uses; None (or "base") goes back to the base model."""
    run = None
    if run_id is not None and run_id != BASE_MODEL_NAME:
        run = get_run(session, run_id)
        if run.status != "finished":
            raise InputError(f"Run {run_id!r} is {run.status}, not finished; only a finished run can "
                             f"be used (resume it with `twin train {run.kind} --resume`).")
    session.execute(update(TrainingRun).values(is_active=False))
    if run is not None:
        run.is_active = True
    session.commit()
    return run


def latest_run(session: Session, kind: str, *, status: str | None = None) -> TrainingRun | None:
    query = select(TrainingRun).where(TrainingRun.kind == kind)
    if status is not None:
        query = query.where(TrainingRun.status == status)
    return session.scalars(query.order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc())).first()


def latest_unfinished_run(session: Session, kind: str) -> TrainingRun | None:
    query = (select(TrainingRun).where(TrainingRun.kind == kind, TrainingRun.status != "finished")
             .order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc()))
    return session.scalars(query).first()


def set_export_paths(session: Session, run_id: str, *, merged_path: str | None = None,
                     gguf_path: str | None = None, ct2_path: str | None = None) -> TrainingRun:
    run = get_run(session, run_id)
    if ct2_path is not None:
        run.ct2_path = ct2_path
    if merged_path is not None:
        run.merged_path = merged_path
    if gguf_path is not None:
        run.gguf_path = gguf_path
    session.commit()
    return run


# -- lineage: what a run's weights saw (`twin forget` reaches the models through it) -----------

def read_card(build_folder: Path) -> dict[str, Any] | None:
    """A dataset build's card (card.json), None when it is missing or unreadable."""
    try:
        card = json.loads((Path(build_folder) / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def build_lineage(session: Session, dataset_id: str, card: dict[str, Any] | None, *,
                  dataset_sha256: str | None = None,
                  parent: TrainingRun | None = None) -> dict[str, Any]:
    """The sources a run trained on build `dataset_id` sees: the build's own (its card's
    `source_ids`), each with the export's file hash and a hash of its documents' content
    hashes, plus everything its parent (a DPO run's SFT run) saw."""
    own = sorted(int(i) for i in (card or {}).get("source_ids", []))
    sources = [_source_entry(session, source_id) for source_id in own]
    inherited = run_source_ids(parent) if parent is not None else set()
    return {"dataset_id": dataset_id, "dataset_sha256": dataset_sha256,
            "card_found": card is not None, "sources": sources,
            "source_ids": sorted(set(own) | (inherited or set())),
            "parent_id": parent.id if parent is not None else None}


def _source_entry(session: Session, source_id: int) -> dict[str, Any]:
    source = session.get(Source, source_id)
    hashes = sorted(session.scalars(select(Document.content_hash)
                                    .where(Document.source_id == source_id)))
    digest = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
    return {"id": source_id, "format": source.format_name if source else None,
            "path": source.path if source else None,
            "file_hash": source.file_hash if source else None,
            "documents": len(hashes), "content_sha256": digest}


def run_source_ids(run: TrainingRun) -> set[int] | None:
    """The source ids a run's lineage lists; None when it recorded none (older runs)."""
    if not run.lineage or "source_ids" not in run.lineage:
        return None
    return {int(i) for i in run.lineage["source_ids"]}


def record_export(session: Session, run_id: str, out_dir: str) -> TrainingRun:
    """Remember an export folder written from a run (`twin forget` removes it with the run)."""
    run = get_run(session, run_id)
    run.exports = sorted({*(run.exports or []), out_dir})  # a new list: JSON tracks assignment
    session.commit()
    return run


def mark_lineage(session: Session, run_id: str, **values: Any) -> TrainingRun:
    """Add keys to a run's lineage (e.g. `retrained_after_forget`)."""
    run = get_run(session, run_id)
    run.lineage = {**(run.lineage or {}), **values}
    session.commit()
    return run


def delete_run_row(session: Session, run_id: str) -> None:
    """Remove a run from the registry (its files are the caller's to delete)."""
    session.execute(delete(TrainingRun).where(TrainingRun.id == run_id))
    session.commit()
