"""Shared CLI plumbing: the console, the workspace from global options, friendly errors."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from llm_twin.config import load_settings
from llm_twin.errors import USER_ERRORS, disk_full

# Generation options shared by `twin write`, `twin reply` and `twin code`.
MaxNewTokens = Annotated[int | None, typer.Option(help="Longest answer in tokens.")]
Temperature = Annotated[float | None, typer.Option(help="0 for greedy decoding.")]
Seed = Annotated[int | None, typer.Option(help="Seed for a reproducible answer.")]
BackendName = Annotated[str | None, typer.Option(
    "--backend", help="Generation backend: auto, ctranslate2, transformers, llamacpp or openai "
                      "(overrides the 'backend' setting).")]


def first_load_hint(backend) -> str:
    """What the first load of a backend does besides loading, shown while it loads."""
    hints = {"transformers": " (the first load dequantises and caches it, ~30 s)",
             "ctranslate2": " (the first load converts and caches it, ~20-60 s)"}
    return hints.get(getattr(backend, "name", ""), "")


ModelChoice = Annotated[str | None, typer.Option(
    "--model", help="A fine-tuned run id from `twin models`, or 'base'; default: the model in use.")]
ShowTimings = Annotated[bool, typer.Option("--timings", help="Show where the time went.")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output (no streaming).")]

console = Console()
errors = Console(stderr=True)



@dataclass
class CliState:
    workspace_path: Path | None = None


state = CliState()


def open_workspace(**overrides):
    from llm_twin.app.workspace import Workspace

    return Workspace(load_settings(state.workspace_path, **overrides))


INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a `TwinError` (and a full disk, whatever raised it) as one line, exit code 2; Ctrl-C
    as one line, exit code 130. Every stage stores in transactions and renames finished files
    into place, so what an interrupted or failed command leaves is consistent and its rerun
    continues. TWIN_DEBUG=1 keeps the tracebacks."""
    try:
        yield
    except USER_ERRORS as error:
        if os.environ.get("TWIN_DEBUG"):
            raise
        _fail(error)
    except KeyboardInterrupt:
        if os.environ.get("TWIN_DEBUG"):
            raise
        errors.print(f"[yellow]Interrupted:[/] {_command()} stopped; what it finished is stored "
                     "(rerun the same command to continue).", highlight=False, soft_wrap=True)
        raise typer.Exit(code=INTERRUPTED_EXIT_CODE) from None
    except Exception as error:
        full = disk_full(error, database=f"the workspace database in {_workspace()}",
                         writing=f"a file (workspace {_workspace()})")
        if full is None or os.environ.get("TWIN_DEBUG"):
            raise
        _fail(full)


def _fail(error: BaseException) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2) from None


COMMAND_GROUPS = ("dataset", "train", "models", "voice", "db")


def _command(argv: list[str] | None = None) -> str:
    """`twin <command>` as typed, e.g. "twin ingest" or "twin dataset build"."""
    words = list(sys.argv[1:] if argv is None else argv)
    while words and words[0].startswith("-"):  # the global options: --workspace/-w DIR
        option = words.pop(0)
        if option in ("-w", "--workspace") and words:
            words.pop(0)
    named = words[:2] if words and words[0] in COMMAND_GROUPS else words[:1]
    return " ".join(["twin", *(w for w in named if not w.startswith("-"))])


def _workspace() -> Path:
    return state.workspace_path or Path(os.environ.get("TWIN_WORKSPACE") or "twin-data")


def quiet_libraries() -> None:
    """Model libraries print progress bars and warnings meant for their developers, not our users."""
    warnings.filterwarnings("ignore")
    os.environ["TQDM_DISABLE"] = "1"  # GGUF dequantisation draws its own bar under our spinner
    for name in ("transformers", "sentence_transformers", "huggingface_hub", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def print_sources(sources) -> None:
    """The documents a draft, reply or code answer drew on, one line each."""
    if not sources:
        return
    console.print("[bold]Drew on:[/]")
    for source in sources:
        where = source.url or source.source_path
        console.print(f"  • {source.label}  [dim]{where}[/]", highlight=False)
