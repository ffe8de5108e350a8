"""Kill -9 during `twin ingest` and `twin index`: the real CLI in a subprocess, SIGKILLed at fixed
fractions of an uninterrupted run's duration, then checked (benchmarks/crash_soak.py's checks:
integrity_check ok, no half-imported source, every chunk row with its vector) and rerun to the
uninterrupted run's counts. The long, random version is `benchmarks/crash_soak.py`."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from conftest import load_benchmark

TWIN = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "twin"

pytestmark = [
    pytest.mark.skipif(not TWIN.exists(), reason=f"the twin CLI is not installed at {TWIN}"),
    pytest.mark.models,  # `twin index` loads the real embedding model
]

FRACTIONS = (0.35, 0.7, 0.95)  # of the uninterrupted run's duration: start-up, mid-work, the end




@pytest.fixture(scope="module")
def soak():
    return load_benchmark("crash_soak")


@pytest.fixture(scope="module")
def data(soak, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crash-data")
    return {"large": soak.x_archive(folder / "x-2000.zip", 2000),
            "small": soak.x_archive(folder / "x-40.zip", 40),
            "exports": soak.export_folder(folder / "exports", 200)}


class Stage:
    """A stage's starting workspace and its uninterrupted reference run."""

    def __init__(self, soak, folder: Path, args: list[str], prepare=None):
        self.soak, self.args = soak, args
        self.env = soak.twin_env()
        self.start = folder / "start"
        self.start.mkdir(parents=True)
        if prepare:
            prepare(self)
        self.reference_ws = folder / "reference"
        shutil.copytree(self.start, self.reference_ws)
        code, output, self.seconds = soak.run_twin(self.reference_ws, args, self.env)
        assert code == 0, output
        snapshot = soak.read_workspace(self.reference_ws)
        assert snapshot.failures == [] and snapshot.orphan_vectors == 0
        self.reference = snapshot.counts

    def twin(self, ws: Path, *args: str) -> None:
        code, output, _ = self.soak.run_twin(ws, list(args), self.env)
        assert code == 0, output

    def kill_and_rerun(self, ws: Path, fraction: float) -> None:
        shutil.copytree(self.start, ws)
        code, _, _ = self.soak.run_twin(ws, self.args, self.env,
                                        kill_after=self.seconds * fraction)
        if code == -signal.SIGKILL:
            assert self.soak.check_after_kill(ws, self.reference) == []
        else:  # a faster run than the reference finished first: it must have succeeded
            assert code == 0
        self.twin(ws, *self.args)
        assert self.soak.check_after_rerun(ws, self.reference) == []


@pytest.fixture(scope="module")
def ingest_archive(soak, data, tmp_path_factory) -> Stage:
    return Stage(soak, tmp_path_factory.mktemp("ingest"), ["ingest", str(data["large"])])


@pytest.fixture(scope="module")
def ingest_folder(soak, data, tmp_path_factory) -> Stage:
    return Stage(soak, tmp_path_factory.mktemp("folder"), ["ingest", str(data["exports"])])


@pytest.fixture(scope="module")
def first_index(soak, data, tmp_path_factory) -> Stage:
    return Stage(soak, tmp_path_factory.mktemp("index"), ["index"],
                 lambda stage: stage.twin(stage.start, "ingest", str(data["small"])))


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_killed_ingest_of_a_large_archive_reruns_to_the_same_counts(ingest_archive, fraction,
                                                                    tmp_path):
    ingest_archive.kill_and_rerun(tmp_path / "ws", fraction)


@pytest.mark.parametrize("fraction", FRACTIONS[:2])
def test_killed_ingest_of_a_folder_of_exports_reruns_to_the_same_counts(ingest_folder, fraction,
                                                                        tmp_path):
    ingest_folder.kill_and_rerun(tmp_path / "ws", fraction)


@pytest.mark.parametrize("fraction", FRACTIONS[1:2])  # one kill: each run loads the model
def test_killed_index_leaves_every_chunk_row_its_vector_and_reruns(first_index, fraction, tmp_path):
    first_index.kill_and_rerun(tmp_path / "ws", fraction)


def test_the_checks_see_a_half_imported_source_and_a_chunk_row_without_vector(soak, first_index,
                                                                           tmp_path):
    """The harness's checks can fail: a source missing documents and a vector-less chunk row."""
    import sqlite3

    ws = tmp_path / "ws"
    shutil.copytree(first_index.reference_ws, ws)
    with sqlite3.connect(ws / "twin.db") as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("DELETE FROM documents WHERE id = (SELECT max(id) FROM documents)")
        connection.execute("INSERT INTO chunks (id, document_id, position, text, document_hash, "
                           "embedding_model, indexed_at) SELECT 'no-vector', document_id, 99, text, "
                           "document_hash, embedding_model, indexed_at FROM chunks LIMIT 1")
    failures = soak.check_after_kill(ws, first_index.reference)
    assert any("half-imported" in f for f in failures)
    assert any("1 chunk rows without a vector" in f for f in failures)
