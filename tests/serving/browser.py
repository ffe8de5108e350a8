"""The web app's page in Debian's headless Chromium (Playwright), shared by the browser tests:
the page keeps its JavaScript errors and console errors in `page.problems`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = shutil.which("chromium")


@contextmanager
def app_page(url: str, *, ignore_404: bool = False, viewport: dict | None = None) -> Iterator:
    """The web app at `url`, loaded (body[data-ready=true]); closed when the block ends."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
        page.on("console", lambda m: page.problems.append(f"console: {m.text}")
                if m.type == "error" and "favicon" not in m.text
                and not (ignore_404 and "404" in m.text) else None)
        page.goto(url + "/")
        sync_api.expect(page.locator("body[data-ready=true]")).to_have_count(1)
        try:
            yield page
        finally:
            browser.close()
