"""`twin serve`: the web app, the REST API and an OpenAI-compatible API on one port."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from llm_twin.cli.common import console, errors, open_workspace, quiet_libraries, user_errors


def serve(
    host: Annotated[str, typer.Option(help="Address to bind. Anything but a loopback address "
                                           "needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        envvar="TWIN_SERVE_TOKEN", help="Bearer token every API request must carry "
                                        "(Authorization: Bearer TOKEN); the web app asks for it.")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="Allow browser apps from this origin (repeatable), e.g. "
                              "http://localhost:3000. Default: no CORS.")] = None,
    max_upload_mb: Annotated[int, typer.Option(min=1, help="Largest upload through the app.")] = 256,
    max_new_tokens: Annotated[int | None, typer.Option(
        min=1, help="Default longest draft / answer in tokens (settings otherwise).")] = None,
    model_name: Annotated[str, typer.Option(
        help="The model name OpenAI clients use (GET /v1/models lists it).")] = "twin",
    max_batch: Annotated[int, typer.Option(
        min=1, max=64, help="Concurrent OpenAI-API chat requests generated as one batch "
                            "(transformers backend; 1 = one at a time).")] = 16,
    preload: Annotated[bool, typer.Option(
        "--preload/--no-preload", help="Load the model before accepting requests.")] = True,
) -> None:
    """Serve the twin: a web app at http://HOST:PORT/, the REST API under /api (docs at /docs)
    and an OpenAI-compatible API under /v1 that answers as you, with retrieval.

    Every draft and answer is logged in the workspace with your ratings and edits; `twin dataset
    build` turns edited and rejected drafts into preference pairs. Nothing is ever posted.
    """
    quiet_libraries()
    import uvicorn

    from llm_twin.serving.app import create_app
    from llm_twin.serving.memory import limit_malloc_arenas
    from llm_twin.serving.twin import ServeConfig

    limit_malloc_arenas()  # before the server's threads start (serving.memory says why)

    config = ServeConfig(host=host, port=port, token=token, cors_origins=list(cors_origin or []),
                         max_upload_mb=max_upload_mb, model_name=model_name,
                         max_new_tokens=max_new_tokens, max_batch=max_batch)
    with user_errors():
        ws = open_workspace()
        app = create_app(ws, config)
        if preload:
            with console.status(f"Loading {ws.settings.generation_model} and the embedding model…"):
                app.state.twin.load_models()
    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    console.print(f"[bold green]LLM Twin[/] at [link={url}/]{url}/[/link]  ·  API docs {url}/docs"
                  f"  ·  OpenAI base URL {url}/v1 (model {model_name!r})", highlight=False)
    if token:
        console.print("Requests need [bold]Authorization: Bearer <token>[/]; the web app asks for "
                      "the token once.")
    try:
        with _stopped_by_sigterm():
            uvicorn.run(app, host=host, port=port, log_level="warning")
    except OSError as error:  # port in use
        errors.print(f"[bold red]Error:[/] cannot listen on {host}:{port}: {error}")
        raise typer.Exit(code=2) from None
    except _Stopped:
        console.print("Stopped (SIGTERM); running jobs are recorded as interrupted.")


class _Stopped(Exception):
    """SIGTERM, after uvicorn's graceful shutdown."""


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """uvicorn (0.29+) shuts down gracefully on SIGTERM, then re-raises the signal with the handler
    it found: with the default one the process died of the signal (exit -15, as if killed) after
    a clean shutdown. Our handler turns that re-raised SIGTERM into a normal exit 0."""
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
