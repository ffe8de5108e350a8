"""Loading a base model and a fine-tuned one: the single path used by training, serving, metrics
and export, so they all see the same weights and the same chat template.

A run's adapters are applied in order and merged: an SFT run has one adapter; a DPO run has the
SFT adapter first, then its own (recorded in the run's hyperparameters as `adapter_stack`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from llm_twin.backends.model_source import ModelNotFoundError, locate_model

if TYPE_CHECKING:
    from llm_twin.storage.models import TrainingRun


class ModelSettings(Protocol):
    """What loading needs from settings; `TwinSettings` and `LoadOptions` both have it."""

    cache_dir: Path | None
    device: str


@dataclass(frozen=True)
class LoadOptions:
    cache_dir: Path | None = None
    device: str = "auto"


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device is 'cuda' but no CUDA GPU is available; set device to 'auto' or 'cpu'.")
    return device


def default_dtype(device: str):
    import torch

    return torch.bfloat16 if device == "cuda" else torch.float32


def load_tokenizer(folder: str, gguf_file: str | None = None):
    from transformers import AutoTokenizer

    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ValueError(f"The model {folder!r} has no chat template; twin needs an instruction-tuned "
                         "model whose tokenizer defines one.")
    return tokenizer


def load_base_model(settings: ModelSettings, *, model: str = "smollm2", gguf_file: str | None = None,
                    dtype=None, quantization_config=None, place: bool = True):
    """(model, tokenizer) for a base: "smollm2" (the bundled GGUF, dequantised once into the cache),
    a Hugging Face id or a local folder. `place=False` leaves device placement to the caller (the
    Trainer, or bitsandbytes for 4-bit weights)."""
    from transformers import AutoModelForCausalLM

    from llm_twin.backends.transformers_backend import local_weights

    device = resolve_device(settings.device)
    location = locate_model(model, gguf_file)
    source = local_weights(location, settings.cache_dir)
    kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
    if quantization_config is not None:  # bitsandbytes quantises while placing on the GPU
        kwargs.update(quantization_config=quantization_config, device_map={"": 0})
    try:
        tokenizer = load_tokenizer(source.name_or_path, source.gguf_file)
        loaded = AutoModelForCausalLM.from_pretrained(
            source.name_or_path, dtype=dtype or default_dtype(device), **kwargs)
    except OSError as error:
        raise ModelNotFoundError(f"Cannot load base model {model!r}: {error}. Use 'smollm2' (bundled), "
                                 "a local folder, or a Hugging Face id this machine can download.") from error
    if place and quantization_config is None:
        loaded = loaded.to(device)
    return loaded, tokenizer


def adapter_stack(run: TrainingRun) -> list[str]:
    """The adapter folders to merge, base first: [sft] for SFT, [sft, dpo] for DPO."""
    return list((run.hyperparameters or {}).get("adapter_stack") or [run.adapter_path])


def load_tuned_model(run: TrainingRun, settings: ModelSettings, *, dtype=None, place: bool = True):
    """(model, tokenizer) for a registry run: its base with every adapter of its stack merged in."""
    from peft import PeftModel

    device = resolve_device(settings.device)
    model, _ = load_base_model(settings, model=run.base_model, gguf_file=run.gguf_file,
                               dtype=dtype, place=False)
    stack = adapter_stack(run)
    for folder in stack:
        if not (Path(folder) / "adapter_config.json").exists():
            raise ModelNotFoundError(f"The adapter of run {run.id!r} is missing: {folder} has no "
                                     "adapter_config.json. Retrain it or pick another with `twin models use`.")
        model = PeftModel.from_pretrained(model, folder).merge_and_unload()
    # Each adapter folder carries the tokenizer (and chat template) it was trained with.
    tokenizer = load_tokenizer(stack[-1])
    if place:
        model = model.to(device)
    return model.eval(), tokenizer
