"""SafeFetcher: a real local HTTP server for what sockets do, httpx.MockTransport for public
hosts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from local_site import LocalSite

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.net import DEFAULT_USER_AGENT, RobotsDisallowed, SafeFetcher, is_url

PRIVATE_OK = ImportOptions(allow_private=True)
PUBLIC_ADDRESS = "93.184.216.34"
PAGE = "<html><body><p>Hello from the local site.</p></body></html>"


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        running.add("/page", PAGE)
        yield running


def fetcher(options: ImportOptions = PRIVATE_OK, **settings: object) -> SafeFetcher:
    settings.setdefault("min_interval", 0.0)
    return SafeFetcher(options, **settings)  # type: ignore[arg-type]


def resolver(table: dict[str, list[str]]):
    def resolve(host: str) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


class MockSite:
    """httpx.MockTransport answering from a table of URL -> response; records what was asked."""

    def __init__(self, answers: dict[str, httpx.Response]):
        self.answers = answers
        self.requested: list[str] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(str(request.url))
        return self.answers.get(str(request.url), httpx.Response(404))


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


def test_fetches_a_page_with_type_charset_and_user_agent(site: LocalSite) -> None:
    with fetcher() as client:
        response = client.fetch(site.url("/page"))
    assert (response.status_code, response.content) == (200, PAGE.encode())
    assert (response.content_type, response.charset) == ("text/html", "utf-8")
    assert response.url == site.url("/page")
    assert site.requests[-1].headers["User-Agent"] == DEFAULT_USER_AGENT


def test_loopback_is_refused_without_allow_private_and_nothing_is_requested(
        site: LocalSite) -> None:
    with fetcher(ImportOptions()) as client, pytest.raises(ImportFormatError) as caught:
        client.fetch(site.url("/page"))
    assert "non-public address 127.0.0.1" in str(caught.value)
    assert site.requests == []


@pytest.mark.parametrize("address", [
    "10.0.0.8", "172.16.4.2", "192.168.1.20", "127.0.0.2", "169.254.169.254", "224.0.0.251",
    "240.0.0.1", "0.0.0.0", "100.64.0.1", "::1", "fe80::1", "fc00::5", "ff02::1",
    "::ffff:127.0.0.1",
])
def test_hosts_resolving_to_non_public_addresses_are_refused(address: str) -> None:
    mock = MockSite({"http://blog.example.com/": httpx.Response(200, text="hi")})
    client = fetcher(ImportOptions(), resolver=resolver({"blog.example.com": [address]}),
                     transport=mock.transport)
    with client, pytest.raises(ImportFormatError, match="non-public address"):
        client.fetch("http://blog.example.com/")
    assert mock.requested == []


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    mock = MockSite({})
    client = fetcher(ImportOptions(), transport=mock.transport,
                     resolver=resolver({"blog.example.com": [PUBLIC_ADDRESS, "10.1.2.3"]}))
    with client, pytest.raises(ImportFormatError, match="10.1.2.3"):
        client.fetch("https://blog.example.com/post")


def test_public_host_is_fetched() -> None:
    mock = MockSite({"https://blog.example.com/post": httpx.Response(200, text="words")})
    client = fetcher(ImportOptions(), resolver=resolver({"blog.example.com": [PUBLIC_ADDRESS]}),
                     transport=mock.transport)
    with client:
        assert client.fetch("https://blog.example.com/post").content == b"words"
    assert mock.requested == ["https://blog.example.com/robots.txt",
                              "https://blog.example.com/post"]


def test_every_redirect_hop_is_checked_again() -> None:
    mock = MockSite({"https://blog.example.com/start":
                     redirect("http://intranet.example.com/admin")})
    client = fetcher(ImportOptions(), transport=mock.transport, resolver=resolver(
        {"blog.example.com": [PUBLIC_ADDRESS], "intranet.example.com": ["10.0.0.7"]}))
    with client, pytest.raises(ImportFormatError) as caught:
        client.fetch("https://blog.example.com/start")
    assert caught.value.file == "http://intranet.example.com/admin"
    assert "10.0.0.7" in caught.value.problem
    assert not any("intranet" in url for url in mock.requested)


def test_redirect_to_a_literal_private_address_is_refused() -> None:
    mock = MockSite({"https://blog.example.com/start": redirect("http://169.254.169.254/latest/")})
    client = fetcher(ImportOptions(), transport=mock.transport,
                     resolver=resolver({"blog.example.com": [PUBLIC_ADDRESS]}))
    with client, pytest.raises(ImportFormatError, match="169.254.169.254"):
        client.fetch("https://blog.example.com/start")


def test_address_actually_connected_to_is_checked(site: LocalSite) -> None:
    """The resolver (as if DNS changed its answer) says public, but the socket lands on loopback."""
    client = fetcher(ImportOptions(), resolver=resolver({"localhost": [PUBLIC_ADDRESS]}))
    port = site.base_url.rsplit(":", 1)[1]
    with client, pytest.raises(ImportFormatError, match="non-public address 127.0.0.1"):
        client.fetch(f"http://localhost:{port}/page")


def test_redirects_are_followed_to_the_final_url(site: LocalSite) -> None:
    site.add("/old", status=301, headers={"Location": "/page"})
    with fetcher() as client:
        response = client.fetch(site.url("/old"))
    assert response.url == site.url("/page")
    assert response.content == PAGE.encode()


def test_too_many_redirects_is_an_error() -> None:
    answers = {f"https://blog.example.com/{n}": redirect(f"/{n + 1}") for n in range(10)}
    mock = MockSite(answers)
    client = fetcher(ImportOptions(), transport=mock.transport,
                     resolver=resolver({"blog.example.com": [PUBLIC_ADDRESS]}))
    with client, pytest.raises(ImportFormatError, match="more than 5 redirects"):
        client.fetch("https://blog.example.com/0")


@pytest.mark.parametrize("url", ["ftp://blog.example.com/feed.xml", "file:///etc/passwd"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with fetcher() as client, pytest.raises(ImportFormatError, match="only http and https"):
        client.fetch(url)


def test_redirect_to_another_scheme_is_refused() -> None:
    mock = MockSite({"https://blog.example.com/start": redirect("file:///etc/passwd")})
    client = fetcher(ImportOptions(), transport=mock.transport,
                     resolver=resolver({"blog.example.com": [PUBLIC_ADDRESS]}))
    with client, pytest.raises(ImportFormatError, match="only http and https"):
        client.fetch("https://blog.example.com/start")


def test_declared_size_over_the_cap_is_refused(site: LocalSite) -> None:
    site.add("/big", b"x" * 4096)
    with fetcher(max_bytes=1024) as client, pytest.raises(ImportFormatError) as caught:
        client.fetch(site.url("/big"))
    assert caught.value.file == site.url("/big")
    assert "larger than the 1 KiB limit" in caught.value.problem


def test_streamed_size_over_the_cap_is_refused_without_a_content_length(site: LocalSite) -> None:
    site.add("/stream", b"y" * 50_000, send_length=False)
    with fetcher(max_bytes=1000) as client, pytest.raises(ImportFormatError, match="limit"):
        client.fetch(site.url("/stream"))


def test_timeout_is_an_error_naming_the_url(site: LocalSite) -> None:
    site.add("/slow", PAGE, delay=1.5)
    with fetcher(timeout=0.3) as client, pytest.raises(ImportFormatError) as caught:
        client.fetch(site.url("/slow"))
    assert caught.value.file == site.url("/slow")
    assert "timed out after 0.3 s" in caught.value.problem


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_http_error_names_the_url_and_the_status(site: LocalSite, status: int, reason: str) -> None:
    site.add("/broken", "nope", status=status)
    with fetcher() as client, pytest.raises(ImportFormatError) as caught:
        client.fetch(site.url("/broken"))
    assert caught.value.file == site.url("/broken")
    assert caught.value.problem == f"HTTP {status} {reason}"


def test_http_error_after_a_redirect_says_where_it_came_from(site: LocalSite) -> None:
    site.add("/moved", status=302, headers={"Location": "/gone"})
    with fetcher() as client, pytest.raises(ImportFormatError) as caught:
        client.fetch(site.url("/moved"))
    assert caught.value.file == site.url("/gone")
    assert caught.value.problem == f"HTTP 404 Not Found (redirected from {site.url('/moved')})"


def test_connection_refused_is_an_error() -> None:
    with LocalSite() as closed:
        url = closed.url("/page")
    with fetcher() as client, pytest.raises(ImportFormatError, match="network error"):
        client.fetch(url)


def test_robots_disallowed_url_is_not_requested_and_robots_is_read_once(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/private/notes", PAGE)
    with fetcher() as client:
        assert client.allowed_by_robots(site.url("/page"))
        with pytest.raises(RobotsDisallowed) as caught:
            client.fetch(site.url("/private/notes"))
        client.fetch(site.url("/page"))
    assert caught.value.file == site.url("/private/notes")
    assert site.paths() == ["/robots.txt", "/page"]


def test_robots_rules_for_our_agent_apply(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: LLM-Twin\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    with fetcher() as client:
        assert not client.allowed_by_robots(site.url("/page"))


def test_redirect_into_a_disallowed_path_is_not_followed(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    site.add("/go", status=302, headers={"Location": "/private/notes"})
    with fetcher() as client, pytest.raises(RobotsDisallowed):
        client.fetch(site.url("/go"))
    assert "/private/notes" not in site.paths()


def test_unreadable_robots_txt_fails_the_page_with_a_clear_reason_once(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\n", delay=1.0)
    with fetcher(timeout=0.3) as client:
        for _ in range(2):
            with pytest.raises(ImportFormatError) as caught:
                client.fetch(site.url("/page"))
    assert caught.value.file == site.url("/page")
    robots = site.url("/robots.txt")
    assert caught.value.problem == f"could not read {robots}: timed out after 0.3 s"
    assert site.paths() == ["/robots.txt"]


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (410, True), (401, False),
                                                  (403, False), (503, False)])
def test_robots_status_decides_when_there_are_no_rules(site: LocalSite, status: int,
                                                       allowed: bool) -> None:
    site.add("/robots.txt", "", status=status)
    with fetcher() as client:
        assert client.allowed_by_robots(site.url("/page")) is allowed


def test_requests_to_one_host_are_spaced_by_min_interval(site: LocalSite) -> None:
    site.add("/second", PAGE)
    with fetcher(min_interval=0.2) as client:
        client.fetch(site.url("/page"))
        client.fetch(site.url("/second"))
    arrivals = [request.at for request in site.requests]
    assert site.paths() == ["/robots.txt", "/page", "/second"]
    assert all(later - earlier >= 0.15 for earlier, later in zip(arrivals, arrivals[1:]))


def test_is_url_accepts_http_strings_only() -> None:
    assert is_url("https://blog.example.com/feed")
    assert is_url("HTTP://blog.example.com/")
    assert not is_url("ftp://blog.example.com/")
    assert not is_url("/home/dana/export.zip")
    from pathlib import Path
    assert not is_url(Path("https://blog.example.com"))
