"""The CTranslate2 backend with the real bundled SmolLM2, converted once into the shared test cache
(int8 as served, float32 for the token-for-token comparison with transformers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_twin.backends.base import GenerationParams
from llm_twin.backends.ct2_convert import MARKER, architecture_of, gguf_architecture
from llm_twin.backends.ctranslate2_backend import (CTranslate2Backend, ensure_run_converted,
                                                   length_groups, resolve_compute_type)
from llm_twin.backends.loading import bundled_smollm2
from llm_twin.backends.transformers_backend import TransformersBackend
from tests.conftest import MODEL_CACHE

pytestmark = pytest.mark.models

PROMPTS = ["Write one sentence about Postgres job queues.",
           "Give me a short tip for writing tests.",
           "What is a good name for a cat?"]
GREEDY = GenerationParams(max_new_tokens=20, temperature=0.0, repetition_penalty=1.0,
                          no_repeat_ngram_size=0)


def chat(question: str) -> list[dict]:
    return [{"role": "system", "content": "You are Maya's writing twin. Answer briefly."},
            {"role": "user", "content": question}]


@pytest.fixture(scope="module")
def backend() -> CTranslate2Backend:
    backend = CTranslate2Backend("smollm2", cache_dir=MODEL_CACHE)
    backend.load()
    return backend


@pytest.fixture(scope="module")
def transformers_backend() -> TransformersBackend:
    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE, device="cpu")
    backend.load()
    return backend


def test_default_compute_type_is_int8_on_a_cpu(backend):
    assert backend.compute_type_used == "int8"
    assert resolve_compute_type("auto", "cuda") == "int8_float16"
    with pytest.raises(ValueError, match="Unknown ct2_compute_type 'int4'"):
        resolve_compute_type("int4", "cpu")


def test_the_conversion_is_cached_with_its_source_key_and_tokenizer(backend):
    folder = backend.model_path
    marker = json.loads((folder / MARKER).read_text())
    assert folder.parent == MODEL_CACHE / "ct2" and folder.name.endswith("-int8")
    assert marker["quantization"] == "int8" and len(marker["key"]) == 16
    assert (folder / "model.bin").exists() and (folder / "tokenizer.json").exists()
    assert not list(folder.parent.glob(folder.name + ".partial*"))
    assert backend.context_window == 8192
    again = CTranslate2Backend("smollm2", cache_dir=MODEL_CACHE)
    again.load()  # no second conversion: the same folder, untouched
    assert again.model_path == folder and (folder / "model.bin").stat().st_mtime_ns == \
        (again.model_path / "model.bin").stat().st_mtime_ns


def test_same_chat_template_as_transformers(backend, transformers_backend):
    messages = chat(PROMPTS[0])
    assert backend.render_prompt(messages) == transformers_backend.render_prompt(messages)
    assert backend.count_tokens("Postgres queues, again.") == \
        transformers_backend.count_tokens("Postgres queues, again.")


def test_greedy_float32_agrees_with_transformers_token_for_token(transformers_backend):
    """The same weights in float32: the backends differ only in the engine, so greedy decoding
    must give the same first tokens (the template, stop token and decoding all match)."""
    exact = CTranslate2Backend("smollm2", cache_dir=MODEL_CACHE, compute_type="float32")
    conversations = [chat(p) for p in PROMPTS]
    ours = exact.generate(conversations, GREEDY)
    theirs = [transformers_backend.generate([c], GREEDY)[0] for c in conversations]
    for mine, reference in zip(ours, theirs):
        assert mine.prompt_tokens == reference.prompt_tokens
        mine_ids = exact.tokenizer(mine.text, add_special_tokens=False)["input_ids"][:12]
        reference_ids = exact.tokenizer(reference.text, add_special_tokens=False)["input_ids"][:12]
        assert mine_ids == reference_ids, (mine.text, reference.text)


def test_int8_starts_like_the_float_model(backend, transformers_backend):
    """int8 rounds the weights, so long greedy runs drift apart; each answer's first token is
    still one of the float32 model's five most likely."""
    import torch

    tokenizer = transformers_backend.tokenizer
    model = transformers_backend._model
    for question in PROMPTS:
        prompt = backend.render_prompt(chat(question))
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            top5 = model(ids).logits[0, -1].topk(5).indices.tolist()
        first = backend.generate([chat(question)], GREEDY)[0].text
        first_id = tokenizer(first, add_special_tokens=False)["input_ids"][0]
        assert first_id in top5, (question, first)


def test_batch_counts_limits_and_the_stop_token(backend):
    params = GenerationParams(max_new_tokens=8, temperature=0.0)
    cut, short = backend.generate([chat(PROMPTS[1]), chat("Reply with the single word: yes")],
                                  GenerationParams(max_new_tokens=60, temperature=0.0))
    assert short.finished and 0 < short.completion_tokens < 60
    assert "<|im_end|>" not in short.text
    limited = backend.generate([chat(PROMPTS[1])], params)[0]
    assert limited.completion_tokens == 8 and not limited.finished
    assert cut.prompt_tokens == backend.count_tokens(backend.render_prompt(chat(PROMPTS[1])))


def test_no_repeat_ngram_size_is_applied(backend):
    params = GenerationParams(max_new_tokens=60, temperature=0.0, repetition_penalty=1.0,
                              no_repeat_ngram_size=2)
    text = backend.generate([chat("Repeat the word 'queue' as many times as you can.")], params)[0].text
    ids = backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    bigrams = list(zip(ids, ids[1:]))
    assert len(bigrams) == len(set(bigrams))


def test_the_same_seed_gives_the_same_drafts_every_time(backend):
    params = GenerationParams(max_new_tokens=24, temperature=0.9, seed=11)
    first = [g.text for g in backend.generate([chat(PROMPTS[0])] * 2, params)]
    second = [g.text for g in backend.generate([chat(PROMPTS[0])] * 2, params)]
    other = [g.text for g in backend.generate([chat(PROMPTS[0])] * 2,
                                              GenerationParams(max_new_tokens=24, temperature=0.9,
                                                               seed=12))]
    assert first == second
    assert first[0] != first[1]  # rows of one batch sample on their own
    assert other != first


def test_stream_yields_the_text_as_generated(backend):
    stream = backend.stream(chat(PROMPTS[2]), GenerationParams(max_new_tokens=30, temperature=0.0))
    pieces = list(stream)
    assert len(pieces) > 3
    assert "".join(pieces).strip() == stream.result.text
    assert stream.result.completion_tokens <= 30
    greedy = backend.generate([chat(PROMPTS[2])], GenerationParams(max_new_tokens=30, temperature=0.0))
    assert stream.result.text == greedy[0].text


def test_closing_a_stream_early_stops_generation(backend):
    stream = backend.stream(chat(PROMPTS[0]), GenerationParams(max_new_tokens=200))
    next(stream)
    next(stream)
    stream.close()  # returns at once: CTranslate2 stops at its next step
    assert backend.generate([chat(PROMPTS[1])], GenerationParams(max_new_tokens=4))[0].text


def test_stream_batch_rows_stop_at_their_own_limits(backend):
    params = GenerationParams(max_new_tokens=40, temperature=0.0)
    run = backend.stream_batch([chat(PROMPTS[0]), chat(PROMPTS[1])], params, [5, 25])
    results = [stream.finish() for stream in run.streams]
    run.join()
    assert results[0].completion_tokens == 5 and not results[0].finished
    assert 0 < results[1].completion_tokens <= 25
    alone = backend.generate([chat(PROMPTS[1])], GenerationParams(max_new_tokens=25, temperature=0.0))
    assert results[1].text == alone[0].text


def test_prompts_of_far_apart_lengths_run_in_separate_groups():
    assert length_groups([300, 12, 310, 14, 900], max_new_tokens=40) == [[1, 3], [0, 2], [4]]
    assert length_groups([10, 60], max_new_tokens=200) == [[0, 1]]
    assert length_groups([], max_new_tokens=40) == []
    assert length_groups([5, 9, 13], max_new_tokens=1) == [[0, 1, 2]]  # spread of 8 at least


def test_a_batch_of_short_and_long_prompts_matches_each_prompt_alone(backend):
    long_question = "Here are my notes: " + " ".join(["queues, vacuum, deploys, tests."] * 60) + \
        " Write one sentence about them."
    conversations = [chat(PROMPTS[0]), chat(long_question), chat(PROMPTS[2])]
    together = backend.generate(conversations, GREEDY)
    alone = [backend.generate([c], GREEDY)[0] for c in conversations]
    assert [g.text for g in together] == [g.text for g in alone]
    assert together[1].prompt_tokens > together[0].prompt_tokens + 200
    run = backend.stream_batch(conversations, GREEDY, [20, 20, 20])
    assert [stream.finish().text for stream in run.streams] == [g.text for g in alone]
    run.join()


@pytest.mark.slow  # ~25 s: a conversion killed and redone (make test-all)
def test_a_conversion_killed_midway_is_cleaned_up_and_redone(tmp_path):
    from llm_twin.backends.ct2_convert import ConversionSource, convert

    base = CTranslate2Backend("smollm2", cache_dir=MODEL_CACHE)
    base.load()
    out = tmp_path / "ct2-copy"
    abandoned = tmp_path / "ct2-copy.partial-999999999"  # a pid that cannot be alive
    abandoned.mkdir()
    (abandoned / "model.bin").write_bytes(b"half")
    source = ConversionSource(_dequantised(base))  # the float weights the base was converted from
    convert(lambda scratch: source, out, key="k1", quantization="int8", label="copy")
    assert not abandoned.exists() and (out / "model.bin").exists()
    stamp = (out / "model.bin").stat().st_mtime_ns
    convert(lambda scratch: source, out, key="k1", quantization="int8", label="copy")
    assert (out / "model.bin").stat().st_mtime_ns == stamp  # same key: kept


def _dequantised(backend) -> Path:
    from llm_twin.backends.loading import dequantised_cache_dir

    return dequantised_cache_dir(MODEL_CACHE, backend.location)


def test_architecture_is_read_from_the_gguf_header_alone(tmp_path):
    location = bundled_smollm2()
    assert gguf_architecture(Path(location.name_or_path) / location.gguf_file) == "llama"
    assert architecture_of(location) == "LlamaConfig"
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 7)
    assert gguf_architecture(broken) is None
    assert gguf_architecture(tmp_path / "missing.gguf") is None


@pytest.mark.slow  # ~40 s: trains, merges and converts a run (make test-all)
def test_a_fine_tuned_run_is_merged_converted_beside_it_and_recorded(tmp_path, backend):
    """A real LoRA adapter (random, non-zero weights) on the bundled base: the run's conversion
    lands in its folder, answers differently from the base, and is reused the second time."""
    import torch
    from peft import LoraConfig, get_peft_model

    from llm_twin.storage.models import TrainingRun
    from llm_twin.backends.loading import LoadOptions, load_base_model

    model, tokenizer = load_base_model(LoadOptions(cache_dir=MODEL_CACHE, device="cpu"),
                                       dtype=torch.float32)
    torch.manual_seed(0)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=64, target_modules="all-linear",
                                                  init_lora_weights=False, task_type="CAUSAL_LM"))
    adapter = tmp_path / "models" / "sft-1" / "adapter"
    peft_model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    run = TrainingRun(id="sft-1", kind="sft", base_model="smollm2",
                      gguf_file=bundled_smollm2().gguf_file, dataset_id="d", hyperparameters={},
                      metrics={}, adapter_path=str(adapter), status="finished", is_active=True)
    heard = []
    tuned = CTranslate2Backend("smollm2", cache_dir=MODEL_CACHE, tuned_run=run,
                               on_converted=lambda run_id, path: heard.append((run_id, path)))
    tuned.load()
    assert tuned.model_path == adapter.parent / "ct2-int8"
    assert heard == [("sft-1", str(adapter.parent / "ct2-int8"))]
    base_text = backend.generate([chat(PROMPTS[0])], GREEDY)[0].text
    assert tuned.generate([chat(PROMPTS[0])], GREEDY)[0].text != base_text
    stamp = (tuned.model_path / "model.bin").stat().st_mtime_ns
    assert ensure_run_converted(run, MODEL_CACHE, "int8") == tuned.model_path
    assert (tuned.model_path / "model.bin").stat().st_mtime_ns == stamp  # reused, not redone


FLUENT = ("We moved our job queue into Postgres last year, and it has been the most boring, "
          "reliable part of the stack ever since.")
SHUFFLED = ("the we year, stack most our has ever reliable boring, queue and last moved of since. "
            "been into it the part job Postgres")


def test_score_rates_a_fluent_sentence_above_its_shuffled_words_as_transformers_does(
        backend, transformers_backend):
    asked = chat("Write one sentence about Postgres job queues.")
    fluent, shuffled, empty = backend.score([asked] * 3, [FLUENT, SHUFFLED, ""])
    assert shuffled < fluent - 2.0 and empty is None
    # int8 against float32: the same per-token mean within rounding
    reference = transformers_backend.score([asked] * 2, [FLUENT, SHUFFLED])
    assert [fluent, shuffled] == pytest.approx(reference, abs=0.3)
    assert backend.score([], []) == []
    with pytest.raises(ValueError):
        backend.score([asked, asked], [FLUENT])


def test_any_integer_is_a_seed(backend):
    """serve_soak's schemathesis: POST /api/write with "seed": -928 was a 500 (CTranslate2's
    set_random_seed takes an unsigned int). Seeds are taken modulo 2**32, so the same negative or
    huge seed still gives the same text."""
    assert GenerationParams(seed=-928).seed == 2**32 - 928
    assert GenerationParams(seed=2**70 + 5).seed == 5
    params = GenerationParams(max_new_tokens=6, temperature=0.8, seed=-928)
    messages = [{"role": "user", "content": "Say something about queues."}]
    first = backend.generate([messages], params)[0].text
    assert first and backend.generate([messages], params)[0].text == first
