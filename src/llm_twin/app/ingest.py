"""Importing exports (`twin ingest`, `POST /api/ingest`): each location is planned (a folder of
several exports imports each with its own importer) and each export stored in one transaction.
An export that fails is reported and nothing of it is kept; the others still import.

The import report (`import_report`, `twin ingest --json`) has one stable shape:

    {"exports": [ExportOutcome.as_dict(), ...],   # one per export, in import order
     "total": {"exports", "failed", "already_imported",       # numbers of exports
               "found", "imported", "duplicates", "skipped", "repaired", "crossposts"}}

Per export: `found` = `imported` + `duplicates` + the sum of `skipped` (reason -> count), i.e.
everything the importer saw; `imported` = new documents stored; `duplicates` = documents already
in the warehouse; `repaired` = places repaired to read a not well-formed export (see `notes`).
An export not read (`status` "already_imported" or "failed") counts 0 everywhere; a failed one
has its `error`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import Workspace
from llm_twin.errors import USER_ERRORS, InputError
from llm_twin.ingest.base import Importer, ImportOptions
from llm_twin.ingest.pipeline import IngestReport, ingest_path
from llm_twin.ingest.timezones import machine_zone_name
from llm_twin.ingest.registry import Location, as_location, default_importers, plan_imports


@dataclass
class ExportOutcome:
    """One export of an ingest: its report, or why nothing of it was stored."""

    location: str | Path  # as given: a path or URL
    target: str | Path  # the export itself (inside `location` when that is a folder of exports)
    report: IngestReport | None = None
    error: str | None = None
    seconds: float = 0.0
    format_name: str | None = None  # the importer's, when one was chosen

    @property
    def status(self) -> Literal["imported", "already_imported", "failed"]:
        if self.report is None:
            return "failed"
        return "already_imported" if self.report.already_imported else "imported"

    @property
    def name(self) -> str:
        """The export as the user knows it: its path inside the folder given, or its name."""
        target, location = as_location(self.target), as_location(self.location)
        if isinstance(target, Path) and isinstance(location, Path) and target != location:
            try:
                return target.relative_to(location).as_posix()
            except ValueError:
                pass
        return target.name if isinstance(target, Path) else str(target)

    def as_dict(self) -> dict[str, Any]:
        """This export's row of the import report (see the module docstring)."""
        report = self.report
        return {"name": self.name, "location": str(self.location), "export": str(self.target),
                "format": report.format_name if report else self.format_name,
                "status": self.status, "source_id": report.source_id if report else None,
                "found": report.found if report else 0,
                "imported": report.new_documents if report else 0,
                "duplicates": report.duplicates if report else 0,
                "skipped": dict(sorted(report.skipped.items())) if report else {},
                "repaired": report.repaired if report else 0,
                "crossposts": report.crossposts if report else 0,
                "owner": report.owner if report else None,
                "notes": list(report.notes) if report else [],
                "error": self.error, "seconds": round(self.seconds, 3)}


@dataclass
class ImportTotal:
    """The sums over an ingest's exports (the report's "total")."""

    exports: int = 0
    failed: int = 0
    already_imported: int = 0
    found: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    repaired: int = 0
    crossposts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"exports": self.exports, "failed": self.failed,
                "already_imported": self.already_imported, "found": self.found,
                "imported": self.imported, "duplicates": self.duplicates,
                "skipped": dict(sorted(self.skipped.items())), "repaired": self.repaired,
                "crossposts": self.crossposts}


def import_total(outcomes: Iterable[ExportOutcome]) -> ImportTotal:
    total = ImportTotal()
    for outcome in outcomes:
        total.exports += 1
        total.failed += outcome.status == "failed"
        total.already_imported += outcome.status == "already_imported"
        report = outcome.report
        if report is None:
            continue
        total.found += report.found
        total.imported += report.new_documents
        total.duplicates += report.duplicates
        total.repaired += report.repaired
        total.crossposts += report.crossposts
        for reason, count in report.skipped.items():
            total.skipped[reason] = total.skipped.get(reason, 0) + count
    return total


def import_report(outcomes: Iterable[ExportOutcome]) -> dict[str, Any]:
    """The import report of an ingest: one row per export and the total."""
    listed = list(outcomes)
    return {"exports": [outcome.as_dict() for outcome in listed],
            "total": import_total(listed).as_dict()}


def ingest_locations(ws: Workspace, locations: Iterable[str | Path], *,
                     format_name: str | None = None, me: tuple[str, ...] = (),
                     allow_private: bool = False, timezone: str | None = None,
                     progress: Progress = SILENT) -> Iterator[ExportOutcome]:
    """Import every export found at `locations`, yielding each outcome as it is done.
    `format_name` skips detection; `me`: the owner's names in chats and git; `timezone`: the
    IANA zone chat exports' local times are read in (default: this machine's, see
    `machine_zone_name`). An unknown zone raises InputError before anything is read."""
    current = ["reading"]  # the stage the importers' counts belong to: the export being read
    options = ImportOptions(owner_name=ws.settings.owner_name, me=me, allow_private=allow_private,
                            progress=lambda done, total: progress.report(current[0], done, total),
                            timezone=machine_zone_name() if timezone is None else timezone)
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
        return ExportOutcome(location, target, error=str(error),
                             seconds=time.perf_counter() - started,
                             format_name=importer.format_name)
    return ExportOutcome(location, target, report, seconds=time.perf_counter() - started,
                         format_name=importer.format_name)


def _importer_named(format_name: str, importers: list[Importer]) -> Importer:
    for importer in importers:
        if importer.format_name == format_name:
            return importer
    names = ", ".join(i.format_name for i in importers)
    raise InputError(f"Unknown format {format_name!r}; available: {names}.")


def _name(target: Location) -> str:
    return target.name if isinstance(target, Path) else target
