"""The transformers backend with the real bundled SmolLM2 (dequantised once into a shared cache)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from llm_twin.backends.base import GenerationParams
from llm_twin.backends.loading import (ModelNotFoundError, bundled_smollm2, dequantised_cache_dir,
                                      is_complete_cache, locate_model)
from llm_twin.backends.transformers_backend import TransformersBackend

# Shared by every test run on this machine, so the ~30 s dequantisation happens once.
MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE)
    backend.load()
    return backend


def test_bundled_model_is_found_without_importing_llama_cpp():
    location = locate_model("smollm2")
    assert location == bundled_smollm2()
    assert location.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (Path(location.name_or_path) / location.gguf_file).exists()


def test_a_gguf_file_path_is_split_into_folder_and_file(tmp_path):
    file = tmp_path / "model.Q8_0.gguf"
    file.write_bytes(b"GGUF")
    location = locate_model(str(file))
    assert location.name_or_path == str(tmp_path) and location.gguf_file == "model.Q8_0.gguf"


def test_load_writes_a_complete_dequantised_cache(backend):
    folder = dequantised_cache_dir(MODEL_CACHE, backend.location)
    assert is_complete_cache(folder)
    assert (folder / "model.safetensors").exists()


def test_cached_copy_keeps_the_gguf_chat_template(backend):
    from transformers import AutoTokenizer

    location = bundled_smollm2()
    original = AutoTokenizer.from_pretrained(location.name_or_path, gguf_file=location.gguf_file)
    messages = [{"role": "system", "content": "You are Maya's writing twin."},
                {"role": "user", "content": "Write about Postgres."}]
    expected = original.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert backend.render_prompt(messages) == expected


def test_prompt_uses_our_system_message_not_the_default_persona(backend):
    prompt = backend.render_prompt([{"role": "system", "content": "You are Maya's writing twin."},
                                    {"role": "user", "content": "Hi"}])
    assert "You are Maya's writing twin." in prompt
    assert "SmolLM" not in prompt
    assert prompt.rstrip().endswith("<|im_start|>assistant")


def test_batch_generation_returns_one_completion_per_conversation(backend):
    conversations = [[{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": question}]
                     for question in ("Name a database.", "Write one short sentence about cycling to work.")]
    params = GenerationParams(max_new_tokens=12, temperature=0.0)
    results = backend.generate(conversations, params)
    assert len(results) == 2
    for result in results:
        assert result.text.strip()
        assert 0 < result.completion_tokens <= 12
        assert "<|im_end|>" not in result.text


def test_same_seed_gives_the_same_sampled_text(backend):
    conversation = [[{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Say something about tea."}]]
    params = GenerationParams(max_new_tokens=10, temperature=0.9, seed=11)
    assert backend.generate(conversation, params)[0].text == backend.generate(conversation, params)[0].text


def test_count_tokens_counts_without_special_tokens(backend):
    assert backend.count_tokens("") == 0
    assert 0 < backend.count_tokens("Boring is a feature.") < 10


def test_an_unknown_local_model_gives_a_clear_error(tmp_path):
    missing = TransformersBackend(str(tmp_path / "no-such-model"), cache_dir=MODEL_CACHE)
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        missing.load()


FLUENT = ("We moved our job queue into Postgres last year, and it has been the most boring, "
          "reliable part of the stack ever since.")
SHUFFLED = ("the we year, stack most our has ever reliable boring, queue and last moved of since. "
            "been into it the part job Postgres")
ASKED = [{"role": "system", "content": "You are Maya's writing twin."},
         {"role": "user", "content": "Write one sentence about Postgres job queues."}]


def test_score_rates_a_fluent_sentence_above_its_shuffled_words(backend):
    fluent, shuffled, empty = backend.score([ASKED] * 3, [FLUENT, SHUFFLED, ""])
    assert -6.0 < fluent < -1.0 and shuffled < fluent - 2.0  # mean log-prob per token
    assert empty is None


def test_score_in_a_padded_batch_equals_each_pair_alone(backend):
    short = [{"role": "user", "content": "Queues?"}]
    together = backend.score([ASKED, short, ASKED], [FLUENT, "Postgres.", SHUFFLED], batch_size=3)
    alone = [backend.score([m], [c])[0] for m, c in
             [(ASKED, FLUENT), (short, "Postgres."), (ASKED, SHUFFLED)]]
    assert together == pytest.approx(alone, abs=1e-3)
    with pytest.raises(ValueError):
        backend.score([ASKED, ASKED], [FLUENT])
