"""One place that turns settings (and the active fine-tuned run) into a generation backend."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llm_twin.backends.base import Backend
from llm_twin.backends.loading import ModelNotFoundError, locate_model
from llm_twin.errors import InputError, ModelError

if TYPE_CHECKING:
    from llm_twin.config import TwinSettings
    from llm_twin.storage.models import TrainingRun

BACKENDS = ("auto", "ctranslate2", "transformers", "llamacpp", "openai")


@dataclass(frozen=True)
class BackendChoice:
    name: str  # the backend that generates
    reason: str  # why, for `twin status`


def choose_backend(settings: TwinSettings, active_run: TrainingRun | None = None) -> BackendChoice:
    """The backend `settings.backend` names; "auto" picks CTranslate2 when it is installed and
    converts the model's architecture, else transformers. Reads no weights."""
    if settings.backend not in BACKENDS:
        raise InputError(f"Unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)} "
                         "(setting 'backend' in twin.toml, or twin write --backend).")
    if settings.backend != "auto":
        return BackendChoice(settings.backend, "set by the 'backend' setting")
    if importlib.util.find_spec("ctranslate2") is None:
        return BackendChoice("transformers", f"auto: CTranslate2 is not installed ({_ct2_hint()})")
    from llm_twin.backends.ct2_convert import architecture_of, generator_support

    model, gguf_file = ((active_run.base_model, active_run.gguf_file) if active_run is not None
                        else (settings.generation_model, settings.gguf_file))
    supported, why = generator_support(architecture_of(locate_model(model, gguf_file)))
    if not supported:
        return BackendChoice("transformers", f"auto: {why}")
    return BackendChoice("ctranslate2", f"auto: CTranslate2 is installed and {why}")


def _ct2_hint() -> str:
    from llm_twin.backends.ctranslate2_backend import INSTALL_HINT

    return INSTALL_HINT


def build_backend(settings: TwinSettings, active_run: TrainingRun | None = None, *,
                  on_converted: Callable[[str, str], None] | None = None) -> Backend:
    """The backend `choose_backend` picks; `active_run` is the registry run in use (None = the
    base model). `on_converted(run_id, path)` hears where CTranslate2 converted a run. Nothing is
    loaded here."""
    builders = {"ctranslate2": lambda s, run: _ctranslate2(s, run, on_converted),
                "transformers": _transformers, "llamacpp": _llamacpp, "openai": _openai}
    return builders[choose_backend(settings, active_run).name](settings, active_run)


def _ctranslate2(settings: TwinSettings, active_run: TrainingRun | None,
                 on_converted: Callable[[str, str], None] | None = None) -> Backend:
    from llm_twin.backends.ctranslate2_backend import CTranslate2Backend

    return CTranslate2Backend(settings.generation_model, gguf_file=settings.gguf_file,
                              device=settings.device, compute_type=settings.ct2_compute_type,
                              threads=settings.ct2_threads, cache_dir=settings.cache_dir,
                              tuned_run=active_run, on_converted=on_converted)


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
            raise ModelError(f"The model in use, {active_run.id!r}, has no GGUF export for the "
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

    base_url, model = settings.openai_base_url, settings.openai_model
    if not base_url or not model:
        missing = [name for name, value in (("openai_base_url", base_url), ("openai_model", model))
                   if not value]
        raise InputError(f"Backend 'openai' needs {' and '.join(missing)} in twin.toml (or "
                         f"{', '.join('TWIN_' + m.upper() for m in missing)}), e.g. "
                         "openai_base_url = \"http://localhost:8000/v1\" and openai_model = \"my-model\".")
    api_key = settings.openai_api_key or os.environ.get("OPENAI_API_KEY")
    return OpenAICompatibleBackend(base_url, model, api_key)
