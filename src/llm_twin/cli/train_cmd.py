"""`twin train sft` and `twin train dpo`: LoRA fine-tuning on your dataset build."""

from __future__ import annotations

from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llm_twin.app.train import TrainSpec, train
from llm_twin.cli.common import console, errors, open_workspace, quiet_libraries, user_errors
from llm_twin.cli.progress import progress_bar

train_app = typer.Typer(
    help="Fine-tune the generation model on your own words (LoRA; TRL + PEFT).\n\n"
         "  twin dataset build            # first: the training data\n\n"
         "  twin train sft --steps 200    # supervised fine-tuning; the result becomes the model in use\n\n"
         "  twin train dpo                # then preference tuning on top of it\n\n"
         "  twin models                   # every run, its metrics, which one twin write uses\n\n"
         "Interrupted runs continue with --resume. --precision auto (the default) trains with bf16 "
         "autocast on a CUDA GPU and on CPUs with bf16 instructions (AVX512-BF16, AMX), float32 "
         "elsewhere; --qlora loads the base in 4 bits.",
    no_args_is_help=True)

Steps = Annotated[int | None, typer.Option("--steps", min=1, help="Optimizer steps (overrides --epochs).")]
Epochs = Annotated[float | None, typer.Option(min=0.01, help="Passes over the training split.")]
LearningRate = Annotated[float | None, typer.Option("--lr", min=0.0, help="Learning rate.")]
Rank = Annotated[int, typer.Option(min=1, help="LoRA rank (alpha is twice the rank).")]
Dataset = Annotated[str | None, typer.Option(help="Dataset build id (default: the newest build).")]
Resume = Annotated[bool, typer.Option(
    "--resume", help="Continue the newest unfinished run (or --run ID) from its latest checkpoint.")]
RunId = Annotated[str | None, typer.Option("--run", help="With --resume: the run to continue.")]
Seed = Annotated[int, typer.Option(help="Seed for adapter initialisation and data order.")]
BatchSize = Annotated[int | None, typer.Option(min=1, help="Samples per device and step.")]
MaxLength = Annotated[int, typer.Option(min=32, help="Longest sample in tokens (longer ones are cut).")]
EvalSteps = Annotated[int, typer.Option(min=1, help="Evaluate and checkpoint every N steps.")]
Patience = Annotated[int, typer.Option(
    min=0, help="Stop after N evaluations without improvement (0 = never).")]
Impostor = Annotated[Path | None, typer.Option(
    help="Another author's folder of .md/.markdown/.txt posts for the held-out comparison "
         "(default: ../shared/corpora/jbranchaud_til, skipped with a note when absent; a given "
         "folder that is missing or holds fewer than 2 texts is an error).")]
ImpostorDocs = Annotated[int, typer.Option(min=0, help="Impostor answer units to score (0 = skip).")]
Use = Annotated[bool, typer.Option("--use/--no-use", help="Make the new model the one twin write uses.")]


class PrecisionChoice(StrEnum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


Precision = Annotated[PrecisionChoice, typer.Option(
    help="Training precision: 'auto' = bf16 autocast on a CUDA GPU or a CPU with bf16 instructions "
         "(faster, same loss curve), else float32; 'fp32'; 'bf16'.")]
Checkpointing = Annotated[bool | None, typer.Option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    help="Recompute activations in the backward pass (less memory; on CPU measured faster). "
         "Default: on for SFT and DPO.")]
ReportTo = Annotated[str, typer.Option(
    help="Experiment tracker: 'auto' (MLflow when installed), 'none', 'mlflow', 'tensorboard'...")]


@train_app.command("sft")
def sft(
    steps: Steps = None, epochs: Epochs = None, lr: LearningRate = None, rank: Rank = 16,
    dataset: Dataset = None, resume: Resume = False, run: RunId = None, seed: Seed = 42,
    base: Annotated[str | None, typer.Option(help="Base model: 'smollm2' (bundled), a Hugging Face id "
                                                  "or a local path (default: generation_model).")] = None,
    gguf_file: Annotated[str | None, typer.Option(help="GGUF file inside --base, if any.")] = None,
    batch_size: BatchSize = None,
    grad_accum: Annotated[int, typer.Option(min=1, help="Gradient accumulation steps.")] = 1,
    max_length: MaxLength = 512, eval_steps: EvalSteps = 50, patience: Patience = 3,
    packing: Annotated[bool, typer.Option(help="Pack several samples into each sequence.")] = False,
    qlora: Annotated[bool, typer.Option(help="Load the base in 4 bits (CUDA + bitsandbytes).")] = False,
    impostor: Impostor = None, impostor_docs: ImpostorDocs = 40, use: Use = True,
    report_to: ReportTo = "auto", precision: Precision = PrecisionChoice.auto,
    gradient_checkpointing: Checkpointing = None,
) -> None:
    """Supervised LoRA fine-tuning on your dataset build (loss on your own words only)."""
    _train(TrainSpec(
        kind="sft", steps=steps, epochs=epochs, learning_rate=lr, rank=rank, dataset_id=dataset,
        resume=resume, run_id=run, seed=seed, base_model=base, gguf_file=gguf_file,
        batch_size=batch_size, grad_accumulation=grad_accum, max_length=max_length,
        eval_steps=eval_steps, patience=patience, packing=packing, qlora=qlora, impostor=impostor,
        impostor_docs=impostor_docs, use=use, report_to=report_to, precision=precision.value,
        gradient_checkpointing=gradient_checkpointing))


@train_app.command("dpo")
def dpo(
    steps: Steps = None, epochs: Epochs = None, lr: LearningRate = None, rank: Rank = 16,
    beta: Annotated[float, typer.Option(min=0.0, help="How far DPO may move from the SFT model.")] = 0.1,
    sft_run: Annotated[str | None, typer.Option(
        "--from", help="The SFT run to start from (default: the newest finished one).")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="Dataset build with the preference pairs (default: the SFT run's).")] = None,
    resume: Resume = False, run: RunId = None, seed: Seed = 42, batch_size: BatchSize = None,
    max_length: MaxLength = 512, eval_steps: EvalSteps = 50, patience: Patience = 3,
    impostor: Impostor = None, impostor_docs: ImpostorDocs = 40, use: Use = True,
    report_to: ReportTo = "auto", precision: Precision = PrecisionChoice.auto,
    gradient_checkpointing: Checkpointing = None,
) -> None:
    """Preference tuning (DPO) on top of an SFT run: your real text preferred over base-model drafts."""
    _train(TrainSpec(
        kind="dpo", steps=steps, epochs=epochs, learning_rate=lr, rank=rank, beta=beta,
        sft_run_id=sft_run, dataset_id=dataset, resume=resume, run_id=run, seed=seed,
        batch_size=batch_size, max_length=max_length, eval_steps=eval_steps, patience=patience,
        impostor=impostor, impostor_docs=impostor_docs, use=use, report_to=report_to,
        precision=precision.value, gradient_checkpointing=gradient_checkpointing))


def _train(spec: TrainSpec) -> None:
    quiet_libraries()
    with user_errors(), _interrupt_hint(spec.kind):
        ws = open_workspace()
        with progress_bar(transient=False) as progress:
            run = train(ws, spec, progress)
    if run is None:  # an extra process of `accelerate launch`: the main one reports
        return
    console.print(summary_table(run))
    if spec.use:
        console.print(f"[green]twin write now uses {run.id}[/] (`twin models use base` goes back).")
    else:
        console.print(f"Use it with `twin models use {run.id}`.")


@contextmanager
def _interrupt_hint(kind: str):
    try:
        yield
    except KeyboardInterrupt:
        errors.print(f"[yellow]Interrupted:[/] twin train {kind} stopped at its last checkpoint "
                     f"(rerun the same command with --resume to continue).", highlight=False,
                     soft_wrap=True)
        raise typer.Exit(code=130) from None


def summary_table(run) -> Table:
    m = run.metrics or {}
    table = Table(title=f"{run.kind.upper()} run {run.id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = [("steps", m.get("steps")), ("train loss", _num(m.get("train_loss"))),
            ("eval loss" if run.kind == "sft" else "eval DPO loss", _num(m.get("eval_loss"))),
            ("training tokens/s", _num(m.get("tokens_per_s"), 1)),
            ("duration", f"{run.duration_s:.0f} s" if run.duration_s else None)]
    if run.kind == "dpo":
        rows.append(("eval reward accuracy", _num(m.get("eval_reward_accuracy"))))
    rows += [("perplexity, your test posts", perplexity_change(m, "author")),
             ("perplexity, impostor corpus", perplexity_change(m, "impostor") or m.get("impostor_note")),
             ("adapter", run.adapter_path)]
    for name, value in rows:
        if value is not None:
            table.add_row(name, str(value))
    return table


def perplexity_change(metrics: dict, corpus: str) -> str | None:
    base, tuned = metrics.get(f"perplexity_{corpus}_base"), metrics.get(f"perplexity_{corpus}_tuned")
    if base is None or tuned is None:
        return None
    sft = metrics.get(f"perplexity_{corpus}_sft")
    middle = f" → {sft:.1f} (SFT)" if sft is not None else ""
    return f"{base:.1f} (base){middle} → {tuned:.1f} (tuned), {(tuned - base) / base:+.0%}"


def _num(value, digits: int = 3) -> str | None:
    return None if value is None else f"{value:.{digits}f}"
