"""SftConfig and DpoConfig share TrainingConfig's fields; each keeps its own step-size defaults."""

from __future__ import annotations

from dataclasses import asdict

from llm_twin.training.dpo import DpoConfig
from llm_twin.training.runs import TrainingConfig
from llm_twin.training.sft import SftConfig

SHARED = {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear",
          "max_steps": -1, "max_length": 512, "eval_steps": 50, "logging_steps": 10,
          "early_stopping_patience": 3, "seed": 42, "gradient_checkpointing": True,
          "precision": "auto", "report_to": "auto"}


def test_both_configs_are_training_configs_with_the_same_shared_defaults():
    for config in (SftConfig(), DpoConfig()):
        assert isinstance(config, TrainingConfig)
        assert {key: asdict(config)[key] for key in SHARED} == SHARED


STEP_SIZES = ("learning_rate", "epochs", "batch_size", "grad_accumulation", "warmup")


def test_each_run_kind_keeps_its_own_defaults():
    sft, dpo = asdict(SftConfig()), asdict(DpoConfig())
    assert [sft[key] for key in STEP_SIZES] == [2e-4, 2.0, 4, 1, 0.03]
    assert [dpo[key] for key in STEP_SIZES] == [5e-5, 1.0, 2, 2, 0.1]
    assert sft.keys() - dpo.keys() == {"base_model", "gguf_file", "packing", "qlora"}
    assert dpo.keys() - sft.keys() == {"beta"}
    assert (sft["base_model"], sft["gguf_file"], sft["packing"], sft["qlora"]) == (
        "smollm2", None, False, False)
    assert dpo["beta"] == 0.1


def test_a_recorded_config_comes_back_as_its_own_kind_without_unknown_keys():
    recorded = {**asdict(DpoConfig(beta=0.3, max_steps=7)), "key_from_a_newer_version": 1}
    assert DpoConfig.from_dict(recorded) == DpoConfig(beta=0.3, max_steps=7)
    assert type(SftConfig.from_dict({"qlora": True})) is SftConfig
    assert SftConfig.from_dict({"qlora": True, "beta": 0.5}) == SftConfig(qlora=True)
