"""Concurrent OpenAI-compatible chat completions against a real `twin serve` (default model).

Starts `twin serve` in a subprocess on a fresh workspace with the demo data (imported and
indexed, the bundled SmolLM2, no fine-tuning), then, with the OpenAI Python client (async):
  1. baseline: one streamed request alone (after a warm-up request);
  2. N streamed requests sent at once.
Reports whether all succeeded, p50/p95 latency and time to first streamed token, as ratios of the
single request, for the default backend (`auto`: CTranslate2) and then for the baseline, a server
on the transformers backend with the same batching, and reports one against the other, in the same
run. `--baseline-batch 1` adds a transformers server answering one request at a time.

    .venv/bin/python benchmarks/serve_concurrency.py [--requests 20] [--max-tokens 48] [--max-batch 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from write_timing import demo_workspace  # noqa: E402

QUESTIONS = ["Why did you move the job queue into Postgres?", "What do you think about Kafka?",
             "How do you keep deploys calm?", "What is your advice for small teams?",
             "Tell me about the vacuum incident."]


@dataclass
class Outcome:
    ok: bool
    latency: float
    first_token: float | None
    tokens: int
    error: str = ""


async def one_request(client, index: int, max_tokens: int) -> Outcome:
    started = time.perf_counter()
    first = None
    pieces = 0
    try:
        stream = await client.chat.completions.create(
            model="twin", stream=True, max_tokens=max_tokens, temperature=0.7,
            messages=[{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}])
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                first = first or time.perf_counter() - started
                pieces += 1
        return Outcome(True, time.perf_counter() - started, first, pieces)
    except Exception as error:  # reported, not raised: the benchmark counts failures
        return Outcome(False, time.perf_counter() - started, first, pieces, f"{type(error).__name__}: {error}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workspace: Path, port: int, max_tokens: int, max_batch: int,
                 backend: str) -> subprocess.Popen:
    twin = Path(sys.executable).with_name("twin")
    return subprocess.Popen([str(twin), "--workspace", str(workspace), "serve", "--port", str(port),
                             "--max-new-tokens", str(max_tokens), "--max-batch", str(max_batch)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TWIN_OWNER_NAME": "Maya Lindqvist",
                                 "TWIN_BACKEND": backend})


async def wait_ready(client, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"twin serve exited: {server.stderr.read()}")
        try:
            await client.models.list()
            return
        except Exception:
            await asyncio.sleep(1)
    raise SystemExit("twin serve did not start in time")


async def measure(ws, args, backend: str, max_batch: int) -> tuple[Outcome, list[Outcome], float]:
    """Single request alone, then the concurrent burst, against a fresh `twin serve`."""
    from openai import AsyncOpenAI

    port = free_port()
    server = start_server(ws.settings.workspace, port, args.max_tokens, max_batch, backend)
    client = AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", timeout=1800,
                         max_retries=0)
    try:
        await wait_ready(client, server)
        await one_request(client, 0, args.max_tokens)  # warm-up
        single = await one_request(client, 1, args.max_tokens)
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one_request(client, i, args.max_tokens)
                                          for i in range(args.requests)))
        return single, outcomes, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


async def run(args) -> None:
    print("Preparing a workspace with the demo data (import + index)…", flush=True)
    ws = demo_workspace(args.max_tokens)
    servers = [("auto", args.max_batch), ("transformers", args.max_batch)]
    if args.baseline_batch:
        servers.append(("transformers", args.baseline_batch))
    results = {}
    for backend, max_batch in dict.fromkeys(servers):
        print(f"twin serve (backend {backend}) --max-batch {max_batch}: {args.requests} concurrent "
              "requests…", flush=True)
        results[backend, max_batch] = await measure(ws, args, backend, max_batch)
        report(args, backend, max_batch, *results[backend, max_batch])
    p50 = lambda outcomes, key: statistics.median(getattr(o, key) for o in outcomes if o.ok)  # noqa: E731
    (_, ours, wall) = results["auto", args.max_batch]
    for backend, max_batch in list(results)[1:]:
        (_, base, base_wall) = results[backend, max_batch]
        print(f"\nauto (CTranslate2) --max-batch {args.max_batch} against {backend} --max-batch "
              f"{max_batch}, same run: all done in {wall / base_wall:.2f}x the time, p50 latency "
              f"{p50(ours, 'latency') / p50(base, 'latency'):.2f}x, p50 first token "
              f"{p50(ours, 'first_token') / p50(base, 'first_token'):.2f}x.")


def report(args, backend: str, max_batch: int, single: Outcome, outcomes: list[Outcome],
           wall: float) -> None:
    ok = [o for o in outcomes if o.ok]
    latencies = [o.latency for o in ok]
    firsts = [o.first_token for o in ok if o.first_token is not None]
    print(f"\n{len(ok)}/{len(outcomes)} concurrent requests succeeded "
          f"(max_tokens {args.max_tokens}, max_batch {max_batch}, default model, "
          f"backend {backend}).")
    for o in outcomes:
        if not o.ok:
            print(f"  failed: {o.error}")
    print(f"baseline, one request alone: latency {single.latency:.2f} s, first token "
          f"{single.first_token or float('nan'):.2f} s, {single.tokens} streamed pieces")
    if not ok:
        return
    rows = [("latency", latencies, single.latency), ("first token", firsts, single.first_token)]
    print(f"{'':12} {'p50':>8} {'p95':>8} {'max':>8}   p50 / single")
    for name, values, base in rows:
        if values:
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            print(f"{name:12} {p50:8.2f} {p95:8.2f} {max(values):8.2f}   {p50 / base:.1f}x")
    pieces = sum(o.tokens for o in ok)
    print(f"all {len(outcomes)} done in {wall:.1f} s = {wall / single.latency:.1f}x one request "
          f"alone; {pieces / wall:.1f} streamed pieces/s overall vs "
          f"{single.tokens / single.latency:.1f} for one request alone.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--max-batch", type=int, default=16, help="twin serve --max-batch")
    parser.add_argument("--baseline-batch", type=int, default=0,
                        help="also a transformers server with this --max-batch (1: one request at "
                             "a time; 0: not run)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
