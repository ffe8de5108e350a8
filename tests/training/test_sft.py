"""LoRA SFT with the real SmolLM2 on a tiny build: template match, labels, loss, stopping, resume.

Few steps and very short samples keep this quick on 2 CPU cores; the learning rate is high so a
dozen steps are enough for the model to learn four short posts (and where each one ends).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from transformers import TrainerCallback

from llm_twin.backends.base import GenerationParams
from llm_twin.backends.loading import LoadOptions, load_tuned_model
from llm_twin.backends.transformers_backend import TransformersBackend
from llm_twin.app.workspace import Workspace
from llm_twin.config import ensure_workspace, load_settings
from llm_twin.prompts.wording import system_message
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training import registry
from llm_twin.training.chat_tokens import IGNORE, assistant_spans, tokenize_conversation
from llm_twin.training.dataset_build import load_conversations
from llm_twin.training.metrics import perplexity
from llm_twin.training.sft import EvalOptions, SftConfig, resume_sft, train_sft

from sft_helpers import MODEL_CACHE, POSTS, SYSTEM, write_build, write_impostor

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE, device="cpu")
    backend.load()
    return backend


def _workspace(root: Path):
    settings = load_settings(root, cache_dir=MODEL_CACHE, device="cpu")
    ensure_workspace(settings)
    return settings, session_factory(create_warehouse_engine(settings.resolved_database_url))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short SFT run on four posts, shared by the tests that inspect its outcome."""
    root = tmp_path_factory.mktemp("sft")
    settings, sessions = _workspace(root / "ws")
    write_build(settings.workspace)
    config = SftConfig(max_steps=12, learning_rate=3e-3, batch_size=4, lora_dropout=0.0, warmup=0,
                       logging_steps=1, eval_steps=100)
    run = train_sft(settings, sessions, config,
                    evaluation=EvalOptions(write_impostor(root / "impostor"), impostor_documents=2))
    return settings, sessions, run


def test_training_text_is_the_serving_prompt_plus_the_answer(backend):
    messages = [{"role": "system", "content": system_message("Dana")},
                {"role": "user", "content": "Write a LinkedIn post about keeping queues in Postgres."},
                {"role": "assistant", "content": "We kept the queue in Postgres.\n\nBoring wins."}]
    tokenizer = backend.tokenizer
    text, [(start, end)] = assistant_spans(tokenizer, messages)
    serving_prompt = backend.render_prompt(messages[:-1])
    assert text[:start] == serving_prompt
    assert text[start:end] == messages[-1]["content"] + "<|im_end|>"

    sample = tokenize_conversation(tokenizer, messages)
    first_target = next(i for i, label in enumerate(sample.labels) if label != IGNORE)
    served_ids = tokenizer(serving_prompt, add_special_tokens=False)["input_ids"]
    assert sample.input_ids[:first_target] == served_ids
    assert "SmolLM" not in text  # our system message, not the template's default persona


def test_labels_are_the_answers_with_their_end_of_turn_token(backend):
    tokenizer = backend.tokenizer
    # The trap: SmolLM2 pads with its end-of-turn token, so masking "pad" would hide the stop.
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Hi, are you coming?"},
                {"role": "assistant", "content": "yes!! 10 min"},
                {"role": "user", "content": "Bring the charger."},
                {"role": "assistant", "content": "on it"}]
    sample = tokenize_conversation(tokenizer, messages)
    targets = [token for token in sample.labels if token != IGNORE]
    assert tokenizer.decode(targets) == "yes!! 10 min<|im_end|>on it<|im_end|>"
    assert sample.labels[-1] == IGNORE  # the newline after the last <|im_end|> is never generated
    assert targets[-1] == tokenizer.eos_token_id
    assert all(label in (IGNORE, token) for token, label in zip(sample.input_ids, sample.labels))


def test_long_conversations_lose_their_oldest_turns_first(backend):
    tokenizer = backend.tokenizer
    messages = [{"role": "system", "content": SYSTEM}]
    for i in range(6):
        messages += [{"role": "user", "content": f"question number {i} " * 4},
                     {"role": "assistant", "content": f"answer number {i}"}]
    full = tokenize_conversation(tokenizer, messages)
    cut = tokenize_conversation(tokenizer, messages, max_length=len(full.input_ids) // 2)
    assert len(cut.input_ids) <= len(full.input_ids) // 2
    kept = tokenizer.decode(cut.input_ids)
    assert kept.startswith(f"<|im_start|>system\n{SYSTEM}") and "answer number 5<|im_end|>" in kept
    assert "question number 0" not in kept


def test_loss_falls_on_a_tiny_set(trained):
    _, _, run = trained
    curve = run.metrics["loss_curve"]
    assert [step for step, _ in curve] == list(range(1, 13))
    first, last = curve[0][1], curve[-1][1]
    assert last < first / 3, curve


def test_the_tuned_model_stops_on_its_own(trained):
    settings, _, run = trained
    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE, device="cpu", tuned_run=run)
    prompts = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}] for user in POSTS]
    results = backend.generate(prompts, GenerationParams(max_new_tokens=40, temperature=0.0,
                                                         repetition_penalty=1.0, no_repeat_ngram_size=0))
    assert all(result.finished and result.completion_tokens < 40 for result in results), results
    exact = sum(result.text == answer for result, answer in zip(results, POSTS.values()))
    assert exact >= 3, results


def test_the_run_is_recorded_with_its_metrics_and_adapter(trained):
    settings, sessions, run = trained
    with sessions() as session:
        stored = registry.get_run(session, run.id)
    assert stored.status == "finished" and stored.kind == "sft" and stored.duration_s > 0
    assert stored.dataset_id == "d0000000001" and len(stored.hyperparameters["dataset_sha256"]) == 64
    assert stored.hyperparameters["config"]["lora_r"] == 16
    adapter = Path(stored.adapter_path)
    assert adapter == settings.workspace.resolve() / "models" / run.id / "adapter"
    assert (adapter / "adapter_config.json").exists() and (adapter / "tokenizer_config.json").exists()
    assert not adapter.with_name("adapter.partial").exists()
    m = stored.metrics
    assert m["steps"] == 12 and m["train_tokens"] > 0 and m["tokens_per_s"] > 0
    for key in ("eval_loss", "perplexity_author_base", "perplexity_author_tuned",
                "perplexity_impostor_base", "perplexity_impostor_tuned"):
        assert math.isfinite(m[key]), key
    assert m["perplexity_impostor_tokens"] > 0


def test_loading_the_run_reproduces_the_measured_perplexity(trained):
    settings, _, run = trained
    model, tokenizer = load_tuned_model(run, LoadOptions(cache_dir=MODEL_CACHE, device="cpu"))
    test = load_conversations(settings.workspace / "datasets" / "d0000000001" / "test.jsonl")
    assert perplexity(model, tokenizer, test).value == pytest.approx(
        run.metrics["perplexity_author_tuned"], rel=1e-3)


def test_the_workspace_backend_serves_the_model_in_use(trained):
    settings, sessions, run = trained
    ws = Workspace(settings)
    ws.__dict__["sessions"] = sessions
    with sessions() as session:
        registry.use_run(session, run.id)
    assert ws.backend().model_id == run.id
    assert ws.backend("base").model_id == "smollm2"
    assert ws.backend(run.id).tuned_run.id == run.id
    with sessions() as session:
        registry.use_run(session, None)
    assert ws.backend().model_id == "smollm2"


class StopAfterFirstSave(TrainerCallback):
    """Simulates Ctrl-C right after the first checkpoint is written."""

    def __init__(self):
        self.first_loss = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs and self.first_loss is None:
            self.first_loss = logs["loss"]

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    settings, sessions = _workspace(tmp_path / "ws")
    write_build(settings.workspace)
    config = SftConfig(max_steps=2, batch_size=2, eval_steps=1, logging_steps=1, learning_rate=1e-3)
    stop = StopAfterFirstSave()
    with pytest.raises(KeyboardInterrupt):
        train_sft(settings, sessions, config, callbacks=[stop],
                  evaluation=EvalOptions(impostor_documents=0))
    with sessions() as session:
        [interrupted] = registry.list_runs(session)
    assert interrupted.status == "interrupted"  # Ctrl-C: resumable, not failed
    checkpoints = Path(interrupted.adapter_path).parent / "checkpoints"
    assert [p.name for p in checkpoints.glob("checkpoint-*")] == ["checkpoint-1"]

    run = resume_sft(settings, sessions, evaluation=EvalOptions(impostor_documents=0))
    assert run.id == interrupted.id and run.status == "finished"
    assert run.metrics["steps"] == 2
    # Step 1 was not trained again: its logged loss comes from the interrupted attempt.
    assert run.metrics["loss_curve"][0] == [1, pytest.approx(stop.first_loss)]
    assert [step for step, _ in run.metrics["loss_curve"]] == [1, 2]
    assert (checkpoints / "checkpoint-2").exists()
