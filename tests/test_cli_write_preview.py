"""`twin write --preview`: each draft drawn as its platform shows it (cli/preview_render.py over
inference.preview). The renderer on known drafts (no model), then once through the real CLI with
the real 135M model and 10 new tokens, on an empty workspace (no import, no index: ~3 s once the
weights are in the page cache)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.cli.preview_render import render_preview
from llm_twin.inference.formatting import format_draft
from llm_twin.inference.preview import preview_draft, preview_text

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with other model tests


def rendered(preview, width: int = 110) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(render_preview(preview, title="x draft 1/1"))
    return console.export_text()


def test_a_thread_is_drawn_as_post_cards_with_their_counts_and_the_one_over_280_said():
    text = "1/3 Short opener.\n\n2/3 " + "a" * 290 + "\n\n3/3 The end."
    output = rendered(preview_text(text, "x"))
    assert [output.count(f"─ post {i}/3 ─") for i in (1, 2, 3)] == [1, 1, 1]  # card titles
    assert "17/280" in output and "294/280" in output and "12/280" in output
    assert "over the limit: post 2/3 has 294 characters, over 280" in output


def test_linkedin_shows_the_fold_and_an_article_its_title_and_subtitle():
    post = "Hook.\nSecond line.\nThird line.\nAfter the fold, the rest of it."
    output = rendered(preview_text(post, "linkedin"))
    assert output.index("Third line.") < output.index("…see more") < output.index("After the fold")
    assert f"{len(post)}/3,000 characters" in output
    article = preview_draft(format_draft("# Why queues\n\n*Boring wins*\n\nWe moved it.", "medium"))
    output = rendered(article)
    assert "Why queues  10/100" in output and "Boring wins  11/140" in output
    assert "We moved it." in output
    caption = rendered(preview_text("Light. #a1 #b2 #c3", "instagram"))
    assert "18/2,200 characters · 3/30 hashtags" in caption


def test_write_help_teaches_preview():
    result = CliRunner().invoke(app, ["write", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--preview" in result.output and "see more" in result.output


@pytest.mark.models
def test_twin_write_preview_through_the_cli(tmp_path):
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "10", "TWIN_SEED": "3",
           "COLUMNS": "160"}
    workspace = tmp_path / "ws"

    def run(*args: str):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("init", "--owner", "Dana")  # nothing imported: the draft draws on no notes
    output = run("write", "Why our job queue lives in Postgres", "--platform", "linkedin",
                 "--preview")
    assert "linkedin draft 1/1" in output
    counts = re.findall(r"([\d,]+)/3,000 characters", output)
    assert len(counts) == 1 and 0 < int(counts[0].replace(",", "")) <= 3000
