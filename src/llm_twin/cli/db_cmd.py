"""`twin db`: the workspace database's schema revision (`current`) and upgrading it (`upgrade`)."""

from __future__ import annotations

import typer

from llm_twin.app.database import database_revision, upgrade_database
from llm_twin.cli.common import console, open_workspace, user_errors

db_app = typer.Typer(
    help="The workspace database's schema revision. Any command upgrades an older database when it "
         "opens it; these show the revision and upgrade on request.\n\n"
         "  twin db current   # the revision, and whether it is the newest\n\n"
         "  twin db upgrade   # upgrade now (a backup of twin.db first is wise)",
    no_args_is_help=True)


@db_app.command("current")
def current() -> None:
    """Print the database's revision and this release's newest one; changes nothing."""
    with user_errors():
        revision = database_revision(open_workspace())
        notes = {"current": "the newest",
                 "behind": f"this release's newest is {revision.head}: `twin db upgrade`, or any "
                           "command, upgrades it",
                 "new": f"`twin db upgrade` or any command creates it at {revision.head}",
                 "unversioned": f"`twin db upgrade`, or any command, upgrades it to {revision.head}",
                 "unknown": f"unknown to this release (its newest is {revision.head}): a newer "
                            "release made it; upgrade LLM Twin to open it"}
        console.print(f"{revision.describe()} ({notes[revision.state]})", highlight=False)


@db_app.command("upgrade")
def upgrade() -> None:
    """Upgrade the database to this release's newest revision."""
    with user_errors():
        migration = upgrade_database(open_workspace())
        if migration.before.state == "new":
            console.print(f"Created the workspace database at revision {migration.after}.",
                          highlight=False)
        elif migration.changed:
            console.print(f"Upgraded the workspace database from {migration.before.describe()} to "
                          f"{migration.after}.", highlight=False)
        else:
            console.print(f"The workspace database is already at the newest revision, {migration.after}.",
                          highlight=False)
