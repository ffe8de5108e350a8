"""What makes `twin train` as fast as plain TRL: the precision choice (bf16 autocast where the CPU
has bf16 instructions, with the float32 loss curve), and no lone evaluation pass at the end of a
run that evaluated nothing before. Real SmolLM2 on the tiny build; a few steps each."""

from __future__ import annotations

import pytest
from transformers import TrainerCallback

from llm_twin.config import ensure_workspace, load_settings
from llm_twin.errors import InputError
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training import runs
from llm_twin.training.dpo import DpoConfig
from llm_twin.training.runs import resolve_precision, trainer_arguments
from llm_twin.training.sft import EvalOptions, SftConfig, train_sft

from sft_helpers import MODEL_CACHE, write_build

NO_HELDOUT = EvalOptions(heldout=False)


def test_precision_auto_follows_the_device_and_the_cpu(monkeypatch):
    assert resolve_precision("fp32", "cuda") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cuda") == "bf16"
    monkeypatch.setattr(runs, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == "bf16"
    assert trainer_arguments(SftConfig(), "cpu", has_eval=False)["bf16"] is True
    assert trainer_arguments(SftConfig(precision="fp32"), "cpu", has_eval=False)["bf16"] is False
    # Gradient checkpointing is on by default: measured faster on CPU (see train_speed.py).
    assert trainer_arguments(SftConfig(), "cpu", has_eval=False)["gradient_checkpointing"] is True
    assert trainer_arguments(DpoConfig(), "cpu", has_eval=False)["gradient_checkpointing"] is True
    monkeypatch.setattr(runs, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == "fp32"  # emulated bf16 is slower than float32
    with pytest.raises(InputError, match="precision must be one of auto, fp32, bf16"):
        resolve_precision("fp16", "cpu")


def test_cpu_capability_is_read_from_torch():
    import torch

    assert runs.cpu_has_native_bf16() == (torch.cpu._is_avx512_bf16_supported()
                                           or torch.cpu._is_amx_tile_supported())


class CountEvaluations(TrainerCallback):
    def __init__(self):
        self.steps: list[int] = []

    def on_evaluate(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


@pytest.fixture
def workspace(tmp_path):
    settings = load_settings(tmp_path / "ws", cache_dir=MODEL_CACHE, device="cpu")
    ensure_workspace(settings)
    write_build(settings.workspace)
    return settings, session_factory(create_warehouse_engine(settings.resolved_database_url))


@pytest.mark.models
def test_a_run_shorter_than_eval_steps_is_not_evaluated_inside_training(workspace):
    settings, sessions = workspace
    counted = CountEvaluations()
    run = train_sft(settings, sessions, SftConfig(max_steps=2, batch_size=2, eval_steps=50),
                    callbacks=[counted], evaluation=NO_HELDOUT)
    assert counted.steps == []  # before: a whole pass over the test split inside train_runtime
    assert run.status == "finished" and run.metrics["steps"] == 2
    # The end-of-run checkpoint is still written: the run can be extended with --resume.
    assert (settings.workspace / "models" / run.id / "checkpoints" / "checkpoint-2").is_dir()


@pytest.mark.models
@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_a_run_that_evaluated_still_evaluates_its_last_step(workspace):
    settings, sessions = workspace
    counted = CountEvaluations()
    train_sft(settings, sessions, SftConfig(max_steps=3, batch_size=2, eval_steps=2),
              callbacks=[counted], evaluation=NO_HELDOUT)
    assert counted.steps == [2, 3]  # the best checkpoint is chosen among all evaluated steps


@pytest.mark.models
@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_bf16_autocast_follows_the_float32_loss_curve(workspace):
    settings, sessions = workspace
    config = SftConfig(max_steps=4, batch_size=4, learning_rate=1e-3, lora_dropout=0.0, warmup=0,
                       logging_steps=1, eval_steps=50)
    curves = {precision: [loss for _, loss in train_sft(
        settings, sessions, SftConfig(**{**config.__dict__, "precision": precision}),
        evaluation=NO_HELDOUT).metrics["loss_curve"]] for precision in ("fp32", "bf16")}
    assert len(curves["bf16"]) == len(curves["fp32"]) == 4
    for fp32, bf16 in zip(curves["fp32"], curves["bf16"]):
        assert bf16 == pytest.approx(fp32, rel=0.05), curves


def test_evaluation_batches_hold_samples_of_similar_length():
    import datasets

    from llm_twin.training.sft import by_length

    data = datasets.Dataset.from_dict({"input_ids": [[1] * n for n in (5, 1, 9, 3)],
                                       "labels": [[1] * n for n in (5, 1, 9, 3)]})
    assert [len(ids) for ids in by_length(data)["input_ids"]] == [1, 3, 5, 9]
