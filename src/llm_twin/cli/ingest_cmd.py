"""`twin ingest`, `twin sources`, `twin forget`: bring exports in, list them, remove them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from llm_twin.app.ingest import ExportOutcome, ingest_locations
from llm_twin.app.sources import describe_source, forget_source, list_sources
from llm_twin.cli.common import console, open_workspace, user_errors
from llm_twin.cli.progress import progress_bar
from llm_twin.ingest.registry import default_importers


def ingest(
    locations: Annotated[list[str], typer.Argument(
        help="Exports to import: zips, folders, files or URLs. A folder holding several exports "
             "imports each with its own importer.", metavar="PATH_OR_URL...")],
    format_name: Annotated[str | None, typer.Option(
        "--format", "-f", help="Skip detection and use this importer (see `twin formats`).")] = None,
    me: Annotated[list[str] | None, typer.Option(
        "--me", help="Your name, handle or e-mail as it appears in chats and git (repeatable); "
                     "needed where an export does not say who you are (WhatsApp).")] = None,
    allow_private: Annotated[bool, typer.Option(
        "--allow-private", help="Let URL imports reach private and loopback addresses.")] = False,
) -> None:
    """Import your own exports into the workspace. Re-importing the same export adds nothing.

    Each export is parsed completely before anything is stored and lands in one transaction:
    a malformed export is reported (file and line) and nothing of it is kept.
    """
    with user_errors():
        ws = open_workspace()
        failed = 0
        with progress_bar() as progress:
            for outcome in ingest_locations(ws, locations, format_name=format_name,
                                            me=tuple(me or ()), allow_private=allow_private,
                                            progress=progress):
                failed += outcome.report is None
                _print_outcome(outcome)
        if failed:
            raise typer.Exit(code=2)
        console.print("Next: [bold]twin index[/] to make new documents searchable.")


def _print_outcome(outcome: ExportOutcome) -> None:
    report = outcome.report
    if report is None:
        console.print(f"[red]✗ {outcome.target}[/]: {outcome.error}\n  Nothing from this "
                      "export was stored.", highlight=False)
        return
    if report.already_imported:
        console.print(f"[yellow]•[/] {report.path}: already imported as source #{report.source_id}; "
                      "0 new documents.")
        return
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    linked = f", {report.crossposts} linked as cross-posts" if report.crossposts else ""
    console.print(f"[green]✓[/] {report.path} ({report.format_name}, source #{report.source_id}): "
                  f"[bold]{report.new_documents} new documents[/], {report.duplicates} already "
                  f"stored{linked}{f', skipped {skipped}' if skipped else ''} in "
                  f"{outcome.seconds:.1f}s{f'; owner: {report.owner}' if report.owner else ''}.")


def sources() -> None:
    """List imported sources with their document counts by platform and kind."""
    with user_errors():
        listed = list_sources(open_workspace())
        table = Table("id", "format", "documents", "imported", "owner", "location")
        for source in listed:
            counts = ", ".join(f"{count} {platform} {kind}"
                               for (platform, kind), count in source.documents.items())
            table.add_row(str(source.id), source.format_name, counts or "0",
                          source.imported_at.strftime("%Y-%m-%d %H:%M"), source.owner or "",
                          source.path)
        console.print(table if listed else "No sources yet: [bold]twin ingest PATH[/].")


def forget(
    source_id: Annotated[int, typer.Argument(help="Source id from `twin sources`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a source completely: its documents, chunks and vectors are deleted."""
    with user_errors():
        ws = open_workspace()
        summary = describe_source(ws, source_id)
        if not yes and not typer.confirm(f"Forget source #{source_id} ({summary.path}, "
                                         f"{summary.documents} documents)?"):
            raise typer.Exit(code=1)
        with ws.existing_vector_store() as store:
            report = forget_source(ws, store, source_id)
        console.print(f"Forgot source #{source_id}: {summary.documents} documents and their vectors.")
        if report.generations_removed:
            console.print(f"Deleted {report.generations_removed} logged generation(s) that drew on it.")
        if report.dataset_builds_removed:
            console.print(f"Deleted {len(report.dataset_builds_removed)} dataset build(s) holding "
                          f"its text: {', '.join(report.dataset_builds_removed)}. Models trained on "
                          "them still carry it; retrain or delete them (`twin models`).")


def formats() -> None:
    """List the export formats `twin ingest` recognises, in the order they are tried."""
    table = Table("format", "reads")
    for importer in default_importers():
        module = sys.modules[type(importer).__module__]
        doc = (type(importer).__doc__ or module.__doc__ or "").strip().splitlines()
        table.add_row(importer.format_name, doc[0] if doc else "")
    console.print(table)
