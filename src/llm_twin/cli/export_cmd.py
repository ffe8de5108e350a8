"""`twin export`: write a trained model (or the base) as merged weights, GGUF, a Modelfile, adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llm_twin.app.models import ExportSpec, export_model
from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors


def export(
    model_id: Annotated[str | None, typer.Argument(
        metavar="[MODEL_ID|base]",
        help="A trained model from `twin models`, or 'base'. Default: the model in use.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Export folder. Default: <workspace>/exports/<model id>.")] = None,
    formats: Annotated[str | None, typer.Option(
        "--format", help="Comma-separated: merged, gguf, modelfile, adapter, ct2 (CTranslate2). "
                         "Default: merged, gguf, modelfile, adapter (no adapter for the base).")] = None,
    gguf_types: Annotated[str, typer.Option(
        "--gguf-type", help="Comma-separated GGUF types: f16, q8_0.")] = "f16,q8_0",
    ct2_type: Annotated[str, typer.Option(
        "--ct2-type", help="CTranslate2 weight type for --format ct2: int8, int8_float16, "
                           "float16, bfloat16, float32.")] = "int8",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing export folder.")] = False,
) -> None:
    """Export a model for other tools: merged safetensors (transformers, vLLM), GGUF (llama.cpp,
    Ollama), an Ollama Modelfile, the LoRA adapter as trained, and CTranslate2 weights."""
    spec = ExportSpec(model_id, out, formats.split(",") if formats else None,
                      tuple(gguf_types.split(",")), ct2_type, force)
    with user_errors():
        ws = open_workspace()
        quiet_libraries()
        with console.status(f"Exporting {model_id or 'the model in use'}…"):
            result, tuned = export_model(ws, spec)
        _print_result(result, is_active=model_id is None and tuned)


def _print_result(result, *, is_active: bool) -> None:
    from llm_twin.training.export import describe_size, path_size

    table = Table("written", "size")
    for path in result.paths:
        table.add_row(str(path), describe_size(path_size(path)))
    console.print(f"Exported [bold]{result.model_id}[/] to {result.out_dir}")
    console.print(table)
    console.print("[bold]Use it:[/]")
    hints = []
    if result.modelfile_path is not None:
        hints.append(f"ollama create my-twin -f {result.modelfile_path} && ollama run my-twin")
    if result.preferred_gguf is not None:
        run_env = "" if is_active else f"TWIN_LLAMACPP_MODEL_PATH={result.preferred_gguf} "
        hints.append(f"{run_env}twin write 'your idea' --platform x --backend llamacpp")
    if result.merged_path is not None:
        hints.append(f"vllm serve {result.merged_path}   (or any transformers loader)")
    if result.ct2_path is not None:
        hints.append(f"ctranslate2.Generator('{result.ct2_path}')   (tokenizer files inside)")
    if result.adapter_paths:
        hints.append("PEFT adapters, applied in this order: "
                     + ", ".join(str(p) for p in result.adapter_paths))
    for hint in hints:
        console.print(f"  {hint}", soft_wrap=True, highlight=False)
