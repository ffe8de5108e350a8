"""`twin ingest`, `twin sources`, `twin forget`: bring exports in, list them, remove them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import delete, func, select

from llm_twin.cli.common import console, open_workspace, user_errors
from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.pipeline import IngestReport, ingest_path
from llm_twin.ingest.registry import default_importers, detect_importer
from llm_twin.storage.models import Document, Source


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export zips or folders: an X archive (.zip or "
                                                    "unzipped), a Markdown blog folder with front matter.")],
    format_name: Annotated[str | None, typer.Option("--format", "-f", help="Skip detection and use "
                                                    "this importer (x-archive, markdown-folder).")] = None,
) -> None:
    """Import your own exports into the workspace. Re-importing the same export adds nothing.

    Each export is parsed completely before anything is stored and lands in one transaction:
    a malformed export is reported (file and line) and nothing of it is kept.
    """
    with user_errors():
        ws = open_workspace()
        importers = default_importers(owner=ws.settings.owner_name)
        failed = 0
        for path in paths:
            importer = _choose(path, importers, format_name)
            started = time.perf_counter()
            with console.status(f"Reading {path} as {importer.format_name}…"):
                try:
                    report = ingest_path(path, importer, ws.sessions)
                except ImportFormatError as error:
                    console.print(f"[red]✗ {path}[/]: {error}\n  Nothing from this export was stored.")
                    failed += 1
                    continue
            _print_report(report, time.perf_counter() - started)
        if failed:
            raise typer.Exit(code=2)
        console.print("Next: [bold]twin index[/] to make new documents searchable.")


def _choose(path: Path, importers, format_name: str | None):
    if format_name is None:
        return detect_importer(path, importers)
    for importer in importers:
        if importer.format_name == format_name:
            return importer
    names = ", ".join(i.format_name for i in importers)
    raise ValueError(f"Unknown format {format_name!r}; available: {names}.")


def _print_report(report: IngestReport, seconds: float) -> None:
    if report.already_imported:
        console.print(f"[yellow]•[/] {report.path}: already imported as source #{report.source_id}; "
                      "0 new documents.")
        return
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    console.print(f"[green]✓[/] {report.path} ({report.format_name}, source #{report.source_id}): "
                  f"[bold]{report.new_documents} new documents[/], {report.duplicates} already "
                  f"stored{f', skipped {skipped}' if skipped else ''} in {seconds:.1f}s"
                  f"{f'; owner: {report.owner}' if report.owner else ''}.")


def sources() -> None:
    """List imported sources with their document counts."""
    with user_errors():
        ws = open_workspace()
        with ws.sessions() as session:
            rows = session.execute(select(Source, func.count(Document.id)).outerjoin(Document)
                                   .group_by(Source.id).order_by(Source.id)).all()
        table = Table("id", "format", "documents", "imported", "owner", "path")
        for source, count in rows:
            table.add_row(str(source.id), source.format_name, str(count),
                          source.imported_at.strftime("%Y-%m-%d %H:%M"), source.owner or "",
                          source.path)
        console.print(table if rows else "No sources yet: [bold]twin ingest PATH[/].")


def forget(
    source_id: Annotated[int, typer.Argument(help="Source id from `twin sources`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a source completely: its documents, chunks and vectors are deleted."""
    with user_errors():
        ws = open_workspace()
        with ws.sessions() as session:
            source = session.get(Source, source_id)
            if source is None:
                raise ValueError(f"No source #{source_id}; see `twin sources`.")
            count = session.scalar(select(func.count()).select_from(Document)
                                   .where(Document.source_id == source_id))
            path = source.path
        if not yes and not typer.confirm(f"Forget source #{source_id} ({path}, {count} documents)?"):
            raise typer.Exit(code=1)
        with ws.existing_vector_store() as store:
            if store is not None:
                store.delete_source(source_id)
        with ws.sessions.begin() as session:
            session.execute(delete(Source).where(Source.id == source_id))
        console.print(f"Forgot source #{source_id}: {count} documents and their vectors.")
