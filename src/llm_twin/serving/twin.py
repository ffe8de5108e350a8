"""The twin behind `twin serve`: one workspace, one model in memory, one vector store held open.

Locks, always taken in this order: `generation_lock` (the model: drafts, chat answers, dataset
builds that generate) then `store_lock` (the embedded vector store: searches and indexing).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from llm_twin.app.chat import PreparedChat, last_user_message, twin_chat
from llm_twin.app.workspace import Workspace
from llm_twin.app.write import WriteRequest, write_drafts
from llm_twin.backends.base import Backend, GenerationParams, Message
from llm_twin.inference.writer import WriteResult
from llm_twin.serving.jobs import JobRunner
from llm_twin.serving.memory import TrimmingLock
from llm_twin.serving.openai_api import ServedChat
from llm_twin.storage.history import ServedOutput, ServedRequest, log_generations, new_request_id
from llm_twin.storage.vector_store import VectorStore
from llm_twin.training.registry import BASE_MODEL_NAME

JOB_JOURNAL = "serve-jobs.json"  # the background jobs, kept across restarts (serving.jobs)


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None  # bearer token; required when host is not a loopback address
    cors_origins: list[str] = field(default_factory=list)  # empty: no CORS headers at all
    max_upload_mb: int = 256
    model_name: str = "twin"  # what /v1/models lists
    max_batch: int = 16  # concurrent chat requests generated as one batch (1: one at a time)
    max_new_tokens: int | None = None  # defaults for drafts and chat answers (settings otherwise)
    temperature: float | None = None


class TwinService:
    def __init__(self, workspace: Workspace, config: ServeConfig, *,
                 base_backend: Backend | None = None):
        """`base_backend`: the base model already loaded (tests share one); else loaded on use."""
        self.ws = workspace
        self.config = config
        self.generation_lock = TrimmingLock()  # frees the work's memory to the system on release
        self.store_lock = threading.Lock()
        self.jobs = JobRunner(journal=workspace.settings.workspace / JOB_JOURNAL)
        # uploads of jobs a previous server died in the middle of (no job is running yet)
        shutil.rmtree(workspace.settings.workspace / "uploads", ignore_errors=True)
        self._stack = ExitStack()
        self._store: VectorStore | None = None
        self._base_backend = base_backend
        self._backend: Backend | None = None
        self._backend_key: str | None = None

    def close(self) -> None:
        self.jobs.shutdown()
        with self.store_lock:
            self._close_store()

    # -- the model ---------------------------------------------------------------------------
    def model_key(self, model: str | None = None) -> str:
        """The registry run id to generate with, or "base"."""
        run = self.ws.tuned_run(model)
        return run.id if run is not None else BASE_MODEL_NAME

    def backend(self, model: str | None = None) -> Backend:
        """The backend for `model` (default: the model in use), loaded once and kept until another
        model is asked for. Call with `generation_lock` held."""
        key = self.model_key(model)
        if self._backend is None or key != self._backend_key:
            self._backend = None  # one model in memory at a time
            if key == BASE_MODEL_NAME and self._base_backend is not None:
                backend = self._base_backend
            else:
                backend = self.ws.backend(key)
            backend.load()
            self._backend, self._backend_key = backend, key
        return self._backend

    def load_models(self) -> None:
        """The model in use and the embedding model, loaded now (`twin serve --preload`)."""
        with self.generation_lock:
            self.backend()
        _ = self.ws.embedder.dimension

    def generation_params(self, **overrides) -> GenerationParams:
        defaults = {"max_new_tokens": self.config.max_new_tokens,
                    "temperature": self.config.temperature}
        return self.ws.generation_params(**{**defaults, **{k: v for k, v in overrides.items()
                                                           if v is not None}})

    # -- the vector store --------------------------------------------------------------------
    @contextmanager
    def store(self) -> Iterator[VectorStore]:
        """The workspace's vector store, opened once and held (Qdrant Edge allows one opener)."""
        with self.store_lock:
            if self._store is None:
                self._store = self._stack.enter_context(self.ws.vector_store())
            yield self._store

    @contextmanager
    def closed_store(self) -> Iterator[None]:
        """The store closed for the block (a rebuild wipes it), reopened on the next use."""
        with self.store_lock:
            self._close_store()
            yield

    def _close_store(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self._store = None

    # -- drafts ------------------------------------------------------------------------------
    def write_events(self, request: WriteRequest) -> Generator[tuple[str, dict[str, Any]], None, None]:
        """("start" | "token" | "drafts", payload) while a request is served: one draft streams,
        N come as one batch. Holds the model for its whole length; runs in worker threads (the
        server steps it with `next`)."""
        started = time.perf_counter()
        with self.generation_lock:
            backend = self.backend(request.model)
            with self.store() as store:
                drafts = write_drafts(self.ws, store, backend, request, stream=True)
                request_id = new_request_id()
                yield "start", {"request_id": request_id, "platform": request.platform,
                                "n": request.n, "model": self._backend_key}
                first_token = None
                for piece in drafts:
                    first_token = first_token or time.perf_counter() - started
                    yield "token", {"text": piece}
                result = drafts.final()
        served = self._served_write(request, request_id, result, backend, started, first_token)
        yield "drafts", write_payload(result, served)

    def _served_write(self, request: WriteRequest, request_id: str, result: WriteResult,
                      backend: Backend, started: float, first_token: float | None) -> list[int]:
        served = ServedRequest(
            request_id=request_id, endpoint="write", model=self._model_label(backend),
            backend=backend.name, idea=request.idea, platform=result.platform,
            request={"n": request.n, **request.sampling.overrides(),
                     "model": request.model, "prompt_tokens": result.prompt.prompt_tokens},
            retrieved_chunk_ids=[c.chunk_id for c in result.prompt.notes + result.prompt.examples],
            source_ids=[c.source_id for c in result.prompt.notes + result.prompt.examples],
            latency_s=time.perf_counter() - started, first_token_s=first_token)
        outputs = [ServedOutput(d.formatted.as_text(), d.generation.prompt_tokens,
                                d.generation.completion_tokens, d.voice_score)
                   for d in result.drafts]
        with self.ws.sessions.begin() as session:
            return [row.id for row in log_generations(session, served, outputs)]

    def _model_label(self, backend: Backend) -> str:
        if self._backend_key is None or self._backend_key == BASE_MODEL_NAME:
            return backend.model_id
        return self._backend_key

    # -- the OpenAI-compatible API -----------------------------------------------------------
    def chat_backend(self) -> Backend:
        return self.backend()

    def prepare_chat(self, messages: list[Message]) -> PreparedChat:
        return twin_chat(self.ws, self.store, messages)

    def log_chat(self, served: ServedChat) -> None:
        request = served.request
        messages = [m.as_message() for m in request.messages]
        question = last_user_message(messages)
        record = ServedRequest(
            request_id=new_request_id(), endpoint="chat",
            model=self._model_label(self._backend) if self._backend else request.model,
            backend=self._backend.name if self._backend else self.ws.settings.backend, idea=question,
            request={"messages": messages, "stream": request.stream, "n": request.n,
                     "max_tokens": request.max_completion_tokens or request.max_tokens,
                     "temperature": request.temperature, "seed": request.seed},
            retrieved_chunk_ids=served.prepared.chunk_ids, source_ids=served.prepared.source_ids,
            latency_s=served.latency_s, first_token_s=served.first_token_s)
        outputs = [ServedOutput(g.text, g.prompt_tokens, g.completion_tokens)
                   for g in served.generations]
        with self.ws.sessions.begin() as session:
            log_generations(session, record, outputs)


def write_payload(result: WriteResult, generation_ids: list[int]) -> dict[str, Any]:
    payload = result.to_json()
    for draft, generation_id in zip(payload["drafts"], generation_ids):
        draft["generation_id"] = generation_id
    return payload
