"""`POST /api/ingest` takes the zone chats' local times were written in (the web app sends the
browser's): an unknown one is a 422 naming it before anything is saved."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from live_server import running_server

from llm_twin.serving.app import create_app
from llm_twin.storage.models import Document

CHAT = Path(__file__).parents[1] / "fixtures" / "whatsapp" / "timezone" / "WhatsApp Chat with Robin.txt"


def _wait(client: httpx.Client, job: dict) -> dict:
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def test_upload_reads_chats_in_the_given_zone_and_refuses_an_unknown_one(workspace):
    upload = {"files": (CHAT.name, CHAT.read_bytes(), "text/plain")}
    with running_server(create_app(workspace)) as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        bad = client.post("/api/ingest", files=upload,
                          data={"me": "Dana", "index": "false", "timezone": "Mars/Base"})
        assert bad.status_code == 422 and "'Mars/Base'" in bad.json()["detail"]
        assert not list((workspace.settings.workspace / "uploads").rglob("*.txt"))
        job = client.post("/api/ingest", files=upload, data={
            "me": "Dana", "index": "false", "timezone": "America/New_York"}).json()
        assert _wait(client, job["job"])["status"] == "succeeded"
        sources = client.get("/api/sources").json()["sources"]
    assert [s["timezone"] for s in sources] == ["America/New_York"]
    with workspace.sessions() as session:
        first = min(d.created_at for d in session.query(Document))
    assert first.isoformat() == "2024-01-15T14:30:00+00:00"  # 09:30 EST
