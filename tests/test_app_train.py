"""One TrainSpec for `twin train` and the server's train job: how it maps onto each kind's
config."""

from __future__ import annotations

import pytest

from llm_twin.app.train import TrainSpec, dpo_config, sft_config, train
from llm_twin.app.workspace import Workspace
from llm_twin.config import load_settings
from llm_twin.errors import InputError
from llm_twin.training.dpo import DpoConfig
from llm_twin.training.sft import SftConfig


@pytest.fixture
def ws(tmp_path):
    return Workspace(load_settings(tmp_path / "ws", generation_model="some/model",
                                   gguf_file="model.gguf"))


def test_options_left_out_keep_each_kinds_own_defaults(ws):
    spec = TrainSpec(steps=20, max_length=384)
    sft, dpo = sft_config(ws, spec), dpo_config(spec)
    assert (sft.max_steps, sft.max_length, dpo.max_steps, dpo.max_length) == (20, 384, 20, 384)
    assert (sft.batch_size, sft.grad_accumulation) == (SftConfig.batch_size,
                                                       SftConfig.grad_accumulation)
    assert (dpo.batch_size, dpo.grad_accumulation) == (DpoConfig.batch_size,
                                                       DpoConfig.grad_accumulation)
    assert sft.epochs == SftConfig.epochs and dpo.learning_rate == DpoConfig.learning_rate


def test_rank_sets_lora_alpha_and_the_rest_is_passed_through(ws):
    spec = TrainSpec(rank=8, seed=7, patience=0, eval_steps=5, batch_size=3, grad_accumulation=4,
                     learning_rate=1e-3, precision="fp32", report_to="none",
                     gradient_checkpointing=False, beta=0.3, packing=True)
    sft, dpo = sft_config(ws, spec), dpo_config(spec)
    for config in (sft, dpo):
        assert (config.lora_r, config.lora_alpha, config.seed) == (8, 16, 7)
        assert (config.early_stopping_patience, config.eval_steps, config.batch_size) == (0, 5, 3)
        assert (config.grad_accumulation, config.learning_rate) == (4, 1e-3)
        assert (config.precision, config.report_to, config.gradient_checkpointing) == \
            ("fp32", "none", False)
    assert dpo.beta == 0.3 and sft.packing


def test_the_sft_base_is_the_setting_unless_given_and_a_given_base_has_its_own_gguf(ws):
    assert (sft_config(ws, TrainSpec()).base_model, sft_config(ws, TrainSpec()).gguf_file) == \
        ("some/model", "model.gguf")
    other = sft_config(ws, TrainSpec(base_model="other/model"))
    assert (other.base_model, other.gguf_file) == ("other/model", None)


def test_an_unknown_kind_is_refused(ws):
    with pytest.raises(InputError, match="'sft' or 'dpo'"):
        train(ws, TrainSpec(kind="ppo"))
