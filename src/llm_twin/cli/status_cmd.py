"""`twin init` and `twin status`: create the workspace and show what it holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from llm_twin.cli.common import console, open_workspace, user_errors
from llm_twin.config import set_config_value
from llm_twin.storage.warehouse import summarize


def init(
    owner: Annotated[str | None, typer.Option(help="Your name, as drafts should speak.")] = None,
) -> None:
    """Create the workspace folder with a commented twin.toml (other commands do it on first use)."""
    with user_errors():
        ws = open_workspace()
        if owner:
            set_config_value(ws.settings, "owner_name", owner)
        _ = ws.sessions  # creates the database schema now, so `status` works at once
        verb = "Created" if ws.created_now else "Workspace already at"
        console.print(f"{verb} {ws.settings.workspace.resolve()} (settings: {ws.settings.config_file}).")


def status() -> None:
    """What the workspace holds: sources, documents by platform and kind, chunks, models in use."""
    with user_errors():
        ws = open_workspace()
        with ws.sessions() as session:
            summary = summarize(session)
        s = ws.settings
        console.print(f"[bold]Workspace[/] {s.workspace.resolve()}")
        console.print(f"  owner: {ws.owner_name()}   database: {s.resolved_database_url}")
        console.print(f"  sources: {summary.sources}   documents: {summary.documents} "
                      f"({summary.owner_documents} yours)   chunks indexed: {summary.chunks}")
        if summary.by_platform_kind:
            table = Table("platform", "kind", "documents")
            for (platform, kind), count in sorted(summary.by_platform_kind.items()):
                table.add_row(platform, kind, str(count))
            console.print(table)
        stale = [m for m in summary.embedding_models if m != s.embedding_model]
        console.print(f"  embedding model: {s.embedding_model}"
                      f"{'  [yellow](index built with ' + ', '.join(stale) + ': run twin index --rebuild)[/]' if stale else ''}")
        choice = ws.backend_choice()
        run = ws.tuned_run()
        console.print(f"  generation: {choice.name} · {run.id if run else s.generation_model}"
                      f"{' (' + s.gguf_file + ')' if s.gguf_file and not run else ''}"
                      f"{' · ' + _ct2_precision(s) if choice.name == 'ctranslate2' else ''}")
        console.print(f"    why: {choice.reason}", highlight=False)


def _ct2_precision(settings) -> str:
    from llm_twin.backends.ctranslate2_backend import resolve_compute_type, resolve_ct2_device

    device = resolve_ct2_device(settings.device)
    return f"{resolve_compute_type(settings.ct2_compute_type, device)} on {device}"
