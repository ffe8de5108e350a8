"""Schema-driven fuzzing (schemathesis) of the served OpenAPI document, in-process over ASGI:
every /api and /v1 operation gets generated requests (valid and invalid), and each answer must
be no 5xx and match the response schema the document declares.

The app runs on its real components: a real SQLite workspace with a few indexed posts, the real
embedding model (searches) and the real SmolLM2 for the routes that generate.

Left out here, covered by `benchmarks/serve_soak.py` (its schemathesis phase runs every route
against a real `twin serve`):
- POST /api/ingest, /api/index, /api/datasets, /api/train, /api/voice: each example would start
  a background job (imports, embedding, training) that outlives the example;
- POST /api/write and /v1/chat/completions with generated bodies: a generated body may ask for
  thousands of tokens from the model; here they get a bounded, hand-limited set of examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from conftest import MODEL_CACHE, make_doc
from llm_twin.app.indexing import index_into
from llm_twin.config import load_settings
from llm_twin.serving.app import create_app
from llm_twin.serving.twin import ServeConfig

pytestmark = pytest.mark.models

JOB_ROUTES = r"^/api/(ingest|index|datasets|train|voice)$"
GENERATING = r"^/(api/write|v1/chat/completions)$"
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 5
GENERATING_EXAMPLES = 2  # each runs the real model (a few tokens)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(tmp_path / "ws", cache_dir=MODEL_CACHE, owner_name="Dana", device="cpu")


@pytest.fixture
def schema(workspace, ingest, generation_backend):
    ingest(make_doc("We moved our job queue into Postgres; SKIP LOCKED did the work."),
           make_doc("Small teams should spend their novelty budget on the product."))
    with workspace.vector_store() as store:
        index_into(workspace, store)
    app = create_app(workspace, ServeConfig(max_new_tokens=4, temperature=0.0),
                     base_backend=generation_backend)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.twin.close()


def fuzz(operation, examples: int) -> None:
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case) -> None:
        if isinstance(case.body, dict):  # bound what one generated request may ask of the model
            for key in ("max_new_tokens", "max_tokens", "max_completion_tokens"):
                if isinstance(case.body.get(key), int) and case.body[key] > 4:
                    case.body[key] = 4
            if isinstance(case.body.get("n"), int) and case.body["n"] > 2:
                case.body["n"] = 2
        case.call_and_validate(checks=CHECKS)

    run()


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    return {f"{op.method.upper()} {op.path}": op for op in found}


def test_api_routes_no_5xx_and_schema_conformant(schema):
    """One test (one workspace set-up) for all routes; a few examples each keep it near 30 s of
    its own time in `make test` (the soak's live phase runs more against a real `twin serve`)."""
    import re

    found = operations(schema)
    assert {"/api/status", "/api/search", "/api/write", "/v1/chat/completions",
            "/v1/models"} <= {key.split(" ", 1)[1] for key in found}
    tried = 0
    for key, operation in found.items():
        method, path = key.split(" ", 1)
        if not re.match(r"^/(api|v1)/", path) or (method == "POST" and re.match(JOB_ROUTES, path)):
            continue
        fuzz(operation, GENERATING_EXAMPLES if re.match(GENERATING, path) else EXAMPLES)
        tried += 1
    assert tried >= 12
