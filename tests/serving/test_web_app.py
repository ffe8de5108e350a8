"""The web app in a real browser: Debian's headless Chromium, driven by Playwright, against the real
`twin serve` app (real uvicorn, a real workspace, the bundled embedding model and SmolLM2).

One server and one browser page for the module. A zipped Markdown folder is uploaded through the
page's file input (one of its posts carries markup that must stay text); then one draft is written,
edited, saved and rated through the page, and the server's history must hold what the user did.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (scripts/install-browser.sh installs it as root)",
                allow_module_level=True)

from live_server import running_server, shared_backend  # noqa: E402

from llm_twin.app.workspace import Workspace  # noqa: E402
from llm_twin.config import ensure_workspace, load_settings  # noqa: E402
from llm_twin.serving.app import ServeConfig, create_app  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

expect = sync_api.expect
pytestmark = pytest.mark.models

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the other tests
TOKEN = "web-test-token"
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
POSTS = {
    "2022-01-20_job-queue-in-postgres.md": (
        "We moved our job queue into Postgres",
        "We moved our job queue from Redis into Postgres last spring. SKIP LOCKED made the worker "
        "loop twenty lines long, and one database means one backup, one failover and one set of "
        "graphs to watch at 3am. Boring technology wins for small teams."),
    "2022-03-08_no-to-kafka.md": (
        "Why we said no to Kafka",
        "We said no to Kafka. Not because Kafka is bad, but because nobody on the team had run it "
        "at night. A queue table in Postgres handled our 40 jobs a second with room to spare."),
    "2022-05-02_markup-in-a-post.md": (
        f"Escaping {IMG} in templates",
        f"A reminder about escaping templates: text like {SCRIPT} and {IMG} must show up as text, "
        "never run. Our templating bug last year taught me that the hard way."),
}
WAIT_MS = 60_000  # a job or a draft on 2 busy cores


def markdown_zip(path: Path) -> Path:
    """A zipped blog folder: Markdown posts with YAML front matter."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (title, body) in POSTS.items():
            front = (f"---\ntitle: '{title}'\ndate: {name[:10]}\nauthor: Maya Lindqvist\n"
                     f"source: https://mayabuilds.dev/{name[11:-3]}/\n---\n\n")
            archive.writestr(f"blog/{name}", front + body + "\n")
    path.write_bytes(buffer.getvalue())
    return path


def make_workspace(root: Path, embedder) -> Workspace:
    """A real workspace like tests/conftest.py's, for a whole module; query rewrites off (they
    would generate), dequantised weights cached where the other model tests cache them."""
    settings = load_settings(root, cache_dir=MODEL_CACHE, query_expansions=0,
                             owner_name="Maya Lindqvist")
    ensure_workspace(settings)
    ws = Workspace(settings)
    ws.__dict__["embedder"] = embedder
    ws.__dict__["sessions"] = session_factory(create_warehouse_engine(settings.resolved_database_url))
    return ws


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    ws = make_workspace(tmp_path_factory.mktemp("web-ws"), embedder)
    with running_server(create_app(ws, ServeConfig(max_new_tokens=24, token=None),
                                           base_backend=shared_backend())) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda m: page.problems.append(f"console: {m.text}")
            if m.type == "error" and "favicon" not in m.text and "404" not in m.text else None)
    page.goto(server + "/")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    yield page
    context.close()


@pytest.fixture(scope="module")
def imported(page, tmp_path_factory):
    """The blog zip uploaded through the Sources view's file input, imported and indexed."""
    export = markdown_zip(tmp_path_factory.mktemp("upload") / "maya-blog.zip")
    page.get_by_role("link", name="Sources").click()
    page.set_input_files("#upload-files", str(export))
    page.click("#upload-submit")
    job = page.locator("#job-status [data-kind=ingest]")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=WAIT_MS)
    return page


def test_upload_imports_the_export_and_shows_the_job_to_the_end(imported, server):
    page = imported
    expect(page.locator("#job-status")).to_contain_text("Import finished")
    row = page.locator("#sources-body tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("maya-blog.zip")
    expect(row).to_contain_text("markdown-folder")
    expect(row.locator("td").nth(2)).to_have_text("3")
    expect(page.locator("#status-line")).to_contain_text("3 documents")
    expect(page.locator("#status-line")).to_contain_text("indexed")
    assert httpx.get(f"{server}/api/status").json()["indexed"] is True
    assert page.problems == []


def test_compose_edit_rate_and_the_history_records_it(imported, server):
    page = imported
    page.get_by_role("link", name="Compose").click()
    page.get_by_label("Idea").fill("Why our job queue lives in Postgres")
    page.get_by_label("Platform").select_option("x")
    page.get_by_label("Number of drafts").fill("1")
    page.click("#write")
    expect(page.locator("#write")).to_be_disabled()
    draft = page.locator(".draft")
    expect(draft).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#write")).to_be_enabled()
    text = draft.locator("textarea")
    assert text.input_value().strip()
    expect(page.get_by_role("textbox", name="Draft 1")).to_have_count(1)
    expect(page.locator("#drew-on-list li").first).to_be_visible()

    text.fill("Our job queue lives in Postgres. One database, one backup, one pager.")
    draft.locator(".save-edit").click()
    expect(draft.locator(".draft-feedback")).to_have_text("Edit saved.")
    up, down = draft.locator(".rate-up"), draft.locator(".rate-down")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")

    generations = httpx.get(f"{server}/api/history").json()["generations"]
    latest = generations[0]
    assert latest["endpoint"] == "write" and latest["platform"] == "x"
    assert latest["idea"] == "Why our job queue lives in Postgres"
    assert latest["rating"] == "up"
    assert latest["edited_text"] == "Our job queue lives in Postgres. One database, one backup, one pager."

    page.get_by_role("link", name="History").click()
    item = page.locator("#history-list li").first
    expect(item).to_have_attribute("data-rating", "up")
    expect(item).to_contain_text("edited")
    item.locator("summary").click()
    expect(item.locator(".history-edit")).to_have_text(latest["edited_text"])
    assert page.problems == []


def test_a_draft_with_an_unsupported_claim_lists_its_sentence_and_facts(imported, server):
    """The claims list rendered `[object Object]`: the server sends {sentence, facts}. The draft is
    the real server's answer, with one claim in the shape the server serialises
    (inference.writer's draft JSON), so the page's rendering is what is checked."""
    page = imported
    answer = httpx.post(f"{server}/api/write", json={"idea": "Why our job queue lives in Postgres",
                                                      "platform": "x", "n": 1, "stream": False},
                        timeout=120).json()
    claim = {"sentence": "Postgres handled 90,000 jobs a second in 2019.",
             "facts": ["90,000", "2019"]}
    answer["drafts"][0]["unsupported_claims"] = [claim]
    body = f"event: drafts\ndata: {json.dumps(answer)}\n\nevent: done\ndata: {{}}\n\n"
    page.route("**/api/write", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream"}, body=body))
    try:
        page.get_by_role("link", name="Compose").click()
        page.get_by_label("Idea").fill("Why our job queue lives in Postgres")
        page.click("#write")
        claims = page.locator(".draft .claims li")
        expect(claims).to_have_count(1, timeout=WAIT_MS)
        expect(claims).to_have_text("Postgres handled 90,000 jobs a second in 2019. "
                                    "(not in your sources: 90,000, 2019)")
        assert "[object Object]" not in page.locator(".draft").inner_text()
    finally:
        page.unroute("**/api/write")
    assert page.problems == []


def test_ingested_markup_is_shown_as_text_and_never_runs(imported, server):
    page = imported
    page.get_by_role("link", name="Sources").click()
    page.get_by_label("Search", exact=True).fill("escaping templates script")
    page.click("#search-submit")
    results = page.locator("#search-results")
    hit = results.locator("li", has_text="escaping templates")
    expect(hit).to_have_count(1, timeout=WAIT_MS)
    expect(hit.locator(".hit-text")).to_contain_text(SCRIPT)
    expect(hit.locator(".hit-text")).to_contain_text(IMG)
    assert results.locator("script, img").count() == 0
    # the post's title (with the <img>) is the hit's label and a link to its https URL
    link = hit.locator(".hit-head a")
    expect(link).to_contain_text(IMG)
    assert link.get_attribute("href").startswith("https://mayabuilds.dev/")
    assert link.get_attribute("rel") == "noopener noreferrer"

    # a draft about it: the post's title (with the <img>) among the sources it drew on, and the
    # idea (with the <script>) in the history, all as text
    page.get_by_role("link", name="Compose").click()
    idea = f"Escaping templates: why {SCRIPT} must show up as text"
    page.get_by_label("Idea").fill(idea)
    page.get_by_label("Number of drafts").fill("1")
    page.click("#write")
    expect(page.locator(".draft")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#drew-on-list")).to_contain_text(f"Escaping {IMG} in templates")
    page.get_by_role("link", name="History").click()
    item = page.locator("#history-list li").first
    expect(item.locator(".history-idea")).to_have_text(idea)
    item.locator("summary").click()
    for region in ("#drafts", "#drew-on", "#history-list", "#stream-box"):
        assert page.locator(f"{region} script, {region} img").count() == 0, region
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.scripts.length") == 1
    assert page.problems == []


def test_a_token_protected_server_asks_for_the_token(browser, tmp_path_factory, embedder):
    ws = make_workspace(tmp_path_factory.mktemp("web-token-ws"), embedder)
    app = create_app(ws, ServeConfig(max_new_tokens=8, token=TOKEN))
    with running_server(app) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/")
        field = page.get_by_label("Access token")
        expect(field).to_be_visible()
        expect(field).to_be_focused()
        assert httpx.get(f"{url}/api/status").status_code == 401
        field.fill("wrong")
        page.click("#token-submit")
        expect(field).to_be_visible()  # another 401: asked again
        field.fill(TOKEN)
        page.click("#token-submit")
        expect(page.locator("#token-form")).to_be_hidden()
        expect(page.locator("#status-line")).to_contain_text("0 documents")
        assert page.evaluate("sessionStorage.getItem('llm-twin-token')") == TOKEN
        context.close()
