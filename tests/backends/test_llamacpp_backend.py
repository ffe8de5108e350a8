"""The llama.cpp backend on the bundled SmolLM2 GGUF. llama-cpp-python is the optional `fast`
extra (a ~8 minute source build), so the model tests skip, with the reason, when it is missing."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import pytest

from llm_twin.backends.base import BackendError, GenerationParams
from llm_twin.backends.llamacpp_backend import LlamaCppBackend
from llm_twin.backends.loading import ModelNotFoundError, bundled_smollm2

HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
needs_llama_cpp = pytest.mark.skipif(
    not HAS_LLAMA_CPP, reason="llama-cpp-python is not installed: pip install '.[fast]' "
                              "(builds llama.cpp from source, ~8 min)")
MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the backend tests
CONVERSATIONS = [[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": question}]
                 for question in ("Name a database.", "Write one short sentence about cycling to work.")]
GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0)


def bundled_gguf() -> Path:
    location = bundled_smollm2()
    return Path(location.name_or_path) / location.gguf_file


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    # One thread: llama.cpp's threads spin-wait on each other, which is slow on a busy machine.
    backend = LlamaCppBackend(bundled_gguf(), n_ctx=1024, n_threads=1)
    backend.load()
    return backend


@pytest.mark.skipif(HAS_LLAMA_CPP, reason="llama-cpp-python is installed")
def test_without_llama_cpp_the_error_says_how_to_install_it():
    with pytest.raises(BackendError, match=r"pip install '\.\[fast\]'.*~8 min"):
        LlamaCppBackend(bundled_gguf()).load()


@needs_llama_cpp
def test_a_missing_gguf_file_is_named(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no-such.gguf"):
        LlamaCppBackend(tmp_path / "no-such.gguf").load()


@needs_llama_cpp
@pytest.mark.models
def test_prompt_is_the_same_chat_template_as_in_transformers(backend):
    from llm_twin.backends.transformers_backend import TransformersBackend

    reference = TransformersBackend("smollm2", cache_dir=MODEL_CACHE)
    messages = [{"role": "system", "content": "You are Maya's writing twin."},
                {"role": "user", "content": "Write about Postgres."}]
    assert backend.render_prompt(messages) == reference.render_prompt(messages)
    assert "SmolLM" not in backend.render_prompt(messages)


@needs_llama_cpp
@pytest.mark.models
def test_generate_answers_each_conversation_with_usage(backend):
    results = backend.generate(CONVERSATIONS, GREEDY)
    assert len(results) == 2
    for messages, result in zip(CONVERSATIONS, results):
        assert result.text and "<|im_end|>" not in result.text
        assert 0 < result.completion_tokens <= 12
        assert result.finished == (result.completion_tokens < 12)
        assert result.prompt_tokens == backend.count_tokens(backend.render_prompt(messages))


@needs_llama_cpp
@pytest.mark.models
def test_same_seed_gives_the_same_sampled_text(backend):
    sampled = GenerationParams(max_new_tokens=10, temperature=0.9, seed=11)
    first = backend.generate(CONVERSATIONS[:1], sampled)[0].text
    assert first and backend.generate(CONVERSATIONS[:1], sampled)[0].text == first


@needs_llama_cpp
@pytest.mark.models
def test_stream_yields_pieces_of_the_greedy_answer(backend):
    expected = backend.generate(CONVERSATIONS[:1], GREEDY)[0]
    stream = backend.stream(CONVERSATIONS[0], GREEDY)
    pieces = list(stream)
    assert len(pieces) > 1 and "".join(pieces).strip() == expected.text
    assert stream.result.text == expected.text and stream.result.finished == expected.finished
    assert stream.result.prompt_tokens == expected.prompt_tokens


@needs_llama_cpp
@pytest.mark.models
def test_counts_and_window(backend):
    assert backend.context_window == 1024
    assert backend.count_tokens("") == 0
    assert 0 < backend.count_tokens("Boring is a feature.") < 10
    assert backend.count_tokens("<|im_start|>") == 1
