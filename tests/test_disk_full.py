"""A full disk during `twin ingest`, `twin index`, `twin dataset build` and `twin export`.

The workspace lives on a small tmpfs mounted under tmp_path (root with CAP_SYS_ADMIN; skipped
otherwise), filled with a filler file up to a little room, so each command runs out of space in
the middle of its work. Each must fail with one line naming what it could not write (exit code 2,
no traceback) and leave a consistent workspace (benchmarks/crash_soak.py's checks after a kill);
once the filler is removed, the same command reruns to the uninterrupted run's result.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import CLI_DATASET_ARGS, TWIN_CLI, needs_twin_cli

from llm_twin.errors import DiskFullError, disk_full
from llm_twin.storage.disk_space import STORE_MARGIN, allocated_bytes, content_bytes

pytestmark = needs_twin_cli




@pytest.fixture(scope="module")
def ingested(soak, x_archive_2000, tmp_path_factory) -> Path:
    """A workspace with the archive ingested, uninterrupted (copied by the tests that start from it)."""
    ws = tmp_path_factory.mktemp("disk-full-ingested") / "ws"
    code, output = twin(soak, ws, "ingest", str(x_archive_2000))
    assert code == 0, output
    return ws


@pytest.fixture
def tmpfs(tmp_path, request):
    """mount(size) -> an empty tmpfs of that size under tmp_path, unmounted after the test."""

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
        target = tmp_path / f"tmpfs-{size}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
        request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(target)], check=False))
        return target

    return mount


def fill(folder: Path, leave: int) -> Path:
    """A filler file taking all the free space on folder's file system but `leave` bytes."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(free - leave, 0))
    return filler


def twin(soak, ws: Path, *args: str) -> tuple[int, str]:
    code, output, _ = soak.run_twin(ws, list(args), soak.twin_env())
    return code, output


def assert_disk_full_reported(code: int, output: str, names: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2, output
    assert "Traceback" not in output and "╭" not in output, output
    assert lines[-1].startswith("Error: Disk full: could not write"), output
    assert names in lines[-1] and lines[-1].endswith("rerun the same command."), output


# -- the translation, without a disk to fill -------------------------------------------------

@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_oserrors_of_a_full_disk_become_disk_full_errors(code):
    error = OSError(code, os.strerror(code), "/ws/datasets/x/train.jsonl")
    full = disk_full(error)
    assert isinstance(full, DiskFullError)
    assert "/ws/datasets/x/train.jsonl" in str(full) and str(full).startswith("Disk full")
    assert disk_full(OSError(errno.EACCES, "Permission denied", "/ws/x")) is None
    assert disk_full(ValueError("no space left for the title")) is None


def test_sqlite_and_sqlalchemy_full_errors_become_disk_full_errors():
    from sqlalchemy.exc import OperationalError

    raw = sqlite3.OperationalError("database or disk is full")
    wrapped = OperationalError("COMMIT", {}, raw)
    for error in (raw, wrapped):
        full = disk_full(error, database="the workspace database in /ws")
        assert full is not None and "the workspace database in /ws" in str(full)
    chained = RuntimeError("storing failed")
    chained.__cause__ = wrapped
    assert disk_full(chained) is not None
    assert disk_full(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table"))) is None


def test_a_failed_copytree_names_the_file_it_could_not_write():
    error = shutil.Error([("/src/a", "/out/adapters/a", "[Errno 28] No space left on device")])
    full = disk_full(error)
    assert full is not None and "/out/adapters/a" in str(full)


def test_the_room_for_a_rewrite_counts_data_pages_not_allocated_zeros(tmp_path):
    """Pages of zeros (as the engine's preallocated files, mapped on tmpfs) are no data to copy:
    the check before `optimize` counted them and refused a rerun with 50 MiB free."""
    segment = tmp_path / "segments" / "s1"
    segment.mkdir(parents=True)
    (segment / "page_0.dat").write_bytes(bytes(4096 * 64) + b"x" * 5000)  # 64 zero pages, 2 data
    (segment / "tail.dat").write_bytes(b"\0" * 100 + b"y")  # a short last page with data
    assert allocated_bytes(tmp_path / "segments") >= 4096 * 66
    assert content_bytes(tmp_path / "segments") == 4096 * 3


# -- the real commands on a full tmpfs --------------------------------------------------------

def test_ingest_on_a_full_disk(soak, x_archive_2000, ingested, tmpfs):
    reference = soak.read_workspace(ingested).counts

    ws = tmpfs("8m") / "ws"
    assert twin(soak, ws, "status")[0] == 0  # the workspace and its database exist
    filler = fill(ws.parent, 600 * 1024)  # the 2,000 tweets need ~2 MB of WAL
    code, output = twin(soak, ws, "ingest", str(x_archive_2000))
    assert_disk_full_reported(code, output, f"the workspace database in {ws}")
    filler.unlink()
    assert soak.check_after_kill(ws, reference) == []
    assert soak.read_workspace(ws).counts.documents == 0  # the export's one transaction rolled back
    assert twin(soak, ws, "ingest", str(x_archive_2000))[0] == 0
    assert soak.check_after_rerun(ws, reference) == []


def dataset_files(ws: Path) -> dict[str, int]:
    """Each file of the stored builds and its size (the card's and README's only by name: they
    record the build's time); the build id is a hash of the JSONL files."""
    root = ws / "datasets"
    return {str(p.relative_to(root)): 0 if p.name in ("card.json", "README.md") else p.stat().st_size
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.models  # loads the small default generation model's tokenizer
def alongside(soak, ws: Path, *args: str) -> subprocess.Popen:
    """`twin --workspace ws *args` started in the background (its output in `.output`)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `finished`)
    process = subprocess.Popen([str(TWIN_CLI), "--workspace", str(ws), *args], env=soak.twin_env(),
                               stdout=output, stderr=subprocess.STDOUT)
    process.output = output  # type: ignore[attr-defined]
    return process


def finished(process: subprocess.Popen) -> None:
    code = process.wait(timeout=600)
    process.output.seek(0)  # type: ignore[attr-defined]
    text = process.output.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    process.output.close()  # type: ignore[attr-defined]
    assert code == 0, text


@pytest.mark.slow  # ~30 s (make test-all); ingest and export on a full disk stay in make test
def test_dataset_build_on_a_full_disk(soak, ingested, tmpfs, tmp_path):
    start = ingested
    reference_ws = tmp_path / "reference"
    shutil.copytree(start, reference_ws)
    reference_run = alongside(soak, reference_ws, *CLI_DATASET_ARGS)  # the uninterrupted build
    try:
        ws = tmpfs("16m") / "ws"
        shutil.copytree(start, ws)
        filler = fill(ws.parent, 1500 * 1024)
        code, output = twin(soak, ws, *CLI_DATASET_ARGS)
        assert_disk_full_reported(code, output, f"the dataset build in {ws / 'datasets'}")
        assert dataset_files(ws) == {}  # no half-written build folder, no LATEST
        assert [p.name for p in (ws / "datasets").iterdir()] == []
        filler.unlink()
    finally:
        finished(reference_run)
    reference = dataset_files(reference_ws)
    assert sum(reference.values()) > 2_000_000  # more than the room left above
    assert soak.check_after_kill(ws, soak.read_workspace(reference_ws).counts) == []
    assert twin(soak, ws, *CLI_DATASET_ARGS)[0] == 0
    assert dataset_files(ws) == reference


@pytest.mark.slow  # ~35 s (make test-all)
@pytest.mark.models  # `twin index` loads the real embedding model
def test_index_on_a_full_disk(soak, tmpfs, tmp_path):
    """The rerun exited 2: the check before `optimize` wanted room for a copy of the segments'
    allocated bytes, which on tmpfs count every zero page the engine mapped (44 MiB for these
    40 points, 0.3 MiB of data); it now counts the pages holding data. The tmpfs is 128 MiB:
    opening a store on tmpfs allocates its mapped preallocated pages (13 MiB created, 44-75 MiB
    once loaded, measured), which a 64 MiB tmpfs barely holds."""
    small = soak.x_archive(tmp_path / "x-40.zip", 40)
    start = tmp_path / "start"
    assert twin(soak, start, "ingest", str(small))[0] == 0
    # Qdrant Edge writes through memory maps: on a full disk it died of SIGBUS (exit code 135).
    # The store now checks its room first: enough to open the shard, too little for the batch.
    reference_ws = tmp_path / "reference"
    shutil.copytree(start, reference_ws)
    reference_run = alongside(soak, reference_ws, "index")  # the uninterrupted run
    try:
        ws = tmpfs("128m") / "ws"
        shutil.copytree(start, ws)
        filler = fill(ws.parent, STORE_MARGIN + 256 * 1024)
        code, output = twin(soak, ws, "index")
        assert_disk_full_reported(code, output, f"the vector store at {ws / 'vectors'}")
        assert (ws / "vectors" / "segments").exists()  # it failed writing, after opening
        filler.unlink()
    finally:
        finished(reference_run)
    reference = soak.read_workspace(reference_ws).counts
    assert soak.check_after_kill(ws, reference) == []
    code, output = twin(soak, ws, "index")
    assert code == 0, output
    assert soak.check_after_rerun(ws, reference) == []


def test_export_of_an_adapter_on_a_full_disk(soak, tmpfs, tmp_path):
    """`twin export RUN --format adapter` copies the trained adapter: no model is loaded."""
    from llm_twin.config import ensure_workspace, load_settings
    from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
    from llm_twin.training import registry

    ws = tmpfs("8m") / "ws"
    adapter = tmp_path / "sft-disk-full" / "adapter"  # as training leaves it: <run id>/adapter
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}', encoding="utf-8")
    (adapter / "adapter_model.safetensors").write_bytes(os.urandom(3 * 1024 * 1024))
    settings = load_settings(ws)
    ensure_workspace(settings)
    engine = create_warehouse_engine(settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            registry.record_run(session, run_id="sft-disk-full", kind="sft",
                                base_model="smollm2", dataset_id="d", adapter_path=str(adapter),
                                hyperparameters={})
            registry.finish_run(session, "sft-disk-full", status="finished")
    finally:
        engine.dispose()
    out = ws.parent / "exports" / "sft"
    args = ["export", "sft-disk-full", "--format", "adapter", "--out", str(out)]
    filler = fill(ws.parent, 1024 * 1024)
    code, output = twin(soak, ws, *args)
    assert_disk_full_reported(code, output, str(out.with_name("sft.partial") / "adapters"))
    assert sorted(p.name for p in out.parent.iterdir()) == []  # no half export, no .partial
    filler.unlink()
    code, output = twin(soak, ws, *args)
    assert code == 0, output
    copied = out / "adapters" / "1-sft-disk-full" / "adapter_model.safetensors"
    assert sorted(p.name for p in copied.parent.iterdir()) == ["adapter_config.json",
                                                               "adapter_model.safetensors"]
    assert copied.read_bytes() == (adapter / "adapter_model.safetensors").read_bytes()


def test_a_server_job_reports_a_full_disk_with_the_clis_line(tmp_path):
    """`twin serve` jobs (index, dataset build, ...) reported a full disk as the exception's repr
    ("OperationalError: ..."); the job's error is now the CLI's one line."""
    import time

    from sqlalchemy.exc import OperationalError

    from llm_twin.serving.jobs import JobRunner

    runner = JobRunner(journal=tmp_path / "jobs.json")

    def full(_job):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

    job = runner.submit("index", "test", full)
    deadline = time.monotonic() + 10
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.status == "failed"
    assert job.error == (f"Disk full: could not write to the workspace database in {tmp_path} "
                         "(database or disk is full); free some space and rerun the same command.")
    runner.shutdown()
