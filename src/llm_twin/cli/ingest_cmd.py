"""`twin ingest`, `twin sources`, `twin formats`: bring exports in and list them (`twin forget` is
forget_cmd.py)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.ingest import ExportOutcome, import_report, import_total, ingest_locations
from llm_twin.app.sources import (SourceListing, audit_sources, list_sources)
from llm_twin.cli.common import console, open_workspace, user_errors
from llm_twin.cli.progress import progress_bar
from llm_twin.ingest.registry import as_location, default_importers
from llm_twin.ingest.timezones import in_zone


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
    timezone: Annotated[str | None, typer.Option(
        "--timezone", metavar="ZONE",
        help="IANA time zone (e.g. Europe/Paris) the chats' local times were written in: "
             "WhatsApp's lines and Telegram's `date`, stored in UTC; kept with the source and "
             "used to show its dates (Messenger's and Instagram's times are absolute). Default: "
             "this machine's zone, from the TZ variable, else /etc/localtime, else UTC.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the import report as JSON (one entry per export and the total; "
                       "see the README) instead of the table.")] = False,
) -> None:
    """Import your own exports into the workspace. Re-importing the same export adds nothing.

    Each export is parsed completely before anything is stored and lands in one transaction:
    a malformed export is reported (file and line) and nothing of it is kept. The import report
    ends the run: per export, the items found, imported, skipped (by reason) and repaired.
    """
    with user_errors():
        ws = open_workspace()

        def run(progress: Progress = SILENT) -> list[ExportOutcome]:
            return list(ingest_locations(ws, locations, format_name=format_name,
                                         me=tuple(me or ()), allow_private=allow_private,
                                         timezone=timezone, progress=progress))

        if as_json:
            outcomes = run()
            print(json.dumps(import_report(outcomes), ensure_ascii=False, indent=2))
        else:
            with progress_bar() as bar:
                outcomes = run(bar)
            _print_report(outcomes)
        if any(outcome.status == "failed" for outcome in outcomes):
            raise typer.Exit(code=2)
        if not as_json:
            console.print("Next: [bold]twin index[/] to make new documents searchable.")


def _print_report(outcomes: list[ExportOutcome]) -> None:
    """The import report: one row per export (plus a total for several), the notes under it."""
    table = Table(title="Import report", title_justify="left")
    table.add_column("export", overflow="fold")
    table.add_column("format", no_wrap=True)
    for number in ("found", "imported"):
        table.add_column(number, justify="right", no_wrap=True)
    table.add_column("skipped")
    table.add_column("repaired", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    for outcome in outcomes:
        report = outcome.report
        name = Text(outcome.name)
        if report is None:
            table.add_row(name, outcome.format_name or "", "-", "-", "", "",
                          Text.assemble(("failed", "bold red"), f": {_short(outcome)}"))
            continue
        if report.already_imported:
            result = f"already imported as source #{report.source_id}"
        else:
            result = f"new source #{report.source_id}"
            if report.crossposts:
                result += f"; {report.crossposts} linked as cross-posts"
        if report.owner:
            result += f"; owner: {report.owner}"
        found = "-" if report.already_imported else str(report.found)  # not read again
        table.add_row(name, report.format_name, found, str(report.new_documents),
                      _skipped(report.duplicates, report.skipped), _repaired(report.repaired),
                      Text(result))
    if len(outcomes) > 1:
        total = import_total(outcomes)
        states = [f"{total.exports - total.failed - total.already_imported} imported"]
        if total.already_imported:
            states.append(f"{total.already_imported} already imported")
        if total.failed:
            states.append(f"{total.failed} failed")
        table.add_section()
        table.add_row(f"total ({total.exports} exports)", "", str(total.found),
                      str(total.imported), _skipped(total.duplicates, total.skipped),
                      _repaired(total.repaired), ", ".join(states), style="bold")
    console.print(table)
    for outcome in outcomes:
        for note in outcome.report.notes if outcome.report else []:
            console.print(Text.assemble(("note: ", "yellow"), note))
    if any(outcome.status == "failed" for outcome in outcomes):
        console.print(Text.assemble(("Nothing from a failed export was stored", "red"),
                                    "; the others were. Fix it and run the same command again: "
                                    "exports already imported are not imported twice."))


def _short(outcome: ExportOutcome) -> str:
    """The error with the folder given left out of the paths it names (shown in that row)."""
    error = outcome.error or ""
    folder = as_location(outcome.location)
    if isinstance(folder, Path) and folder.is_dir():
        error = error.replace(f"{folder.resolve()}{os.sep}", "").replace(f"{folder}{os.sep}", "")
    return error


def _skipped(duplicates: int, skipped: dict[str, int]) -> str:
    """E.g. "2 already stored, 3 not a post"."""
    parts = [f"{duplicates} already stored"] if duplicates else []
    parts += [f"{count} {reason.replace('_', ' ')}" for reason, count in sorted(skipped.items())]
    return ", ".join(parts)


def _repaired(lines: int) -> str:
    return str(lines) if lines else ""


def sources(
    audit: Annotated[bool, typer.Option(
        "--audit", help="Per source, counts by audience (public, unlisted, followers, private, "
                        "direct, draft) and what each is used for: retrieval for posts, retrieval "
                        "for replies, training.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --audit: JSON.")] = False,
) -> None:
    """List imported sources with their document counts by platform and kind."""
    if audit or as_json:
        _audit(as_json)
        return
    with user_errors():
        listed = list_sources(open_workspace())
        table = Table("id", "format", "documents", "dates", "zone", "imported", "owner",
                      "location", caption="Dates and times in each source's zone (chats: "
                                          "`twin ingest --timezone`), else UTC.")
        for source in listed:
            counts = ", ".join(f"{count} {platform} {kind}"
                               for (platform, kind), count in source.documents.items())
            table.add_row(str(source.id), source.format_name, counts or "0", _span(source),
                          source.timezone or "UTC", _local(source.imported_at, source.timezone),
                          source.owner or "", source.path)
        console.print(table if listed else "No sources yet: [bold]twin ingest PATH[/].")


def _local(moment: datetime, zone: str | None) -> str:
    return in_zone(moment, zone).strftime("%Y-%m-%d %H:%M")


def _span(source: SourceListing) -> str:
    """Its oldest and newest documents' dates, e.g. "2024-01-15 09:30 – 2024-07-15 09:52"."""
    if source.first is None or source.last is None:
        return ""
    first, last = _local(source.first, source.timezone), _local(source.last, source.timezone)
    return first if first == last else f"{first} – {last}"


def _audit(as_json: bool) -> None:
    with user_errors():
        uses = audit_sources(open_workspace())
    if as_json:
        print(json.dumps({"sources": [use.as_dict() for use in uses]}, ensure_ascii=False, indent=2))
        return
    if not uses:
        console.print("No sources yet: [bold]twin ingest PATH[/].")
        return
    table = Table("id", "format", "audience", "documents", "yours", "posts (retrieval)",
                  "replies (retrieval)", "training",
                  caption="Posts: `twin write`, the web app and the chat API. Only your own texts "
                          "are used; others' chat messages are context for your replies.")
    for use in uses:
        audience = f"{use.audience} (chats)" if use.chats else use.audience
        table.add_row(str(use.source_id), use.format_name, audience, str(use.documents),
                      str(use.owner_documents), use.posts, use.replies, use.training)
    console.print(table)


def formats() -> None:
    """List the export formats `twin ingest` recognises, in the order they are tried."""
    table = Table("format", "reads")
    for importer in default_importers():
        module = sys.modules[type(importer).__module__]
        doc = (type(importer).__doc__ or module.__doc__ or "").strip().splitlines()
        table.add_row(importer.format_name, doc[0] if doc else "")
    console.print(table)
