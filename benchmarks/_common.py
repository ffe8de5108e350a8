"""Shared helpers for the benchmark scripts: paths, repeat-and-take-best timing, reporting."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = Path(os.environ.get("TWIN_CORPORA") or REPO.parent / "shared" / "corpora")


def demo_x_archive() -> Path:
    target = Path(tempfile.mkdtemp(prefix="twin-bench-")) / "mayabuilds-x-archive.zip"
    subprocess.run([sys.executable, str(REPO / "demo" / "make_x_archive.py"), str(target)],
                   check=True, capture_output=True)
    return target


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, list[float], object]:
    """Run fn `runs` times; the minimum is the least noise-disturbed estimate."""
    seconds: list[float] = []
    value = None
    for _ in range(runs):
        elapsed, value = timed(fn)
        seconds.append(elapsed)
    return min(seconds), seconds, value


def spread(seconds: list[float]) -> str:
    if len(seconds) < 2:
        return ""
    return f" (runs: {', '.join(f'{s:.2f}' for s in seconds)}; median {statistics.median(seconds):.2f}s)"
