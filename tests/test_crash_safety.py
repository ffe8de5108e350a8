"""Kill -9 during `twin ingest` (an archive, a folder of exports), `twin index` and `twin dataset
build`: the real CLI in a subprocess, SIGKILLed in the middle of its work (as soon as the workspace
shows work under way), then checked with benchmarks/crash_soak.py's checks (integrity_check ok, no
half-imported source, every chunk row with its vector, no half dataset build in place) and rerun to
the uninterrupted run's outcome. `twin export` (which loads and saves a 540 MB model) is covered
here by its riskiest moment, the `--force` swap killed between its two renames, at the unit level.
One kill per stage keeps this file within `make test`'s budget; the long, random version (with
training, export and `twin serve`) is `benchmarks/crash_soak.py`."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import needs_twin_cli

CLI = [  # the marks of the tests that run the real `twin`
    needs_twin_cli,
    pytest.mark.models,  # `twin index` and `dataset build` load the real models
]


def cli(test):
    for mark in CLI:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def env(soak):
    return soak.twin_env()


@pytest.fixture(scope="module")
def data(soak, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crash-data")
    return {"large": soak.x_archive(folder / "x-1500.zip", 1500),
            "small": soak.x_archive(folder / "x-40.zip", 40),
            "exports": soak.export_folder(folder / "exports", 100)}


def count(ws: Path, table: str) -> int:
    """Rows in a table as another process commits them (0 before the table exists)."""
    try:
        connection = sqlite3.connect(f"file:{ws / 'twin.db'}?mode=ro", uri=True, timeout=0.1)
        try:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def twin(soak, env, ws: Path, *args: str, **kill) -> int:
    code, output, _ = soak.run_twin(ws, list(args), env, **kill)
    assert code in ((0, -signal.SIGKILL) if kill else (0,)), output
    return code


def kill_and_rerun(soak, env, start: Path, ws: Path, args: list[str], when,
                   reference_ws: Path | None = None) -> None:
    """Kill `args` on a copy of `start` once `when(ws)` holds, check, rerun, check against an
    uninterrupted run on another copy (or the one already in `reference_ws`)."""
    if reference_ws is None:
        reference_ws = ws.with_name("reference")
        shutil.copytree(start, reference_ws)
        twin(soak, env, reference_ws, *args)
    reference = soak.read_workspace(reference_ws)
    assert reference.failures == [] and reference.orphan_vectors == 0
    shutil.copytree(start, ws)
    code = twin(soak, env, ws, *args, kill_when=lambda: when(ws))
    assert code == -signal.SIGKILL, "the command ended before the workspace showed work under way"
    assert soak.check_after_kill(ws, reference.counts) == []
    twin(soak, env, ws, *args)
    assert soak.check_after_rerun(ws, reference.counts) == []


@pytest.fixture(scope="module")
def ingested(soak, env, data, tmp_path_factory) -> Path:
    """A workspace with the small archive imported."""
    ws = tmp_path_factory.mktemp("ingested") / "ws"
    twin(soak, env, ws, "ingest", str(data["small"]))
    return ws


@pytest.fixture(scope="module")
def indexed(soak, env, ingested, tmp_path_factory) -> Path:
    """The same, indexed by an uninterrupted `twin index`."""
    ws = tmp_path_factory.mktemp("indexed") / "ws"
    shutil.copytree(ingested, ws)
    twin(soak, env, ws, "index")
    return ws


@cli
def test_ingest_killed_mid_archive_reruns_to_the_same_counts(soak, env, data, tmp_path):
    empty = tmp_path / "start"
    empty.mkdir()
    kill_and_rerun(soak, env, empty, tmp_path / "ws", ["ingest", str(data["large"])],
                   lambda ws: count(ws, "documents") > 0)


@cli
def test_folder_ingest_killed_after_its_first_export_reruns_to_the_same_counts(soak, env, data,
                                                                              tmp_path):
    empty = tmp_path / "start"
    empty.mkdir()
    kill_and_rerun(soak, env, empty, tmp_path / "ws", ["ingest", str(data["exports"])],
                   lambda ws: count(ws, "sources") > 0)


@cli
def test_index_killed_mid_work_leaves_every_chunk_row_its_vector_and_reruns(soak, env, ingested,
                                                                            indexed, tmp_path):
    kill_and_rerun(soak, env, ingested, tmp_path / "ws", ["index"],
                   lambda ws: count(ws, "chunks") > 0, reference_ws=indexed)


@cli
def test_dataset_build_killed_while_writing_leaves_no_half_build(soak, env, ingested, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(ingested, ws)
    args = ["dataset", "build", "--instructions", "extractive", "--no-preferences",
            "--bare-prompts"]  # no generation, no retrieval: the write is what is killed here
    writing = lambda: any((ws / "datasets").glob(".*.partial"))  # noqa: E731
    assert twin(soak, env, ws, *args, kill_when=writing) == -signal.SIGKILL
    assert soak.dataset_failures(ws) == []
    assert soak.dataset_outcome(ws) == ([], None)  # the build was not renamed into place
    twin(soak, env, ws, *args)
    builds, latest = soak.dataset_outcome(ws)
    assert soak.dataset_failures(ws) == [] and builds == [latest]
    assert soak.read_workspace(ws).failures == []


class KilledHere(BaseException):
    """Stands for SIGKILL: nothing after the raise runs (export_model has no handler past the
    write of the partial folder)."""


def adapter_run(tmp_path: Path, name: str) -> SimpleNamespace:
    """A finished run whose adapter folder holds one marked file: `export --format adapter` of it
    copies the folder and writes the manifest, with no model to load."""
    adapter = tmp_path / "models" / name / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"run": name}))
    return SimpleNamespace(id=name, kind="sft", status="finished", adapter_path=str(adapter),
                           hyperparameters={}, base_model="base", gguf_file=None, lineage=None)


def exported_run(out: Path) -> str:
    return json.loads((out / "export.json").read_text())["run"]


def test_export_killed_between_the_two_renames_of_a_forced_swap_loses_neither(tmp_path,
                                                                              monkeypatch):
    """`--force` moves the old export to `<out>.old`, then renames `<out>.partial` in. Killed
    between the two, neither was in place and the rerun deleted both (the partial as stale, the
    old as leftover); now the old one is put back before anything else happens."""
    from llm_twin.training.export import ExportError, export_model

    out = tmp_path / "exports" / "twin"
    first, second = adapter_run(tmp_path, "run-first"), adapter_run(tmp_path, "run-second")
    export_model(first, None, out, formats=["adapter"])
    rename = Path.rename

    def killed_on_the_second_rename(self: Path, target):
        if self.name.endswith(".partial"):
            raise KilledHere
        return rename(self, target)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "rename", killed_on_the_second_rename)
        with pytest.raises(KilledHere):
            export_model(second, None, out, formats=["adapter"], force=True)
    assert not out.exists() and out.with_name("twin.old").is_dir()  # the moment of the kill

    with pytest.raises(ExportError, match="already exists"):  # a rerun without --force
        export_model(second, None, out, formats=["adapter"])
    assert exported_run(out) == "run-first"  # the old export is back, whole
    assert (out / "adapters" / "1-run-first" / "adapter_config.json").exists()

    export_model(second, None, out, formats=["adapter"], force=True)  # the rerun with --force
    assert exported_run(out) == "run-second"
    assert sorted(p.name for p in out.parent.iterdir()) == ["twin"]


@cli
def test_the_checks_see_a_half_imported_source_and_a_chunk_row_without_vector(soak, indexed,
                                                                           tmp_path):
    """The harness's checks can fail: a source missing documents and a vector-less chunk row."""
    ws = tmp_path / "ws"
    shutil.copytree(indexed, ws)
    reference = soak.read_workspace(indexed).counts
    with sqlite3.connect(ws / "twin.db") as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("DELETE FROM documents WHERE id = (SELECT max(id) FROM documents)")
        connection.execute("INSERT INTO chunks (id, document_id, position, text, document_hash, "
                           "embedding_model, indexed_at) SELECT 'no-vector', document_id, 99, text, "
                           "document_hash, embedding_model, indexed_at FROM chunks LIMIT 1")
    failures = soak.check_after_kill(ws, reference)
    assert any("half-imported" in f for f in failures)
    assert any("1 chunk rows without a vector" in f for f in failures)


def test_the_checks_see_a_half_build_and_a_half_export_in_place(soak, tmp_path):
    build = tmp_path / "datasets" / "0123456789ab"
    build.mkdir(parents=True)
    (build / "card.json").write_text("{}")
    (tmp_path / "datasets" / "LATEST").write_text("fedcba987654\n")
    failures = soak.dataset_failures(tmp_path)
    assert any("half dataset build 0123456789ab" in f for f in failures)
    assert any("LATEST names 'fedcba987654'" in f for f in failures)
    export = tmp_path / "exports" / "base"
    (export / "merged").mkdir(parents=True)
    (export / "merged" / "model.safetensors").write_bytes(b"12")
    assert soak.export_failures(tmp_path) == ["half-written export base in place (no export.json)"]
    (export / "export.json").write_text('{"files": {"merged": 3}}')
    assert soak.export_failures(tmp_path) == ["export base/merged: 2 bytes, manifest says 3"]
