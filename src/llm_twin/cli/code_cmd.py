"""`twin code`: code in your style, drawing on your repositories, streamed (or `--json`)."""

from __future__ import annotations

from typing import Annotated

import typer

from llm_twin.app.answer import CodeRequest, code as start_code
from llm_twin.app.write import Sampling
from llm_twin.cli.common import (AsJson, BackendName, MaxNewTokens, ModelChoice, Seed, ShowTimings,
                                 Temperature, open_workspace, quiet_libraries, user_errors)
from llm_twin.cli.reply_cmd import run_mode


def code(
    request: Annotated[str, typer.Argument(help="What to write, e.g. 'a retry decorator with "
                                                "exponential backoff'.")],
    language: Annotated[str | None, typer.Option(
        "--language", "-l", help="Only draw on your code in this language (default: from --path).")] = None,
    path: Annotated[str | None, typer.Option("--path", help="The file it is for, e.g. src/retry.py.")] = None,
    max_new_tokens: MaxNewTokens = None, temperature: Temperature = None, seed: Seed = None,
    backend_name: BackendName = None, model: ModelChoice = None, timings: ShowTimings = False,
    as_json: AsJson = False,
) -> None:
    """Write code the way you write it, drawing on your own repositories."""
    quiet_libraries()
    with user_errors():
        code_request = CodeRequest(request, language, path, Sampling(max_new_tokens, temperature, seed))
        ws = open_workspace(backend=backend_name)
        run_mode(ws, model, as_json, timings, {"request": request, "language": language, "path": path},
                 start_code(ws, code_request))
