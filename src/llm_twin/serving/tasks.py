"""The work of `twin serve`'s background jobs: each function runs in the job thread and reports
progress on its Job. They call the same workspace stages as the CLI."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.ingest.registry import as_location, default_importers, plan_imports
from llm_twin.serving.jobs import Job
from llm_twin.serving.twin import TwinService


@dataclass
class IngestJob:
    folder: Path  # the uploads of this job; deleted when it ends (the warehouse keeps the text)
    files: list[str]
    me: tuple[str, ...] = ()
    index: bool = True


def ingest_uploads(twin: TwinService, spec: IngestJob, job: Job) -> dict[str, Any]:
    try:
        imported, failed = _import_files(twin, spec, job)
    finally:
        shutil.rmtree(spec.folder, ignore_errors=True)
    if not imported:
        raise ValueError("Nothing was imported: " + "; ".join(f["error"] for f in failed))
    result: dict[str, Any] = {"imported": imported, "failed": failed}
    if spec.index and any(r["new_documents"] for r in imported):
        result["index"] = index_workspace(twin, job)
    return result


def _import_files(twin: TwinService, spec: IngestJob, job: Job):
    options = ImportOptions(owner_name=twin.ws.settings.owner_name, me=spec.me,
                            progress=lambda done, total: job.progress(done=done, total=total))
    importers = default_importers(options=options)
    imported, failed = [], []
    for name in spec.files:
        path = spec.folder / name
        try:
            plan = plan_imports(as_location(path), importers)
            for target, importer in plan:
                job.progress(stage=f"importing {Path(name).name} ({importer.format_name})",
                             total=None)
                report = ingest_path(target, importer, twin.ws.sessions)
                imported.append({"file": Path(name).name, "format": report.format_name,
                                 "source_id": report.source_id, "new_documents": report.new_documents,
                                 "duplicates": report.duplicates,
                                 "already_imported": report.already_imported,
                                 "skipped": report.skipped, "owner": report.owner})
        except (ImportFormatError, ValueError, FileNotFoundError) as error:
            failed.append({"file": Path(name).name, "error": f"{Path(name).name}: {error}"})
    job.progress(message=f"{sum(r['new_documents'] for r in imported)} new documents")
    return imported, failed


def index_workspace(twin: TwinService, job: Job, *, rebuild: bool = False) -> dict[str, Any]:
    ws = twin.ws
    previous = ws.embedding_model_change()
    if rebuild or previous:
        job.progress(stage="dropping the old index")
        with twin.closed_store():
            ws.reset_index()
    job.progress(stage="loading the embedding model", total=None)
    _ = ws.embedder.dimension
    job.progress(stage="embedding")
    with twin.store() as store:
        report = ws.index_into(store, on_progress=lambda done, total: job.progress(done=done,
                                                                                  total=total))
        chunks = store.count()
    job.progress(message=f"{report.chunks_added} chunks added; the store holds {chunks}")
    return {"documents_indexed": report.documents_indexed, "chunks_added": report.chunks_added,
            "chunks_removed": report.chunks_removed + report.orphans_removed, "chunks": chunks,
            "rebuilt_after_model_change": previous}


@dataclass
class DatasetJob:
    instructions: str = "extractive"
    preferences: bool = True
    max_pairs: int = 50
    seed: int = 0


def build_dataset(twin: TwinService, spec: DatasetJob, job: Job) -> dict[str, Any]:
    def stage(name: str, _done: int, total: int | None) -> None:
        job.progress(stage=name, total=total)

    def advance(count: int) -> None:
        job.progress(done=job.done + count)

    with twin.generation_lock, twin.store() as store:  # the model and the index in memory
        backend = twin.backend()
        stored, created = twin.ws.build_dataset(
            backend, instructions=spec.instructions, preferences=spec.preferences,
            max_pairs=spec.max_pairs, seed=spec.seed, stage=stage, advance=advance, store=store)
    return {"dataset_id": stored.id, "created": created, **dataset_counts(stored.card)}


def dataset_counts(card: dict[str, Any]) -> dict[str, Any]:
    counts = card.get("counts", {})
    return {"sft_train": counts.get("sft", {}).get("train", 0),
            "sft_test": counts.get("sft", {}).get("test", 0),
            "preference_train": counts.get("preference", {}).get("train", 0),
            "preference_test": counts.get("preference", {}).get("test", 0),
            "preference_origins": card.get("preferences", {}).get("by_origin", {})}


@dataclass
class TrainJob:
    kind: str = "sft"  # "sft" | "dpo"
    steps: int = 20
    batch_size: int | None = None
    max_length: int = 512
    impostor_docs: int = 0  # held-out perplexity of another author (0: only the owner's test split)
    use: bool = True


def train(twin: TwinService, spec: TrainJob, job: Job) -> dict[str, Any]:
    from llm_twin.training.progress import ReportingCallback
    from llm_twin.training.registry import use_run
    from llm_twin.training.sft import EvalOptions

    ws = twin.ws
    callback = ReportingCallback(lambda done, total, message: job.progress(
        done=done, total=total, message=message))
    evaluation = EvalOptions(None, spec.impostor_docs)
    optional = {"batch_size": spec.batch_size} if spec.batch_size else {}
    job.progress(stage=f"{spec.kind.upper()} training")
    if spec.kind == "sft":
        from llm_twin.training.sft import SftConfig, train_sft

        config = SftConfig(base_model=ws.settings.generation_model, gguf_file=ws.settings.gguf_file,
                           max_steps=spec.steps, max_length=spec.max_length, report_to="none",
                           **optional)
        run = train_sft(ws.settings, ws.sessions, config, callbacks=[callback], evaluation=evaluation)
    elif spec.kind == "dpo":
        from llm_twin.training.dpo import DpoConfig, train_dpo

        config = DpoConfig(max_steps=spec.steps, max_length=spec.max_length, report_to="none",
                           **optional)
        run = train_dpo(ws.settings, ws.sessions, config, callbacks=[callback], evaluation=evaluation)
    else:
        raise ValueError(f"kind must be 'sft' or 'dpo', not {spec.kind!r}.")
    if run is None:
        raise ValueError("Training produced no run.")
    if spec.use:
        job.progress(stage="preparing the new model to serve")
        ws.prepare_model(run.id)
        with ws.sessions() as session:
            use_run(session, run.id)
    return {"run_id": run.id, "kind": run.kind, "metrics": run.metrics, "used": spec.use}


def fit_voice(twin: TwinService, job: Job) -> dict[str, Any]:
    job.progress(stage="base-model drafts to contrast with your texts (skipped with a dataset)")
    with twin.generation_lock:
        backend = twin.backend("base")
        _, card = twin.ws.fit_voice(backend, progress=lambda done, total: job.progress(
            done=done, total=total))
    return {"card": card}
