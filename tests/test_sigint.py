"""Ctrl-C (SIGINT) during long commands: one line "Interrupted: ... (rerun the same command to
continue)", exit code 130, no traceback, and the same guarantees as a kill (benchmarks/
crash_soak.py's checks); the rerun finishes with the uninterrupted run's result. A training run
stopped by Ctrl-C is recorded `interrupted` (resumable with `--resume`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CLI_DATASET_ARGS, TWIN_CLI, needs_twin_cli

pytestmark = needs_twin_cli


@pytest.fixture(scope="module")
def ingested(soak, x_archive_2000, tmp_path_factory) -> Path:
    """A workspace with the archive ingested, uninterrupted: the reference of the ingest case and
    the start of the dataset case (copied)."""
    ws = tmp_path_factory.mktemp("sigint-ingested") / "ws"
    code, output, _ = soak.run_twin(ws, ["ingest", str(x_archive_2000)], soak.twin_env())
    assert code == 0, output
    return ws


def has_open(process: subprocess.Popen, path: Path) -> bool:
    """Whether the process holds `path` open: it has finished importing and begun its work."""
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{process.pid}/fd").iterdir())
    except OSError:  # the process ended, or an fd closed while we read
        return False


def interrupt(soak, ws: Path, args: list[str], started: Callable[[subprocess.Popen], bool],
              delay: float) -> tuple[int, str, float]:
    """Run `twin --workspace ws *args`; once `started(process)` holds, wait `delay` s and send
    SIGINT to the process group, as a terminal's Ctrl-C does. Returns the exit code, the output
    and the seconds from `started` to the exit."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([str(TWIN_CLI), "--workspace", str(ws), *args], env=soak.twin_env(),
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while not started(process) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        began = time.monotonic()
        if delay >= 0:
            time.sleep(delay)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=300)
        output.seek(0)
        return process.returncode, output.read().decode("utf-8", "replace"), time.monotonic() - began


def assert_interrupted(code: int, output: str, command: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 130, output
    assert "Traceback" not in output and "Aborted" not in output, output
    assert lines[-1] == (f"Interrupted: {command} stopped; what it finished is stored (rerun the "
                         "same command to continue)."), output


def importing_libraries(process: subprocess.Popen) -> bool:
    """Whether `twin` is loading its libraries: a compiled module from site-packages is mapped
    (the CLI's own imports, ~2 s, have begun; the console script's handler is in place)."""
    try:
        return "site-packages" in Path(f"/proc/{process.pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_while_twin_is_still_starting_is_one_line_and_exit_130(soak, tmp_path):
    """Ctrl-C during the CLI's imports showed a KeyboardInterrupt traceback."""
    ws = tmp_path / "ws"
    code, output, _ = interrupt(soak, ws, ["status"], importing_libraries, 0.0)
    if code == 0:
        pytest.skip("`twin status` finished before the signal landed")
    assert code == 130, output
    assert "Traceback" not in output, output
    assert output.strip().splitlines()[-1] == ("Interrupted: twin stopped while starting; nothing "
                                               "was changed."), output
    assert not (ws / "twin.db").exists()


def test_ctrl_c_during_ingest(soak, x_archive_2000, ingested, tmp_path):
    reference = soak.read_workspace(ingested).counts

    ws = tmp_path / "ws"
    # the database appears when the command starts its work; parsing and storing take ~1.5 s
    code, output, _ = interrupt(soak, ws, ["ingest", str(x_archive_2000)],
                                lambda _: (ws / "twin.db").exists(), 0.2)
    assert_interrupted(code, output, "twin ingest")
    assert soak.check_after_kill(ws, reference) == []
    code, output, _ = soak.run_twin(ws, ["ingest", str(x_archive_2000)], soak.twin_env())
    assert code == 0, output
    assert soak.check_after_rerun(ws, reference) == []


def dataset_files(ws: Path) -> dict[str, int]:
    """Each file of the stored builds and its size (the card's and README's only by name: they
    record the build's time); the build id is a hash of the JSONL files."""
    root = ws / "datasets"
    return {str(p.relative_to(root)): 0 if p.name in ("card.json", "README.md") else p.stat().st_size
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow  # ~45 s: three dataset builds (make test-all); the ingest case keeps Ctrl-C in make test
@pytest.mark.models  # loads the small default generation model's tokenizer
def test_ctrl_c_during_dataset_build(soak, ingested, tmp_path):
    start = ingested
    reference_ws = tmp_path / "reference"
    shutil.copytree(start, reference_ws)
    database = reference_ws / "twin.db"
    code, output, working = interrupt(soak, reference_ws, CLI_DATASET_ARGS,
                                      lambda process: has_open(process, database), delay=-1)
    assert code == 0, output
    reference = dataset_files(reference_ws)

    # Ctrl-C halfway through the build's own work (timed from the moment it opens the database, so
    # start-up time does not count); a build that finished first is retried with half the delay.
    for attempt in range(4):
        ws = tmp_path / f"ws{attempt}"
        shutil.copytree(start, ws)
        code, output, _ = interrupt(soak, ws, CLI_DATASET_ARGS,
                                    lambda process, db=ws / "twin.db": has_open(process, db),
                                    working * 0.5 ** (attempt + 1))
        if "Saved " not in output:
            break
    assert_interrupted(code, output, "twin dataset build")
    assert list((ws / "datasets").glob("*partial*")) == []  # nothing half-written is left
    assert soak.check_after_kill(ws, soak.read_workspace(reference_ws).counts) == []
    assert soak.run_twin(ws, CLI_DATASET_ARGS, soak.twin_env())[0] == 0
    assert dataset_files(ws) == reference


def test_a_training_run_stopped_by_ctrl_c_is_recorded_interrupted(sessions, tmp_path):
    """`execute` records what `fit` ended with: Ctrl-C is `interrupted` (and resumable), any other
    failure `failed`. (It recorded Ctrl-C as `failed`.)"""
    from llm_twin.training import registry
    from llm_twin.training.runs import TrainingPlan, execute

    def stopped_by(error: BaseException):
        def fit():
            raise error
        return fit

    for run_id, error, status in (("sft-ctrl-c", KeyboardInterrupt(), "interrupted"),
                                  ("sft-broken", RuntimeError("out of memory"), "failed")):
        with sessions() as session:
            registry.record_run(session, run_id=run_id, kind="sft", base_model="smollm2",
                                dataset_id="d", adapter_path=str(tmp_path / run_id / "adapter"),
                                hyperparameters={})
        plan = TrainingPlan(run_id=run_id, folder=tmp_path / run_id, build=None)  # type: ignore[arg-type]
        with pytest.raises(type(error)):
            execute(sessions, plan, stopped_by(error))
        with sessions() as session:
            assert registry.get_run(session, run_id).status == status
    with sessions() as session:  # `twin train sft --resume` picks the newest unfinished run
        assert registry.latest_unfinished_run(session, "sft").status in ("interrupted", "failed")
