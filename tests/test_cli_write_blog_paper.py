"""`twin write --platform blog|paper` and their training samples through the real CLI: a blog
folder and a LaTeX paper imported by the real importers, the real 135M model, 10 new tokens."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from conftest import CLI_DATASET_ARGS
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.platforms import PAPER_FORMS, rules_for

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with other model tests
PAPER = Path(__file__).parent / "fixtures" / "arxiv-latex"
TOPICS = ["job queues in Postgres", "cron and its silent failures", "partial indexes",
          "on-call runbooks", "retries with jitter", "boring technology"]

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("ws")
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "10", "TWIN_SEED": "2",
           "TWIN_OWNER_NAME": "Dana", "COLUMNS": "200"}

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == expect, result.output
        return result

    run.workspace = workspace
    blog = tmp_path_factory.mktemp("blog")
    for day, topic in enumerate(TOPICS, start=1):
        (blog / f"2023-04-0{day}-post.md").write_text(
            f"---\ntitle: On {topic}\ndate: 2023-04-0{day}\nlayout: post\n"
            f"tags: [postgres, ops]\nsummary: Notes on {topic}.\n---\n\n"
            f"I have been thinking about {topic} for a while. We tried the clever thing first, "
            "and it broke at three in the morning.\n\nThe boring answer held up. It usually "
            "does, and I keep relearning that.\n", encoding="utf-8")
    run("init", "--owner", "Dana")
    run("ingest", str(blog))
    run("ingest", str(PAPER))
    run("index")
    return run


def test_write_blog_has_the_owners_front_matter(twin):
    result = json.loads(twin("write", "Why we moved our job queue into Postgres", "--platform",
                             "blog", "--json").output)
    assert result["platform"] == "blog"
    draft = result["drafts"][0]
    front = draft["front_matter"]
    # The keys of the imported files, in their order; the title only when the draft had words.
    keys = [k for k in ("title", "date", "layout", "tags", "summary") if k in front]
    assert list(front) == keys and {"date", "layout", "tags"} <= set(front)
    assert front["layout"] == "post"
    assert front["tags"] == ["postgres"]  # the owner's own tag that the idea names
    assert draft["text"].startswith("---\n") and "layout: post" in draft["text"]
    counts = draft["scaffolding"]
    assert set(counts) == {"cut", "flagged"} and all(isinstance(v, int) for v in counts.values())
    assert counts["cut"] + counts["flagged"] == sum(
        n.startswith(("cut scaffolding", "cut the hashtag", "check:", "removed the chat preamble"))
        for n in draft["notes"])
    assert any(s["platform"] == "blog" for s in result["sources"])  # examples from the blog


def test_write_paper_introduction(twin):
    result = json.loads(twin("write", "introduction: silent failures in job queues",
                             "--platform", "paper", "--json").output)
    draft = result["drafts"][0]
    assert (draft["form"], draft["section"]) == ("introduction", "Introduction")
    assert draft["text"].startswith("## Introduction\n\n") or draft["text"].startswith("# ")
    printed = twin("write", "silent failures in job queues", "--platform", "paper").output
    assert "Abstract" in printed


@pytest.mark.slow  # a dataset build on the serving prompt (make test-all)
def test_dataset_build_makes_blog_and_paper_samples_on_the_serving_prompt(twin):
    twin(*CLI_DATASET_ARGS)
    card = json.loads(twin("dataset", "show", "--json").output)
    assert {"blog/article", "paper/paper"} <= set(card["counts"]["by_platform_kind"])
    folder = twin.workspace / "datasets" / card["id"]
    rows = [json.loads(line) for name in ("train.jsonl", "test.jsonl")
            for line in (folder / name).read_text().splitlines()]
    blog = [r for r in rows if r["platform"] == "blog"]
    paper = [r for r in rows if r["platform"] == "paper"]
    assert blog and paper
    assert all(f"Write {rules_for('blog').style_hint}, about " in r["messages"][1]["content"]
               for r in blog)
    hints = {form.style_hint for form in PAPER_FORMS.values()}
    assert all(any(f"Write {hint}, about " in r["messages"][1]["content"] for hint in hints)
               for r in paper)
