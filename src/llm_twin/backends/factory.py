"""One place that turns settings (and the active fine-tuned run) into a generation backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llm_twin.backends.base import Backend
from llm_twin.backends.model_source import ModelNotFoundError, locate_model

if TYPE_CHECKING:
    from llm_twin.config import TwinSettings
    from llm_twin.storage.models import TrainingRun

BACKENDS = ("transformers", "llamacpp", "openai")


def build_backend(settings: TwinSettings, active_run: TrainingRun | None = None) -> Backend:
    """The backend named by `settings.backend`; `active_run` is the registry run in use (None =
    the base model). Nothing is loaded here."""
    builders = {"transformers": _transformers, "llamacpp": _llamacpp, "openai": _openai}
    if settings.backend not in builders:
        raise ValueError(f"Unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)} "
                         "(setting 'backend' in twin.toml, or twin write --backend).")
    return builders[settings.backend](settings, active_run)


def _transformers(settings: TwinSettings, active_run: TrainingRun | None) -> Backend:
    from llm_twin.backends.transformers_backend import TransformersBackend

    return TransformersBackend(settings.generation_model, gguf_file=settings.gguf_file,
                               device=settings.device, cache_dir=settings.cache_dir,
                               tuned_run=active_run)


def _llamacpp(settings: TwinSettings, active_run: TrainingRun | None) -> Backend:
    from llm_twin.backends.llamacpp_backend import LlamaCppBackend

    return LlamaCppBackend(llamacpp_gguf(settings, active_run), n_ctx=settings.context_tokens,
                           n_threads=settings.llamacpp_threads)


def llamacpp_gguf(settings: TwinSettings, active_run: TrainingRun | None) -> Path:
    """llamacpp_model_path, else the active run's exported GGUF, else the generation model's GGUF
    (the bundled SmolLM2 by default)."""
    if settings.llamacpp_model_path:
        return Path(settings.llamacpp_model_path).expanduser()
    if active_run is not None:
        if not active_run.gguf_path:
            raise ValueError(f"The model in use, {active_run.id!r}, has no GGUF export for the "
                             f"llamacpp backend: export it first (twin export {active_run.id}), "
                             "set llamacpp_model_path, or use backend 'transformers'.")
        return Path(active_run.gguf_path)
    location = locate_model(settings.generation_model, settings.gguf_file)
    if not location.gguf_file:
        raise ModelNotFoundError(
            f"The llamacpp backend needs a GGUF file, and generation_model "
            f"{settings.generation_model!r} is not one: set llamacpp_model_path to a .gguf file.")
    return Path(location.name_or_path) / location.gguf_file


def _openai(settings: TwinSettings, active_run: TrainingRun | None) -> Backend:
    """The server decides which weights answer: a fine-tuned run is served under its own name
    there (e.g. a vLLM LoRA adapter), set as openai_model."""
    from llm_twin.backends.openai_backend import OpenAICompatibleBackend

    missing = [name for name in ("openai_base_url", "openai_model") if not getattr(settings, name)]
    if missing:
        raise ValueError(f"Backend 'openai' needs {' and '.join(missing)} in twin.toml (or "
                         f"{', '.join('TWIN_' + m.upper() for m in missing)}), e.g. "
                         "openai_base_url = \"http://localhost:8000/v1\" and openai_model = \"my-model\".")
    api_key = settings.openai_api_key or os.environ.get("OPENAI_API_KEY")
    return OpenAICompatibleBackend(settings.openai_base_url, settings.openai_model, api_key)
