""""Which one did I write?" and "What you already said" in a real browser (Debian's headless
Chromium via Playwright) against the real `twin serve` app (real uvicorn, a real workspace of dated
X posts, indexed with the bundled embedding model, drafts from the shared SmolLM2 with a few
tokens), and their routes over HTTP: a bad pick, an unknown round, a second pick.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (scripts/install-browser.sh installs it as root)",
                allow_module_level=True)

from conftest import make_doc, make_result, store_result  # noqa: E402
from browser import app_page  # noqa: E402
from live_server import running_server, shared_backend  # noqa: E402

from llm_twin.app.blind_test import blind_test_scores  # noqa: E402
from llm_twin.app.indexing import index_into  # noqa: E402
from llm_twin.app.workspace import Workspace  # noqa: E402
from llm_twin.config import ensure_workspace, load_settings  # noqa: E402
from llm_twin.serving.app import ServeConfig, create_app  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

expect = sync_api.expect
pytestmark = pytest.mark.models

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the other tests
IMG = '<img src=x onerror="window.__pwned=1">'
POSTS = [  # (text, month in 2023); each an X post with its status URL
    ("Postgres job queues with SKIP LOCKED kept our worker loop tiny and boring.", 2),
    ("We said no to Kafka because nobody on the team had run it at night.", 3),
    (f"Escaping templates: text like {IMG} must show up as text, never run.", 4),
    ("Postgres again: a queue table handled forty jobs a second with room to spare.", 6),
    ("Feature flags let us ship on Fridays without the dread, most of the time.", 7),
]
WAIT_MS = 60_000  # a draft on 2 busy cores


def make_workspace(root: Path, embedder) -> Workspace:
    """A real workspace for the module (as tests/serving/test_web_app.py makes it), with the X
    posts imported and indexed."""
    settings = load_settings(root, cache_dir=MODEL_CACHE, query_expansions=0, owner_name="Dana")
    ensure_workspace(settings)
    ws = Workspace(settings)
    ws.__dict__["embedder"] = embedder
    ws.__dict__["sessions"] = session_factory(create_warehouse_engine(settings.resolved_database_url))
    docs = [make_doc(text, platform="x", created_at=datetime(2023, month, 5, tzinfo=UTC),
                     url=f"https://x.com/dana/status/{100 + i}")
            for i, (text, month) in enumerate(POSTS)]
    store_result(make_result(*docs), ws.sessions, root / "exports")
    with ws.vector_store() as store:
        index_into(ws, store)
    return ws


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    ws = make_workspace(tmp_path_factory.mktemp("blind-ws"), embedder)
    app = create_app(ws, ServeConfig(max_new_tokens=12, temperature=0.0),
                     base_backend=shared_backend())
    with running_server(app) as url:
        yield ws, url
    app.state.twin.close()


@pytest.fixture(scope="module")
def page(served):
    _, url = served
    with app_page(url) as page:
        yield page


def test_a_blind_round_picked_in_the_page_is_stored_and_scored(served, page):
    ws, url = served
    page.get_by_role("link", name="Which one did I write?").click()
    page.get_by_label("Posts from").select_option("x")
    page.click("#blind-start")
    round_box = page.locator("#blind-round")
    expect(round_box).to_be_visible(timeout=WAIT_MS)
    a, b = page.locator("#blind-a-text").inner_text(), page.locator("#blind-b-text").inner_text()
    real = {text for text, _ in POSTS}
    assert (a in real) != (b in real), (a, b)  # exactly one is the real post, shown as text
    twin = "a" if b in real else "b"
    expect(page.locator("#blind-idea")).to_contain_text("x · idea: ")

    page.click(f"#blind-pick-{twin}")  # the twin's draft: it fooled us
    outcome = page.locator("#blind-outcome")
    expect(outcome).to_have_attribute("data-fooled", "true")
    yours = "B" if twin == "a" else "A"
    expect(outcome.locator(".blind-verdict")).to_have_text(
        f"The twin fooled you: you wrote {yours}, {twin.upper()} is the twin's draft.")
    expect(outcome.locator("a")).to_have_attribute("href", re.compile(r"^https://x\.com/dana/status/\d+$"))
    expect(outcome.locator(".blind-running")).to_contain_text("fooled you in 1 of 1 round (100%")
    expect(page.locator("#blind-scores .blind-score")).to_contain_text("95 % interval 21%–100%")
    expect(page.locator("#blind-pick-a")).to_be_disabled()

    score = blind_test_scores(ws)["base"]
    assert (score.rounds, score.fooled) == (1, 1)
    assert httpx.get(f"{url}/api/blind-test/scores").json()["scores"][0]["rounds"] == 1
    assert page.locator("#blind-test script, #blind-test img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []


def test_past_posts_appear_as_you_type_three_words_debounced(served, page):
    _, url = served
    asked: list[str] = []
    listen = lambda request: asked.append(request.url) if "/api/past" in request.url else None  # noqa: E731
    page.on("request", listen)
    page.get_by_role("link", name="Compose").click()
    idea = page.get_by_label("Idea")
    idea.fill("")
    idea.press_sequentially("Postgres queues", delay=20)  # 2 words: nothing asked, nothing shown
    page.wait_for_timeout(700)
    panel = page.locator("#past-posts")
    expect(panel).to_be_hidden()
    assert asked == []

    idea.press_sequentially(" with SKIP LOCKED", delay=20)  # typed faster than the 400 ms pause
    items = panel.locator(".past-post")
    expect(items.first).to_be_visible(timeout=WAIT_MS)
    assert len(asked) == 1, asked  # one search for the whole burst of keys
    expected = httpx.get(f"{url}/api/past",
                         params={"idea": "Postgres queues with SKIP LOCKED", "k": 5}).json()["posts"]
    assert [int(i) for i in items.evaluate_all("els => els.map(e => e.dataset.documentId)")] == \
        [p["document_id"] for p in expected]
    dates = [p["created_at"] for p in expected]
    assert dates == sorted(dates, reverse=True)  # newest first
    first = items.first
    expect(first.locator(".past-meta")).to_contain_text(" · x")
    link = first.locator("a")
    expect(link).to_have_text(expected[0]["first_line"])
    assert link.get_attribute("href") == expected[0]["url"]
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert any("Postgres" in p["first_line"] for p in expected)

    idea.fill("Escaping templates safely")  # the post with markup: shown as text
    expect(panel.locator(".past-post", has_text=IMG)).to_have_count(1, timeout=WAIT_MS)
    assert panel.locator("img, script").count() == 0
    idea.fill("Two words")
    page.wait_for_timeout(700)
    expect(panel).to_be_hidden()
    page.remove_listener("request", listen)
    assert page.problems == []


def test_the_near_duplicate_flag_links_to_the_past_post(served, page):
    """A draft flagged as repeating a post without a URL: the flag scrolls to and highlights
    that post in "What you already said" (one with a URL is a link to it)."""
    _, url = served
    answer = httpx.post(f"{url}/api/write", json={"idea": "Postgres queues with SKIP LOCKED",
                                                  "platform": "x", "stream": False},
                        timeout=120).json()
    past = httpx.get(f"{url}/api/past", params={"idea": "Postgres queues with SKIP LOCKED"}
                     ).json()["posts"][0]
    answer["drafts"][0]["near_duplicate_of"] = {"document_id": past["document_id"],
                                                "label": "My Postgres post", "url": None,
                                                "similarity": 0.9}
    body = f"event: drafts\ndata: {json.dumps(answer)}\n\nevent: done\ndata: {{}}\n\n"
    page.route("**/api/write", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=body))
    try:
        page.get_by_role("link", name="Compose").click()
        page.get_by_label("Idea").fill("Postgres queues with SKIP LOCKED")
        page.click("#write")
        flag = page.locator(".draft .duplicate-of")
        expect(flag).to_have_text("My Postgres post", timeout=WAIT_MS)
        flag.click()
        entry = page.locator(f"#past-post-{past['document_id']}")
        expect(entry).to_have_class("past-post highlight")
        expect(entry).to_be_focused()
        expect(page.locator("#past-posts")).to_be_visible()

        answer["drafts"][0]["near_duplicate_of"]["url"] = past["url"]
        body = f"event: drafts\ndata: {json.dumps(answer)}\n\nevent: done\ndata: {{}}\n\n"
        page.click("#write")
        link = page.locator(".draft .warning a")
        expect(link).to_have_attribute("href", past["url"], timeout=WAIT_MS)
    finally:
        page.unroute("**/api/write")
    assert page.problems == []


def test_blind_test_routes_refuse_bad_picks_unknown_rounds_and_second_picks(served):
    ws, url = served
    with httpx.Client(base_url=url, timeout=120) as client:
        bad_platform = client.post("/api/blind-test/rounds", json={"platform": "myspace"})
        assert bad_platform.status_code == 422 and "platform" in bad_platform.json()["detail"]
        assert client.post("/api/blind-test/rounds", json={"model": "no-such-run"}
                           ).status_code == 404
        game = client.post("/api/blind-test/rounds", json={"platform": "x"})
        assert game.status_code == 200, game.text
        shown = game.json()
        assert set(shown) == {"id", "idea", "platform", "a", "b", "model"}  # never which is real

        bad = client.post(f"/api/blind-test/rounds/{shown['id']}/pick", json={"pick": "c"})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("Invalid request: pick:")
        missing = client.post(f"/api/blind-test/rounds/{shown['id'] + 100}/pick",
                              json={"pick": "a"})
        assert missing.status_code == 404 and f"#{shown['id'] + 100}" in missing.json()["detail"]

        first = client.post(f"/api/blind-test/rounds/{shown['id']}/pick", json={"pick": "A"})
        assert first.status_code == 200, first.text
        outcome = first.json()
        assert outcome["pick"] == "a" and outcome["twin"] in ("a", "b")
        assert outcome["fooled"] == (outcome["twin"] == "a")
        assert outcome["url"].startswith("https://x.com/dana/status/")
        assert outcome["score"]["low"] <= outcome["score"]["share"] <= outcome["score"]["high"]
        again = client.post(f"/api/blind-test/rounds/{shown['id']}/pick", json={"pick": "b"})
        assert again.status_code == 409 and "already answered" in again.json()["detail"]
        assert blind_test_scores(ws)["base"].rounds == outcome["score"]["rounds"]

        short = client.get("/api/past", params={"idea": "Postgres queues"}).json()
        assert short["posts"] == [] and short["min_words"] == 3 and short["indexed"] is True
        unknown = client.get("/api/past", params={"idea": "Postgres queues again", "platform": "xx"})
        assert unknown.status_code == 422 and "platform" in unknown.json()["detail"]
