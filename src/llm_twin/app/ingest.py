"""Importing exports (`twin ingest`, `POST /api/ingest`): each location is planned (a folder of
several exports imports each with its own importer) and each export stored in one transaction.
An export that fails is reported and nothing of it is kept; the others still import."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import Workspace
from llm_twin.errors import USER_ERRORS, InputError
from llm_twin.ingest.base import Importer, ImportOptions
from llm_twin.ingest.pipeline import IngestReport, ingest_path
from llm_twin.ingest.registry import Location, as_location, default_importers, plan_imports


@dataclass
class ExportOutcome:
    """One export of an ingest: its report, or why nothing of it was stored."""

    location: str | Path  # as given: a path or URL
    target: str | Path  # the export itself (inside `location` when that is a folder of exports)
    report: IngestReport | None = None
    error: str | None = None
    seconds: float = 0.0


def ingest_locations(ws: Workspace, locations: Iterable[str | Path], *,
                     format_name: str | None = None, me: tuple[str, ...] = (),
                     allow_private: bool = False,
                     progress: Progress = SILENT) -> Iterator[ExportOutcome]:
    """Import every export found at `locations`, yielding each outcome as it is done.
    `format_name` skips detection; `me`: the owner's names in chats and git."""
    current = ["reading"]  # the stage the importers' counts belong to: the export being read
    options = ImportOptions(owner_name=ws.settings.owner_name, me=me, allow_private=allow_private,
                            progress=lambda done, total: progress.report(current[0], done, total))
    importers = default_importers(options=options)
    chosen = _importer_named(format_name, importers) if format_name else None
    for location in locations:
        try:
            plan = [(as_location(location), chosen)] if chosen else \
                plan_imports(as_location(location), importers)
        except USER_ERRORS as error:
            yield ExportOutcome(location, location, error=str(error))
            continue
        for target, importer in plan:
            current[0] = f"importing {_name(target)} ({importer.format_name})"
            progress.report(current[0], 0, None)
            yield _import_one(ws, location, target, importer)


def _import_one(ws: Workspace, location: str | Path, target: Location,
                importer: Importer) -> ExportOutcome:
    started = time.perf_counter()
    try:
        report = ingest_path(target, importer, ws.sessions)
    except USER_ERRORS as error:
        return ExportOutcome(location, target, error=str(error))
    return ExportOutcome(location, target, report, seconds=time.perf_counter() - started)


def _importer_named(format_name: str, importers: list[Importer]) -> Importer:
    for importer in importers:
        if importer.format_name == format_name:
            return importer
    names = ", ".join(i.format_name for i in importers)
    raise InputError(f"Unknown format {format_name!r}; available: {names}.")


def _name(target: Location) -> str:
    return target.name if isinstance(target, Path) else target
