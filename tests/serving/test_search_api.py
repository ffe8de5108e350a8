"""`GET /api/search` (what the web app's search box calls) reads filters out of the request like
`twin search` does: the same self-query, through app.search."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import make_doc
from live_server import running_server
from typer.testing import CliRunner

from llm_twin.app.indexing import index_into
from llm_twin.backends.base import Generation
from llm_twin.cli.app import app as cli
from llm_twin.config import load_settings
from llm_twin.serving.app import create_app
from llm_twin.serving.twin import ServeConfig

LINKEDIN = ["We moved our job queue into Postgres and Redis went away.",
            "Postgres as a queue: SKIP LOCKED is all the locking you need.",
            "A queue in Postgres kept our small team's stack boring."]
X = ["Postgres job queue, day 30: still boring, still fast.",
     "Hot take: your queue can live in Postgres.",
     "Our Postgres queue survived Black Friday."]
REQUEST = "my linkedin posts about postgres queues"


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(tmp_path / "ws", owner_name="Dana")


@pytest.fixture
def indexed(workspace, ingest):
    ingest(*[make_doc(text, platform="linkedin") for text in LINKEDIN],
           *[make_doc(text, platform="x") for text in X])
    with workspace.vector_store() as store:
        index_into(workspace, store)
    return workspace


def test_api_search_narrows_by_a_platform_named_in_the_query_like_twin_search(indexed):
    by_cli = CliRunner().invoke(cli, ["--workspace", str(indexed.settings.workspace), "search",
                                      REQUEST, "-k", "3", "--json"])
    assert by_cli.exit_code == 0, by_cli.output
    cli_result = json.loads(by_cli.output)

    with running_server(create_app(indexed, ServeConfig())) as url:
        found = httpx.get(f"{url}/api/search", params={"q": REQUEST, "k": 3}, timeout=120).json()
        literal = httpx.get(f"{url}/api/search", params={"q": REQUEST, "k": 6, "literal": True},
                            timeout=120).json()

    assert {hit["platform"] for hit in found["hits"]} == {"linkedin"}
    assert {hit["text"] for hit in found["hits"]} == {hit["text"] for hit in cli_result["hits"]}
    assert found["filters"] == cli_result["filters"] == {"platform": "linkedin", "kind": "post",
                                                         "is_owner": "True"}
    assert found["topic"] == cli_result["topic"] == "postgres queues"
    assert {hit["platform"] for hit in literal["hits"]} == {"linkedin", "x"}


class JsonAnswer:
    """Answers the self-query prompt with a fixed JSON object; counts the calls."""

    model_id = "json-answer"
    name = "json-answer"
    context_window = 2048

    def __init__(self, answer: dict):
        self.answer = json.dumps(answer)
        self.calls = 0

    def load(self) -> None:
        pass

    def generate(self, conversations, params):
        self.calls += 1
        return [Generation(self.answer, 10, 10, True) for _ in conversations]


@pytest.mark.parametrize("llm_query_tools", [True, False])
def test_api_search_asks_the_model_to_read_the_query_only_with_llm_query_tools(
        indexed, llm_query_tools):
    indexed.settings.llm_query_tools = llm_query_tools
    model = JsonAnswer({"topic": "postgres queues", "platform": "x"})
    with running_server(create_app(indexed, ServeConfig(), base_backend=model)) as url:
        found = httpx.get(f"{url}/api/search", params={"q": "posts about postgres queues",
                                                       "k": 3}, timeout=120).json()

    assert model.calls == (1 if llm_query_tools else 0)
    expected = {"x"} if llm_query_tools else {"linkedin", "x"}
    assert {hit["platform"] for hit in found["hits"]} <= expected
    assert (found["filters"].get("platform") == "x") is llm_query_tools
