"""The CLI of issue 19's items 5 and 6 on the demo workspace: `twin status`'s top posts, `twin
dataset build --weight-by-engagement / --era-tags`, `twin write --like-my-best / --as-of`, and the
voice card's drift by year."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CLI_DATASET_ARGS, MODEL_CACHE, make_doc
from llm_twin.cli.app import app

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    archive = tmp_path_factory.mktemp("demo") / "x.zip"
    subprocess.run([sys.executable, str(REPO / "demo" / "make_x_archive.py"), str(archive)],
                   check=True, capture_output=True)
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "8", "COLUMNS": "200"}

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == expect, result.output
        return result

    run("init", "--owner", "Maya Lindqvist")
    run("ingest", str(archive), str(REPO / "demo" / "blog"))
    run.workspace = workspace
    return run


def test_status_lists_the_top_posts_per_platform(twin):
    out = twin("status").output
    assert "Your top posts" in out
    table = out.split("Your top posts", 1)[1]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith("│")]
    assert [row[0] for row in rows] == ["x"] * 3  # the top 3 on X; the blog carries no counts
    scores = [int(row[2]) + 2 * int(row[3]) for row in rows]  # likes + 2 x reposts
    assert scores == sorted(scores, reverse=True) and all(row[1][:2] == "20" for row in rows)


def test_bad_as_of_names_the_option(twin):
    out = twin("write", "an idea", "--as-of", "2021-13-01", expect=2).output
    assert "--as-of '2021-13-01'" in out and "give a year" in out


def test_era_tags_need_served_prompts(twin):
    out = twin(*CLI_DATASET_ARGS, "--era-tags", expect=2).output
    assert "--era-tags" in out and "--bare-prompts" in out


@pytest.mark.models
def test_weight_by_engagement_repeats_samples_and_the_card_says_so(twin):
    built = twin(*CLI_DATASET_ARGS, "--weight-by-engagement")
    assert "Weighted by engagement (sample repetition)" in built.output
    card = json.loads(twin("dataset", "show", "--json").output)
    weighting = card["weighting"]
    assert weighting["method"] == "sample repetition" and weighting["added_samples"] > 0
    lines = (twin.workspace / "datasets" / card["id"] / "train.jsonl").read_text().splitlines()
    assert len(lines) == card["counts"]["sft"]["train"]
    assert len(set(lines)) + weighting["added_samples"] == len(lines)
    assert card["era_tags"] == {"enabled": False}


def test_the_voice_card_shows_drift_by_year(workspace, ingest):
    from datetime import datetime, timezone

    from llm_twin.app.voice import fit_voice_on_answers

    texts = [("The team shipped the new billing system. It took four months.", 2021),
             ("The migration finished on time. Nobody was paged.", 2021),
             ("omg I can't believe we shipped it!! 🎉🎉 #launch", 2024),
             ("I'm so proud of this team 🙌 #shipit", 2024)]
    ingest(*[make_doc(text * 3, platform="x", created_at=datetime(year, 5, 1, tzinfo=timezone.utc))
             for text, year in texts])
    _, card = fit_voice_on_answers(workspace, ["A generic post about productivity tips."] * 4,
                                   dataset_id=None)
    drift = {row["year"]: row for row in card["drift"]}
    assert set(drift) == {2021, 2024}
    assert drift[2021]["formality"] == 1.0 and drift[2024]["formality"] < 0.5
    assert drift[2024]["emoji_per_post"] > drift[2021]["emoji_per_post"] == 0
    result = CliRunner().invoke(app, ["--workspace", str(workspace.settings.workspace), "voice",
                                      "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "How your style drifted" in result.output and "2024" in result.output


@pytest.mark.slow
def test_write_like_my_best_as_of_on_the_demo(twin):
    twin("index")
    result = twin("write", "what I learned about shipping small", "-p", "x", "--like-my-best",
                  "--as-of", "2023", "--json", "--max-new-tokens", "8")
    payload = json.loads(result.stdout)
    assert payload["sources"]
    assert all(source["label"].split()[1] <= "2023-12-31" for source in payload["sources"])
    assert "not trained with era tags" in " ".join(payload["notices"])
