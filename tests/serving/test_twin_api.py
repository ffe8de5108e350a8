"""`twin serve`'s REST API, against the running app (real uvicorn, real SmolLM2, real embedding
model and Qdrant Edge): drafts streamed as server-sent events and logged, feedback turned into
preference pairs, uploads, forgetting, jobs, and the security defaults."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from conftest import MODEL_CACHE, make_doc
from llm_twin.app.indexing import index_into
from llm_twin.config import load_settings
from llm_twin.serving.app import InsecureBinding, create_app
from llm_twin.serving.twin import ServeConfig
from llm_twin.storage.models import GenerationRecord
from llm_twin.training_data.feedback_pairs import FeedbackPreferences
from live_server import running_server

pytestmark = pytest.mark.models

POSTS = [
    "We moved our job queue into Postgres. SKIP LOCKED did the work; Redis went away. Boring wins.",
    "Kafka is a fine tool. We did not need it: one Postgres table and LISTEN/NOTIFY were enough.",
    "The 3 a.m. vacuum incident taught me to watch table bloat before it watches you.",
    "Small teams should spend their novelty budget on the product, not on the database.",
    "Our deploys got calm once every migration was reversible and tested against a copy of prod.",
    "I keep a changelog for the team, not for the auditors. Nobody reads auditors' changelogs.",
]


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(tmp_path / "ws", cache_dir=MODEL_CACHE, owner_name="Dana", device="cpu")


@pytest.fixture
def indexed(workspace, ingest):
    """Six owner posts, imported and indexed."""
    ingest(*[make_doc(text, platform="linkedin") for text in POSTS])
    with workspace.vector_store() as store:
        index_into(workspace, store)
    return workspace


@pytest.fixture
def server(indexed, generation_backend):
    app = create_app(indexed, ServeConfig(max_new_tokens=16, temperature=0.0),
                     base_backend=generation_backend)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    events = []
    for frame in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def wait_for(client: httpx.Client, job: dict, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job} did not finish"
        time.sleep(0.3)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def test_status_sources_and_search(server):
    status = server.get("/api/status").json()
    assert status["documents"] == len(POSTS) and status["indexed"] and not status["auth_required"]
    assert "linkedin" in status["platforms"] and status["model"]["id"] == "base"
    sources = server.get("/api/sources").json()["sources"]
    assert sources[0]["documents"] == len(POSTS) and sources[0]["by_kind"] == {"linkedin post": 6}
    hits = server.get("/api/search", params={"q": "vacuum bloat", "k": 2}).json()["hits"]
    assert "vacuum" in hits[0]["text"]
    assert server.get("/api/search", params={"q": " "}).status_code == 422


def test_write_streams_events_and_logs_the_generation(server, indexed):
    response = server.post("/api/write", json={"idea": "why our queue lives in Postgres",
                                               "platform": "x", "seed": 1})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-2:] == ["drafts", "done"] and "token" in names
    streamed = "".join(payload["text"] for name, payload in events if name == "token")
    drafts = events[-2][1]
    assert streamed.strip() and drafts["drafts"][0]["text"]
    assert drafts["sources"] and {"chunk_id", "label", "url"} <= set(drafts["sources"][0])

    logged = server.get("/api/history").json()["generations"][0]
    assert logged["id"] == drafts["drafts"][0]["generation_id"]
    assert logged["endpoint"] == "write" and logged["idea"] == "why our queue lives in Postgres"
    assert logged["model"] == "smollm2" and logged["completion_tokens"] > 0
    assert logged["latency_s"] > 0 and logged["first_token_s"] is not None
    assert set(logged["retrieved_chunk_ids"]) == {s["chunk_id"] for s in drafts["sources"]} or \
        set(s["chunk_id"] for s in drafts["sources"]) <= set(logged["retrieved_chunk_ids"])
    assert logged["output"] == drafts["drafts"][0]["text"]


def test_edits_and_ratings_become_preference_pairs(server, indexed):
    written = server.post("/api/write", json={"idea": "boring technology for small teams",
                                              "platform": "linkedin", "n": 2, "stream": False})
    first, second = written.json()["drafts"]
    mine = "Boring technology wins for small teams: we kept everything in Postgres."
    edited = server.post(f"/api/generations/{first['generation_id']}/feedback",
                         json={"edited_text": mine}).json()["generation"]
    assert edited["edited_text"] == mine and edited["rating"] is None
    rated = server.post(f"/api/generations/{second['generation_id']}/feedback",
                        json={"rating": "down"}).json()["generation"]
    assert rated["rating"] == "down" and rated["edited_text"] is None

    pairs = list(FeedbackPreferences(indexed.sessions, "Dana").pairs())
    assert {p.origin for p in pairs} == {"feedback:user_edit", "feedback:user_rating"}
    for pair in pairs:
        assert pair.chosen == mine and pair.split == "train" and pair.platform == "linkedin"
        assert "boring technology for small teams" in pair.prompt[-1]["content"]
    assert {p.rejected for p in pairs} == {first["text"], second["text"]}

    job = server.post("/api/datasets", json={"instructions": "extractive", "preferences": True,
                                             "max_pairs": 1}).json()["job"]
    done = wait_for(server, job)
    assert done["status"] == "succeeded", done
    assert done["result"]["preference_origins"].get("feedback:user_edit") == 1
    builds = server.get("/api/datasets").json()["builds"]
    assert builds[0]["id"] == done["result"]["dataset_id"]


def test_the_openai_client_gets_a_streamed_answer_from_the_twin(server):
    import openai

    base = str(server.base_url).rstrip("/")
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["twin"]
    stream = client.chat.completions.create(
        model="twin", stream=True, max_tokens=12,
        messages=[{"role": "system", "content": "Answer in one sentence."},
                  {"role": "user", "content": "What happened with the vacuum incident?"}])
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces).strip()

    logged = server.get("/api/history").json()["generations"][0]
    assert logged["endpoint"] == "chat" and logged["idea"] == "What happened with the vacuum incident?"
    assert logged["output"] == "".join(pieces).strip() or logged["output"]
    assert logged["retrieved_chunk_ids"] and logged["first_token_s"] is not None
    assert logged["request"]["messages"][0]["content"] == "Answer in one sentence."


def test_feedback_and_write_reject_bad_input(server):
    assert server.post("/api/generations/999/feedback", json={"rating": "up"}).status_code == 404
    bad_rating = server.post("/api/generations/1/feedback", json={"rating": "meh"})
    assert bad_rating.status_code == 422 and "rating" in bad_rating.json()["detail"]
    empty = server.post("/api/write", json={"idea": "   ", "platform": "x"})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    unknown = server.post("/api/write", json={"idea": "hello", "platform": "myspace"})
    assert unknown.status_code == 422 and "myspace" in unknown.json()["detail"]
    no_model = server.post("/api/write", json={"idea": "hello", "model": "sft-nope"})
    assert no_model.status_code == 404 and "sft-nope" in no_model.json()["detail"]
    assert server.post("/api/write", json={"idea": "hi", "n": 9}).status_code == 422
    bad_date = server.post("/api/write", json={"idea": "hello", "as_of": "last year"})
    assert bad_date.status_code == 422 and "as_of" in bad_date.json()["detail"]


def test_write_options_reach_the_drafts_from_the_api(server, indexed):
    """The web app's "More options": as_of bars every text after it (1990: all of them), the
    private-texts warning comes as a notice, like_my_best without engagement counts says so."""
    response = server.post("/api/write", json={
        "idea": "why our queue lives in Postgres", "platform": "x", "seed": 1, "max_new_tokens": 8,
        "as_of": "1990", "include_private": True, "like_my_best": True})
    events = sse_events(response)
    notices = [payload["detail"] for name, payload in events if name == "notice"]
    assert any("Check it before you publish" in notice for notice in notices)
    drafts = dict(events)["drafts"]
    assert drafts["sources"] == []  # nothing the owner wrote is dated 1990 or before
    assert any("engagement" in notice for notice in drafts["notices"])


def test_only_finished_runs_can_be_put_in_use(server, indexed):
    from llm_twin.training.registry import record_run

    with indexed.sessions() as session:
        record_run(session, run_id="sft-half", kind="sft", base_model="smollm2", dataset_id="d",
                   adapter_path="/nowhere", hyperparameters={})
    unknown = server.post("/api/models/use", json={"id": "sft-nope"})
    assert unknown.status_code == 404 and "sft-nope" in unknown.json()["detail"]
    running = server.post("/api/models/use", json={"id": "sft-half"})
    assert running.status_code == 409 and "running" in running.json()["detail"]
    assert server.post("/api/models/use", json={"id": "base"}).json() == {"active": None}
    runs = server.get("/api/models").json()["runs"]
    assert [r["status"] for r in runs] == ["running"]  # this process is alive: not interrupted


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_upload_imports_and_indexes_then_forget_removes_everything(server, indexed):
    post = ("---\ntitle: Escaping\ndate: 2024-05-01\n---\n\nI write <script>alert(1)</script> "
            "in posts about HTML escaping, and it must stay text.\n")
    archive = _zip({"blog/2024-05-01-escaping.md": post})
    response = server.post("/api/ingest", files={"files": ("my blog.zip", archive,
                                                           "application/zip")})
    assert response.status_code == 202
    job = wait_for(server, response.json()["job"])
    assert job["status"] == "succeeded", job
    imported = job["result"]["imported"][0]
    assert imported["file"] == "my_blog.zip" and imported["new_documents"] == 1
    assert (imported["found"], imported["skipped"], imported["repaired"], imported["notes"]) == \
        (1, {}, 0, [])
    assert job["result"]["index"]["chunks_added"] >= 1
    hits = server.get("/api/search", params={"q": "HTML escaping script", "k": 1}).json()["hits"]
    assert "<script>alert(1)</script>" in hits[0]["text"]
    assert not list((indexed.settings.workspace / "uploads").rglob("*.zip"))  # uploads not kept

    source_id = imported["source_id"]
    server.post("/api/write", json={"idea": "HTML escaping in posts", "stream": False})
    with indexed.sessions() as session:
        drew_on_it = sum(source_id in (r.source_ids or []) for r in session.query(GenerationRecord))
    forgotten = server.delete(f"/api/sources/{source_id}").json()
    assert forgotten["documents"] == 1 and forgotten["generations_removed"] == drew_on_it
    hits = server.get("/api/search", params={"q": "HTML escaping script", "k": 3}).json()["hits"]
    assert all("<script>" not in h["text"] for h in hits)
    assert server.delete(f"/api/sources/{source_id}").status_code == 404


def test_a_malformed_export_is_refused_by_name_and_stores_nothing(server):
    """Refused at upload (a 422 naming the file), not accepted and failed later by its job."""
    before = server.get("/api/status").json()["documents"]
    broken = b'{"not": "an export"'
    response = server.post("/api/ingest", files={"files": ("tweets.js", broken, "text/javascript")})
    assert response.status_code == 422 and "tweets.js" in response.json()["detail"]
    assert server.get("/api/status").json()["documents"] == before


def test_uploads_over_the_cap_are_refused(indexed, generation_backend):
    app = create_app(indexed, ServeConfig(max_upload_mb=1), base_backend=generation_backend)
    with running_server(app) as url:
        big = b"x" * (2 * 1024 * 1024)
        response = httpx.post(f"{url}/api/ingest", files={"files": ("big.zip", big)}, timeout=60)
        assert response.status_code == 413 and "1 MB" in response.json()["detail"]
        chunked = httpx.post(f"{url}/api/ingest", timeout=60, content=iter([b"x" * 10]),
                             headers={"content-type": "multipart/form-data; boundary=x"})
        assert chunked.status_code == 411  # no length: refused before anything is read
        assert not list((indexed.settings.workspace / "uploads").rglob("*.zip"))


def test_a_token_guards_the_api_but_not_the_page(indexed, generation_backend):
    app = create_app(indexed, ServeConfig(host="0.0.0.0", token="s3cret"),
                     base_backend=generation_backend)
    with running_server(app) as url:
        assert httpx.get(f"{url}/api/status").status_code == 401
        assert httpx.get(f"{url}/v1/models").status_code == 401
        wrong = httpx.get(f"{url}/api/status", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = httpx.get(f"{url}/api/status", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["auth_required"]
        page = httpx.get(f"{url}/")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "access-control-allow-origin" not in httpx.options(
            f"{url}/api/status", headers={"Origin": "http://evil.example",
                                          "Access-Control-Request-Method": "GET"}).headers


def test_binding_beyond_loopback_needs_a_token(indexed):
    with pytest.raises(InsecureBinding, match="token"):
        create_app(indexed, ServeConfig(host="0.0.0.0"))
    create_app(indexed, ServeConfig(host="::1"))  # loopback: fine without one


def test_twin_serve_refuses_a_public_address_without_a_token(tmp_path):
    from typer.testing import CliRunner

    from llm_twin.cli.app import app

    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--host",
                                      "0.0.0.0", "--no-preload"])
    assert result.exit_code == 2
    assert "token" in result.output and "0.0.0.0" in result.output


def test_cors_only_for_configured_origins(indexed, generation_backend):
    app = create_app(indexed, ServeConfig(cors_origins=["http://localhost:3000"]),
                     base_backend=generation_backend)
    with running_server(app) as url:
        allowed = httpx.get(f"{url}/api/status", headers={"Origin": "http://localhost:3000"})
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = httpx.get(f"{url}/api/status", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_api_docs_load_without_the_internet(server):
    page = server.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn." not in page
    assert server.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_openapi_documents_the_endpoints(server):
    paths = server.get("/openapi.json").json()["paths"]
    for path in ("/api/write", "/api/ingest", "/api/index", "/api/search", "/api/sources/{source_id}",
                 "/api/generations/{generation_id}/feedback", "/api/train", "/api/models",
                 "/api/jobs/{job_id}", "/v1/chat/completions", "/v1/models"):
        assert path in paths, path
