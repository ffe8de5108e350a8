"""DPO on top of a (very short) SFT run with the real SmolLM2, and loading the result."""

from __future__ import annotations

import math

import pytest

from llm_twin.backends.loading import LoadOptions, load_tuned_model
from llm_twin.config import ensure_workspace, load_settings
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training import registry
from llm_twin.training.dataset_build import load_conversations
from llm_twin.training.dpo import DpoConfig, train_dpo
from llm_twin.training.metrics import perplexity
from llm_twin.training.sft import EvalOptions, SftConfig, train_sft

from sft_helpers import MODEL_CACHE, write_build

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("dpo") / "ws", cache_dir=MODEL_CACHE, device="cpu")
    ensure_workspace(settings)
    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    write_build(settings.workspace)
    no_impostor = EvalOptions(impostor_documents=0)
    sft = train_sft(settings, sessions, SftConfig(max_steps=2, learning_rate=3e-3, eval_steps=100),
                    evaluation=no_impostor)
    dpo = train_dpo(settings, sessions, DpoConfig(max_steps=2, learning_rate=1e-3, batch_size=2,
                                                  grad_accumulation=1, eval_steps=100, logging_steps=1),
                    evaluation=no_impostor)
    return settings, sessions, sft, dpo


def test_dpo_trains_an_adapter_on_top_of_the_sft_run(runs):
    _, sessions, sft, dpo = runs
    with sessions() as session:
        stored = registry.get_run(session, dpo.id)
    assert stored.kind == "dpo" and stored.status == "finished" and stored.parent_id == sft.id
    assert stored.dataset_id == sft.dataset_id and stored.base_model == "smollm2"
    assert stored.hyperparameters["adapter_stack"] == [sft.adapter_path, dpo.adapter_path]
    assert stored.metrics["steps"] == 2 and len(stored.metrics["loss_curve"]) == 2
    # The held-out pair is also a training pair: two steps already prefer the real text.
    assert stored.metrics["eval_reward_margin"] > 0


def test_dpo_measures_base_sft_and_tuned_perplexity(runs):
    _, _, sft, dpo = runs
    m = dpo.metrics
    for key in ("perplexity_author_base", "perplexity_author_sft", "perplexity_author_tuned"):
        assert math.isfinite(m[key]), key
    # The reference model is the SFT model itself (base + merged SFT adapter).
    assert m["perplexity_author_sft"] == pytest.approx(sft.metrics["perplexity_author_tuned"], rel=1e-3)
    assert m["perplexity_author_base"] == pytest.approx(sft.metrics["perplexity_author_base"], rel=1e-3)
    assert m["impostor_note"] == "impostor corpus skipped"
    assert m["perplexities_from"] == sft.id  # same split and length: not measured twice


def test_loading_a_dpo_run_merges_both_adapters(runs):
    settings, _, _, dpo = runs
    model, tokenizer = load_tuned_model(dpo, LoadOptions(cache_dir=MODEL_CACHE, device="cpu"))
    test = load_conversations(settings.workspace / "datasets" / dpo.dataset_id / "test.jsonl")
    assert perplexity(model, tokenizer, test).value == pytest.approx(
        dpo.metrics["perplexity_author_tuned"], rel=1e-3)


def test_dpo_uses_the_newest_finished_sft_run_and_can_be_selected(runs):
    _, sessions, sft, dpo = runs
    with sessions() as session:
        assert registry.latest_run(session, "sft", status="finished").id == sft.id
        registry.use_run(session, dpo.id)
        assert registry.active_run(session).id == dpo.id
