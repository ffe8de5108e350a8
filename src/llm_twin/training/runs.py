"""What SFT and DPO runs share: folders, the run lifecycle in the registry, trainer arguments,
checkpoints and saving the adapter."""

from __future__ import annotations

import importlib.util
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import cast, Any, Self, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from llm_twin.config import TwinSettings
from llm_twin.errors import InputError, NotFoundError, TrainingError
from llm_twin.storage.models import TrainingRun
from llm_twin.training import registry
from llm_twin.training.dataset_build import DatasetBuild

CHECKPOINTS = "checkpoints"
ADAPTER = "adapter"
T = TypeVar("T")


@dataclass
class TrainingConfig:
    """The LoRA and Trainer settings of a run, as SFT and DPO both take them (`SftConfig`,
    `DpoConfig` add their own). The step-size defaults are SFT's; `DpoConfig` sets its own."""

    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    learning_rate: float = 2e-4
    epochs: float = 2.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 4
    grad_accumulation: int = 1
    max_length: int = 512
    eval_steps: int = 50  # also the checkpoint interval
    logging_steps: int = 10
    early_stopping_patience: int = 3  # evaluations without improvement; 0 = off
    seed: int = 42
    # Recomputes activations in the backward pass instead of keeping them: less memory, and on
    # 2 CPU cores also faster (measured: 91-96 vs 79 tokens/s, bf16; benchmarks/train_speed.py).
    gradient_checkpointing: bool = True
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA and bf16-capable CPUs), "fp32", "bf16"
    warmup: float = 0.03  # share of the steps
    report_to: str = "auto"  # MLflow when installed; "none" turns it off

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """The config a run recorded; keys this version does not know are dropped."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass
class TrainingPlan:
    """One run's id, folder, data and (when resuming) the checkpoint to continue from."""

    run_id: str
    folder: Path
    build: DatasetBuild
    resume_from: str | None = None
    previous_duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def checkpoints(self) -> Path:
        return self.folder / CHECKPOINTS

    @property
    def adapter(self) -> Path:
        return self.folder / ADAPTER


def models_root(settings: TwinSettings) -> Path:
    return settings.workspace / "models"


def run_folder(settings: TwinSettings, run_id: str) -> Path:
    return (models_root(settings) / run_id).resolve()


def latest_checkpoint(folder: Path) -> Path | None:
    steps = [(int(p.name.rsplit("-", 1)[-1]), p) for p in Path(folder).glob("checkpoint-*")
             if p.name.rsplit("-", 1)[-1].isdigit() and (p / "trainer_state.json").exists()]
    return max(steps)[1] if steps else None


def run_to_resume(sessions: sessionmaker[Session], kind: str, run_id: str | None) -> tuple[TrainingRun, Path]:
    """The run to continue (`run_id`, or the newest unfinished one of `kind`) and its checkpoint."""
    with sessions() as session:
        run = registry.get_run(session, run_id) if run_id else registry.latest_unfinished_run(session, kind)
    if run is None:
        raise NotFoundError(f"No unfinished {kind.upper()} run to resume; pass a run id "
                            "(`twin models` lists them).")
    if run.kind != kind:
        raise InputError(f"Run {run.id!r} is a {run.kind} run; resume it with "
                         f"`twin train {run.kind} --resume {run.id}`.")
    checkpoints = Path(run.adapter_path).parent / CHECKPOINTS
    checkpoint = latest_checkpoint(checkpoints)
    if checkpoint is None:
        raise TrainingError(f"Run {run.id!r} has no checkpoint in {checkpoints} to resume from; "
                            "start a new run instead.")
    return run, checkpoint


def reopen_run(sessions: sessionmaker[Session], run_id: str, config: dict[str, Any]) -> None:
    def reopen() -> None:
        with sessions() as session:
            run = registry.finish_run(session, run_id, status="running")
            run.hyperparameters = {**run.hyperparameters, "config": config}
            session.commit()

    on_main(reopen)


def is_main_process() -> bool:
    """False in the extra processes `accelerate launch` starts (one per GPU): only the main one
    writes to the registry, saves the adapter and measures perplexity."""
    from accelerate import PartialState

    return PartialState().is_main_process


def on_main(make: Callable[[], T]) -> T:
    """`make()` on the main process only; every process gets its result."""
    from accelerate import PartialState

    state = PartialState()
    value = make() if state.is_main_process else None
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        shared = [value]
        broadcast_object_list(shared, from_process=0)
        value = shared[0]
    return cast(T, value)  # set on the main process, broadcast to the others


def execute(sessions: sessionmaker[Session], plan: TrainingPlan,
            fit: Callable[[], dict[str, Any]]) -> TrainingRun | None:
    """Run `fit` and record the outcome; a failed or interrupted run stays resumable.
    None in the extra processes of a multi-GPU run (the main one records it)."""
    started = time.perf_counter()
    main = is_main_process()
    try:
        metrics = fit()
    except BaseException as error:  # KeyboardInterrupt (Ctrl-C) too: recorded as interrupted
        if main:
            status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            with sessions() as session:
                registry.finish_run(session, plan.run_id, status=status,
                                    duration_s=plan.previous_duration_s + time.perf_counter() - started)
        raise
    if not main:
        return None
    with sessions() as session:
        return registry.finish_run(session, plan.run_id, status="finished", metrics=metrics,
                                   duration_s=plan.previous_duration_s + time.perf_counter() - started)


def report_to(choice: str) -> str | list[str]:
    """"auto": MLflow when it is installed (it reads MLFLOW_TRACKING_URI), else no tracker."""
    if choice == "auto":
        return ["mlflow"] if importlib.util.find_spec("mlflow") is not None else "none"
    return choice


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16 or AMX), where bf16 autocast speeds up the
    matrix products; elsewhere torch emulates bf16 and it is slower than float32."""
    import torch

    cpu = getattr(torch, "cpu", None)
    return any(bool(getattr(cpu, name, lambda: False)()) for name in
               ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def resolve_precision(choice: str, device: str) -> str:
    """"fp32" or "bf16" (autocast; the weights and the LoRA adapter stay float32 on CPU).
    "auto": bf16 on a CUDA GPU and on CPUs with bf16 instructions, float32 elsewhere. Measured on
    SmolLM2-135M LoRA, 2 AVX512-BF16 cores: bf16 autocast trained at 79 tokens/s against 65-70 in
    float32, its loss curve within 0.5% of float32's (benchmarks/train_speed.py)."""
    if choice not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, not {choice!r}.")
    if choice != "auto":
        return choice
    return "bf16" if device == "cuda" or (device == "cpu" and cpu_has_native_bf16()) else "fp32"


def trainer_arguments(config: TrainingConfig, device: str, *, has_eval: bool) -> dict[str, Any]:
    """TrainingArguments shared by SFT and DPO: steps, batches, precision, eval and checkpoints."""
    stop_early = has_eval and config.early_stopping_patience > 0
    precision = resolve_precision(config.precision, device)
    return dict(
        learning_rate=config.learning_rate, num_train_epochs=config.epochs, max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accumulation, warmup_steps=config.warmup,
        gradient_checkpointing=config.gradient_checkpointing, bf16=precision == "bf16",
        use_cpu=device == "cpu", seed=config.seed, data_seed=config.seed,
        eval_strategy="steps" if has_eval else "no", eval_steps=config.eval_steps,
        save_strategy="steps", save_steps=config.eval_steps, save_total_limit=2,
        load_best_model_at_end=stop_early, metric_for_best_model="eval_loss" if stop_early else None,
        greater_is_better=False if stop_early else None,
        logging_steps=config.logging_steps, disable_tqdm=True,
        report_to=report_to(config.report_to), dataloader_num_workers=0,
    )


def early_stopping(config: TrainingConfig, has_eval: bool) -> list:
    """Early stopping on the eval loss, and no lone evaluation at the end of a run (see below)."""
    if not has_eval:
        return []
    lone = [skip_lone_final_evaluation()]
    if config.early_stopping_patience <= 0:
        return lone
    from transformers import EarlyStoppingCallback

    return [EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience), *lone]


def skip_lone_final_evaluation():
    """A callback that cancels the Trainer's end-of-run evaluation when the run evaluated nothing
    before it (a run shorter than eval_steps). That pass only serves to pick the best checkpoint,
    and there is none to pick from; the held-out pass after training measures the final model.
    On 2 cores it cost more than the training itself on short runs (a 132-sample test split:
    512 s after 250 s of six steps). Runs that did evaluate keep it, so the best checkpoint is
    still chosen among all of them."""
    from transformers import TrainerCallback

    class SkipLoneFinalEvaluation(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            at_cadence = state.eval_steps and state.global_step % state.eval_steps == 0
            evaluated = state.best_metric is not None or any("eval_loss" in e for e in state.log_history)
            if state.global_step >= state.max_steps and not at_cadence and not evaluated:
                control.should_evaluate = False
            return control

    return SkipLoneFinalEvaluation()


def quiet_printer(trainer) -> None:
    """Progress is shown by the caller's callback (the CLI's Rich bar), not as raw log dicts."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def save_adapter(trainer, adapter: Path) -> None:
    """The adapter and its tokenizer (chat template included), written beside and renamed into
    place, so a crash never leaves half an adapter."""
    partial = adapter.with_name(adapter.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    trainer.processing_class.save_pretrained(str(partial))
    shutil.rmtree(adapter, ignore_errors=True)
    partial.rename(adapter)


def without_autocast(trainer):
    """The trained model without the bf16 autocast wrapper the Trainer (accelerate) put on its
    forward: held-out perplexity is then measured in float32, as loading the run later measures it."""
    return trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)


def training_metrics(trainer, output) -> dict[str, Any]:
    runtime = float(output.metrics.get("train_runtime") or 0.0)
    curve = [[entry["step"], entry["loss"]] for entry in trainer.state.log_history if "loss" in entry]
    metrics = {"steps": trainer.state.global_step, "train_loss": float(output.training_loss),
               "loss_curve": curve, "train_runtime_s": runtime}
    tokens = int(getattr(trainer, "_total_train_tokens", 0) or 0)  # SFTTrainer counts real tokens
    if tokens:
        metrics.update(train_tokens=tokens, tokens_per_s=tokens / runtime if runtime else None)
    return metrics


def lora_config(config: TrainingConfig):
    from peft import LoraConfig

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.target_modules, task_type="CAUSAL_LM")
