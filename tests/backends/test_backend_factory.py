"""build_backend: which backend, which weights, and clear errors for missing settings. Nothing is
loaded here, so these tests need no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.backends.ctranslate2_backend import CTranslate2Backend
from llm_twin.backends.factory import build_backend, choose_backend, llamacpp_gguf
from llm_twin.backends.llamacpp_backend import LlamaCppBackend
from llm_twin.backends.loading import ModelNotFoundError, bundled_smollm2
from llm_twin.backends.openai_backend import OpenAICompatibleBackend
from llm_twin.backends.transformers_backend import TransformersBackend
from llm_twin.config import load_settings
from llm_twin.errors import ModelError
from llm_twin.storage.models import TrainingRun


def settings(tmp_path: Path, **values):
    return load_settings(tmp_path / "ws", **values)


def finished_run(**values) -> TrainingRun:
    fields = dict(id="sft-20261128-130501", kind="sft", base_model="smollm2",
                  gguf_file=bundled_smollm2().gguf_file, dataset_id="d1", hyperparameters={},
                  metrics={}, adapter_path="/runs/sft/adapter", status="finished", is_active=True)
    return TrainingRun(**{**fields, **values})


def test_the_default_is_ctranslate2_on_the_base_model(tmp_path):
    backend = build_backend(settings(tmp_path))
    assert isinstance(backend, CTranslate2Backend)
    assert backend.model_id == "smollm2" and backend.tuned_run is None
    choice = choose_backend(settings(tmp_path))
    assert choice.name == "ctranslate2"
    assert "installed" in choice.reason and "Llama is supported" in choice.reason


def test_auto_and_ctranslate2_get_the_active_run(tmp_path):
    run = finished_run()
    for name in ("auto", "ctranslate2"):
        backend = build_backend(settings(tmp_path, backend=name), run)
        assert isinstance(backend, CTranslate2Backend) and backend.tuned_run is run
        assert backend.model_id == run.id


def test_auto_falls_back_to_transformers_when_ctranslate2_is_missing(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ctranslate2" else real_find_spec(name, *a))
    choice = choose_backend(settings(tmp_path))
    assert choice.name == "transformers" and "not installed" in choice.reason
    assert isinstance(build_backend(settings(tmp_path)), TransformersBackend)


def test_auto_falls_back_to_transformers_for_an_architecture_ctranslate2_cannot_run(tmp_path):
    folder = tmp_path / "mamba"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "mamba"}')
    choice = choose_backend(settings(tmp_path, generation_model=str(folder)))
    assert choice.name == "transformers"
    assert "no text-generation converter for Mamba" in choice.reason
    unreadable = choose_backend(settings(tmp_path, generation_model=str(tmp_path / "nothing-here")))
    assert unreadable.name == "transformers" and "could not be read" in unreadable.reason


def test_transformers_gets_the_active_run(tmp_path):
    run = finished_run()
    backend = build_backend(settings(tmp_path, backend="transformers"), run)
    assert isinstance(backend, TransformersBackend) and backend.tuned_run is run
    assert choose_backend(settings(tmp_path, backend="transformers")).reason == \
        "set by the 'backend' setting"


def test_an_unknown_backend_lists_them_all(tmp_path):
    with pytest.raises(ValueError, match="'vllm'.*auto, ctranslate2, transformers, llamacpp, openai"):
        build_backend(settings(tmp_path, backend="vllm"))


def test_openai_needs_a_base_url_and_a_model(tmp_path):
    with pytest.raises(ValueError, match="openai_base_url and openai_model.*twin.toml"):
        build_backend(settings(tmp_path, backend="openai"))
    with pytest.raises(ValueError, match="needs openai_model"):
        build_backend(settings(tmp_path, backend="openai", openai_base_url="http://127.0.0.1:9/v1"))


def test_openai_takes_url_model_and_key_from_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    configured = dict(backend="openai", openai_base_url="http://127.0.0.1:8000/v1/",
                      openai_model="twin-lora")
    backend = build_backend(settings(tmp_path, **configured))
    assert isinstance(backend, OpenAICompatibleBackend)
    assert (backend.base_url, backend.model_id, backend.api_key) == (
        "http://127.0.0.1:8000/v1", "twin-lora", "from-env")
    keyed = build_backend(settings(tmp_path, openai_api_key="from-config", **configured))
    assert keyed.api_key == "from-config"


def test_llamacpp_defaults_to_the_bundled_gguf(tmp_path):
    backend = build_backend(settings(tmp_path, backend="llamacpp", context_tokens=1024,
                                     llamacpp_threads=3))
    assert isinstance(backend, LlamaCppBackend)
    bundled = bundled_smollm2()
    assert backend.gguf_path == Path(bundled.name_or_path) / bundled.gguf_file
    assert (backend.n_ctx, backend.n_threads) == (1024, 3)


def test_llamacpp_prefers_the_configured_path_then_the_active_runs_export(tmp_path):
    exported = finished_run(gguf_path=str(tmp_path / "sft.gguf"))
    assert llamacpp_gguf(settings(tmp_path), exported) == tmp_path / "sft.gguf"
    configured = settings(tmp_path, llamacpp_model_path=tmp_path / "mine.gguf")
    assert llamacpp_gguf(configured, exported) == tmp_path / "mine.gguf"


def test_llamacpp_refuses_an_active_run_without_a_gguf_export(tmp_path):
    with pytest.raises(ModelError, match="'sft-20261128-130501', has no GGUF export"):
        llamacpp_gguf(settings(tmp_path), finished_run())


def test_llamacpp_needs_a_gguf_when_the_model_is_not_one(tmp_path):
    with pytest.raises(ModelNotFoundError, match="llamacpp_model_path"):
        llamacpp_gguf(settings(tmp_path, generation_model=str(tmp_path)), None)
