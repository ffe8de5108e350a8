"""A real dataset build for the training benchmarks: a corpus folder imported into a fresh
workspace, then `twin dataset build` (extractive instructions: deterministic, no model writing),
exactly as a user would run them. Its test split is the newest 10% of the posts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from llm_twin.config import load_settings

TWIN = [sys.executable, "-m", "llm_twin.cli.app"]


def twin(workspace: Path, *args: str) -> None:
    env = {**os.environ, "TWIN_WORKSPACE": str(workspace)}
    done = subprocess.run([*TWIN, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"twin {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def corpus_workspace(corpus: Path, owner: str, cache_dir: Path | None = None,
                     workspace: Path | None = None, preference_pairs: int = 0):
    """Settings of a workspace holding `corpus` and its dataset build: a new temporary one, or
    `workspace` (built there on first use, reused as it is afterwards)."""
    if not corpus.is_dir():
        raise SystemExit(f"Corpus {corpus} not found; pass --corpora or set TWIN_CORPORA.")
    workspace = workspace or Path(tempfile.mkdtemp(prefix="twin-train-bench-")) / "ws"
    if not (workspace / "datasets" / "LATEST").is_file():
        twin(workspace, "init", "--owner", owner)
        twin(workspace, "ingest", str(corpus))
        pairs = ["--max-pairs", str(preference_pairs)] if preference_pairs else ["--no-preferences"]
        twin(workspace, "dataset", "build", "--instructions", "extractive", *pairs)
    overrides = {"cache_dir": cache_dir} if cache_dir else {}
    return load_settings(workspace, **overrides)
