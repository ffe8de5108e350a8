"""`twin init` and `twin status`: create the workspace and show what it holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from llm_twin.app.status import init_workspace, workspace_status
from llm_twin.cli.common import console, open_workspace, user_errors


def init(
    owner: Annotated[str | None, typer.Option(help="Your name, as drafts should speak.")] = None,
) -> None:
    """Create the workspace folder with a commented twin.toml (other commands do it on first use)."""
    with user_errors():
        ws = open_workspace()
        init_workspace(ws, owner)
        verb = "Created" if ws.created_now else "Workspace already at"
        console.print(f"{verb} {ws.settings.workspace.resolve()} (settings: {ws.settings.config_file}).")


def status() -> None:
    """What the workspace holds: sources, documents by platform and kind, chunks, models in use."""
    with user_errors():
        ws = open_workspace()
        found = workspace_status(ws)
        s, summary = ws.settings, found.summary
        console.print(f"[bold]Workspace[/] {s.workspace.resolve()}")
        console.print(f"  owner: {found.owner}   database: {s.resolved_database_url}")
        console.print(f"  sources: {summary.sources}   documents: {summary.documents} "
                      f"({summary.owner_documents} yours)   chunks indexed: {summary.chunks}")
        if summary.by_platform_kind:
            table = Table("platform", "kind", "documents")
            for (platform, kind), count in sorted(summary.by_platform_kind.items()):
                table.add_row(platform, kind, str(count))
            console.print(table)
        stale = found.stale_embedding_models
        rebuild = (f"  [yellow](index built with {', '.join(stale)}: run twin index --rebuild)[/]"
                   if stale else "")
        console.print(f"  embedding model: {s.embedding_model}{rebuild}")
        choice, run = found.backend, found.tuned_run
        console.print(f"  generation: {choice.name} · {run.id if run else s.generation_model}"
                      f"{' (' + s.gguf_file + ')' if s.gguf_file and not run else ''}"
                      f"{' · ' + found.ct2_precision if found.ct2_precision else ''}")
        console.print(f"    why: {choice.reason}", highlight=False)
        print_top_posts(found.top_posts)


def print_top_posts(best: dict) -> None:
    """Your best posts per platform by engagement, with their date, counts and first line."""
    if not best:
        console.print("  top posts: none (no import carried likes, reposts or replies; X and "
                      "Mastodon exports do)")
        return
    table = Table("platform", "date", "likes", "reposts", "replies", "quotes", "× median",
                  "first line", title="Your top posts (likes + 2×reposts + 2×quotes + replies)",
                  title_justify="left")
    for platform, posts in best.items():
        for post in posts:
            counts = post.counts
            table.add_row(platform, post.created_at.date().isoformat() if post.created_at else "-",
                          *(str(counts[key]) if key in counts else "-"
                            for key in ("likes", "reposts", "replies", "quotes")),
                          f"{post.relative:.1f}", escape(_shorten(post.first_line, 60)))
    console.print(table)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
