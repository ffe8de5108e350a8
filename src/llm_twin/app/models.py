"""The fine-tuned models (`twin models`, `twin export`): the registry's runs, which one drafts
use, and exporting one (or the base) for other tools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_twin.app.workspace import Workspace

if TYPE_CHECKING:
    from llm_twin.storage.models import TrainingRun


def list_models(ws: Workspace) -> list:
    """Every training run, newest first; runs whose process died are marked interrupted first."""
    from llm_twin.training.registry import list_runs, mark_interrupted

    with ws.sessions() as session:
        mark_interrupted(session)
        return list_runs(session)


def use_model(ws: Workspace, run_id: str):
    """Make a finished run (or "base": None) the model drafts and the server use."""
    from llm_twin.training.registry import use_run

    with ws.sessions() as session:
        return use_run(session, run_id)


def describe_model(ws: Workspace, run_id: str) -> dict[str, Any]:
    """Everything recorded about a run: hyperparameters, metrics, paths, timing."""
    from llm_twin.training.registry import get_run

    with ws.sessions() as session:
        run = get_run(session, run_id)
    return {"id": run.id, "kind": run.kind, "parent_id": run.parent_id, "status": run.status,
            "active": run.is_active, "base_model": run.base_model, "gguf_file": run.gguf_file,
            "dataset_id": run.dataset_id, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration_s": run.duration_s, "adapter_path": run.adapter_path,
            "merged_path": run.merged_path, "gguf_path": run.gguf_path, "ct2_path": run.ct2_path,
            "hyperparameters": run.hyperparameters, "metrics": run.metrics,
            "lineage": run.lineage, "exports": run.exports}


@dataclass
class ExportSpec:
    model_id: str | None = None  # a run id or "base"; default: the model in use
    out: Path | None = None  # default: <workspace>/exports/<model id>
    formats: list[str] | None = None  # default: DEFAULT_FORMATS (the base has no adapter)
    gguf_types: tuple[str, ...] = ("f16", "q8_0")
    ct2_type: str = "int8"
    force: bool = False


def export_model(ws: Workspace, spec: ExportSpec) -> tuple[Any, bool]:
    """Write the model as `spec` asks; returns the ExportResult and whether a trained run (not
    the base model) was exported."""
    from llm_twin.training.export import BASE, DEFAULT_FORMATS
    from llm_twin.training.export import export_model as export
    from llm_twin.training.registry import BASE_MODEL_NAME, active_run, get_run

    run: TrainingRun | str
    with ws.sessions() as session:
        if spec.model_id in (BASE, BASE_MODEL_NAME):
            run = BASE
        elif spec.model_id:
            run = get_run(session, spec.model_id)
        else:
            run = active_run(session) or BASE
        name = run if isinstance(run, str) else run.id
        formats = spec.formats or [f for f in DEFAULT_FORMATS if run != BASE or f != "adapter"]
        result = export(run, ws.settings, spec.out or ws.settings.workspace / "exports" / name,
                        formats=formats, gguf_types=spec.gguf_types, force=spec.force,
                        ct2_type=spec.ct2_type, owner=ws.owner_name(), session=session)
    return result, run != BASE
