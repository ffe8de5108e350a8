"""OpenAICompatibleBackend against a real local server: the project's own OpenAI-compatible API
(uvicorn, real SmolLM2), a plain HTTP server without /tokenize, and a port nobody listens on."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from live_server import API_KEY, DEFAULTS, MODEL_CACHE, MODEL_NAME, shared_backend, twin_api_server  # noqa: E402

from llm_twin.backends.base import BackendError  # noqa: E402
from llm_twin.backends.openai_backend import CHARS_PER_TOKEN, OpenAICompatibleBackend  # noqa: E402

pytestmark = pytest.mark.models

REPO = Path(__file__).resolve().parents[2]
CONVERSATIONS = [[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": question}]
                 for question in ("Name a database.", "Write one short sentence about cycling to work.")]
GREEDY = replace(DEFAULTS, max_new_tokens=8)


@pytest.fixture(scope="module")
def server() -> str:
    with twin_api_server() as url:
        yield url


@pytest.fixture(scope="module")
def remote(server) -> OpenAICompatibleBackend:
    backend = OpenAICompatibleBackend(f"{server}/v1", MODEL_NAME, API_KEY)
    backend.load()
    return backend


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_generate_matches_the_model_behind_the_server(remote):
    direct = [shared_backend().generate([messages], GREEDY)[0] for messages in CONVERSATIONS]
    results = remote.generate(CONVERSATIONS, GREEDY)
    assert [r.text for r in results] == [d.text for d in direct]
    assert [r.prompt_tokens for r in results] == [d.prompt_tokens for d in direct]
    assert [r.completion_tokens for r in results] == [d.completion_tokens for d in direct]
    assert [r.finished for r in results] == [d.finished for d in direct]


def test_same_seed_gives_the_same_sampled_text(remote):
    sampled = replace(GREEDY, temperature=0.9, seed=11)
    first = remote.generate(CONVERSATIONS[:1], sampled)[0].text
    assert first and remote.generate(CONVERSATIONS[:1], sampled)[0].text == first


def test_stream_yields_pieces_of_the_same_text(remote):
    stream = remote.stream(CONVERSATIONS[0], GREEDY)
    pieces = list(stream)
    expected = remote.generate(CONVERSATIONS[:1], GREEDY)[0]
    assert len(pieces) > 1 and "".join(pieces).strip() == expected.text
    assert stream.result.text == expected.text
    assert stream.result.completion_tokens == expected.completion_tokens


def test_window_and_token_counts_come_from_our_server(remote):
    local = shared_backend()
    assert remote.context_window == local.context_window
    text = "Boring technology wins for small teams."
    assert remote.count_tokens(text) == local.count_tokens(text)
    assert remote.count_tokens("") == 0


def test_render_prompt_is_readable_not_a_template(remote):
    rendered = remote.render_prompt(CONVERSATIONS[0])
    assert rendered == "system: Be brief.\n\nuser: Name a database.\n\nassistant:"


def test_an_unknown_model_names_the_server_and_what_it_serves(server):
    with pytest.raises(BackendError, match=rf"{server}/v1.*'gpt-4o'.*{MODEL_NAME}"):
        OpenAICompatibleBackend(f"{server}/v1", "gpt-4o", API_KEY).load()


def test_a_refused_key_says_which_setting_to_fix(server):
    with pytest.raises(BackendError, match=r"refused the API key \(HTTP 401\).*openai_api_key"):
        OpenAICompatibleBackend(f"{server}/v1", MODEL_NAME, "wrong-key").load()


def test_an_unreachable_server_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAICompatibleBackend(url, "some-model", timeout=5)
    with pytest.raises(BackendError, match=rf"Cannot reach .*{url}.*'some-model'.*openai_base_url"):
        backend.generate(CONVERSATIONS[:1], GREEDY)


def test_without_a_tokenize_endpoint_tokens_are_estimated():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_error(404)

        def log_message(self, *args):
            pass

    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=plain.serve_forever, daemon=True)
    thread.start()
    try:
        backend = OpenAICompatibleBackend(f"http://127.0.0.1:{plain.server_port}/v1", "m")
        text = "x" * (CHARS_PER_TOKEN * 5 + 1)
        assert backend.count_tokens(text) == 6
    finally:
        plain.shutdown()
        plain.server_close()


def test_twin_write_uses_the_openai_backend(server, tmp_path):
    """The whole CLI path: ingest + index three demo blog posts, then write through the server."""
    from llm_twin.cli.app import app

    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_OPENAI_BASE_URL": f"{server}/v1",
           "TWIN_OPENAI_MODEL": MODEL_NAME, "TWIN_OPENAI_API_KEY": API_KEY,
           "TWIN_MAX_NEW_TOKENS": "24", "TWIN_QUERY_EXPANSIONS": "0", "COLUMNS": "200"}
    runner = CliRunner()

    def twin(*args: str):
        return runner.invoke(app, ["--workspace", str(tmp_path / "ws"), *args], env=env)

    blog = tmp_path / "blog"
    blog.mkdir()
    for post in sorted((REPO / "demo" / "blog").glob("*.md"))[:3]:  # a small index is enough
        (blog / post.name).write_text(post.read_text(encoding="utf-8"), encoding="utf-8")
    assert twin("ingest", str(blog)).exit_code == 0
    assert twin("index").exit_code == 0
    written = twin("write", "Why we kept our job queue in Postgres", "--platform", "x",
                   "--backend", "openai", "--json")
    assert written.exit_code == 0, written.output
    drafts = json.loads(written.stdout)["drafts"]
    assert len(drafts) == 1 and drafts[0]["text"] and 0 < drafts[0]["completion_tokens"] <= 24
    unknown = twin("write", "anything", "--backend", "nope")
    assert unknown.exit_code == 2
    assert "transformers, llamacpp, openai" in unknown.output
