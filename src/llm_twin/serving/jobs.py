"""Background jobs for `twin serve`: ingest, index, dataset builds and training run one at a time
in a worker thread (they compete for the same CPU and model), and report progress while they run.

The jobs are journaled (a small JSON file in the workspace, rewritten whenever a job changes
status) so that a server restarted after a crash, a kill or a shutdown in the middle of a job shows
that job as `interrupted` with a message, never as `running` forever.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import EllipsisType
from typing import Any

from llm_twin.errors import USER_ERRORS, DiskFullError, disk_full
from llm_twin.storage.models import utcnow

log = logging.getLogger(__name__)
JOB_KINDS = ("ingest", "index", "dataset", "train", "voice")
KEEP_FINISHED = 200  # finished jobs remembered for GET /api/jobs
FINISHED = ("succeeded", "failed", "interrupted")
INTERRUPTED = ("The server stopped while this job was {status}; nothing of it is half-stored "
               "(each stage commits whole). Start it again.")


@dataclass
class Job:
    kind: str
    description: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "queued"  # queued | running | succeeded | failed | interrupted
    stage: str = ""
    done: int = 0
    total: int | None = None
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def progress(self, *, stage: str | None = None, done: int | None = None,
                 total: int | EllipsisType | None = ..., message: str | None = None) -> None:
        """Called from the job's own thread; readers see plain attribute updates."""
        if stage is not None and stage != self.stage:
            self.stage, self.done = stage, 0
        if done is not None:
            self.done = done
        if total is not ...:
            self.total = total
        if message is not None:
            self.message = message

    def report(self, stage: str, done: int, total: int | None) -> None:
        """A use case's progress (app.progress.Progress) recorded on the job."""
        self.progress(stage=stage, done=done, total=total)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "description": self.description,
                "status": self.status, "stage": self.stage, "done": self.done, "total": self.total,
                "message": self.message, "result": self.result, "error": self.error,
                "created_at": _iso(self.created_at), "started_at": _iso(self.started_at),
                "finished_at": _iso(self.finished_at)}


    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Job:
        job = cls(str(row["kind"]), str(row.get("description", "")), id=str(row["id"]))
        for name in ("status", "stage", "message"):
            setattr(job, name, str(row.get(name) or ""))
        job.done, job.total = int(row.get("done") or 0), row.get("total")
        job.result, job.error = row.get("result"), row.get("error")
        for name in ("created_at", "started_at", "finished_at"):
            if row.get(name):
                setattr(job, name, datetime.fromisoformat(row[name]))
        return job

    def interrupt(self) -> None:
        """A job the server stopped (or died) in the middle of: finished as `interrupted`."""
        self.error = INTERRUPTED.format(status=self.status)
        self.status, self.finished_at = "interrupted", utcnow()


JobWork = Callable[[Job], "dict[str, Any] | None"]


class JobRunner:
    """A queue of jobs and one worker thread, started on the first submit.

    `journal`: a JSON file holding the jobs (rewritten atomically on every status change); jobs it
    holds are listed again after a restart, the ones left queued or running as `interrupted`."""

    def __init__(self, user_errors: tuple[type[BaseException], ...] = USER_ERRORS, *,
                 journal: Path | None = None):
        self.user_errors = user_errors
        self.journal = journal
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, JobWork] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._current: Job | None = None
        self._load_journal()

    def submit(self, kind: str, description: str, work: JobWork) -> Job:
        if kind not in JOB_KINDS:
            raise ValueError(f"Unknown job kind {kind!r}.")
        job = Job(kind, description)
        with self._lock:
            ahead = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if ahead:
                job.message = f"waiting for {ahead} job(s) ahead of it"
            self._jobs[job.id] = job
            self._forget_old()
            self._save_locked()
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="twin-jobs", daemon=True)
                self._worker.start()
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def busy(self) -> bool:
        return any(job.status in ("queued", "running") for job in self.jobs())

    def shutdown(self, timeout: float = 5.0) -> None:
        """Wait up to `timeout` for the running job; it (if still running) and the queued ones are
        recorded as `interrupted`. Never blocks the server's exit longer than `timeout`."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout)
        with self._lock:
            for job in self._jobs.values():
                if job.status in ("queued", "running"):
                    job.interrupt()
            self._save_locked()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            job, work = item
            if job.status != "queued":  # interrupted by a shutdown while it waited
                continue
            job.status, job.started_at, job.message = "running", utcnow(), ""
            self._save()
            try:
                result = work(job) or {}
                with self._lock:
                    if job.status == "running":
                        job.result, job.status = result, "succeeded"
            except self.user_errors as error:
                self._fail(job, str(error))
            except Exception as error:  # a job must never kill the worker
                log.error("Job %s (%s) failed:\n%s", job.id, job.kind, traceback.format_exc())
                full = self._disk_full(error)  # the CLI's one line, not the exception's repr
                self._fail(job, str(full) if full else f"{type(error).__name__}: {error}")
            finally:
                if job.status != "interrupted":
                    job.finished_at = utcnow()
                self._save()

    def _disk_full(self, error: BaseException) -> DiskFullError | None:
        folder = self.journal.parent if self.journal else None
        return disk_full(error, database=f"the workspace database in {folder}" if folder
                         else "the workspace database",
                         writing=f"a file (workspace {folder})" if folder else "a file")

    def _fail(self, job: Job, error: str) -> None:
        with self._lock:
            if job.status == "running":
                job.error, job.status = error, "failed"

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in FINISHED]
        for job_id in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]

    # -- the journal -------------------------------------------------------------------------
    def _load_journal(self) -> None:
        if self.journal is None or not self.journal.exists():
            return
        try:
            rows = json.loads(self.journal.read_text(encoding="utf-8"))["jobs"]
            jobs = [Job.from_dict(row) for row in rows]
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("Ignoring the unreadable job journal %s: %s", self.journal, error)
            return
        for job in jobs:
            if job.status not in FINISHED:
                job.interrupt()
            self._jobs[job.id] = job
        with self._lock:
            self._forget_old()
            self._save_locked()

    def _save(self) -> None:
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        if self.journal is None:
            return
        rows = [job.as_dict() for job in self._jobs.values()]
        temporary = self.journal.with_name(self.journal.name + ".tmp")
        try:
            temporary.write_text(json.dumps({"jobs": rows}, default=str), encoding="utf-8")
            os.replace(temporary, self.journal)
        except OSError as error:  # a full disk must not fail the job itself
            log.warning("Could not write the job journal %s: %s", self.journal, error)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
