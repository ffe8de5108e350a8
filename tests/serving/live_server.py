"""A real uvicorn server on 127.0.0.1 (a free port) in a background thread, for the tests of the
OpenAI-compatible API and of the backend that talks to such servers."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from llm_twin.backends.base import GenerationParams
from llm_twin.backends.transformers_backend import TransformersBackend

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the backend tests
MODEL_NAME = "twin-smollm2"
API_KEY = "sk-test-local"
# Few tokens keep the tests fast; greedy decoding makes server and direct calls comparable.
DEFAULTS = GenerationParams(max_new_tokens=10, temperature=0.0)


@lru_cache(maxsize=1)
def shared_backend() -> TransformersBackend:
    """The real bundled SmolLM2, loaded once per test session."""
    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE)
    backend.load()
    return backend


@contextmanager
def running_server(app) -> Iterator[str]:
    """Serves `app` until the block ends; yields its root URL, e.g. http://127.0.0.1:41234."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def twin_api_server(**app_options) -> Iterator[str]:
    """The project's OpenAI-compatible API over the shared SmolLM2, with API_KEY required."""
    from llm_twin.serving.openai_api import create_openai_app

    options = {"model_name": MODEL_NAME, "api_key": API_KEY, "default_params": DEFAULTS,
               **app_options}
    with running_server(create_openai_app(shared_backend(), **options)) as url:
        yield url
