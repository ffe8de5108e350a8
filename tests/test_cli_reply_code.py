"""`twin reply` and `twin code` through the real CLI on a tiny workspace, real 135M model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from conftest import make_doc, store_result, make_result
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.config import load_settings
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"  # shared with other model tests

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
    return run


def store(workspace: Path, *docs) -> None:
    engine = create_warehouse_engine(load_settings(workspace).resolved_database_url)
    store_result(make_result(*docs), session_factory(engine), workspace / "exports")
    engine.dispose()


def test_reply_and_code_refuse_bad_input_and_advise_on_missing_data(twin):
    assert "empty" in twin("reply", "  ", expect=2).output
    assert "unknown chat platform 'myspace'" in twin("reply", "hi", "--platform", "myspace",
                                                     expect=2).output
    twin("init", "--owner", "Dana")
    assert "No chat messages of yours are imported" in twin("reply", "are you free?", expect=2).output
    assert "No code of yours is imported" in twin("code", "a retry helper", expect=2).output
    assert "empty" in twin("code", "", expect=2).output


def test_reply_and_code_end_to_end(twin, tmp_path):
    twin("init", "--owner", "Dana")
    chat = {"platform": "whatsapp", "kind": "message", "metadata": {"conversation": "c1"}}
    store(twin.workspace,
          make_doc("Are you coming to the meetup tonight?", author="Contact 1", is_owner=False, **chat),
          make_doc("Yes!! bringing the queue slides 🙂", **chat),
          make_doc("def retry(fn, attempts=3):\n    for i in range(attempts):\n        return fn()\n",
                   platform="code", kind="code", title="src/retry.py",
                   metadata={"path": "src/retry.py", "language": "python"}))
    twin("index")

    streamed = twin("reply", "Are you coming to the party?", "--timings").output
    assert "Drew on:" in streamed and "whatsapp" in streamed and "generation" in streamed

    context = tmp_path / "ctx.txt"
    context.write_text("Sam: hey\nme: hi Sam\nSam: pizza later?\n", encoding="utf-8")
    answer = json.loads(twin("reply", "Or tomorrow?", "--from", "Sam", "--context", str(context),
                             "--platform", "whatsapp", "--json").output)
    assert answer["message"] == "Or tomorrow?" and isinstance(answer["text"], str)
    assert answer["sources"] and answer["sources"][0]["platform"] == "whatsapp"
    assert set(answer["timings"]) == {"model_load", "retrieval", "prompt_building", "generation"}
    assert 0 < answer["completion_tokens"] <= 10

    context.write_text("no speaker here\n", encoding="utf-8")
    bad = twin("reply", "hi", "--context", str(context), expect=2).output
    assert "ctx.txt" in bad and "line 1" in bad

    code = json.loads(twin("code", "a retry helper", "--language", "python", "--json").output)
    assert code["text"].startswith("```python\n") and code["text"].endswith("```")
    assert [s["label"] for s in code["sources"]] == ["code undated · src/retry.py"]
    printed = twin("code", "a retry helper", "--path", "lib/x.py").output
    assert "Drew on:" in printed and "src/retry.py" in printed
