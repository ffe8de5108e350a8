"""GGUF files (for llama.cpp and Ollama) from merged Hugging Face weights.

The key/value metadata — tokenizer tokens, scores, types and merges, special token ids, chat template
and llama hyperparameters — is copied from the base model's own GGUF, so llama.cpp tokenises the
exported model exactly as it does the base. Only the tensors are new.

Two layout facts matter when going from Hugging Face weights back to GGUF:
- llama.cpp's RoPE rotates interleaved pairs, Hugging Face's rotates two halves per head; its
  converter therefore permutes the rows of q_proj and k_proj (and transformers' GGUF loader undoes
  that on load). We apply the same permutation again.
- A model with tied embeddings has no separate `output.weight`: llama.cpp reuses `token_embd`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llm_twin.backends.loading import locate_model
from llm_twin.errors import ExportError

SUPPORTED_ARCHITECTURE = "llama"
# Reader-side bookkeeping, or keys this writer sets itself.
_KEYS_NOT_COPIED = {"general.architecture", "general.file_type", "general.name", "general.alignment",
                    "general.quantization_version"}


class GGUFExportError(ExportError):
    """The model or its base cannot be written as GGUF (with a message saying why and what to do)."""


@dataclass(frozen=True)
class GGUFType:
    name: str          # as on the command line: "f16", "q8_0"
    file_label: str    # as in file names: "F16", "Q8_0"


GGUF_TYPES = {"f16": GGUFType("f16", "F16"), "q8_0": GGUFType("q8_0", "Q8_0")}


def parse_gguf_types(names) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    unknown = [n for n in chosen if n not in GGUF_TYPES]
    if unknown or not chosen:
        raise GGUFExportError(f"Unknown GGUF type(s) {', '.join(unknown) or '(none)'}; "
                              f"available: {', '.join(GGUF_TYPES)}.")
    return chosen


def base_gguf_file(base_model: str, gguf_file: str | None = None) -> Path:
    """The GGUF whose metadata the export copies: the base itself, or the GGUF our dequantised
    cache folder was made from. Raises a clear error for bases that were never a GGUF."""
    location = locate_model(base_model, gguf_file)
    if location.gguf_file:
        return Path(location.name_or_path) / location.gguf_file
    marker = Path(location.name_or_path) / "twin-cache.json"
    if marker.is_file():
        origin = json.loads(marker.read_text(encoding="utf-8"))
        if origin.get("gguf_file"):
            return Path(origin["source"]) / origin["gguf_file"]
    raise GGUFExportError(
        f"GGUF export copies the tokenizer and metadata from the base model's GGUF, and the base "
        f"{base_model!r} is not a GGUF. It currently needs a llama-architecture GGUF base (such as "
        "the bundled 'smollm2'). The merged/ folder works with any base: convert it with llama.cpp's "
        "convert_hf_to_gguf.py.")


def write_gguf(model, base_gguf: Path, out_path: Path, gguf_type: str, *, name: str) -> Path:
    """Write `model`'s weights as one GGUF file of `gguf_type` ("f16" or "q8_0")."""
    import gguf

    reader = gguf.GGUFReader(base_gguf)
    architecture = _field_value(reader, "general.architecture")
    config = model.config
    if architecture != SUPPORTED_ARCHITECTURE or config.model_type != SUPPORTED_ARCHITECTURE:
        raise GGUFExportError(
            f"GGUF export currently needs a llama-architecture model; the base GGUF {base_gguf.name} "
            f"is {architecture!r} and the model is {config.model_type!r}.")
    _check_hyperparameters(reader, config, base_gguf)

    partial = out_path.with_name(out_path.name + ".partial")
    writer = gguf.GGUFWriter(partial, architecture)
    try:
        _copy_metadata(reader, writer)
        writer.add_name(name)
        writer.add_file_type(_file_type(gguf_type))
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        for tensor_name, data, raw_type in _gguf_tensors(model, gguf_type):
            writer.add_tensor(tensor_name, data, raw_dtype=raw_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    os.replace(partial, out_path)
    return out_path


def _field_value(reader, key: str):
    field = reader.fields.get(key)
    return field.contents() if field is not None else None


def _check_hyperparameters(reader, config, base_gguf: Path) -> None:
    """The copied metadata describes the base; refuse a model whose shape differs from it."""
    expected = {"llama.block_count": config.num_hidden_layers,
                "llama.embedding_length": config.hidden_size,
                "llama.feed_forward_length": config.intermediate_size,
                "llama.attention.head_count": config.num_attention_heads,
                "llama.attention.head_count_kv": config.num_key_value_heads}
    for key, value in expected.items():
        stored = _field_value(reader, key)
        if stored is not None and int(stored) != int(value):
            raise GGUFExportError(f"{base_gguf.name}: {key} is {stored} but the model has {value}; "
                                  "the run was not trained on this base.")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is not None and len(tokens.data) != config.vocab_size:
        raise GGUFExportError(f"{base_gguf.name}: {len(tokens.data)} tokenizer tokens but the model "
                              f"has a vocabulary of {config.vocab_size}.")


def _copy_metadata(reader, writer) -> None:
    from gguf import GGUFValueType

    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in _KEYS_NOT_COPIED:
            continue
        value_type = field.types[0]
        sub_type = None
        if value_type == GGUFValueType.ARRAY:
            if len(field.types) != 2:
                raise GGUFExportError(f"GGUF key {key!r} is a nested array, which export cannot copy.")
            sub_type = field.types[1]
        writer.add_key_value(key, field.contents(), value_type, sub_type)


def _file_type(gguf_type: str) -> int:
    from gguf import LlamaFileType

    return {"f16": LlamaFileType.MOSTLY_F16, "q8_0": LlamaFileType.MOSTLY_Q8_0}[gguf_type]


def _gguf_tensors(model, gguf_type: str):
    """(GGUF name, data, raw GGML type or None) for every weight, in the model's order."""
    import gguf

    config = model.config
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and tied:
            continue
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise GGUFExportError(f"No GGUF name for the tensor {hf_name!r} of a llama model.")
        data = tensor.detach().to("cpu").float().numpy()
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = _rope_permute(data, config.num_attention_heads)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = _rope_permute(data, config.num_key_value_heads)
        yield gguf_name, *_encode(gguf_name, data, gguf_type)


def _rope_permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Reorder each head's rows from Hugging Face's two halves to llama.cpp's interleaved pairs."""
    half = weights.shape[0] // heads // 2
    return (weights.reshape(heads, 2, half, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def _encode(gguf_name: str, data: np.ndarray, gguf_type: str):
    """Norms and other 1-D tensors stay F32, as llama.cpp's converter keeps them."""
    from gguf import GGMLQuantizationType
    from gguf.quants import QuantError, quantize

    if data.ndim <= 1 or gguf_name.endswith("_norm.weight"):
        return np.ascontiguousarray(data, dtype=np.float32), None
    if gguf_type == "q8_0":
        try:
            return quantize(data, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0
        except (QuantError, ValueError):  # rows not a multiple of the 32-value block
            pass
    return np.ascontiguousarray(data, dtype=np.float16), None
