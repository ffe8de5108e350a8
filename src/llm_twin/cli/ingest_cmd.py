"""`twin ingest`, `twin sources`, `twin forget`: bring exports in, list them, remove them."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table
from sqlalchemy import func, select

from llm_twin.cli.common import console, open_workspace, user_errors
from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.forget import describe_source, forget_source
from llm_twin.ingest.pipeline import IngestReport, ingest_path
from llm_twin.ingest.registry import as_location, default_importers, plan_imports
from llm_twin.storage.models import Document, Source


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
        with _progress() as progress:
            task = progress.add_task("Reading", total=None, visible=False)
            options = ImportOptions(owner_name=ws.settings.owner_name, me=tuple(me or ()),
                                    allow_private=allow_private,
                                    progress=lambda done, total: progress.update(
                                        task, completed=done, total=total, visible=True))
            importers = default_importers(options=options)
            for location in locations:
                for target, importer in _plan(location, importers, format_name):
                    progress.update(task, description=f"{importer.format_name}: {target}",
                                    completed=0, total=None, visible=True)
                    started = time.perf_counter()
                    try:
                        report = ingest_path(target, importer, ws.sessions)
                    except ImportFormatError as error:
                        progress.console.print(f"[red]✗ {target}[/]: {error}\n  Nothing from this "
                                               "export was stored.", highlight=False)
                        failed += 1
                        continue
                    finally:
                        progress.update(task, visible=False)
                    _print_report(report, time.perf_counter() - started)
        if failed:
            raise typer.Exit(code=2)
        console.print("Next: [bold]twin index[/] to make new documents searchable.")


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)


def _plan(location: str, importers, format_name: str | None):
    if format_name is None:
        return plan_imports(as_location(location), importers)
    for importer in importers:
        if importer.format_name == format_name:
            return [(as_location(location), importer)]
    names = ", ".join(i.format_name for i in importers)
    raise ValueError(f"Unknown format {format_name!r}; available: {names}.")


def _print_report(report: IngestReport, seconds: float) -> None:
    if report.already_imported:
        console.print(f"[yellow]•[/] {report.path}: already imported as source #{report.source_id}; "
                      "0 new documents.")
        return
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    linked = f", {report.crossposts} linked as cross-posts" if report.crossposts else ""
    console.print(f"[green]✓[/] {report.path} ({report.format_name}, source #{report.source_id}): "
                  f"[bold]{report.new_documents} new documents[/], {report.duplicates} already "
                  f"stored{linked}{f', skipped {skipped}' if skipped else ''} in {seconds:.1f}s"
                  f"{f'; owner: {report.owner}' if report.owner else ''}.")


def sources() -> None:
    """List imported sources with their document counts by platform and kind."""
    with user_errors():
        ws = open_workspace()
        with ws.sessions() as session:
            all_sources = session.scalars(select(Source).order_by(Source.id)).all()
            counts = session.execute(select(Document.source_id, Document.platform, Document.kind,
                                            func.count()).group_by(Document.source_id,
                                                                   Document.platform, Document.kind)).all()
        by_source: dict[int, list[str]] = {}
        for source_id, platform, kind, count in counts:
            by_source.setdefault(source_id, []).append(f"{count} {platform} {kind}")
        table = Table("id", "format", "documents", "imported", "owner", "location")
        for source in all_sources:
            table.add_row(str(source.id), source.format_name,
                          ", ".join(by_source.get(source.id, [])) or "0",
                          source.imported_at.strftime("%Y-%m-%d %H:%M"), source.owner or "",
                          source.path)
        console.print(table if all_sources else "No sources yet: [bold]twin ingest PATH[/].")


def forget(
    source_id: Annotated[int, typer.Argument(help="Source id from `twin sources`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a source completely: its documents, chunks and vectors are deleted."""
    with user_errors():
        ws = open_workspace()
        try:
            summary = describe_source(ws.sessions, source_id)
        except LookupError as missing:
            raise ValueError(str(missing)) from None
        if not yes and not typer.confirm(f"Forget source #{source_id} ({summary.path}, "
                                         f"{summary.documents} documents)?"):
            raise typer.Exit(code=1)
        with ws.existing_vector_store() as store:
            report = forget_source(ws.sessions, store, ws.settings.workspace, source_id)
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
