"""`twin`: the command line. Each stage's commands live in their own module; this file wires them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from llm_twin.cli import dataset_cmd, index_cmd, ingest_cmd, status_cmd, write_cmd
from llm_twin.cli import export_cmd
from llm_twin.cli import eval_cmd
from llm_twin.cli import models_cmd, train_cmd
from llm_twin.cli import voice_cmd
from llm_twin.cli import code_cmd, reply_cmd
from llm_twin.cli import serve_cmd
from llm_twin.cli import db_cmd
from llm_twin.cli import forget_cmd
from llm_twin.cli import blind_test_cmd
from llm_twin.cli.common import state

app = typer.Typer(
    name="twin",
    help="LLM Twin: learns your writing voice from your own exports and drafts posts in it.\n\n"
         "Typical session:\n\n"
         "  twin init --owner 'Your Name'\n\n"
         "  twin ingest ~/Downloads   # X, LinkedIn, Medium, WhatsApp... (see twin formats)\n\n"
         "  twin index\n\n"
         "  twin write 'why we kept Postgres' --platform linkedin\n\n"
         "  twin serve                # the web app at http://localhost:8000/\n\n"
         "Everything runs locally; nothing is ever posted for you.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main_options(
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", envvar="TWIN_WORKSPACE",
        help="Workspace folder (database, vectors, twin.toml). Default: ./twin-data")] = None,
) -> None:
    state.workspace_path = workspace


app.command("init")(status_cmd.init)
app.command("ingest")(ingest_cmd.ingest)
app.command("formats")(ingest_cmd.formats)
app.command("sources")(ingest_cmd.sources)
app.command("forget")(forget_cmd.forget)
app.command("index")(index_cmd.index)
app.command("search")(index_cmd.search)
app.command("write")(write_cmd.write)
app.command("reply")(reply_cmd.reply)
app.command("code")(code_cmd.code)
app.command("status")(status_cmd.status)
app.command("export")(export_cmd.export)
app.command("eval")(eval_cmd.evaluate)
app.command("blind-test")(blind_test_cmd.blind_test)
app.command("serve")(serve_cmd.serve)
app.add_typer(dataset_cmd.dataset_app, name="dataset")
app.add_typer(train_cmd.train_app, name="train")
app.add_typer(models_cmd.models_app, name="models")
app.add_typer(voice_cmd.voice_app, name="voice")
app.add_typer(db_cmd.db_app, name="db")


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
