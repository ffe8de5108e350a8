"""A real HTTP server on 127.0.0.1 (a free port) for the net, feed and web importer tests.

It serves files from a fixture folder, with `{{BASE}}` in text files replaced by the server's own
base URL (sitemaps need absolute URLs), plus routes added by a test. Every request is recorded with
its arrival time and headers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml",
                 ".rdf": "application/rdf+xml", ".txt": "text/plain; charset=utf-8",
                 ".gz": "application/gzip"}


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


@dataclass(frozen=True)
class Request:
    path: str
    at: float  # time.monotonic() on arrival
    headers: dict[str, str]


class LocalSite:
    def __init__(self, root: Path | None = None):
        self.root = root
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                site.requests.append(Request(self.path, time.monotonic(), dict(self.headers)))
                site._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", **route: object) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, **route)  # type: ignore[arg-type]

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def __enter__(self) -> LocalSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path) or self._fixture(handler.path)
        if route is None:
            route = Route(b"<h1>Not found</h1>", status=404)
        if route.delay:
            time.sleep(route.delay)
        handler.send_response(route.status)
        if route.content_type:
            handler.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        if route.send_length:
            handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        try:
            handler.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size cap, timeout)

    def _fixture(self, path: str) -> Route | None:
        if self.root is None:
            return None
        target = (self.root / path.split("?")[0].lstrip("/")).resolve()
        if not target.is_file() or self.root.resolve() not in target.parents:
            return None
        body = target.read_bytes()
        if target.suffix != ".gz":
            body = body.replace(b"{{BASE}}", self.base_url.encode())
        content_type = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        return Route(body, content_type=content_type)
