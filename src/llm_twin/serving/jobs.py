"""Background jobs for `twin serve`: ingest, index, dataset builds and training run one at a time
in a worker thread (they compete for the same CPU and model), and report progress while they run.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import EllipsisType
from typing import Any

from llm_twin.errors import USER_ERRORS
from llm_twin.storage.models import utcnow

log = logging.getLogger(__name__)
JOB_KINDS = ("ingest", "index", "dataset", "train", "voice")
KEEP_FINISHED = 200  # finished jobs remembered for GET /api/jobs


@dataclass
class Job:
    kind: str
    description: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "queued"  # queued | running | succeeded | failed
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


JobWork = Callable[[Job], "dict[str, Any] | None"]


class JobRunner:
    """A queue of jobs and one worker thread, started on the first submit."""

    def __init__(self, user_errors: tuple[type[BaseException], ...] = USER_ERRORS):
        self.user_errors = user_errors
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, JobWork] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, kind: str, description: str, work: JobWork) -> Job:
        if kind not in JOB_KINDS:
            raise ValueError(f"Unknown job kind {kind!r}.")
        job = Job(kind, description)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
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
        """Stop after the running job (queued ones are dropped)."""
        if self._worker is None:
            return
        self._queue.put(None)
        self._worker.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            job, work = item
            job.status, job.started_at = "running", utcnow()
            try:
                job.result = work(job) or {}
                job.status = "succeeded"
            except self.user_errors as error:
                job.error, job.status = str(error), "failed"
            except Exception as error:  # a job must never kill the worker
                log.error("Job %s (%s) failed:\n%s", job.id, job.kind, traceback.format_exc())
                job.error, job.status = f"{type(error).__name__}: {error}", "failed"
            finally:
                job.finished_at = utcnow()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in ("succeeded", "failed")]
        for job_id in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
