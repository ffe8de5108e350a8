"""Server soak: a real `twin serve` on the demo data under a mixed, partly hostile load.

Starts `.venv/bin/twin serve` (subprocess, bearer token, --max-upload-mb 4) on a fresh workspace
with the demo data imported and indexed (benchmarks/write_timing.demo_workspace), then sends
--requests requests spread over --minutes from 20 concurrent clients (httpx), mixing:

    well-formed: streamed /api/write, /v1/chat/completions (streamed and not), /api/search,
                 /api/status and /api/jobs, a small valid upload (a Markdown post),
                 clients that disconnect after the first streamed bytes
    bad:         malformed JSON (REST and OpenAI routes), wrong and missing tokens, an oversized
                 upload, a corrupt zip, a zip bomb, invalid fields

Expectations (the exit status is non-zero when one fails): every well-formed request answered
2xx, every bad one a 4xx, never a 5xx, never a hang (--timeout per request); uploads that are
accepted but cannot be imported end as a failed job with a message; the server's RSS (from
/proc/<pid>/status, sampled every 5 s) grows < 10 % from the first minute of the --minutes to the
last (answers that drain after them are shown apart), and < 10 % at rest (no request, no job)
from after the warm-up to after the soak; its open file descriptors (/proc/<pid>/fd) do not grow
between the start and the end (after its jobs are done; the warehouse's pooled connections may
reach SQLAlchemy's pool size, never more); the server exits cleanly on SIGTERM; then `PRAGMA
integrity_check` on the workspace's twin.db is "ok".

Before measuring, every kind of request runs once and then a burst of --clients concurrent ones
(the model, the vector store, the embedder and the chat batcher at its largest batch are in
memory); the RSS is reported both as the issue asks (mean of the first minute → mean of the last)
and from the end of the first minute to the end (growth after warm-up). The open descriptors are
listed (readlink of /proc/<pid>/fd) at both ends, and the ones that appeared or went are printed.

A second phase (skip with --no-schemathesis) fuzzes every /api and /v1 route of the served
OpenAPI document with schemathesis (checks not_a_server_error, response_schema_conformance),
except the routes that start long background jobs from a generated body (EXCLUDED_LIVE: POST
/api/train, /api/datasets, /api/voice, /api/index); tests/serving/test_api_schema_fuzz.py and the
soak itself cover those (the soak's uploads run ingest jobs).

    nice -n 10 .venv/bin/python benchmarks/serve_soak.py [--requests 500] [--minutes 10]
    .venv/bin/python benchmarks/serve_soak.py --requests 60 --minutes 1.5     # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, demo_x_archive  # noqa: E402
from serve_concurrency import QUESTIONS, free_port  # noqa: E402
from write_timing import demo_workspace  # noqa: E402

TOKEN = "soak-token"
POOL_SIZE = 5  # SQLAlchemy QueuePool's default, which storage.warehouse keeps
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_UPLOAD_MB = 4
MAX_TOKENS = 24

EXCLUDED_LIVE = ("POST /api/train", "POST /api/datasets", "POST /api/voice", "POST /api/index")

# kind: (weight, well-formed?)
KINDS = {
    "write_stream": (10, True), "chat": (7, True), "chat_stream": (7, True), "search": (16, True),
    "status": (8, True), "upload_valid": (4, True), "disconnect": (6, True),
    "bad_json_api": (6, False), "bad_json_v1": (6, False), "wrong_token": (6, False),
    "missing_token": (5, False), "upload_oversized": (3, False), "upload_corrupt": (3, False),
    "upload_zip_bomb": (3, False), "bad_field": (5, False),
}


@dataclass
class Result:
    kind: str
    well_formed: bool
    status: int | None  # None: no answer (timeout, connection error)
    seconds: float
    detail: str = ""
    job: str | None = None

    @property
    def passed(self) -> bool:
        if self.status is None:
            return False
        if self.well_formed:
            return 200 <= self.status < 300 and not self.detail
        return 400 <= self.status < 500


# -- payloads --------------------------------------------------------------------------------------
def zip_bomb() -> bytes:
    """One 512 MB entry of zeros, ~0.5 MB compressed: under the upload cap, far over any sane
    expansion."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("data/tweets.js", "w", force_zip64=True) as entry:
        block = b"\0" * (1 << 20)
        for _ in range(512):
            entry.write(block)
    return buffer.getvalue()


def payloads() -> dict[str, bytes]:
    archive = demo_x_archive().read_bytes()
    return {"corrupt": archive[: len(archive) // 2] + os.urandom(4096),
            "oversized": b"x" * ((MAX_UPLOAD_MB + 1) * 1024 * 1024),
            "bomb": zip_bomb()}


def valid_post(i: int) -> bytes:
    """A Markdown blog export (a zip of one post with front matter), different for every i."""
    post = (f"---\ntitle: Soak note {i}\ndate: 2024-05-{1 + i % 28:02d}\n---\n\n"
            f"Soak note {i}: small teams should keep their queue in Postgres until it hurts. "
            f"Measure first, then change one thing at a time.\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"blog/2024-05-01_soak-note-{i}.md", post)
    return buffer.getvalue()


# -- the requests ----------------------------------------------------------------------------------
async def one(client, kind: str, i: int, blobs: dict[str, bytes], timeout: float) -> Result:
    well_formed = KINDS[kind][1]
    started = time.perf_counter()
    question = QUESTIONS[i % len(QUESTIONS)]
    detail, job = "", None
    try:
        async with asyncio.timeout(timeout):
            if kind == "write_stream":
                async with client.stream("POST", "/api/write", headers=AUTH, json={
                        "idea": question, "platform": "x", "max_new_tokens": MAX_TOKENS,
                        "seed": i}) as response:
                    body = (await response.aread()).decode()
                status = response.status_code
                if status == 200 and ("event: error" in body or "event: done" not in body):
                    detail = f"stream without drafts: {body[-300:]!r}"
            elif kind in ("chat", "chat_stream"):
                payload = {"model": "twin", "max_tokens": MAX_TOKENS, "seed": i,
                           "stream": kind == "chat_stream",
                           "messages": [{"role": "user", "content": question}]}
                async with client.stream("POST", "/v1/chat/completions", headers=AUTH,
                                         json=payload) as response:
                    body = (await response.aread()).decode()
                status = response.status_code
                if status == 200 and kind == "chat_stream" and "data: [DONE]" not in body:
                    detail = f"stream not finished: {body[-300:]!r}"
                elif status == 200 and kind == "chat" and not json.loads(body).get("choices"):
                    detail = f"no choices: {body[:300]!r}"
            elif kind == "search":
                response = await client.get("/api/search", headers=AUTH,
                                            params={"q": question, "k": 1 + i % 8})
                status = response.status_code
                if status == 200 and not response.json()["hits"]:
                    detail = "no hits"
            elif kind == "status":
                path = "/api/status" if i % 2 else "/api/jobs"
                status = (await client.get(path, headers=AUTH)).status_code
            elif kind == "disconnect":
                path, payload = (("/api/write", {"idea": question, "max_new_tokens": 200})
                                 if i % 2 else
                                 ("/v1/chat/completions", {
                                     "model": "twin", "stream": True, "max_tokens": 200,
                                     "messages": [{"role": "user", "content": question}]}))
                async with client.stream("POST", path, headers=AUTH, json=payload) as response:
                    status = response.status_code
                    async for _ in response.aiter_bytes():
                        break  # leave after the first bytes: the server must stop generating
            elif kind.startswith("upload"):
                name, data = {"upload_valid": (f"blog-export-{i}.zip", valid_post(i)),
                              "upload_oversized": ("big-export.zip", blobs["oversized"]),
                              "upload_corrupt": ("twitter-archive.zip", blobs["corrupt"]),
                              "upload_zip_bomb": ("twitter-archive.zip", blobs["bomb"])}[kind]
                response = await client.post("/api/ingest", headers=AUTH,
                                             files={"files": (name, data)},
                                             data={"index": "false"})
                status = response.status_code
                if status == 202:
                    job = response.json()["job"]["id"]
            elif kind == "bad_json_api":
                status = (await client.post("/api/write", headers={**AUTH, "Content-Type":
                                                                   "application/json"},
                                            content=b'{"idea": "half a thought",')).status_code
            elif kind == "bad_json_v1":
                status = (await client.post("/v1/chat/completions", headers={
                    **AUTH, "Content-Type": "application/json"},
                    content=b'{"model": "twin", "messages": [}')).status_code
            elif kind == "wrong_token":
                path = ("/api/status", "/v1/models", "/api/search?q=postgres")[i % 3]
                status = (await client.get(path, headers={"Authorization": "Bearer nope"})).status_code
            elif kind == "missing_token":
                status = (await client.post("/v1/chat/completions", json={
                    "model": "twin", "messages": [{"role": "user", "content": question}]})
                          ).status_code
            elif kind == "bad_field":
                status = (await client.post("/api/write", headers=AUTH, json={
                    "idea": question, "platform": "myspace", "n": 99})).status_code
            else:
                raise AssertionError(kind)
    except TimeoutError:
        return Result(kind, well_formed, None, time.perf_counter() - started, "timed out (hang)")
    except Exception as error:
        return Result(kind, well_formed, None, time.perf_counter() - started,
                      f"{type(error).__name__}: {error}")
    return Result(kind, well_formed, status, time.perf_counter() - started, detail, job)


# -- the server --------------------------------------------------------------------------------------
def start_server(workspace: Path, port: int) -> subprocess.Popen:
    twin = REPO / ".venv" / "bin" / "twin"
    if not twin.exists():
        twin = Path(sys.executable).with_name("twin")
    log = open(workspace / "serve.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([str(twin), "--workspace", str(workspace), "serve", "--port", str(port),
                             "--token", TOKEN, "--max-upload-mb", str(MAX_UPLOAD_MB),
                             "--max-new-tokens", str(MAX_TOKENS)],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "TWIN_OWNER_NAME": "Maya Lindqvist"})


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> dict[str, str]:
    """fd number → what it points at (a file, socket:[inode], pipe:[inode], anon_inode:...)."""
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return found


def fd_kind(target: str) -> str:
    return target.split(":", 1)[0] + ":" if ":" in target and not target.startswith("/") else target


async def wait_ready(client, server: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("twin serve exited before it was ready (see serve.log)")
        try:
            if (await client.get("/api/status", headers=AUTH)).status_code == 200:
                return
        except Exception:
            pass
        await asyncio.sleep(1)
    raise SystemExit("twin serve did not start in time")


async def jobs_quiet(client, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = (await client.get("/api/jobs", headers=AUTH)).json()["jobs"]
        if all(j["status"] not in ("queued", "running") for j in jobs) or time.monotonic() > deadline:
            return jobs
        await asyncio.sleep(1)


async def sample_rss(pid: int, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - started, rss_kb(pid)))
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except TimeoutError:
            pass


async def soak(args, port: int, server: subprocess.Popen) -> dict:
    import httpx

    rng = random.Random(args.seed)
    blobs = payloads()
    kinds = rng.choices(list(KINDS), weights=[w for w, _ in KINDS.values()], k=args.requests)
    # uvicorn closes a connection idle for 5 s, httpx keeps one 5 s by default: a request sent on
    # one the server is closing that instant fails with a ReadError (1 chat of 500 in a full run).
    # Real clients retry; the soak keeps its idle connections for less than the server does.
    limits = httpx.Limits(max_connections=args.clients + 5, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=args.timeout,
                                 limits=limits) as client:
        await wait_ready(client, server)
        # warm-up: every kind once, then a burst of concurrent requests (the chat batcher at its
        # largest batch), so that the model, the vector store, the embedder and the allocator's
        # arenas are in memory before measuring
        for kind in KINDS:
            warm = await one(client, kind, 0, blobs, args.timeout)
            if not warm.passed:
                raise SystemExit(f"warm-up {kind} failed: {warm}")
        burst = [k for k in ("chat", "chat_stream", "write_stream", "search")
                 for _ in range(args.clients // 4)]
        warm_results = await asyncio.gather(*(one(client, k, 1000 + i, blobs, args.timeout)
                                              for i, k in enumerate(burst)))
        if not all(r.passed for r in warm_results):
            raise SystemExit(f"warm-up burst failed: {[r for r in warm_results if not r.passed]}")
        await jobs_quiet(client)
        await asyncio.sleep(2)
        rest_start = rss_kb(server.pid)  # at rest after the warm-up
        fds_start = open_fds(server.pid)
        samples: list[tuple[float, int]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.pid, samples, stop))
        gate = asyncio.Semaphore(args.clients)
        spacing = args.minutes * 60 / args.requests
        started = time.monotonic()

        async def launch(i: int, kind: str) -> Result:
            await asyncio.sleep(max(0.0, started + i * spacing - time.monotonic()))
            async with gate:
                return await one(client, kind, i + 1, blobs, args.timeout)

        results = await asyncio.gather(*(launch(i, k) for i, k in enumerate(kinds)))
        wall = time.monotonic() - started
        jobs = {j["id"]: j for j in await jobs_quiet(client)}
        await asyncio.sleep(2)
        stop.set()
        await sampler
        rest_end = rss_kb(server.pid)  # at rest again: every request answered, no job running
        fds_end = open_fds(server.pid)
    await asyncio.sleep(3)  # the client's keep-alive connections are closed now
    fds_closed = open_fds(server.pid)
    return {"results": results, "wall": wall, "samples": samples,
            "fds": (fds_start, fds_end, fds_closed),
            "jobs": jobs, "rest": (rest_start, rest_end)}


def schemathesis_phase(port: int, args, log: Path) -> tuple[int, str]:
    """schemathesis against the served OpenAPI document; returns (exit code, last lines). Its
    whole report (every failing case with the request to reproduce it) goes to `log`."""
    cli = REPO / ".venv" / "bin" / "schemathesis"
    if not cli.exists():
        cli = Path(sys.executable).with_name("schemathesis")
    command = [str(cli), "run", f"http://127.0.0.1:{port}/openapi.json",
               "--checks", "not_a_server_error,response_schema_conformance",
               "--include-path-regex", "^/(api|v1)/",
               *(f"--exclude-name={name}" for name in EXCLUDED_LIVE),
               "-H", f"Authorization: Bearer {TOKEN}",
               "--max-examples", str(args.schemathesis_examples), "--seed", str(args.seed),
               "--request-timeout", str(args.timeout), "--max-time", str(args.schemathesis_seconds),
               "--workers", "1", "--output-truncate=false"]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    out = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, "\n".join(out[-40:]) + f"\n(whole report: {log})"


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))


# -- report ------------------------------------------------------------------------------------------
def minute_means(samples: list[tuple[float, int]]) -> list[float]:
    by_minute: dict[int, list[int]] = defaultdict(list)
    for seconds, kb in samples:
        by_minute[int(seconds // 60)].append(kb)
    return [statistics.mean(by_minute[m]) for m in sorted(by_minute)]


def report(run: dict, args, exit_code: int | None, check: str, st: tuple[int, str] | None) -> bool:
    results: list[Result] = run["results"]
    expectations: list[tuple[str, bool, str]] = []
    print(f"\n{len(results)} requests in {run['wall']:.0f} s from {args.clients} clients "
          f"(max_new_tokens {MAX_TOKENS}, upload cap {MAX_UPLOAD_MB} MB)\n")
    print(f"{'kind':18} {'n':>4} {'passed':>6}  {'statuses':28} {'p50 s':>6} {'max s':>6}")
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)
    for kind in KINDS:
        rows = by_kind.get(kind, [])
        if not rows:
            continue
        statuses = ", ".join(f"{s}x{n}" for s, n in sorted(Counter(
            str(r.status) if r.status else "none" for r in rows).items()))
        seconds = [r.seconds for r in rows]
        print(f"{kind:18} {len(rows):4} {sum(r.passed for r in rows):6}  {statuses:28} "
              f"{statistics.median(seconds):6.2f} {max(seconds):6.2f}")
    failed = [r for r in results if not r.passed]
    for r in failed[:20]:
        print(f"  FAILED {r.kind}: status {r.status}, {r.seconds:.1f} s {r.detail}")
    good = [r for r in results if r.well_formed]
    bad = [r for r in results if not r.well_formed]
    expectations.append(("well-formed answered 2xx", all(r.passed for r in good),
                         f"{sum(r.passed for r in good)}/{len(good)}"))
    expectations.append(("bad requests a clear 4xx", all(r.passed for r in bad),
                         f"{sum(r.passed for r in bad)}/{len(bad)}"))
    fives = sum(1 for r in results if r.status and r.status >= 500)
    hangs = sum(1 for r in results if r.status is None)
    expectations.append(("no 5xx", fives == 0, str(fives)))
    expectations.append(("no hang or dropped connection", hangs == 0, str(hangs)))
    jobs = run["jobs"]
    upload_jobs = [(r, jobs.get(r.job, {})) for r in results if r.job]
    # a job ends "succeeded" or "failed" (serving.jobs); this read "done" before, so every
    # finished valid upload counted as unfinished
    stuck = [j for _, j in upload_jobs if j.get("status") not in ("succeeded", "failed")]
    for j in stuck[:5]:
        print(f"  UNFINISHED job {j.get('id')}: {j.get('status')} {j.get('stage')} "
              f"{j.get('done')}/{j.get('total')} {j.get('message')}")
    valid_done = all(j.get("status") == "succeeded"
                     for r, j in upload_jobs if r.kind == "upload_valid")
    bad_failed = all(j.get("status") == "failed" and j.get("error")
                     for r, j in upload_jobs if r.kind != "upload_valid")
    expectations.append(("upload jobs: valid done, bad failed with a message",
                         valid_done and bad_failed and not stuck,
                         f"{len(upload_jobs)} jobs, {len(stuck)} unfinished"))
    for r, j in upload_jobs:
        if r.kind != "upload_valid" and j.get("error"):
            print(f"  {r.kind} job failed as expected: {j['error'][:150]}")
            break
    # The soak's minutes are the --minutes the requests are sent over; on a loaded machine the
    # last answers come after them (the drain), with the backlog's larger batches in memory.
    means = minute_means(run["samples"])
    window = means[:max(1, math.ceil(args.minutes))]
    if len(window) >= 2:
        first, last = window[0], window[-1]
    else:
        first, last = run["samples"][0][1], run["samples"][-1][1]
    growth = (last - first) / first * 100
    drain = means[len(window):]
    print(f"\nRSS per minute (MiB): {', '.join(f'{m / 1024:.0f}' for m in window)}"
          + (f"; while the last answers drained: {', '.join(f'{m / 1024:.0f}' for m in drain)}"
             if drain else ""))
    rest_start, rest_end = run["rest"]
    rest_growth = (rest_end - rest_start) / rest_start * 100
    print(f"RSS at rest (no request, no job): {rest_start / 1024:.0f} MiB after the warm-up, "
          f"{rest_end / 1024:.0f} MiB after the soak ({rest_growth:+.1f} %)")
    samples = run["samples"]
    after = [kb for seconds, kb in samples if seconds >= 60]
    if after:
        warm, end = after[0], samples[-1][1]
        print(f"RSS after warm-up (end of minute 1 → end): {warm / 1024:.0f} → {end / 1024:.0f} MiB "
              f"({(end - warm) / warm * 100:+.1f} %); peak {max(kb for _, kb in samples) / 1024:.0f}")
    expectations.append(("RSS growth first→last minute < 10 %", growth < 10,
                         f"{first / 1024:.0f} → {last / 1024:.0f} MiB ({growth:+.1f} %)"))
    expectations.append(("RSS at rest, after the warm-up → after: < 10 %", rest_growth < 10,
                         f"{rest_start / 1024:.0f} → {rest_end / 1024:.0f} MiB "
                         f"({rest_growth:+.1f} %)"))
    fds_start, fds_end, fds_closed = run["fds"]
    gone = sorted(fd_kind(t) for fd, t in fds_start.items() if fds_end.get(fd) != t)
    new = sorted(fd_kind(t) for fd, t in fds_end.items() if fds_start.get(fd) != t)
    kinds = Counter(map(fd_kind, fds_start.values()))
    print(f"open fds at the start: {len(fds_start)} "
          f"({', '.join(f'{k} x{n}' for k, n in sorted(kinds.items()))})")
    if gone or new:
        print(f"  fds gone: {gone}\n  fds new:  {new}")
    # sockets are the benchmark's own keep-alive connections (httpx pool, up to --clients + 5):
    # files, pipes and the like must not grow, and once the client has gone the sockets must be
    # no more than at the start (the listening one, asyncio's self-pipe, the warm-up's connections)
    # The warehouse's connections: SQLAlchemy's pool keeps up to POOL_SIZE open (each holds
    # twin.db and its -wal), reused, never more: bounded, not a leak.
    def database(fds: dict[str, str]) -> int:
        return sum(1 for t in fds.values() if t.endswith(("twin.db", "twin.db-wal")))

    def files(fds: dict[str, str]) -> int:
        return sum(1 for t in fds.values() if not t.startswith("socket:")) - database(fds)

    def sockets(fds: dict[str, str]) -> int:
        return sum(1 for t in fds.values() if t.startswith("socket:"))

    print(f"sockets: {sockets(fds_start)} at the start, {sockets(fds_end)} at the end with the "
          f"client's keep-alive pool open, {sockets(fds_closed)} once it closed")
    expectations.append(("open file descriptors not growing",
                         files(fds_end) <= files(fds_start)
                         and sockets(fds_closed) <= sockets(fds_start)
                         and database(fds_end) <= 2 * POOL_SIZE,
                         f"{len(fds_start)} → {len(fds_end)} (files {files(fds_start)} → "
                         f"{files(fds_end)}; database {database(fds_start)} → "
                         f"{database(fds_end)} of at most {2 * POOL_SIZE}; sockets after the "
                         f"client left {sockets(fds_closed)})"))
    expectations.append(("server exits cleanly on SIGTERM", exit_code == 0, f"exit {exit_code}"))
    expectations.append(("PRAGMA integrity_check", check == "ok", check))
    if st is not None:
        code, tail = st
        print("\nschemathesis (every /api and /v1 route):\n" + tail)
        expectations.append(("schemathesis: no 5xx, responses match the schema", code == 0,
                             f"exit {code}"))
    print(f"\n{'expectation':52} {'ok':4} figure")
    for name, ok, figure in expectations:
        print(f"{name:52} {'yes' if ok else 'NO':4} {figure}")
    return all(ok for _, ok, _ in expectations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before a request "
                                                                     "counts as hung")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-schemathesis", dest="schemathesis", action="store_false")
    parser.add_argument("--schemathesis-examples", type=int, default=10)
    parser.add_argument("--schemathesis-seconds", type=int, default=300)
    args = parser.parse_args()

    print("Preparing a workspace with the demo data (import + index)…", flush=True)
    ws = demo_workspace(MAX_TOKENS)
    workspace = ws.settings.workspace
    port = free_port()
    server = start_server(workspace, port)
    st = None
    try:
        print(f"twin serve on port {port}: {args.requests} requests over {args.minutes:g} min…",
              flush=True)
        run = asyncio.run(soak(args, port, server))
        if args.schemathesis:
            print("schemathesis over the served OpenAPI document…", flush=True)
            st = schemathesis_phase(port, args, workspace / "schemathesis.log")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            exit_code: int | None = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            exit_code = None
    check = integrity(workspace / "twin.db")
    ok = report(run, args, exit_code, check, st)
    if not ok:
        print(f"\nserver log: {workspace / 'serve.log'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
