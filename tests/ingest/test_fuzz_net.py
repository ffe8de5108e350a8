"""The safe fetcher's URL and redirect handling, fuzzed: generated URLs (schemes, userinfo, IPv6,
IDNA, private/loopback/link-local addresses in literal, numeric and resolved forms, overlong
names, percent-encoding tricks) and generated redirect chains. Only ImportFormatError may come
out, and no request may reach a host that is, or resolves to, a non-public address.

The cases are benchmarks/fuzz_importers.py's "url" format (10,000 of them there); here hypothesis
draws 200, plus redirect chains served by a real local HTTP server.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import load_benchmark
from hypothesis import given, settings, strategies as st
from local_site import LocalSite

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.net import SafeFetcher

fuzz = load_benchmark("fuzz_importers")


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=2 ** 32))
def test_generated_urls_and_redirect_chains_only_fail_as_documented(seed: int) -> None:
    started = time.monotonic()
    assert fuzz.run_url_case(random.Random(seed)) in {"ok", "documented"}
    assert time.monotonic() - started < 5


LOCAL_TARGETS = [
    "/ok", "ok", "/%2e%2e/ok", "/ok#frag", "//127.0.0.1:{port}/ok", "http://127.0.0.1:{port}/ok",
    "http://u:p@127.0.0.1:{port}/ok", "http://2130706433:{port}/ok", "HTTP://127.0.0.1:{port}/ok",
    " http://127.0.0.1:{port}/ok", "http://[::1:{port}/", "http://xn--.example/", "ftp://127.0.0.1/",
    "javascript:alert(1)", "file:///etc/passwd", "", "\x7f", "/start", "/" + "x" * 9000,
    "http://127.0.0.1:{port}/" + "%" * 3, "http://127.0.0.1:99999/", "http://127.0.0.1:0/",
]


@pytest.fixture(scope="module")
def chain_site() -> Iterator[LocalSite]:
    with LocalSite() as site:
        site.add("/ok", "<p>ok</p>")
        yield site


@pytest.mark.parametrize("hops", [0, 5])
@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_real_redirect_chains_end_in_a_page_or_a_documented_error(chain_site: LocalSite,
                                                                  target: str, hops: int) -> None:
    """A real local server redirects `hops` times, then to `target`: loops, other schemes,
    malformed and odd-but-valid URLs. With allow_private (the only way to reach 127.0.0.1; the
    public-only checks per hop run on the generated cases above), only a page or ImportFormatError
    comes out, within the time limit, and no other scheme is ever requested."""
    port = chain_site.base_url.rstrip("/").rsplit(":", 1)[1]
    prefix = f"/chain-{hops}-{LOCAL_TARGETS.index(target)}"
    for hop in range(hops):
        chain_site.add(f"{prefix}/{hop}", status=302 + hop % 2 * 5,
                       headers={"Location": f"{prefix}/{hop + 1}"})
    chain_site.add(f"{prefix}/{hops}", status=301, headers={"Location": target.format(port=port)})
    started = time.monotonic()
    with SafeFetcher(ImportOptions(allow_private=True), min_interval=0.0,
                     timeout=2.0) as fetcher:
        try:
            response = fetcher.fetch(chain_site.url(f"{prefix}/0"))
        except ImportFormatError as error:
            assert error.file
        else:
            assert urlsplit(response.url).hostname in {"127.0.0.1", "2130706433"}
            assert response.content
    assert time.monotonic() - started < 5
