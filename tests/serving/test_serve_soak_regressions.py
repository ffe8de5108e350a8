"""Defects `benchmarks/serve_soak.py` and the schemathesis run found in `twin serve`, each pinned
(real app over real uvicorn, real SQLite workspace, real SmolLM2 and embedding model)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from conftest import MODEL_CACHE, make_doc
from llm_twin.app.indexing import index_into
from llm_twin.config import load_settings
from llm_twin.serving.app import create_app
from llm_twin.serving.twin import ServeConfig
from live_server import running_server

pytestmark = pytest.mark.models


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(tmp_path / "ws", cache_dir=MODEL_CACHE, owner_name="Dana", device="cpu")


@pytest.fixture
def app(workspace, ingest, generation_backend):
    ingest(make_doc("We moved our job queue into Postgres; SKIP LOCKED did the work."),
           make_doc("Small teams should spend their novelty budget on the product."))
    with workspace.vector_store() as store:
        index_into(workspace, store)
    app = create_app(workspace, ServeConfig(max_new_tokens=8, temperature=0.0),
                     base_backend=generation_backend)
    yield app
    app.state.twin.close()


def released(lock, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while lock.locked():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("path, body", [
    ("/api/write", {"idea": "Postgres as a queue", "max_new_tokens": 400}),
    ("/v1/chat/completions", {"model": "twin", "stream": True, "max_tokens": 400,
                              "messages": [{"role": "user", "content": "Postgres as a queue?"}]}),
])
def test_client_leaving_mid_stream_releases_the_model(app, path, body):
    """A client that disconnected mid-stream left its generator to the garbage collector: the
    model's and the store's locks stayed held and every later draft, chat and search hung."""
    twin = app.state.twin
    with running_server(app) as url:
        with httpx.Client(base_url=url, timeout=60) as client, \
                client.stream("POST", path, json=body) as response:
            assert response.status_code == 200
            next(response.iter_bytes())  # the first bytes, then the client goes away
        assert released(twin.generation_lock) and released(twin.store_lock)
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/api/search", params={"q": "postgres"}).status_code == 200


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, reason", [
    ("twitter-archive.zip", zip_bytes({"data/tweets.js": b"\0" * (8 << 20)}), "zip bomb"),
    ("twitter-archive.zip", zip_bytes({"data/tweets.js": b"window.YTD = []"})[:40], "corrupt"),
    ("notes.bin", b"\x00\x01 not an export", "no importer recognises"),
])
def test_an_upload_that_cannot_be_imported_is_a_422_and_nothing_is_kept(app, name, data, reason):
    """Such uploads were accepted (202) and only their background job failed."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        response = client.post("/api/ingest", files={"files": (name, data)},
                               data={"index": "false"})
        assert response.status_code == 422, response.text
        assert reason in response.json()["detail"] and name in response.json()["detail"]
        assert "/uploads/" not in response.json()["detail"]  # no server paths
        assert client.get("/api/jobs").json()["jobs"] == []
    uploads = app.state.twin.ws.settings.workspace / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_api_errors_are_declared_as_the_detail_sentence_they_are(app):
    """The document declared FastAPI's list-of-errors 422 for /api routes, which answer
    {"detail": "<sentence>"}; and the /v1 routes answer OpenAI-shaped errors."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
        answer = client.post("/api/write", json={"idea": "x", "platform": "myspace"})
    declared = spec["paths"]["/api/write"]["post"]["responses"]["422"]
    assert declared["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    assert answer.status_code == 422 and isinstance(answer.json()["detail"], str)
    v1 = spec["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert v1["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_a_stream_closed_before_its_first_piece_still_frees_the_model():
    """The soak's deadlock: a chat client left while its request waited for its turn; its stream,
    never started, was closed without running the `finally` that frees the model, so the batcher
    waited for ever and every later request hung."""
    import threading

    from llm_twin.backends.base import Generation, GenerationStream
    from llm_twin.serving.batching import tracked

    closed = []

    def pieces():
        try:
            yield "never read"
        finally:
            closed.append(True)
        return Generation("", 0, 0)

    done = threading.Event()
    stream = tracked(GenerationStream(pieces()), done)
    stream.close()
    assert done.is_set()


def test_a_job_running_when_the_server_died_is_interrupted_after_a_restart(tmp_path):
    """Jobs lived only in memory: a server killed (or stopped) mid-job came back with no trace of
    it; a caller polling it saw 404, and an in-memory `running` never ended. Now a journal keeps
    them and a restarted server lists such a job as `interrupted`, with a message."""
    import threading

    from llm_twin.serving.jobs import JobRunner

    journal = tmp_path / "serve-jobs.json"
    started, release = threading.Event(), threading.Event()

    def long_work(job):
        started.set()
        release.wait(30)
        return {}

    runner = JobRunner(journal=journal)
    done = runner.submit("index", "quick", lambda job: {"chunks": 3})
    deadline = time.monotonic() + 10
    while done.finished_at is None and time.monotonic() < deadline:
        time.sleep(0.01)
    running = runner.submit("train", "long", long_work)
    queued = runner.submit("index", "behind it", lambda job: {})
    assert started.wait(10)
    assert "waiting for 1 job(s)" in queued.message  # a queued job says what it waits for
    # kill -9 now: only the journal survives; a new server reads it
    after = {job.id: job for job in JobRunner(journal=journal).jobs()}
    assert after[done.id].status == "succeeded" and after[done.id].result == {"chunks": 3}
    for job_id in (running.id, queued.id):
        assert after[job_id].status == "interrupted"
        assert "server stopped" in after[job_id].error
    # a clean stop (SIGTERM) does not wait for ever and records the same
    runner.shutdown(timeout=0.2)
    assert runner.get(running.id).status == "interrupted"
    assert runner.get(queued.id).status == "interrupted"
    release.set()
    again = {job.id: job.status for job in JobRunner(journal=journal).jobs()}
    assert again[running.id] == "interrupted" and again[done.id] == "succeeded"


def test_twin_serve_exits_0_on_sigterm(tmp_path):
    """uvicorn shuts down gracefully on SIGTERM and then re-raises the signal: `twin serve`
    died of it (exit -15, as if killed) after a clean shutdown."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    twin = Path(sys.executable).with_name("twin")
    server = subprocess.Popen([str(twin), "--workspace", str(tmp_path / "ws"), "serve", "--port",
                               str(port), "--no-preload"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "TWIN_OWNER_NAME": "Dana"})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    output = server.stdout.read() if server.stdout else ""
    assert code == 0, output
    assert "Stopped (SIGTERM)" in output


def test_a_row_id_beyond_sqlite_integers_is_a_422_not_a_500(workspace):
    """schemathesis against the live server: DELETE /api/sources/<huge>, POST
    /api/generations/<huge>/feedback and GET /api/history?offset=<huge> were a 500 (OverflowError:
    Python int too large to convert to SQLite INTEGER)."""
    from fastapi.testclient import TestClient

    huge = 2**64
    app = create_app(workspace, ServeConfig())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.delete(f"/api/sources/{huge}").status_code == 422
            assert client.post(f"/api/generations/{huge}/feedback",
                               json={"rating": 1}).status_code == 422
            answer = client.get("/api/history", params={"offset": huge})
            assert answer.status_code == 200 and answer.json()["generations"] == []
    finally:
        app.state.twin.close()


def test_a_body_fastapi_cannot_parse_is_an_openai_error_on_v1(workspace):
    """schemathesis (serve_soak): POST /v1/chat/completions with bytes that are not JSON text
    answered FastAPI's {"detail": "There was an error parsing the body"}, not the declared
    OpenAI-shaped ErrorBody. /api routes keep FastAPI's {"detail": ...}."""
    from fastapi.testclient import TestClient

    garbage = b"\x13\xffo\xd0\xff+\x11\xd9\xa8Ei\x1f\xff\xffA}"
    headers = {"Content-Type": "application/json"}
    app = create_app(workspace, ServeConfig())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            chat = client.post("/v1/chat/completions", content=garbage, headers=headers)
            assert chat.status_code == 400
            error = chat.json()["error"]
            assert error["type"] == "invalid_request_error" and "parsing the body" in error["message"]
            unknown = client.get("/v1/nowhere")
            assert unknown.status_code == 404 and "error" in unknown.json()
            api = client.post("/api/write", content=garbage, headers=headers)
            assert api.status_code == 400 and isinstance(api.json()["detail"], str)
            assert client.get("/api/nowhere").json() == {"detail": "Not Found"}
    finally:
        app.state.twin.close()
