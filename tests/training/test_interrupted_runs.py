"""A run whose training process is gone (killed, crashed, the server stopped) is marked
"interrupted" when the registry is read, and can be resumed; a live one stays "running"."""

from __future__ import annotations

import socket
import subprocess
import sys

from llm_twin.training.registry import (get_run, latest_unfinished_run, mark_interrupted,
                                        record_run, use_run)


def _record(session, run_id: str):
    return record_run(session, run_id=run_id, kind="sft", base_model="smollm2", dataset_id="d1",
                      adapter_path=f"/tmp/{run_id}", hyperparameters={})


def test_runs_of_dead_processes_become_interrupted(sessions):
    finished_process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                      capture_output=True, text=True, check=True)
    dead_pid = int(finished_process.stdout)
    with sessions() as session:
        _record(session, "sft-live")  # this test's own process: alive
        dead = _record(session, "sft-dead")
        dead.process = f"{socket.gethostname()}:{dead_pid}"
        elsewhere = _record(session, "sft-elsewhere")
        elsewhere.process = "another-host:1"
        session.commit()

        assert mark_interrupted(session) == ["sft-dead"]
        assert get_run(session, "sft-dead").status == "interrupted"
        assert get_run(session, "sft-live").status == "running"
        assert get_run(session, "sft-elsewhere").status == "running"  # cannot tell: left alone
        assert latest_unfinished_run(session, "sft") is not None


def test_an_interrupted_run_cannot_be_used(sessions):
    with sessions() as session:
        run = _record(session, "sft-x")
        run.status = "interrupted"
        session.commit()
        try:
            use_run(session, "sft-x")
        except ValueError as error:
            assert "interrupted" in str(error) and "--resume" in str(error)
        else:
            raise AssertionError("an interrupted run was put in use")
