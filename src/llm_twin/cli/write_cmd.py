"""`twin write`: a draft in your voice for one platform, with the sources it drew on."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.panel import Panel

from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.inference.platforms import PLATFORMS
from llm_twin.inference.writer import WriteResult


def write(
    idea: Annotated[str, typer.Argument(help="The skeleton idea, e.g. '3 lessons from moving our "
                                             "queue into Postgres, keep it punchy'.")],
    platform: Annotated[str, typer.Option("--platform", "-p", help=f"One of: {', '.join(PLATFORMS)}.")] = "linkedin",
    n: Annotated[int, typer.Option("-n", min=1, max=8, help="Drafts to generate (one batch).")] = 1,
    max_new_tokens: Annotated[int | None, typer.Option(help="Longest draft in tokens.")] = None,
    temperature: Annotated[float | None, typer.Option(help="0 for greedy decoding.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible drafts.")] = None,
    backend_name: Annotated[str | None, typer.Option(
        "--backend", help="Generation backend: transformers, llamacpp or openai (overrides the "
                          "'backend' setting).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="A fine-tuned run id from `twin models`, or 'base'; default: the model in use.")] = None,
    timings: Annotated[bool, typer.Option("--timings", help="Show where the time went.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Draft a post in your voice, grounded in what you wrote. You edit and publish it yourself."""
    quiet_libraries()
    if platform not in PLATFORMS:
        console.print(f"[red]Error:[/] unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}.")
        raise typer.Exit(code=2)
    with user_errors():
        ws = open_workspace(backend=backend_name)
        backend = ws.backend(model)
        first_load_hint = (" (the first load dequantises and caches it, ~30 s)"
                           if ws.settings.backend == "transformers" else "")
        with console.status(f"Loading {backend.model_id} with {ws.settings.backend}{first_load_hint}…"):
            backend.load()
            _ = ws.embedder.dimension
        with ws.vector_store() as store:
            writer = ws.writer(store, backend, max_new_tokens=max_new_tokens,
                               temperature=temperature, seed=seed)
            with console.status(f"Writing {n} {platform} draft{'s' if n > 1 else ''}…"):
                result = writer.write(idea, platform, n=n)
        result.timings.model_load = getattr(backend, "load_seconds", result.timings.model_load)
        if as_json:
            print(json.dumps(_as_dict(result), ensure_ascii=False, indent=2))
        else:
            _print_result(result, show_timings=timings)


def _print_result(result: WriteResult, *, show_timings: bool) -> None:
    for i, draft in enumerate(result.drafts, 1):
        formatted = draft.formatted
        title = f"{formatted.platform} draft {i}/{len(result.drafts)}"
        if len(formatted.posts) > 1:
            title += f" · thread of {len(formatted.posts)} posts"
        console.print(Panel(formatted.as_text(), title=title, title_align="left", expand=False),
                      highlight=False)
        for note in formatted.notes:
            console.print(f"  [dim]formatter: {note}[/]")
    if result.sources:
        console.print("[bold]Drew on:[/]")
        for source in result.sources:
            where = source.url or source.source_path
            console.print(f"  • {source.label}  [dim]{where}[/]", highlight=False)
    if show_timings:
        t = result.timings
        console.print(f"[dim]model load {t.model_load:.2f}s · retrieval {t.retrieval:.2f}s · "
                      f"prompt {t.prompt_building:.2f}s ({result.prompt.prompt_tokens} tokens) · "
                      f"generation {t.generation:.2f}s[/]")


def _as_dict(result: WriteResult) -> dict:
    return {
        "idea": result.idea,
        "platform": result.platform,
        "drafts": [{"text": d.formatted.as_text(), "posts": d.formatted.posts,
                    "title": d.formatted.title, "notes": d.formatted.notes,
                    "completion_tokens": d.generation.completion_tokens} for d in result.drafts],
        "sources": [{"label": s.label, "url": s.url, "source": s.source_path,
                     "document_id": s.document_id} for s in result.sources],
        "timings": {"model_load": result.timings.model_load, "retrieval": result.timings.retrieval,
                    "prompt_building": result.timings.prompt_building,
                    "generation": result.timings.generation},
        "prompt_tokens": result.prompt.prompt_tokens,
    }
