"""LoRA supervised fine-tuning with TRL's SFTTrainer on a dataset build, recorded in the registry.

Samples are tokenised by `chat_tokens` (the serving chat template; loss on the assistant's words
and their end-of-turn token) and handed to SFTTrainer already prepared. Checkpoints go to
`<workspace>/models/<run-id>/checkpoints` (resumable), the adapter to `.../adapter`.
Precision "auto" trains with bf16 autocast on a CUDA GPU and on CPUs with bf16 instructions
(AVX512-BF16, AMX), float32 elsewhere; `qlora=True` loads the base in 4 bits (bitsandbytes).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.loading import load_base_model, resolve_device
from llm_twin.config import TwinSettings
from llm_twin.errors import InputError, TrainingError
from llm_twin.storage.models import TrainingRun
from llm_twin.training import registry
from llm_twin.training.dataset_build import (DatasetBuild, DatasetError, load_conversations,
                                             resolve_build)
from llm_twin.training.metrics import (IMPOSTOR_DOCUMENTS, ImpostorSet, heldout_metrics,
                                       load_impostor_set)
from llm_twin.training.runs import (ADAPTER, TrainingConfig, TrainingPlan, early_stopping, execute,
                                    is_main_process, lora_config, on_main, quiet_printer, reopen_run,
                                    run_folder, run_to_resume, save_adapter, trainer_arguments,
                                    training_metrics, without_autocast)


@dataclass
class SftConfig(TrainingConfig):
    base_model: str = "smollm2"
    gguf_file: str | None = None
    packing: bool = False
    qlora: bool = False


@dataclass
class EvalOptions:
    """Held-out perplexity after the run: the test split, and an impostor corpus when present."""

    impostor_folder: Path | None = None  # default: ../shared/corpora/jbranchaud_til (TWIN_CORPORA)
    impostor_documents: int = IMPOSTOR_DOCUMENTS
    heldout: bool = True  # False: no perplexities at all (speed benchmarks)

    def impostor_set(self, build: DatasetBuild) -> ImpostorSet:
        """Loaded before training starts, so an unusable impostor folder fails in seconds."""
        if not self.heldout:
            return ImpostorSet(note="held-out evaluation off")
        folder = Path(self.impostor_folder) if self.impostor_folder else None
        return load_impostor_set(folder, build, documents=self.impostor_documents)


def train_sft(settings: TwinSettings, sessions: sessionmaker[Session], config: SftConfig | None = None,
              *, dataset_id: str | None = None, callbacks: Sequence = (),
              evaluation: EvalOptions | None = None) -> TrainingRun | None:
    """Train a new LoRA adapter on the build's train split; evaluate on its test split."""
    config = config or SftConfig()
    build = resolve_build(settings.workspace, dataset_id)
    if not load_conversations(build.path("train.jsonl")):
        raise DatasetError(f"{build.path('train.jsonl')} has no samples; import more of your "
                           "writing and run `twin dataset build` again.")
    evaluation = evaluation or EvalOptions()
    impostor = evaluation.impostor_set(build)

    def record() -> str:
        with sessions() as session:
            run_id = registry.new_run_id("sft", session)
            adapter = str(run_folder(settings, run_id) / ADAPTER)
            registry.record_run(session, run_id=run_id, kind="sft", base_model=config.base_model,
                                gguf_file=config.gguf_file, dataset_id=build.id, adapter_path=adapter,
                                hyperparameters={"config": asdict(config), "dataset_sha256": build.sha256(),
                                                 "adapter_stack": [adapter]},
                                lineage=registry.build_lineage(session, build.id,
                                                               registry.read_card(build.folder),
                                                               dataset_sha256=build.sha256()))
        return run_id

    run_id = on_main(record)
    plan = TrainingPlan(run_id, run_folder(settings, run_id), build)
    return execute(sessions, plan, lambda: _fit(settings, config, plan, callbacks, evaluation,
                                                 impostor))


def resume_sft(settings: TwinSettings, sessions: sessionmaker[Session], run_id: str | None = None, *,
               max_steps: int | None = None, epochs: float | None = None, callbacks: Sequence = (),
               evaluation: EvalOptions | None = None) -> TrainingRun | None:
    """Continue a run from its latest checkpoint: `run_id`, or the newest unfinished SFT run.
    A larger `max_steps` / `epochs` extends a run that already finished."""
    run, checkpoint = run_to_resume(sessions, "sft", run_id)
    config = SftConfig.from_dict(run.hyperparameters.get("config", {}))
    if max_steps is not None:
        config.max_steps = max_steps
    if epochs is not None:
        config.epochs = epochs
    build = resolve_build(settings.workspace, run.dataset_id)
    evaluation = evaluation or EvalOptions()
    impostor = evaluation.impostor_set(build)
    reopen_run(sessions, run.id, asdict(config))
    plan = TrainingPlan(run.id, Path(run.adapter_path).parent, build, resume_from=str(checkpoint),
                        previous_duration_s=run.duration_s or 0.0)
    return execute(sessions, plan, lambda: _fit(settings, config, plan, callbacks, evaluation,
                                                 impostor))


def build_trainer(settings: TwinSettings, config: SftConfig, plan: TrainingPlan, callbacks: Sequence = ()):
    """The SFTTrainer for a run, plus the tokenizer and the test conversations."""
    from trl import SFTConfig as TrlSftConfig, SFTTrainer

    from llm_twin.training.chat_tokens import tokenized_dataset

    device = resolve_device(settings.device)
    model, tokenizer = load_base_model(settings, model=config.base_model, gguf_file=config.gguf_file,
                                       quantization_config=quantization_config(config, device),
                                       place=False)
    train = load_conversations(plan.build.path("train.jsonl"))
    test = load_conversations(plan.build.path("test.jsonl"))
    train_data = tokenized_dataset(tokenizer, train, config.max_length)
    if len(train_data) == 0:
        raise InputError(f"No training sample keeps any of its answer within max_length="
                         f"{config.max_length} tokens (the prompt alone fills it); raise max_length.")
    eval_data = by_length(tokenized_dataset(tokenizer, test, config.max_length)) if test else None
    args = TrlSftConfig(output_dir=str(plan.checkpoints), max_length=config.max_length,
                        packing=config.packing, eval_packing=False,
                        **trainer_arguments(config, device, has_eval=eval_data is not None))
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data,
                         processing_class=tokenizer, peft_config=lora_config(config),
                         callbacks=[*early_stopping(config, eval_data is not None), *callbacks])
    quiet_printer(trainer)
    return trainer, tokenizer, test


def by_length(data):
    """Samples sorted by length: evaluation batches of similar lengths carry less padding (15% fewer
    positions on brandur_fragments' test split at batch 4) for the same samples."""
    lengths = [len(ids) for ids in data["input_ids"]]
    return data.select(sorted(range(len(lengths)), key=lengths.__getitem__))


def _fit(settings: TwinSettings, config: SftConfig, plan: TrainingPlan, callbacks: Sequence,
         evaluation: EvalOptions, impostor: ImpostorSet) -> dict[str, Any]:
    trainer, tokenizer, test = build_trainer(settings, config, plan, callbacks)
    output = trainer.train(resume_from_checkpoint=plan.resume_from)
    metrics = training_metrics(trainer, output)
    if not is_main_process():
        return metrics
    save_adapter(trainer, plan.adapter)
    metrics.update(train_samples=len(trainer.train_dataset), test_samples=len(test))
    if not evaluation.heldout:
        return metrics
    tuned = without_autocast(trainer)
    with tuned.disable_adapter():  # the base model, without loading it again
        metrics.update(heldout_metrics({"base": (tuned, tokenizer)}, test, impostor=impostor,
                                       max_length=config.max_length))
    metrics.update(heldout_metrics({"tuned": (tuned, tokenizer)}, test, impostor=impostor,
                                   max_length=config.max_length))
    if test:  # the test split's token-weighted loss under the final model (its perplexity's log)
        metrics["eval_loss"] = math.log(metrics["perplexity_author_tuned"])
    return metrics


def quantization_config(config: SftConfig, device: str):
    if not config.qlora:
        return None
    if device != "cuda":
        raise TrainingError("QLoRA (4-bit) needs a CUDA GPU; train without --qlora on this machine.")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainingError("QLoRA needs bitsandbytes: pip install bitsandbytes")
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)
