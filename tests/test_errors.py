"""What the user sees of a failure: a TwinError is one line (the CLI exits with code 2, the server
answers 4xx, a job reports its message); any other exception is a bug and keeps its traceback
(the CLI exits with 1 and the exception, the server answers 500, the job log has the traceback)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from llm_twin.backends.base import BackendError
from llm_twin.cli import dataset_cmd
from llm_twin.cli.app import app
from llm_twin.cli.common import user_errors
from llm_twin.errors import (USER_ERRORS, DatasetError, ExportError, InputError, ModelError,
                             NotFoundError, StoreError, TrainingError, TwinError, WorkspaceError)
from llm_twin.ingest.base import ImportFormatError
from llm_twin.serving.app import create_app
from llm_twin.serving.jobs import JobRunner
from llm_twin.serving.twin import TwinService
from llm_twin.storage.vector_store import VectorStoreError
from llm_twin.training.registry import UnknownModel

TWIN_ERRORS = [InputError("bad option"), NotFoundError("no such run"), WorkspaceError("no index"),
               StoreError("busy"), ModelError("no weights"), DatasetError("no samples"),
               TrainingError("no GPU"), ExportError("exists"), ImportFormatError("x.zip", "corrupt"),
               VectorStoreError("locked"), BackendError("cannot load"), UnknownModel("sft-nope")]
BUGS = [ValueError("bug"), FileNotFoundError("bug"), KeyError("bug"), LookupError("bug"),
        RuntimeError("bug"), TypeError("bug")]


def test_only_the_twin_error_family_is_a_user_error():
    assert USER_ERRORS == (TwinError,)


@pytest.mark.parametrize("error", TWIN_ERRORS, ids=lambda e: type(e).__name__)
def test_a_twin_error_in_a_command_exits_with_code_2(error, monkeypatch):
    monkeypatch.delenv("TWIN_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as exited, user_errors():
        raise error
    assert exited.value.exit_code == 2


@pytest.mark.parametrize("error", BUGS, ids=lambda e: type(e).__name__)
def test_any_other_exception_in_a_command_is_not_swallowed(error, monkeypatch):
    monkeypatch.delenv("TWIN_DEBUG", raising=False)
    with pytest.raises(type(error)), user_errors():
        raise error


def test_twin_debug_shows_the_traceback_of_a_twin_error(monkeypatch):
    monkeypatch.setenv("TWIN_DEBUG", "1")
    with pytest.raises(InputError), user_errors():
        raise InputError("bad option")


def _export(tmp_path: Path, *options: str):
    return CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "dataset", "export",
                                    "--out", str(tmp_path / "out"), *options])


def test_the_cli_prints_a_twin_error_as_one_line(tmp_path):
    result = _export(tmp_path, "--format", "parquet")
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Error: --format: unknown parquet; use jsonl, hf."]


def test_the_cli_keeps_the_traceback_of_a_bug(tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ValueError("an index out of step")

    monkeypatch.setattr(dataset_cmd, "resolve_build", broken)
    result = _export(tmp_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError) and "an index out of step" in str(result.exception)
    assert "Error: an index out of step" not in result.output


@pytest.mark.parametrize(("error", "status"), [(InputError("The idea is empty."), 400),
                                               (ValueError("an index out of step"), 500)])
def test_the_server_answers_a_twin_error_with_4xx_and_a_bug_with_500(workspace, monkeypatch,
                                                                    error, status):
    def failing(_twin, _request):
        raise error

    monkeypatch.setattr(TwinService, "write_events", failing)
    with TestClient(create_app(workspace), raise_server_exceptions=False) as client:
        response = client.post("/api/write", json={"idea": "queues", "stream": False})
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"detail": "The idea is empty."}
    else:
        assert "an index out of step" not in response.text


def _finished(runner: JobRunner, work) -> dict:
    job = runner.submit("index", "test", work)
    deadline = time.monotonic() + 10
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    return job.as_dict()


def test_a_job_reports_a_twin_error_as_its_message_and_logs_a_bug(caplog):
    runner = JobRunner()

    def user_failure(_job):
        raise NotFoundError("No source #7; see `twin sources`.")

    def bug(_job):
        raise KeyError("chunk_id")

    with caplog.at_level(logging.ERROR, logger="llm_twin.serving.jobs"):
        failed = _finished(runner, user_failure)
        crashed = _finished(runner, bug)
    runner.shutdown()
    assert (failed["status"], failed["error"]) == ("failed", "No source #7; see `twin sources`.")
    assert (crashed["status"], crashed["error"]) == ("failed", "KeyError: 'chunk_id'")
    assert "Traceback" in caplog.text and "KeyError: 'chunk_id'" in caplog.text
    assert "No source #7" not in caplog.text
