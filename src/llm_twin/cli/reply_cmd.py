"""`twin reply`: answer a message as you would, streamed to the terminal (or `--json`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from llm_twin.app.answer import ReplyRequest, StartAnswer, answering, reply as start_reply
from llm_twin.app.write import Sampling
from llm_twin.cli.common import (AsJson, BackendName, MaxNewTokens, ModelChoice, Seed, ShowTimings,
                                 Temperature, console, first_load_hint, open_workspace,
                                 print_sources, quiet_libraries, user_errors)
from llm_twin.inference.reply import ModeResult
from llm_twin.platforms import CHAT_PLATFORMS


def reply(
    message: Annotated[str, typer.Argument(help="The message to answer, e.g. 'are you free Friday?'.")],
    sender: Annotated[str | None, typer.Option("--from", help="Who sent it (named in group chats).")] = None,
    platform: Annotated[str | None, typer.Option(
        "--platform", "-p",
        help=f"Answer as in your chats on: {', '.join(CHAT_PLATFORMS)} (default: all).")] = None,
    context: Annotated[Path | None, typer.Option(
        "--context", help="A short transcript of the conversation so far, one 'Name: text' line "
                          "per message ('me' or your name for yours).")] = None,
    max_new_tokens: MaxNewTokens = None, temperature: Temperature = None, seed: Seed = None,
    backend_name: BackendName = None, model: ModelChoice = None, timings: ShowTimings = False,
    as_json: AsJson = False,
) -> None:
    """Answer a message the way you do in your chats. You send it yourself."""
    quiet_libraries()
    with user_errors():
        request = ReplyRequest(message, sender, platform, context,
                               Sampling(max_new_tokens, temperature, seed))
        ws = open_workspace(backend=backend_name)
        run_mode(ws, model, as_json, timings, {"message": message}, start_reply(ws, request))


def run_mode(ws, model: str | None, as_json: bool, show_timings: bool, request: dict,
             start: StartAnswer) -> None:
    """Load the model, then stream the answer to the terminal, or print it all as JSON."""
    with answering(ws, start, model) as (backend, stream):
        hint = first_load_hint(backend)
        with console.status(f"Loading {backend.model_id} with {backend.name}{hint}…"):
            backend.load()
        if as_json:
            result = stream.finish()
        else:
            for piece in stream:
                sys.stdout.write(piece)
                sys.stdout.flush()
            sys.stdout.write("\n")
            result = stream.result
    result.timings.model_load = getattr(backend, "load_seconds", result.timings.model_load)
    if as_json:
        print(json.dumps({**request, **as_dict(result)}, ensure_ascii=False, indent=2))
    else:
        print_details(result, show_timings=show_timings)


def print_details(result: ModeResult, *, show_timings: bool) -> None:
    for note in result.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False)
    print_sources(result.sources)
    if show_timings:
        t = result.timings
        console.print(f"[dim]model load {t.model_load:.2f}s · retrieval {t.retrieval:.2f}s · "
                      f"prompt {t.prompt_building:.2f}s ({result.prompt_tokens} tokens) · "
                      f"generation {t.generation:.2f}s[/]")


def as_dict(result: ModeResult) -> dict:
    return {
        "text": result.text,
        "sources": [{"label": s.label, "url": s.url, "source": s.source_path,
                     "document_id": s.document_id, "platform": s.platform} for s in result.sources],
        "notes": result.notes,
        "timings": result.timings.as_dict(),
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.generation.completion_tokens if result.generation else 0,
    }
