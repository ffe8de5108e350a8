"""The README's preview screenshots, taken by this script (never by hand).

A demo-like workspace (the demo's X archive and blog, as `make demo` imports them) in a temporary
folder; the real `twin serve` on a free local port; Debian's headless Chromium (Playwright) writes
one draft per draft platform through the Compose page with the real model and saves the draft's
preview pane as docs/screenshots/preview-<platform>.png (quantised to a palette: each file stays
well under 150 KB).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--platforms x linkedin ...]

Takes a few minutes on a laptop's CPU (model load, then one draft per platform).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TWIN = REPO / ".venv" / "bin" / "twin"
IDEAS = {
    "x": "Three lessons from keeping our job queue in Postgres for three years",
    "linkedin": "Why boring technology wins for small teams: we kept our job queue in Postgres",
    "instagram": "A photo of our team's whiteboard after we chose Postgres for the job queue",
    "medium": "Why our job queue still lives in Postgres, three years on",
    "substack": "Notes from three years of running our job queue in Postgres",
    "blog": "Why our job queue still lives in Postgres",
    "paper": "An abstract: job queues in a relational database for small teams",
}
# Room for a thread on X and for a fold on LinkedIn; the model stops earlier when it is done.
TOKENS = {"x": 240, "linkedin": 200, "instagram": 120, "medium": 220, "substack": 220,
          "blog": 220, "paper": 160}
MAX_BYTES = 150_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def twin(workspace: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run([str(TWIN), "--workspace", str(workspace), *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def demo_workspace(root: Path, env: dict[str, str]) -> Path:
    workspace = root / "ws"
    archive = root / "mayabuilds-x-archive.zip"
    subprocess.run([sys.executable, str(REPO / "demo" / "make_x_archive.py"), str(archive)],
                   check=True, stdout=subprocess.DEVNULL)
    twin(workspace, "init", "--owner", "Maya Lindqvist", env=env)
    twin(workspace, "ingest", str(archive), str(REPO / "demo" / "blog"), env=env)
    twin(workspace, "index", env=env)
    return workspace


def wait_for(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"twin serve exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)  # not listening yet
            continue
        time.sleep(0.3)
    raise SystemExit("twin serve did not answer in time")


def small_png(png: bytes) -> bytes:
    """The screenshot as a 128-colour palette PNG (text and flat colours survive it)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


def with_tokens(tokens: int):
    """A route handler: the page's write request, with room for `tokens` new tokens and a seed."""

    def handler(route) -> None:
        body = {**route.request.post_data_json, "max_new_tokens": tokens, "seed": 7}
        route.continue_(post_data=json.dumps(body))

    return handler


def shoot(url: str, out: Path, platforms: list[str]) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (scripts/install-browser.sh)")
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(url + "/")
        expect(page.locator("body[data-ready=true]")).to_have_count(1)
        for platform in platforms:
            page.route("**/api/write", with_tokens(TOKENS[platform]))
            page.locator("#idea").fill(IDEAS[platform])
            page.locator("#platform").select_option(platform)
            page.locator("#n").fill("1")
            page.click("#write")
            preview = page.locator(".draft .draft-preview")
            expect(preview).to_have_count(1, timeout=600_000)
            page.unroute("**/api/write")
            path = out / f"preview-{platform}.png"
            path.write_bytes(small_png(preview.screenshot()))
            size = path.stat().st_size
            print(f"{path.relative_to(REPO)}: {size // 1024} KB")
            if size > MAX_BYTES:
                raise SystemExit(f"{path} is {size} bytes, over {MAX_BYTES}")
            saved.append(path)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--platforms", nargs="+", default=list(IDEAS), choices=list(IDEAS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLUMNS": "120"}
    with tempfile.TemporaryDirectory(prefix="twin-screenshots-") as root:
        workspace = demo_workspace(Path(root), env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(TWIN), "--workspace", str(workspace), "serve", "--port",
                                   str(port), "--preload"], env=env, stdout=subprocess.DEVNULL)
        try:
            wait_for(url, server)
            shoot(url, args.out, args.platforms)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
