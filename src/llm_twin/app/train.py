"""Fine-tuning (`twin train sft|dpo`, `POST /api/train`) from one `TrainSpec`: a new LoRA run, or
an interrupted one resumed; the finished run becomes the model in use unless told otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import Workspace
from llm_twin.errors import InputError

KINDS = ("sft", "dpo")


@dataclass
class TrainSpec:
    """What to train. None keeps the trainer's default for the kind."""

    kind: str = "sft"  # KINDS
    steps: int | None = None  # optimizer steps; overrides epochs
    epochs: float | None = None
    learning_rate: float | None = None
    rank: int = 16  # LoRA rank; alpha is twice the rank
    dataset_id: str | None = None  # default: the newest build (DPO: the SFT run's)
    resume: bool = False  # continue the newest unfinished run of the kind (or run_id)
    run_id: str | None = None  # the run to resume
    seed: int = 42
    batch_size: int | None = None
    grad_accumulation: int | None = None
    max_length: int = 512
    eval_steps: int = 50
    patience: int = 3  # evaluations without improvement before stopping; 0 = never
    base_model: str | None = None  # SFT: default generation_model
    gguf_file: str | None = None  # SFT: a GGUF file inside base_model
    packing: bool = False  # SFT
    qlora: bool = False  # SFT
    beta: float = 0.1  # DPO
    sft_run_id: str | None = None  # DPO starts from it; default the newest finished SFT run
    impostor: Path | None = None  # another author's folder for the held-out comparison
    impostor_docs: int = 40
    report_to: str = "auto"
    precision: str = "auto"
    gradient_checkpointing: bool | None = None
    use: bool = True  # the new run becomes the model twin write and the server use
    prepare: bool = False  # ready it for the backend first (`twin serve`: no request waits for it)


def train(ws: Workspace, spec: TrainSpec, progress: Progress = SILENT):
    """Train (or resume) a run; returns it, or None in an extra process of `accelerate launch`."""
    from llm_twin.training.progress import ReportingCallback
    from llm_twin.training.sft import EvalOptions

    if spec.kind not in KINDS:
        raise InputError(f"kind must be 'sft' or 'dpo', not {spec.kind!r}.")
    title = f"{spec.kind.upper()} training"
    callback = ReportingCallback(lambda done, total, losses: progress.report(
        f"{title} ({losses})" if losses and losses != "starting" else title, done, total))
    evaluation = EvalOptions(spec.impostor, spec.impostor_docs)
    run = _fit(ws, spec, [callback], evaluation)
    if run is not None and spec.use:
        _use(ws, run.id, spec.prepare, progress)
    return run


def _fit(ws: Workspace, spec: TrainSpec, callbacks: list, evaluation):
    s, sessions = ws.settings, ws.sessions
    if spec.kind == "sft":
        from llm_twin.training.sft import resume_sft, train_sft

        if spec.resume or spec.run_id:
            return resume_sft(s, sessions, spec.run_id, max_steps=spec.steps, epochs=spec.epochs,
                              callbacks=callbacks, evaluation=evaluation)
        return train_sft(s, sessions, sft_config(ws, spec), dataset_id=spec.dataset_id,
                         callbacks=callbacks, evaluation=evaluation)
    from llm_twin.training.dpo import resume_dpo, train_dpo

    if spec.resume or spec.run_id:
        return resume_dpo(s, sessions, spec.run_id, max_steps=spec.steps, epochs=spec.epochs,
                          callbacks=callbacks, evaluation=evaluation)
    return train_dpo(s, sessions, dpo_config(spec), sft_run_id=spec.sft_run_id,
                     dataset_id=spec.dataset_id, callbacks=callbacks, evaluation=evaluation)


def sft_config(ws: Workspace, spec: TrainSpec):
    from llm_twin.training.sft import SftConfig

    s = ws.settings
    gguf_file = spec.gguf_file if spec.base_model else (spec.gguf_file or s.gguf_file)
    return SftConfig(base_model=spec.base_model or s.generation_model, gguf_file=gguf_file,
                     packing=spec.packing, qlora=spec.qlora, **_shared(spec))


def dpo_config(spec: TrainSpec):
    from llm_twin.training.dpo import DpoConfig

    return DpoConfig(beta=spec.beta, **_shared(spec))


def _shared(spec: TrainSpec) -> dict[str, Any]:
    """The fields SFT and DPO set alike; options left None keep each kind's own default."""
    given = dict(max_steps=spec.steps, epochs=spec.epochs, learning_rate=spec.learning_rate,
                 batch_size=spec.batch_size, grad_accumulation=spec.grad_accumulation,
                 gradient_checkpointing=spec.gradient_checkpointing)
    return dict(lora_r=spec.rank, lora_alpha=2 * spec.rank, seed=spec.seed,
                max_length=spec.max_length, eval_steps=spec.eval_steps,
                early_stopping_patience=spec.patience, report_to=spec.report_to,
                precision=spec.precision, **{k: v for k, v in given.items() if v is not None})


def _use(ws: Workspace, run_id: str, prepare: bool, progress: Progress) -> None:
    from llm_twin.training.registry import use_run

    if prepare:
        progress.report("preparing the new model to serve", 0, None)
        ws.prepare_model(run_id)
    with ws.sessions() as session:
        use_run(session, run_id)
