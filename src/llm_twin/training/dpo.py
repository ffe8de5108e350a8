"""DPO with TRL's DPOTrainer, on top of an SFT run.

The SFT adapter is merged into the base first; a new LoRA adapter is then trained on the
preference pairs (chosen = the owner's real text, rejected = a base-model draft). With a LoRA
adapter, TRL's reference model is the same network with the adapter switched off, which is
exactly the SFT model. Loading a DPO run merges both adapters in order (`adapter_stack`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.loading import adapter_stack, load_base_model, load_tuned_model, resolve_device
from llm_twin.config import TwinSettings
from llm_twin.errors import TrainingError
from llm_twin.storage.models import TrainingRun
from llm_twin.training import registry
from llm_twin.training.dataset_build import (DatasetError, load_conversations, load_preferences,
                                             resolve_build)
from llm_twin.training.metrics import ImpostorSet, heldout_metrics
from llm_twin.training.runs import (ADAPTER, TrainingConfig, TrainingPlan, early_stopping, execute,
                                    is_main_process, lora_config, on_main, quiet_printer, reopen_run,
                                    run_folder, run_to_resume, save_adapter, trainer_arguments,
                                    training_metrics, without_autocast)
from llm_twin.training.sft import EvalOptions

PREFERENCE_TRAIN = "preference_train.jsonl"
PREFERENCE_TEST = "preference_test.jsonl"


@dataclass
class DpoConfig(TrainingConfig):
    learning_rate: float = 5e-5
    epochs: float = 1.0
    batch_size: int = 2
    grad_accumulation: int = 2
    warmup: float = 0.1
    beta: float = 0.1  # how far the policy may move from the SFT model


def train_dpo(settings: TwinSettings, sessions: sessionmaker[Session], config: DpoConfig | None = None,
              *, sft_run_id: str | None = None, dataset_id: str | None = None,
              callbacks: Sequence = (), evaluation: EvalOptions | None = None) -> TrainingRun | None:
    """A DPO adapter on top of `sft_run_id` (default: the newest finished SFT run), trained on the
    preference pairs of `dataset_id` (default: the SFT run's own build)."""
    config = config or DpoConfig()
    with sessions() as session:
        parent = _parent_run(session, sft_run_id)
        build = resolve_build(settings.workspace, dataset_id or parent.dataset_id)
        if not load_preferences(build.path(PREFERENCE_TRAIN)):
            raise DatasetError(f"{build.path(PREFERENCE_TRAIN)} has no preference pairs; build them with "
                               "`twin dataset build` (see its --help) first.")
    evaluation = evaluation or EvalOptions()
    impostor = evaluation.impostor_set(build)

    def record() -> str:
        with sessions() as session:
            run_id = registry.new_run_id("dpo", session)
            adapter = str(run_folder(settings, run_id) / ADAPTER)
            registry.record_run(
                session, run_id=run_id, kind="dpo", parent_id=parent.id, base_model=parent.base_model,
                gguf_file=parent.gguf_file, dataset_id=build.id, adapter_path=adapter,
                hyperparameters={"config": asdict(config),
                                 "dataset_sha256": build.sha256((PREFERENCE_TRAIN, PREFERENCE_TEST)),
                                 # how to load: merge the SFT adapter(s) into the base, then this one
                                 "adapter_stack": [*adapter_stack(parent), adapter]},
                lineage=registry.build_lineage(
                    session, build.id, registry.read_card(build.folder), parent=parent,
                    dataset_sha256=build.sha256((PREFERENCE_TRAIN, PREFERENCE_TEST))))
        return run_id

    run_id = on_main(record)
    plan = TrainingPlan(run_id, run_folder(settings, run_id), build, extra={"parent_id": parent.id})
    return execute(sessions, plan, lambda: _fit(settings, sessions, config, plan, callbacks,
                                                 evaluation, impostor))


def resume_dpo(settings: TwinSettings, sessions: sessionmaker[Session], run_id: str | None = None, *,
               max_steps: int | None = None, epochs: float | None = None, callbacks: Sequence = (),
               evaluation: EvalOptions | None = None) -> TrainingRun | None:
    run, checkpoint = run_to_resume(sessions, "dpo", run_id)
    config = DpoConfig.from_dict(run.hyperparameters.get("config", {}))
    if max_steps is not None:
        config.max_steps = max_steps
    if epochs is not None:
        config.epochs = epochs
    build = resolve_build(settings.workspace, run.dataset_id)
    evaluation = evaluation or EvalOptions()
    impostor = evaluation.impostor_set(build)
    reopen_run(sessions, run.id, asdict(config))
    plan = TrainingPlan(run.id, Path(run.adapter_path).parent, build, resume_from=str(checkpoint),
                        previous_duration_s=run.duration_s or 0.0, extra={"parent_id": run.parent_id})
    return execute(sessions, plan, lambda: _fit(settings, sessions, config, plan, callbacks,
                                                 evaluation, impostor))


def _parent_run(session: Session, sft_run_id: str | None) -> TrainingRun:
    if sft_run_id is None:
        parent = registry.latest_run(session, "sft", status="finished")
        if parent is None:
            raise TrainingError("DPO starts from a fine-tuned model: run `twin train sft` first.")
        return parent
    parent = registry.get_run(session, sft_run_id)
    if parent.kind != "sft" or parent.status != "finished":
        raise TrainingError(f"Run {sft_run_id!r} is a {parent.status} {parent.kind} run; DPO needs "
                            "a finished SFT run.")
    return parent


def build_trainer(settings: TwinSettings, parent: TrainingRun, config: DpoConfig, plan: TrainingPlan,
                  callbacks: Sequence = ()):
    """The DPOTrainer on the merged SFT model, and its tokenizer."""
    import datasets
    from trl import DPOConfig as TrlDpoConfig, DPOTrainer

    device = resolve_device(settings.device)
    model, tokenizer = load_tuned_model(parent, settings, place=False)
    model.train()
    train = load_preferences(plan.build.path(PREFERENCE_TRAIN))
    test = load_preferences(plan.build.path(PREFERENCE_TEST))
    args = TrlDpoConfig(output_dir=str(plan.checkpoints), max_length=config.max_length, beta=config.beta,
                        **trainer_arguments(config, device, has_eval=bool(test)))
    trainer = DPOTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(train),
                         eval_dataset=datasets.Dataset.from_list(test) if test else None,
                         processing_class=tokenizer, peft_config=lora_config(config),
                         callbacks=[*early_stopping(config, bool(test)), *callbacks])
    quiet_printer(trainer)
    return trainer, tokenizer


def _fit(settings: TwinSettings, sessions: sessionmaker[Session], config: DpoConfig, plan: TrainingPlan,
         callbacks: Sequence, evaluation: EvalOptions, impostor: ImpostorSet) -> dict[str, Any]:
    with sessions() as session:
        parent = registry.get_run(session, plan.extra["parent_id"])
    trainer, tokenizer = build_trainer(settings, parent, config, plan, callbacks)
    output = trainer.train(resume_from_checkpoint=plan.resume_from)
    metrics = training_metrics(trainer, output)
    if trainer.eval_dataset is not None:
        evaluated = _final_evaluation(trainer) or trainer.evaluate()
        metrics.update(eval_loss=evaluated["eval_loss"],
                       eval_reward_accuracy=evaluated.get("eval_rewards/accuracies"),
                       eval_reward_margin=evaluated.get("eval_rewards/margins"))
    if not is_main_process():
        return metrics
    save_adapter(trainer, plan.adapter)
    if evaluation.heldout:
        metrics.update(_perplexities(settings, parent, without_autocast(trainer), tokenizer, plan, config,
                                     impostor))
    return {**metrics, "train_pairs": len(trainer.train_dataset), "parent_id": parent.id}


def _final_evaluation(trainer) -> dict[str, Any] | None:
    """The evaluation the Trainer logged at the run's last step, when the model it measured is the
    one kept (no earlier best checkpoint loaded): evaluating it again would repeat the same pass."""
    state = trainer.state
    last = next((e for e in reversed(state.log_history) if "eval_loss" in e), None)
    if last is None or last.get("step") != state.global_step:
        return None
    best = state.best_model_checkpoint
    if best is not None and not best.endswith(f"checkpoint-{state.global_step}"):
        return None
    return last


def _sft_run_perplexities(parent, plan, config) -> dict[str, Any] | None:
    """The base and SFT perplexities the SFT run recorded, when it measured the same test split
    with the same max_length; None otherwise."""
    measured = parent.metrics or {}
    same_split = (parent.dataset_id == plan.build.id and
                  (parent.hyperparameters or {}).get("config", {}).get("max_length") == config.max_length)
    keys = ("perplexity_author_base", "perplexity_author_tuned")
    if not same_split or any(measured.get(key) is None for key in keys):
        return None
    return {"perplexity_author_base": measured["perplexity_author_base"],
            "perplexity_author_sft": measured["perplexity_author_tuned"],
            "perplexities_from": parent.id}


def _perplexities(settings, parent, tuned, tokenizer, plan, config, impostor: ImpostorSet) -> dict[str, Any]:
    """The author's SFT test split and the impostor under the base, the SFT model and this one."""
    test = load_conversations(plan.build.path("test.jsonl"))
    options = dict(impostor=impostor, max_length=config.max_length)
    measured = _sft_run_perplexities(parent, plan, config)
    if measured is not None and not impostor.conversations:
        # The SFT run measured base and SFT on this same split: two passes fewer.
        return {**measured, **heldout_metrics({"tuned": (tuned, tokenizer)}, test, **options)}
    base, base_tokenizer = load_base_model(settings, model=parent.base_model, gguf_file=parent.gguf_file)
    metrics = heldout_metrics({"base": (base, base_tokenizer)}, test, **options)
    del base
    with tuned.disable_adapter():  # the merged SFT model
        metrics.update(heldout_metrics({"sft": (tuned, tokenizer)}, test, **options))
    metrics.update(heldout_metrics({"tuned": (tuned, tokenizer)}, test, **options))
    return metrics
