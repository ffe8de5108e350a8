"""`twin blind-test` and `twin models` through the real CLI (typer's runner, scripted answers), on
a workspace of dated X posts, indexed, with the real SmolLM2."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from conftest import make_doc
from llm_twin.app.indexing import index_into
from llm_twin.cli.app import app

pytestmark = pytest.mark.models

POSTS = ["Postgres job queues with SKIP LOCKED kept our worker loop tiny and boring.",
         "We said no to Kafka because nobody on the team had run it at night.",
         "Code review is a conversation, not a gate; small pull requests keep it that way.",
         "Feature flags let us ship on Fridays without the dread, most of the time."]


@pytest.fixture
def cli_workspace(workspace, store, ingest, monkeypatch):
    ingest(*[make_doc(text, platform="x", created_at=datetime(2023, 2 + i, 1, tzinfo=UTC),
                      url=f"https://x.com/dana/status/{i}") for i, text in enumerate(POSTS)])
    index_into(workspace, store)
    store.close()
    monkeypatch.setenv("TWIN_WORKSPACE", str(workspace.settings.workspace))
    monkeypatch.setenv("TWIN_MAX_NEW_TOKENS", "12")
    monkeypatch.setenv("TWIN_QUERY_EXPANSIONS", "0")
    return workspace


def test_two_rounds_scripted_then_models_shows_the_score(cli_workspace):
    runner = CliRunner()
    result = runner.invoke(app, ["blind-test", "--rounds", "2", "--platform", "x", "--seed", "3"],
                           input="z\na\nb\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Which one did you write?") == 3  # 'z' was asked again
    assert "Answer a, b or q." in result.output
    assert "Round 2/2" in result.output and "95 % interval" in result.output
    assert "fooled you in" in result.output and "of 2 rounds" in result.output

    stopped = runner.invoke(app, ["blind-test", "--rounds", "3", "--json"], input="q\n")
    assert stopped.exit_code == 0, stopped.output
    # CliRunner echoes the scripted answer to stdout; a terminal shows it on stderr with the prompt
    payload = json.loads(stopped.stdout[stopped.stdout.index("{"):])
    assert payload["rounds"] == [] and payload["score"]["rounds"] == 2  # earlier rounds kept

    models = runner.invoke(app, ["models"])
    assert models.exit_code == 0, models.output
    assert "Base model, blind test:" in models.output and "of 2 (" in models.output


def test_unknown_platform_is_named(cli_workspace):
    result = CliRunner().invoke(app, ["blind-test", "--platform", "myspace"])
    assert result.exit_code != 0 and "platform" in result.output and "myspace" in result.output


def test_write_show_past_lists_past_posts_before_the_draft(cli_workspace):
    result = CliRunner().invoke(app, ["write", "Postgres job queues and Kafka at night", "-p", "x",
                                      "--show-past", "--json"])
    assert result.exit_code == 0, result.output
    past = result.stderr
    assert "What you already said" in past and "x · " in past
    assert "https://x.com/dana/status/" in past
    assert json.loads(result.stdout)["drafts"]  # stdout stays JSON
