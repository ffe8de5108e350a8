"""The work of `twin serve`'s background jobs: each function runs in the job thread, calls the same
use case as the CLI (llm_twin.app) with the job as its progress, and returns the job's result."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_twin.app import dataset as datasets
from llm_twin.app import indexing
from llm_twin.app import train as training
from llm_twin.app import voice as voices
from llm_twin.app.ingest import ExportOutcome, ingest_locations
from llm_twin.errors import InputError, TrainingError
from llm_twin.ingest.pipeline import IngestReport
from llm_twin.serving.jobs import Job
from llm_twin.serving.twin import TwinService


@dataclass
class IngestJob:
    folder: Path  # the uploads of this job; deleted when it ends (the warehouse keeps the text)
    files: list[str]
    me: tuple[str, ...] = ()
    index: bool = True
    timezone: str | None = None  # chats' local times (IANA); None: the server's zone


def ingest_uploads(twin: TwinService, spec: IngestJob, job: Job) -> dict[str, Any]:
    try:
        outcomes = list(ingest_locations(twin.ws, [spec.folder / name for name in spec.files],
                                         me=spec.me, timezone=spec.timezone, progress=job))
    finally:
        shutil.rmtree(spec.folder, ignore_errors=True)
    imported = [_imported(o, o.report) for o in outcomes if o.report is not None]
    failed = [{"file": _file(o), "error": f"{_file(o)}: {o.error}"}
              for o in outcomes if o.report is None]
    job.progress(message=f"{sum(r['new_documents'] for r in imported)} new documents")
    if not imported:
        raise InputError("Nothing was imported: " + "; ".join(f["error"] for f in failed))
    result: dict[str, Any] = {"imported": imported, "failed": failed}
    if spec.index and any(r["new_documents"] for r in imported):
        result["index"] = index_workspace(twin, job)
    return result


def _file(outcome: ExportOutcome) -> str:
    return Path(outcome.location).name


def _imported(outcome: ExportOutcome, report: IngestReport) -> dict[str, Any]:
    return {"file": _file(outcome), "format": report.format_name, "source_id": report.source_id,
            "new_documents": report.new_documents, "duplicates": report.duplicates,
            "already_imported": report.already_imported, "skipped": report.skipped,
            "owner": report.owner, "found": report.found, "repaired": report.repaired,
            "notes": report.notes}


def index_workspace(twin: TwinService, job: Job, *, rebuild: bool = False) -> dict[str, Any]:
    outcome = indexing.index_workspace(twin.ws, rebuild=rebuild, progress=job, holder=twin)
    job.progress(message=f"{outcome.report.chunks_added} chunks added; the store holds "
                         f"{outcome.chunks}")
    return outcome.as_dict()


@dataclass
class DatasetJob:
    instructions: str = "extractive"
    preferences: bool = True
    max_pairs: int = 50
    seed: int = 0


def build_dataset(twin: TwinService, spec: DatasetJob, job: Job) -> dict[str, Any]:
    build = datasets.DatasetSpec(instructions=spec.instructions, preferences=spec.preferences,
                        max_pairs=spec.max_pairs, seed=spec.seed)
    with twin.generation_lock:  # the model in memory writes instructions and rejected answers
        stored, created = datasets.build_dataset(twin.ws, twin.backend(), build, progress=job,
                                                 holder=twin)
    return {"dataset_id": stored.id, "created": created, **datasets.dataset_counts(stored.card)}


@dataclass
class TrainJob:
    kind: str = "sft"  # "sft" | "dpo"
    steps: int = 20
    batch_size: int | None = None
    max_length: int = 512
    impostor_docs: int = 0  # held-out perplexity of another author (0: only the owner's test split)
    use: bool = True


def train(twin: TwinService, spec: TrainJob, job: Job) -> dict[str, Any]:
    run = training.train(twin.ws, training.TrainSpec(
        kind=spec.kind, steps=spec.steps, batch_size=spec.batch_size, max_length=spec.max_length,
        impostor_docs=spec.impostor_docs, use=spec.use, prepare=True, report_to="none"), job)
    if run is None:
        raise TrainingError("Training produced no run.")
    return {"run_id": run.id, "kind": run.kind, "metrics": run.metrics, "used": spec.use}


def fit_voice(twin: TwinService, job: Job) -> dict[str, Any]:
    with twin.generation_lock:
        _, card = voices.fit_voice(twin.ws, twin.backend("base"), progress=job)
    return {"card": card}
