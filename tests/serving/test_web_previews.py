"""Platform previews and the N > 1 voice fit in a real browser: Debian's headless Chromium, driven by
Playwright, against the real `twin serve` app (real uvicorn, a real workspace, the bundled
embedding model and SmolLM2), set up as tests/serving/test_web_app.py does.

A draft's preview is computed by the server (inference.preview, in every draft's JSON and from
`POST /api/preview`); the page draws it as cards and recounts as you type. SmolLM2 with a few
tokens writes neither threads nor articles, so the preview tests hand the page the real server's
answer for a known text: the `/api/write` stream is fulfilled with a draft whose `preview` is what
the real `/api/preview` answered for that text (the page's rendering and editing is what is checked).
The N = 2 test writes for real: no voice model, so the server fits one first, and the drafts come
ranked with voice scores.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import datetime
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

from llm_twin.app.workspace import Workspace  # noqa: E402
from llm_twin.config import ensure_workspace, load_settings  # noqa: E402
from llm_twin.inference.preview import preview_text  # noqa: E402
from llm_twin.serving.app import ServeConfig, create_app  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

expect = sync_api.expect
pytestmark = pytest.mark.models

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the other tests
WAIT_MS = 90_000  # a voice fit and two drafts on 2 busy cores
OWNER = "Maya Lindqvist"
POSTS = [
    "We moved our job queue from Redis into Postgres last spring. SKIP LOCKED made the worker "
    "loop twenty lines long, and one database means one backup.",
    "We said no to Kafka. Not because Kafka is bad, but because nobody on the team had run it at "
    "night. A queue table in Postgres handled our load.",
    "Boring technology wins for small teams: fewer pagers, fewer dashboards, fewer 3am surprises. "
    "Pick the tool your team already knows how to restore.",
    "Our deploys got calmer once every migration was reviewed by two people and rehearsed on a "
    "copy of production the day before.",
]
THREAD = ("1/3 We moved our job queue into Postgres.\n\n"
          "2/3 SKIP LOCKED made the worker loop twenty lines long. One database, one backup.\n\n"
          "3/3 Boring technology wins for small teams. #postgres")
LINKEDIN = ("We moved our job queue into Postgres.\nIt was the boring choice.\nIt was the right one.\n"
            "Here is what changed: one database, one backup, one failover, one set of graphs to "
            "watch at 3am.")
ARTICLE = ("# Why our queue lives in Postgres\n\n*The boring choice, three years on*\n\n"
           "We moved it last spring. Nothing broke.")


def make_workspace(root: Path, embedder) -> Workspace:
    settings = load_settings(root, cache_dir=MODEL_CACHE, query_expansions=0, owner_name=OWNER,
                             max_new_tokens=24)
    ensure_workspace(settings)
    ws = Workspace(settings)
    ws.__dict__["embedder"] = embedder
    ws.__dict__["sessions"] = session_factory(create_warehouse_engine(settings.resolved_database_url))
    return ws


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, embedder):
    ws = make_workspace(tmp_path_factory.mktemp("web-previews-ws"), embedder)
    docs = [make_doc(text, platform="x", author=OWNER, created_at=datetime(2022, 1, i + 1),
                     url=f"https://x.com/maya/status/{i + 1}") for i, text in enumerate(POSTS)]
    store_result(make_result(*docs, owner=OWNER), ws.sessions, tmp_path_factory.mktemp("exports"))
    return ws


@pytest.fixture(scope="module")
def server(workspace):
    with running_server(create_app(workspace, ServeConfig(max_new_tokens=16, token=None),
                                   base_backend=shared_backend())) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    with app_page(server, ignore_404=True, viewport={"width": 1200, "height": 900}) as page:
        yield page


def served_draft(server: str, text: str, platform: str) -> dict:
    """A /api/write answer with one draft of `text`, its preview the real server's."""
    preview = httpx.post(f"{server}/api/preview", json={"text": text, "platform": platform},
                         timeout=30)
    assert preview.status_code == 200, preview.text
    draft = {"index": 0, "text": text, "posts": [p["text"] for p in preview.json()["parts"]],
             "title": None, "subtitle": None, "notes": [], "voice_score": None, "cliches": [],
             "ranking_score": None, "ranking": None, "unsupported_claims": [], "claims": 0,
             "support": None, "near_duplicate_of": None, "completion_tokens": 40,
             "finished": True, "preview": preview.json(), "generation_id": None}
    return {"idea": "queues", "platform": platform, "ranked": False, "drafts": [draft],
            "sources": [], "timings": {}, "prompt_tokens": 0}


def write_served(page, server: str, text: str, platform: str):
    answer = served_draft(server, text, platform)
    body = f"event: drafts\ndata: {json.dumps(answer)}\n\nevent: done\ndata: {{}}\n\n"
    page.route("**/api/write", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=body))
    try:
        page.get_by_role("link", name="Compose").click()
        page.locator("#idea").fill("Why our job queue lives in Postgres")
        page.locator("#platform").select_option(platform)
        page.locator("#n").fill("1")
        page.click("#write")
        expect(page.locator(".draft .preview")).to_have_count(1, timeout=WAIT_MS)
    finally:
        page.unroute("**/api/write")
    return page.locator(".draft").first


def test_an_x_thread_shows_one_card_per_post_and_editing_a_card_updates_its_count_and_the_draft(
        page, server):
    draft = write_served(page, server, THREAD, "x")
    cards = draft.locator(".post-card")
    expect(cards).to_have_count(3)
    expect(cards.locator(".post-number")).to_have_text(["1/3", "2/3", "3/3"])
    counts = [f"{len(post)}/280" for post in THREAD.split("\n\n")]
    expect(cards.locator(".count")).to_have_text(counts)
    expect(cards.nth(0).locator(".post-text")).to_have_text("1/3 We moved our job queue into Postgres.")

    second = cards.nth(1).get_by_role("textbox")
    second.fill("2/3 " + "a" * 290)
    expect(cards.nth(1).locator(".count")).to_have_text("294/280")
    expect(cards.nth(1).locator(".count")).to_have_attribute("data-over", "true")
    expect(cards.nth(1)).to_have_class("post-card over")
    text = draft.locator("textarea").input_value()
    assert text.split("\n\n")[1] == "2/3 " + "a" * 290
    assert text.split("\n\n")[0] == THREAD.split("\n\n")[0]

    # an edit of the whole text: the server splits it again and the cards follow
    draft.locator("textarea").fill("1/2 Short now.\n\n2/2 Still numbered.")
    expect(draft.locator(".post-card")).to_have_count(2)
    expect(draft.locator(".post-card .count")).to_have_text(["14/280", "19/280"])
    assert page.problems == []


def test_linkedin_shows_the_see_more_fold_and_moves_it_as_you_type(page, server):
    draft = write_served(page, server, LINKEDIN, "linkedin")
    feed = draft.locator(".fold-card .feed")
    expected = preview_text(LINKEDIN, "linkedin")
    expect(feed.locator(".fold-visible")).to_have_text(expected.parts[0].text)
    expect(feed.locator(".see-more")).to_have_text("…see more")
    expect(feed.locator(".fold-rest")).to_have_text(expected.parts[1].text)
    expect(draft.locator(".fold-edit .count")).to_have_text(f"{len(LINKEDIN)}/3,000 characters")

    box = draft.get_by_role("textbox", name="Post", exact=True)
    box.fill("A short post that fits.")
    expect(feed.locator(".see-more")).to_be_hidden()
    expect(feed.locator(".fold-visible")).to_have_text("A short post that fits.")
    expect(draft.locator(".fold-edit .count")).to_have_text("23/3,000 characters")
    assert draft.locator("textarea").input_value() == "A short post that fits."
    assert page.problems == []


def test_an_article_shows_title_subtitle_and_body_and_edits_the_draft(page, server):
    draft = write_served(page, server, ARTICLE, "medium")
    card = draft.locator(".article-card")
    expect(card.locator(".article-title")).to_have_text("Why our queue lives in Postgres")
    expect(card.locator(".article-subtitle")).to_have_text("The boring choice, three years on")
    expect(card.locator(".article-body")).to_have_text("We moved it last spring. Nothing broke.")
    expect(card.locator(".part-title .count")).to_have_text("31/100")
    card.get_by_role("textbox", name="Subtitle").fill("Three years on")
    expect(card.locator(".part-subtitle .count")).to_have_text("14/140")
    assert draft.locator("textarea").input_value() == (
        "# Why our queue lives in Postgres\n\n*Three years on*\n\nWe moved it last spring. "
        "Nothing broke.")
    assert page.problems == []


def test_more_options_go_with_the_write_and_its_notices_are_shown(page, server):
    """"More options": like my best, as of, private texts (with its warning) reach /api/write as
    its fields (tests/serving/test_twin_api.py shows the server applying them); the answer's
    notices are said."""
    answer = served_draft(server, "A short post.", "x")
    answer["notices"] = ["no engagement counts for X in your imports; using the most relevant "
                         "examples"]
    sent = []

    def fulfil(route):
        sent.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=200, headers={"content-type": "text/event-stream"},
                      body=f"event: drafts\ndata: {json.dumps(answer)}\n\nevent: done\ndata: {{}}\n\n")

    page.route("**/api/write", fulfil)
    try:
        page.get_by_role("link", name="Compose").click()
        page.locator("#idea").fill("Why our job queue lives in Postgres")
        page.locator("#platform").select_option("x")
        page.locator("#n").fill("1")
        page.locator("#write-options summary").click()
        expect(page.locator("#private-warning")).to_be_hidden()
        page.get_by_label("Also draw on followers-only posts").check()
        expect(page.locator("#private-warning")).to_be_visible()
        page.get_by_label("Model it on my best posts").check()
        page.get_by_label("Only what I wrote up to").fill("2021")
        page.click("#write")
        expect(page.get_by_text("no engagement counts for X", exact=False)).to_be_visible(
            timeout=WAIT_MS)
    finally:
        page.unroute("**/api/write")
        page.get_by_label("Also draw on followers-only posts").uncheck()
        page.get_by_label("Model it on my best posts").uncheck()
        page.get_by_label("Only what I wrote up to").fill("")
    assert sent and sent[-1]["like_my_best"] is True and sent[-1]["include_private"] is True
    assert sent[-1]["as_of"] == "2021"
    assert page.problems == []


def test_the_browser_counts_as_the_python_preview_model_does(page):
    """preview.js recounts while you type; it must agree with inference/preview.py."""
    texts = ["#one #two and C# and #1 and a/#b", "#café #naïve #日本 #v2 #_x #tag_1",
             "emoji 🎉🎉 count as one each", "abc " * 80,
             "Line one\nline two\n\nline four\n" + "word " * 60, LINKEDIN]
    got = page.evaluate("""async (texts) => {
        const m = await import('/static/preview.js');
        return texts.map((t) => [m.countChars(t), m.countHashtags(t), m.splitAtFold(t, 210, 3)]);
    }""", texts)
    for text, (chars, hashtags, fold) in zip(texts, got):
        expected = preview_text(text, "linkedin")
        assert chars == len(text)
        assert hashtags == expected.hashtags, text
        assert fold == ([p.text for p in expected.parts] + [""])[:2], text


@pytest.mark.slow  # the voice fit generates base-model drafts: about a minute on 2 busy cores
def test_two_drafts_without_a_voice_model_fit_one_and_come_ranked_with_voice_scores(page, server):
    """The web app showed 'Voice match: no voice model yet' and no ranking for N > 1: the CLI fits
    the voice model first, the server did not."""
    job = httpx.post(f"{server}/api/index", json={}, timeout=30).json()["job"]
    deadline = time.monotonic() + WAIT_MS / 1000
    while httpx.get(f"{server}/api/jobs/{job['id']}").json()["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "indexing did not finish"
        time.sleep(0.2)
    assert httpx.get(f"{server}/api/status").json()["voice_model"] is False
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    page.locator("#idea").fill("Why our job queue lives in Postgres")
    page.locator("#platform").select_option("x")
    page.locator("#n").fill("2")
    expect(page.locator("#voice-hint")).to_be_visible()
    page.click("#write")
    expect(page.locator("#stream-status-text")).to_contain_text("Voice model", timeout=WAIT_MS)
    drafts = page.locator(".draft")
    expect(drafts).to_have_count(2, timeout=WAIT_MS)
    meta = drafts.locator(".draft-meta")
    expect(meta.nth(0)).to_contain_text("Rank 1 (best first)")
    expect(meta.nth(1)).to_contain_text("Rank 2")
    for i in range(2):
        expect(meta.nth(i)).to_contain_text("Voice match: ")
        expect(meta.nth(i)).not_to_contain_text("no voice model yet")
    expect(page.locator("#voice-hint")).to_be_hidden()
    assert httpx.get(f"{server}/api/status").json()["voice_model"] is True
    jobs = httpx.get(f"{server}/api/jobs").json()["jobs"]
    assert [j["status"] for j in jobs if j["kind"] == "voice"] == ["succeeded"]
    latest = httpx.get(f"{server}/api/history?limit=2").json()["generations"]
    assert all(g["voice_score"] is not None for g in latest)
    assert page.problems == []
