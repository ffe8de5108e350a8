"""A small, careful HTTP fetcher for the web and feed importers.

What it guards against, since a sitemap or a redirect can point anywhere:
- private, loopback, link-local, multicast and reserved addresses (the host is resolved and every
  address checked, on every redirect hop, and the address actually connected to is checked
  again, which catches a DNS answer that changed in between), unless `allow_private`;
- schemes other than http and https, and more than `MAX_REDIRECTS` redirects;
- bodies over `max_bytes` (counted as decoded bytes while streaming, so gzip cannot inflate
  past it) and responses that drip in for longer than `RESPONSE_DEADLINE_FACTOR * timeout`;
- hammering a host: requests to one host are at least `min_interval` seconds apart;
- robots.txt: a disallowed URL raises `RobotsDisallowed` before anything is requested.

Proxy and certificate settings from the environment are ignored (`trust_env=False`): through a
proxy, the address check would be checking the proxy, not the site.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from llm_twin.ingest.base import ImportFormatError, ImportOptions

DEFAULT_USER_AGENT = "LLM-Twin/0.1 (+personal archive import)"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MIN_INTERVAL = 1.0
MAX_REDIRECTS = 5
RESPONSE_DEADLINE_FACTOR = 6
ALLOWED_SCHEMES = ("http", "https")
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Resolver = Callable[[str], Iterable[str]]


class RobotsDisallowed(ImportFormatError):
    """robots.txt of the URL's host disallows our user agent; the URL was not requested."""

    def __init__(self, url: str):
        super().__init__(url, "robots.txt disallows fetching this URL")


@dataclass(frozen=True)
class FetchedResponse:
    url: str  # after redirects
    status_code: int
    content_type: str  # media type only, lower case ("text/html"); "" when the server sent none
    charset: str | None
    content: bytes
    headers: dict[str, str]


def is_url(location: object) -> bool:
    """True for an http(s) URL string. A URL turned into a Path has lost its '//' and is a path."""
    if not isinstance(location, str):
        return False
    return urlsplit(location.strip()).scheme.casefold() in ALLOWED_SCHEMES


@contextmanager
def fetcher_session(fetcher: SafeFetcher | None,
                    options: ImportOptions | None) -> Iterator[SafeFetcher]:
    """The fetcher an importer was given (left open for its owner), or a new one closed after."""
    if fetcher is not None:
        yield fetcher
        return
    with SafeFetcher(options) as own:
        yield own


def content_digest(parts: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over fetched (url, body) pairs: an unchanged source hashes the same next time."""
    digest = hashlib.sha256()
    for url, body in parts:
        digest.update(url.encode("utf-8") + b"\0" + len(body).to_bytes(8, "big") + body)
    return digest.hexdigest()


def system_resolver(host: str) -> list[str]:
    """Every address the system resolver gives for `host`."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


class SafeFetcher:
    """Fetches http(s) URLs one at a time with the guards described in the module docstring.

    `resolver` (host -> addresses) and `transport` (an httpx transport) exist for tests.
    Use as a context manager, or call `close()`.
    """

    def __init__(self, options: ImportOptions | None = None, *,
                 user_agent: str = DEFAULT_USER_AGENT, timeout: float = DEFAULT_TIMEOUT,
                 max_bytes: int = DEFAULT_MAX_BYTES, min_interval: float = DEFAULT_MIN_INTERVAL,
                 resolver: Resolver | None = None, transport: httpx.BaseTransport | None = None):
        self.options = options or ImportOptions()
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.min_interval = min_interval
        self._resolver = resolver or system_resolver
        self._client = httpx.Client(
            follow_redirects=False, trust_env=False, transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": _ACCEPT})
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | ImportFormatError] = {}

    def __enter__(self) -> SafeFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str) -> FetchedResponse:
        """GET `url`, following redirects; raises ImportFormatError for any failure or HTTP error.

        Raises `RobotsDisallowed` (an ImportFormatError) when robots.txt says no to the URL or
        to a redirect target.
        """
        response = self._get_following_redirects(url, check_robots=True)
        if response.status_code >= 400:
            raise ImportFormatError(response.url, _status_problem(response, url))
        return response

    def allowed_by_robots(self, url: str) -> bool:
        self._check_url(url)  # a refused address is the clearer error, before its robots.txt
        root = _site_root(url)
        if root not in self._robots:
            try:
                self._robots[root] = self._load_robots(root)
            except ImportFormatError as error:
                self._robots[root] = error  # an unreachable site is not retried per page
        robots = self._robots[root]
        if isinstance(robots, ImportFormatError):
            raise ImportFormatError(url, f"could not read {robots.file}: {robots.problem}")
        return robots.can_fetch(self.user_agent, url)

    def _load_robots(self, root: str) -> RobotFileParser:
        robots_url = root + "/robots.txt"
        parser = RobotFileParser(robots_url)
        response = self._get_following_redirects(robots_url, check_robots=False)
        # Mirrors urllib.robotparser.read(): 401/403 mean "keep out", other 4xx mean "no rules".
        # A 5xx leaves the parser unread, which robotparser treats as disallow-all.
        if response.status_code in (401, 403):
            # The ignores: typeshed leaves out RobotFileParser's allow_all and disallow_all flags.
            parser.disallow_all = True  # type: ignore[attr-defined]
        elif 400 <= response.status_code < 500:
            parser.allow_all = True  # type: ignore[attr-defined]
        elif response.status_code < 400:
            text = response.content.decode("utf-8", errors="replace")
            parser.parse(text.splitlines())
        return parser

    def _get_following_redirects(self, url: str, *, check_robots: bool) -> FetchedResponse:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if check_robots and not self.allowed_by_robots(current):
                raise RobotsDisallowed(current)
            response = self._get_once(current)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_STATUSES:
                return response
            if not location:
                raise ImportFormatError(current, f"HTTP {response.status_code} redirect "
                                                 "without a Location header")
            try:
                current = urljoin(current, location)
            except ValueError as error:  # e.g. "http://[::1/": urllib's "Invalid IPv6 URL"
                raise ImportFormatError(current, f"HTTP {response.status_code} redirect to a "
                                                 f"malformed URL {location[:200]!r}: {error}"
                                        ) from error
        raise ImportFormatError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str) -> FetchedResponse:
        target = self._check_url(url)
        self._wait_for_turn(target.raw_host.decode("ascii", errors="replace"))
        try:
            with self._client.stream("GET", target) as response:
                self._check_peer(url, response)
                content = self._read_capped(url, response)
        except httpx.TimeoutException as error:
            raise ImportFormatError(url, f"timed out after {self.timeout:g} s") from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            problem = f"network error: {error or type(error).__name__}"
            raise ImportFormatError(url, problem) from error
        except ValueError as error:
            # httpx decodes a redirect's Location even when not following it; an invalid IDNA
            # name there ("xn--.example") raises idna.IDNAError, a ValueError.
            raise ImportFormatError(url, f"malformed response: {error}") from error
        return _fetched(url, response, content)

    def _check_url(self, url: str) -> httpx.URL:
        """The URL as httpx will request it, once its scheme and host are allowed.

        The host checked is httpx's own parse (the ASCII, IDNA-encoded name it connects to), not
        urllib's: the two disagree on URLs such as " http://host/" (urllib strips the space,
        httpx reads a relative URL), so checking one parse and fetching the other could let an
        unchecked host through."""
        target = _httpx_url(url)
        if self.options.allow_private:
            return target
        host = target.raw_host.decode("ascii", errors="replace")
        if not host:
            raise ImportFormatError(url, "URL has no host")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = self._resolve(url, host)
        for address in addresses:
            if _is_non_public(address):
                raise ImportFormatError(url, f"refusing to fetch from non-public address {address} "
                                             f"(host {host}); pass --allow-private to permit it")
        return target

    def _resolve(self, url: str, host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            found = [ipaddress.ip_address(address.split("%")[0])
                     for address in self._resolver(host)]
        except (OSError, ValueError) as error:
            raise ImportFormatError(url, f"cannot resolve host {host}: {error}") from error
        if not found:
            raise ImportFormatError(url, f"cannot resolve host {host}")
        return found

    def _check_peer(self, url: str, response: httpx.Response) -> None:
        """The address actually connected to, when the transport tells (real sockets do)."""
        if self.options.allow_private:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            return
        address = ipaddress.ip_address(str(peer[0]).split("%")[0])
        if _is_non_public(address):
            raise ImportFormatError(url, f"refusing to read from non-public address {address} "
                                         "(the host resolved differently when connecting)")

    def _wait_for_turn(self, host: str) -> None:
        key = host.casefold()
        last = self._last_request.get(key)
        if last is not None:
            delay = last + self.min_interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._last_request[key] = time.monotonic()

    def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(url, self.max_bytes)
        deadline = time.monotonic() + RESPONSE_DEADLINE_FACTOR * self.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _too_large(url, self.max_bytes)
            if time.monotonic() > deadline:
                raise ImportFormatError(url, f"response took longer than "
                                             f"{RESPONSE_DEADLINE_FACTOR * self.timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)


def _is_non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or not address.is_global)


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 (parsing the host is what raises on a bad IPv6 literal)
    except ValueError as error:
        raise ImportFormatError(url, f"malformed URL: {error}") from error
    scheme = parts.scheme.casefold()
    if scheme not in ALLOWED_SCHEMES:
        raise ImportFormatError(url, "only http and https URLs can be fetched, "
                                     f"not {scheme or 'this'!r}")


def _httpx_url(url: str) -> httpx.URL:
    _check_scheme(url)
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as error:
        raise ImportFormatError(url, f"malformed URL: {error}") from error
    if target.scheme not in ALLOWED_SCHEMES:
        raise ImportFormatError(url, "only http and https URLs can be fetched, "
                                     f"not {target.scheme or 'this'!r}")
    return target


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.casefold()}://{parts.netloc.casefold()}"


def _fetched(url: str, response: httpx.Response, content: bytes) -> FetchedResponse:
    media_type, _, _ = response.headers.get("content-type", "").partition(";")
    headers = {key.casefold(): value for key, value in response.headers.items()}
    return FetchedResponse(url=url, status_code=response.status_code,
                           content_type=media_type.strip().casefold(),
                           charset=response.charset_encoding, content=content, headers=headers)


def _status_problem(response: FetchedResponse, requested: str) -> str:
    reason = httpx.codes.get_reason_phrase(response.status_code)
    problem = f"HTTP {response.status_code} {reason}".rstrip()
    if response.url != requested:
        problem += f" (redirected from {requested})"
    return problem


def _too_large(url: str, max_bytes: int) -> ImportFormatError:
    return ImportFormatError(url, f"response is larger than the {_size_text(max_bytes)} limit")


def _size_text(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"
