"""The web app's files follow the rules the server's Content-Security-Policy and the security rule
rely on, checked without a browser: one module script and no inline script or style, API text never
reaches the page as HTML, every form control has a label, and the files ship in the package."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

WEB = Path(str(resources.files("llm_twin.serving") / "web"))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def _page() -> _Page:
    page = _Page()
    page.feed((WEB / "index.html").read_text(encoding="utf-8"))
    return page


def test_the_three_files_ship_in_the_package():
    assert {p.name for p in WEB.iterdir()} >= {"index.html", "app.js", "style.css"}


def test_one_module_script_and_nothing_inline():
    page = _page()
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/app.js"}]
    assert page.script_text == []
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").lower().startswith("javascript:"), (tag, attrs)
    assert not [tag for tag, _ in page.tags if tag == "style"]
    stylesheets = [a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert stylesheets == ["/static/style.css"]


def test_landmarks_and_a_label_for_every_control():
    page = _page()
    tags = [tag for tag, _ in page.tags]
    assert {"header", "nav", "main"} <= set(tags)
    assert ("html", {"lang": "en"}) in page.tags
    labelled = {attrs["for"] for tag, attrs in page.tags if tag == "label" and attrs.get("for")}
    for tag, attrs in page.tags:
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden":
            assert attrs.get("id") in labelled, (tag, attrs)
    live = [attrs for _, attrs in page.tags if attrs.get("aria-live") == "polite"]
    assert {a.get("id") for a in live} >= {"messages", "stream", "job-status"}
    # buttons are <button>s, never clickable divs or links without href
    assert not [a for t, a in page.tags if t == "a" and not a.get("href")]


def test_app_js_never_writes_html():
    source = (WEB / "app.js").read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*", "", source)  # the rule is stated in a comment
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "DOMParser", "createContextualFragment", "srcdoc", ".style."):
        assert sink not in code, sink
    # API text reaches the page through textContent / value / createElement (the el() helper)
    assert "textContent" in code and "createElement" in code
    # links from data only for http(s) URLs, and never with the opener
    assert 'protocol === "http:" || parsed.protocol === "https:"' in code
    assert 'rel: "noopener noreferrer"' in code
