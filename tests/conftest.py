"""Shared fixtures: real components in tmp_path, the real bundled embedding model loaded once."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.app.workspace import Workspace
from llm_twin.config import TwinSettings, ensure_workspace, load_settings
from llm_twin.features.embeddings import SentenceTransformerEmbedder
from llm_twin.ingest.base import ImportedDocument, ImporterBase, ImportResult
from llm_twin.ingest.pipeline import IngestReport, ingest_path
from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory


@pytest.fixture(autouse=True)
def _isolated_twin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TWIN_<setting> variable from the developer's shell leaks into a test (test-only
    variables such as TWIN_TEST_POSTGRES_URL are left alone)."""
    for name in ["workspace", *TwinSettings.model_fields]:
        monkeypatch.delenv(f"TWIN_{name.upper()}", raising=False)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    model = SentenceTransformerEmbedder()
    assert model.dimension == 384  # forces the load here, not inside the first timed test
    return model


@pytest.fixture
def settings(tmp_path: Path) -> TwinSettings:
    return load_settings(tmp_path / "ws")


@pytest.fixture
def sessions(settings: TwinSettings) -> Iterator[sessionmaker[Session]]:
    """A real SQLite warehouse in the workspace (foreign keys on, WAL); no model is loaded."""
    ensure_workspace(settings)
    engine = create_warehouse_engine(settings.resolved_database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def workspace(settings: TwinSettings, embedder: SentenceTransformerEmbedder,
              sessions: sessionmaker[Session]) -> Workspace:
    """The CLI's Workspace over the same warehouse, sharing the session-wide embedding model."""
    ws = Workspace(settings)
    ws.__dict__["embedder"] = embedder  # cached_property slots: no second model load
    ws.__dict__["sessions"] = sessions
    return ws


@pytest.fixture
def store(workspace: Workspace) -> Iterator[QdrantEdgeStore]:
    """The real Qdrant Edge shard of the workspace, closed (and unlocked) after the test."""
    with workspace.vector_store() as opened:
        yield opened


def make_doc(text: str, *, platform: str = "blog", kind: str = "post", author: str = "Dana",
             is_owner: bool = True, title: str | None = None, created_at: datetime | None = None,
             url: str | None = None, metadata: dict[str, Any] | None = None) -> ImportedDocument:
    return ImportedDocument(platform=platform, kind=kind, author=author, is_owner=is_owner,
                            raw_text=text, title=title, created_at=created_at, url=url,
                            metadata=dict(metadata or {}))


def make_result(*docs: ImportedDocument | str, format_name: str = "static",
                owner: str | None = "Dana", skipped: dict[str, int] | None = None) -> ImportResult:
    """An ImportResult of ImportedDocuments; plain strings become owner posts on 'blog'."""
    documents = [make_doc(d) if isinstance(d, str) else d for d in docs]
    return ImportResult(format_name, documents, owner=owner, skipped=dict(skipped or {}))


class StaticImporter(ImporterBase):
    """An importer whose 'export' was already parsed: it hands back a prepared ImportResult."""

    def __init__(self, result: ImportResult):
        self.result = result
        self.format_name = result.format_name
        self.reads = 0

    def detect(self, path: Path) -> bool:
        return True

    def read(self, path: Path) -> ImportResult:
        self.reads += 1
        return self.result


_export_numbers = itertools.count()


def store_result(result: ImportResult, sessions: sessionmaker[Session], folder: Path) -> IngestReport:
    """Run a prepared ImportResult through the real ingest pipeline (one fresh export file each)."""
    folder.mkdir(parents=True, exist_ok=True)
    number = next(_export_numbers)
    export = folder / f"export-{number}.json"
    export.write_text(f"export {number}", encoding="utf-8")  # a distinct fingerprint per export
    return ingest_path(export, StaticImporter(result), sessions)


@pytest.fixture
def ingest(sessions: sessionmaker[Session], tmp_path: Path):
    """ingest(*docs) stores the documents as one export and returns the IngestReport."""

    def _ingest(*docs: ImportedDocument | str, **result_args: Any) -> IngestReport:
        return store_result(make_result(*docs, **result_args), sessions, tmp_path / "exports")

    return _ingest


# Shared by every test run on this machine, so the ~30 s dequantisation happens once.
MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"


@pytest.fixture(scope="session")
def generation_backend():
    """The real default generation model (SmolLM2-135M), loaded once per test session."""
    from llm_twin.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend("smollm2", cache_dir=MODEL_CACHE)
    backend.load()
    return backend


BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def load_benchmark(name: str):
    """A script from benchmarks/ imported as a module (they are scripts, not a package)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


# -- the real `twin` CLI in a subprocess (crash, full-disk and Ctrl-C tests) -------------------

TWIN_CLI = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "twin"
needs_twin_cli = pytest.mark.skipif(not TWIN_CLI.exists(),
                                    reason=f"the twin CLI is not installed at {TWIN_CLI}")
# The cheapest real dataset build: extractive instructions, no preference pairs, bare prompts.
CLI_DATASET_ARGS = ["dataset", "build", "--instructions", "extractive", "--no-preferences",
                    "--bare-prompts"]


@pytest.fixture(scope="session")
def soak():
    """benchmarks/crash_soak.py: running `twin`, killing it, checking the workspace after."""
    return load_benchmark("crash_soak")


@pytest.fixture(scope="session")
def x_archive_2000(soak, tmp_path_factory) -> Path:
    """A generated X archive of 2,000 tweets, written once for every test that ingests one."""
    return soak.x_archive(tmp_path_factory.mktemp("x-archive-2000") / "x-2000.zip", 2000)

