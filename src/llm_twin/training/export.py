"""`twin export`: a trained model (or the base) as files other tools run.

One export folder holds, by format:
- merged/: the base with the run's LoRA adapter(s) merged in, as safetensors plus the tokenizer
  (transformers, vLLM, TGI, or llama.cpp's own converter);
- twin-<id>.F16.gguf / twin-<id>.Q8_0.gguf: for llama.cpp, Ollama, LM Studio;
- Modelfile: `ollama create my-twin -f Modelfile`;
- adapters/: the PEFT adapter folder(s) as trained (vLLM multi-LoRA, PEFT);
- ct2-<type>/: CTranslate2 weights with the tokenizer (on request: `--format ct2`).

Everything is written into `<out>.partial` and renamed when complete, so a failed export leaves
nothing half-written; an existing export is replaced only with `force`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import TYPE_CHECKING

from llm_twin import errors
from llm_twin.training.gguf_export import GGUF_TYPES, base_gguf_file, parse_gguf_types, write_gguf
from llm_twin.training.modelfile import render_modelfile

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from llm_twin.config import TwinSettings
    from llm_twin.storage.models import TrainingRun

BASE = "base"
FORMATS = ("merged", "gguf", "modelfile", "adapter", "ct2")
DEFAULT_FORMATS = ("merged", "gguf", "modelfile", "adapter")
DEFAULT_CT2_TYPE = "int8"  # runs on any CPU; CTranslate2 can load it as int8_float16 on a GPU
CT2_TYPES = ("int8", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")
DEFAULT_GGUF_TYPES = ("f16", "q8_0")
MANIFEST = "export.json"


class ExportError(errors.ExportError):
    """An export that cannot be made as asked (the message says why and what to do)."""


@dataclass
class ExportResult:
    model_id: str
    out_dir: Path
    merged_path: Path | None = None
    ct2_path: Path | None = None
    gguf_paths: dict[str, Path] = field(default_factory=dict)
    modelfile_path: Path | None = None
    adapter_paths: list[Path] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        found = [self.merged_path, self.ct2_path, *self.gguf_paths.values(), self.modelfile_path,
                 *self.adapter_paths]
        return [p for p in found if p is not None]

    @property
    def preferred_gguf(self) -> Path | None:
        return self.gguf_paths.get("q8_0") or self.gguf_paths.get("f16")


def parse_formats(names: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    unknown = [n for n in chosen if n not in FORMATS]
    if unknown or not chosen:
        raise ExportError(f"Unknown export format(s) {', '.join(unknown) or '(none)'}; "
                          f"available: {', '.join(FORMATS)}.")
    return chosen


def export_model(run_or_base: TrainingRun | str, settings: TwinSettings, out_dir: Path, *,
                 formats: Iterable[str] = FORMATS, gguf_types: Iterable[str] = DEFAULT_GGUF_TYPES,
                 force: bool = False, owner: str | None = None, ct2_type: str = DEFAULT_CT2_TYPE,
                 session: Session | None = None) -> ExportResult:
    """Export a registry run (or `"base"`, the configured generation model) into `out_dir`.
    With `session`, a run's merged and GGUF paths are recorded in the registry."""
    if isinstance(run_or_base, str) and run_or_base != BASE:
        raise ExportError(f"Unknown model {run_or_base!r}: pass a registry run or {BASE!r}.")
    run = None if isinstance(run_or_base, str) else run_or_base
    chosen = parse_formats(formats)
    types = parse_gguf_types(gguf_types) if "gguf" in chosen else ()
    if "ct2" in chosen and ct2_type not in CT2_TYPES:
        raise ExportError(f"Unknown CTranslate2 type {ct2_type!r}; available: {', '.join(CT2_TYPES)}.")
    _check_request(run, chosen)
    out_dir = Path(out_dir)
    _finish_interrupted_swap(out_dir)
    if out_dir.exists() and not force:
        raise ExportError(f"{out_dir} already exists; pass --force to replace it.")

    model_id = run.id if run is not None else BASE
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        written = _write_formats(run, settings, partial, chosen, types, owner, model_id, ct2_type)
        _write_manifest(partial, run, settings, chosen, written)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _replace(partial, out_dir)
    result = _relocate(written, partial, out_dir)
    if run is not None and session is not None:
        _record_in_registry(session, run, result)
    return result


def _check_request(run, formats: tuple[str, ...]) -> None:
    if run is None and "adapter" in formats:
        raise ExportError("The base model has no adapter to export; pick a trained model "
                          "(`twin models`) or leave out the adapter format.")
    if "modelfile" in formats and "gguf" not in formats:
        raise ExportError("The Modelfile points at the exported GGUF; add gguf to the formats.")
    if run is not None and run.status != "finished":
        raise ExportError(f"Run {run.id!r} is {run.status}, not finished; only a finished run "
                          "can be exported.")


def _write_formats(run, settings, folder: Path, formats, gguf_types, owner, model_id,
                   ct2_type: str) -> ExportResult:
    result = ExportResult(model_id=model_id, out_dir=folder)
    if "adapter" in formats:
        result.adapter_paths = _copy_adapters(run, folder / "adapters")
    if not {"merged", "gguf", "modelfile", "ct2"} & set(formats):
        return result
    gguf_source = base_gguf_file(*_base_of(run, settings)) if "gguf" in formats else None
    model, tokenizer = _load_merged(run, settings)
    if "merged" in formats:
        result.merged_path = folder / "merged"
        model.save_pretrained(result.merged_path)
        tokenizer.save_pretrained(result.merged_path)
    if "gguf" in formats and gguf_source is not None:
        name = f"twin-{model_id}"
        for gguf_type in gguf_types:
            path = folder / f"{name}.{GGUF_TYPES[gguf_type].file_label}.gguf"
            result.gguf_paths[gguf_type] = write_gguf(model, gguf_source, path, gguf_type, name=name)
    if "ct2" in formats:
        result.ct2_path = _write_ct2(model, tokenizer, folder / f"ct2-{ct2_type}", ct2_type, model_id)
    if "modelfile" in formats:
        gguf = result.preferred_gguf
        if gguf is None:
            raise ExportError("A Modelfile points at a GGUF file: export it with --format gguf "
                              "(q8_0 or f16) too.")
        result.modelfile_path = folder / "Modelfile"
        result.modelfile_path.write_text(
            _modelfile_text(gguf.name, settings, owner, tokenizer), encoding="utf-8")
    return result


def _write_ct2(model, tokenizer, out: Path, ct2_type: str, model_id: str) -> Path:
    """The merged model converted for CTranslate2, with its tokenizer and chat template."""
    from llm_twin.backends.ct2_convert import ConversionSource, convert

    def save_merged(scratch: Path) -> ConversionSource:
        model.config.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        return ConversionSource(scratch, model)

    return convert(save_merged, out, key=f"export:{model_id}", quantization=ct2_type,
                   label=f"{model_id} (export)")


def _base_of(run, settings) -> tuple[str, str | None]:
    if run is not None:
        return run.base_model, run.gguf_file
    return settings.generation_model, settings.gguf_file


def _load_merged(run, settings):
    """(model, tokenizer) on the CPU in float32: merging and writing need no GPU, and float32
    keeps F16/Q8_0 conversion from rounding twice."""
    import torch

    from llm_twin.backends.loading import LoadOptions, load_base_model, load_tuned_model

    options = LoadOptions(cache_dir=settings.cache_dir, device="cpu")
    if run is not None:
        return load_tuned_model(run, options, dtype=torch.float32)
    base_model, gguf_file = _base_of(run, settings)
    model, tokenizer = load_base_model(options, model=base_model, gguf_file=gguf_file,
                                       dtype=torch.float32)
    return model.eval(), tokenizer


def _copy_adapters(run, folder: Path) -> list[Path]:
    """The adapters as trained, numbered in the order they are applied (SFT first, then DPO)."""
    from llm_twin.backends.loading import adapter_stack

    copies = []
    for index, adapter in enumerate(adapter_stack(run), start=1):
        source = Path(adapter)
        if not (source / "adapter_config.json").is_file():
            raise ExportError(f"The adapter of run {run.id!r} is missing: {source} has no "
                              "adapter_config.json.")
        target = folder / f"{index}-{_adapter_label(source)}"
        shutil.copytree(source, target)
        copies.append(target)
    return copies


def _adapter_label(folder: Path) -> str:
    """`<runs>/<run id>/adapter` → the run id; any other folder keeps its own name."""
    return folder.parent.name if folder.name == "adapter" else folder.name


def _modelfile_text(gguf_name: str, settings, owner: str | None, tokenizer) -> str:
    from llm_twin.prompts.wording import system_message

    return render_modelfile(
        gguf_name, system=system_message(owner or settings.owner_name or "the author"),
        temperature=settings.temperature, top_p=settings.top_p,
        repeat_penalty=settings.repetition_penalty, num_ctx=settings.context_tokens,
        num_predict=settings.max_new_tokens, chat_template=tokenizer.chat_template)


def _write_manifest(folder: Path, run, settings, formats, written: ExportResult) -> None:
    base_model, gguf_file = _base_of(run, settings)
    manifest = {
        "model": written.model_id,
        "kind": run.kind if run is not None else BASE,
        "base_model": base_model,
        "base_gguf_file": gguf_file,
        "formats": list(formats),
        "adapter_order": [p.name for p in written.adapter_paths],
        # what the weights saw (`twin forget` finds exports holding a source's words by it)
        "run": run.id if run is not None else None,
        "lineage": run.lineage if run is not None else None,
        "files": {str(p.relative_to(folder)): path_size(p) for p in written.paths},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _replace(partial: Path, out_dir: Path) -> None:
    """Swap the finished export in; an old one is removed only after the new one is in place.
    A process killed between the two renames leaves only `<out>.old`:
    `_finish_interrupted_swap` puts it back before anything else touches the folder."""
    old = out_dir.with_name(out_dir.name + ".old")
    _finish_interrupted_swap(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    partial.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _finish_interrupted_swap(out_dir: Path) -> None:
    """`<out>.old` with no `<out>` is a complete export moved aside by a `--force` run that was
    killed before its new export was renamed in: it goes back in place. (`<out>.old` beside
    `<out>` is the leftover of a finished swap, removed by the next `_replace`.)"""
    old = out_dir.with_name(out_dir.name + ".old")
    if old.is_dir() and not out_dir.exists():
        old.rename(out_dir)


def _relocate(result: ExportResult, partial: Path, out_dir: Path) -> ExportResult:
    def moved(path: Path) -> Path:
        return out_dir / path.relative_to(partial)

    def moved_if_set(path: Path | None) -> Path | None:
        return None if path is None else moved(path)

    return ExportResult(model_id=result.model_id, out_dir=out_dir,
                        merged_path=moved_if_set(result.merged_path),
                        ct2_path=moved_if_set(result.ct2_path),
                        gguf_paths={k: moved(v) for k, v in result.gguf_paths.items()},
                        modelfile_path=moved_if_set(result.modelfile_path),
                        adapter_paths=[moved(p) for p in result.adapter_paths])


def _record_in_registry(session: Session, run, result: ExportResult) -> None:
    from llm_twin.training.registry import record_export, set_export_paths

    set_export_paths(session, run.id,
                     merged_path=str(result.merged_path.resolve()) if result.merged_path else None,
                     gguf_path=str(result.preferred_gguf.resolve()) if result.preferred_gguf else None)
    record_export(session, run.id, str(result.out_dir.resolve()))


def path_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def describe_size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1000:
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return f"{n_bytes:.1f} GB"
