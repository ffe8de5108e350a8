"""Weights for the CTranslate2 backend: which architectures it runs, and converted copies cached
by what they were made from.

A base model is converted once into `<cache_dir>/ct2/`; a fine-tuned run (its LoRA adapters merged
into its base) beside the run, in `<run folder>/ct2-<type>/`. Each folder carries a marker with the
key of its source (files, sizes and times, quantisation, CTranslate2 version): a changed source or
type makes a new conversion, a crash mid-way leaves only a `.partial-<pid>` folder that the next
conversion removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_twin.backends.loading import ModelLocation

MARKER = "twin-ct2.json"
# Tokenizer files copied next to the converted weights, so the folder is usable on its own.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "chat_template.jinja", "generation_config.json")


# -- which models CTranslate2 can run -------------------------------------------------------------
def architecture_of(location: ModelLocation) -> str | None:
    """The model's transformers config class name ("LlamaConfig"), read without loading weights;
    None when it cannot be read here (a hub id that is not downloaded, say)."""
    if location.gguf_file:
        gguf_arch = gguf_architecture(Path(location.name_or_path) / location.gguf_file)
        return _config_class_name(gguf_arch) if gguf_arch else None
    config_file = Path(location.name_or_path) / "config.json"
    if config_file.is_file():
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
        return _config_class_name(model_type) if model_type else None
    try:
        from transformers import AutoConfig

        return type(AutoConfig.from_pretrained(location.name_or_path)).__name__
    except (OSError, ValueError):
        return None


def _config_class_name(model_type: str) -> str | None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return CONFIG_MAPPING_NAMES.get(model_type)


def generator_support(config_class: str | None) -> tuple[bool, str]:
    """(supported, why): CTranslate2 converts this architecture as a text generator."""
    if config_class is None:
        return False, "the model's architecture could not be read"
    from ctranslate2.converters.transformers import _MODEL_LOADERS

    loader = _MODEL_LOADERS.get(config_class)
    target = getattr(loader, "architecture_name", "") if loader else ""
    if target == "AutoModelForCausalLM" or target.endswith(("ForCausalLM", "LMHeadModel")):
        return True, f"{config_class.removesuffix('Config')} is supported"
    return False, f"CTranslate2 has no text-generation converter for {config_class.removesuffix('Config')}"


_GGUF_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def gguf_architecture(path: Path) -> str | None:
    """`general.architecture` from a GGUF header. gguf.GGUFReader would parse every tensor and the
    whole tokenizer first (3.4 s for the bundled model); this reads the few bytes needed."""
    try:
        with open(path, "rb") as file:
            if file.read(4) != b"GGUF":
                return None
            _version, _tensors, kv_count = struct.unpack("<IQQ", file.read(20))
            for _ in range(kv_count):
                key = _gguf_string(file)
                kind = struct.unpack("<I", file.read(4))[0]
                if key == "general.architecture" and kind == _GGUF_STRING:
                    return _gguf_string(file)
                _skip_gguf_value(file, kind)
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


def _gguf_string(file) -> str:
    (length,) = struct.unpack("<Q", file.read(8))
    return file.read(length).decode("utf-8")


def _skip_gguf_value(file, kind: int) -> None:
    if kind in _GGUF_SCALAR_SIZES:
        file.seek(_GGUF_SCALAR_SIZES[kind], 1)
    elif kind == _GGUF_STRING:
        (length,) = struct.unpack("<Q", file.read(8))
        file.seek(length, 1)
    elif kind == _GGUF_ARRAY:
        item_kind, count = struct.unpack("<IQ", file.read(12))
        if item_kind in _GGUF_SCALAR_SIZES:
            file.seek(_GGUF_SCALAR_SIZES[item_kind] * count, 1)
        else:
            for _ in range(count):
                _skip_gguf_value(file, item_kind)
    else:
        raise struct.error(f"unknown GGUF value type {kind}")


# -- converted copies ---------------------------------------------------------------------------
def source_key(files: list[Path], quantization: str, extra: str = "") -> str:
    """What a conversion was made from: each file's path, size and modification time, the
    quantisation and the CTranslate2 version."""
    import ctranslate2

    digest = hashlib.sha256(f"{quantization}|{ctranslate2.__version__}|{extra}".encode())
    for file in sorted(files):
        stat = file.stat()
        digest.update(f"|{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def weight_files(folder: Path) -> list[Path]:
    return [p for p in Path(folder).iterdir()
            if p.is_file() and p.suffix in (".safetensors", ".bin", ".json", ".gguf")]


def is_current(folder: Path, key: str) -> bool:
    marker = folder / MARKER
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError):
        return False


@dataclass
class ConversionSource:
    """What to convert: a transformers folder (config and tokenizer at least) and, when the weights
    are already in memory (a run's merged model), that model, so they are not written and read
    back."""

    folder: Path
    model: Any = None


def convert(make_source: Callable[[Path], ConversionSource], out: Path, *, key: str,
            quantization: str, label: str) -> Path:
    """Convert into `out` unless it already holds the conversion of `key`. `make_source(scratch)`
    gives the source: an existing folder (the cached base), or a merged model with its config and
    tokenizer saved in the scratch folder. One progress line on stderr: it runs once per model and
    takes seconds."""
    if is_current(out, key):
        return out
    started = time.perf_counter()
    print(f"Converting {label} for CTranslate2 ({quantization}), once…", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_partials(out)
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")  # two processes may convert at once
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="twin-ct2-", dir=out.parent) as scratch:
        source = make_source(Path(scratch))
        copies = [name for name in TOKENIZER_FILES if (source.folder / name).exists()]
        _converter(source, copies).convert(str(partial), quantization=quantization, force=True)
        window = _context_window(source.folder)
    (partial / MARKER).write_text(json.dumps({"key": key, "label": label, "quantization": quantization,
                                              "context_window": window}), encoding="utf-8")
    _swap_in(partial, out, key)
    print(f"Converted {label} in {time.perf_counter() - started:.0f} s → {out}", file=sys.stderr,
          flush=True)
    return out


def _remove_abandoned_partials(out: Path) -> None:
    """Half-written conversions of processes that died (killed mid-way)."""
    for folder in out.parent.glob(f"{out.name}.partial-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_in(partial: Path, out: Path, key: str) -> None:
    """Put a finished conversion in place; if another process finished the same one first, keep
    theirs."""
    if is_current(out, key):
        shutil.rmtree(partial, ignore_errors=True)
        return
    shutil.rmtree(out, ignore_errors=True)
    try:
        partial.rename(out)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not is_current(out, key):
            raise


def _converter(source: ConversionSource, copies: list[str]):
    from ctranslate2.converters import TransformersConverter

    class InMemoryConverter(TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            return source.model

    converter_class = TransformersConverter if source.model is None else InMemoryConverter
    return converter_class(str(source.folder), copy_files=copies)


def _context_window(source: Path) -> int | None:
    config = Path(source) / "config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings")
