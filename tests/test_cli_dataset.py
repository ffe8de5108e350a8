"""`twin dataset` end to end on the demo exports, with the real default model for DPO pairs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_twin.cli.app import app
from conftest import MODEL_CACHE

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    archive = tmp_path_factory.mktemp("demo") / "x.zip"
    subprocess.run([sys.executable, str(REPO / "demo" / "make_x_archive.py"), str(archive)],
                   check=True, capture_output=True)
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "40", "COLUMNS": "200"}

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == expect, result.output
        return result

    run("init", "--owner", "Maya Lindqvist")
    run("ingest", str(archive), str(REPO / "demo" / "blog"))
    run.workspace = workspace
    return run


def test_dataset_commands_before_any_build_say_what_to_do(twin):
    assert "twin dataset build" in twin("dataset", "show", expect=2).output
    assert "No dataset builds yet" in twin("dataset", "list").output


@pytest.mark.models
def test_build_show_list_export_and_forget(twin, tmp_path):
    built = twin("dataset", "build", "--instructions", "extractive", "--max-pairs", "2")
    assert "SFT samples" in built.output and "Saved" in built.output
    card = json.loads(twin("dataset", "show", "--json").output)
    overlap = card["instructions"]["idea_overlap"]["all"]
    assert overlap["ideas"] > 50 and overlap["copied_runs"] == 0
    assert (f"0 of {overlap['ideas']} ideas with 4+ answer words in a row"
            in " ".join(built.output.split()))
    assert card["counts"]["sft"]["train"] > 50 and card["counts"]["sft"]["test"] > 0
    assert sum(card["counts"]["preference"].values()) == 2
    assert card["preferences"]["sources"] == ["base_model", "feedback"]
    assert card["tokens"]["tokenizer"] == "smollm2"
    assert set(card["counts"]["by_platform_kind"]) >= {"x/post", "x/thread", "blog/article"}
    pairs = [json.loads(line) for name in ("preference_train.jsonl", "preference_test.jsonl")
             for line in (twin.workspace / "datasets" / card["id"] / name).read_text().splitlines()]
    assert all(p["chosen"][0]["content"] != p["rejected"][0]["content"] for p in pairs)
    assert all(p["prompt"][0]["role"] == "system" for p in pairs)

    again = twin("dataset", "build", "--instructions", "extractive", "--no-preferences")
    assert "Saved" in again.output  # different content (no pairs): a new version
    listed = twin("dataset", "list").output
    assert card["id"] in listed and "(latest)" in listed

    shown = twin("dataset", "show", card["id"][:6], "--samples", "1").output
    assert "Split by time" in shown and "assistant:" in shown
    assert "is not a dataset build" in twin("dataset", "show", "nope", expect=2).output

    out = tmp_path / "export"
    twin("dataset", "export", card["id"], "--out", str(out))
    assert (out / "train.jsonl").exists() and (out / "hf").is_dir()
    assert "--force" in twin("dataset", "export", "--out", str(out), expect=2).output
    assert "unknown parquet" in twin("dataset", "export", "--out", str(tmp_path / "o"), "--format",
                                     "parquet", expect=2).output

    twin("forget", "1", "--yes")
    remaining = twin("dataset", "list").output
    assert card["id"] not in remaining
