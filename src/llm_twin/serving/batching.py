"""Continuous request batching for the OpenAI-compatible API.

Requests queue up; one dispatcher thread takes every waiting request that shares the first one's
sampling settings (up to `max_batch` rows), generates them as one batch and streams each row to
its own client (backends.batch_stream). Requests that arrive meanwhile form the next batch. On a
CPU this turns N concurrent requests from N generations in a row into a few batched ones.

Backends that cannot stream a batch (llama.cpp, a remote server) get one request at a time, as
before. Everything that touches the model runs in the dispatcher with the generation lock held.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from llm_twin.backends.base import Backend, Generation, GenerationParams, GenerationStream, Message
from llm_twin.backends.batch_stream import BatchStreamingBackend

ParamsMaker = Callable[[Backend], GenerationParams]  # may raise: the error goes to the submitter


@dataclass
class _Arrival:
    done: bool = False


@dataclass
class _Ticket:
    messages: list[Message]
    rows: int
    make_params: ParamsMaker
    params: GenerationParams | None = None
    streams: list[GenerationStream] | None = None
    error: BaseException | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def deliver(self, streams: list[GenerationStream] | None = None,
                error: BaseException | None = None) -> None:
        self.streams, self.error = streams, error
        self.ready.set()

    @property
    def sampling(self) -> GenerationParams:
        """The params, made when the ticket is taken into a batch."""
        if self.params is None:
            raise RuntimeError("A ticket's params were read before they were made.")
        return self.params


def _sampling_key(params: GenerationParams) -> tuple:
    return (params.temperature, params.top_p, params.repetition_penalty,
            params.no_repeat_ngram_size, params.seed)


class RequestBatcher:
    def __init__(self, backend_provider: Callable[[], Backend], lock: AbstractContextManager[object], *,
                 max_batch: int = 16, gather_s: float = 0.05, max_gather_s: float = 1.0):
        self.backend_provider = backend_provider
        self.lock = lock
        self.max_batch = max(1, max_batch)
        # Requests sent together arrive a few ms apart (each is retrieved for first): wait while
        # they keep coming (gather_s of quiet ends it, max_gather_s at most), then start.
        self.gather_s = gather_s
        self.max_gather_s = max_gather_s
        self._pending: deque[_Ticket] = deque()
        self._arriving = 0  # requests received but still being prepared (retrieval)
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def arriving(self) -> Iterator[_Arrival]:
        """Wrap a request's preparation and `submit(..., arrival=...)`: the dispatcher waits for
        requests still being prepared (briefly) before it starts a batch, so requests received
        together are generated together."""
        arrival = _Arrival()
        with self._wakeup:
            self._arriving += 1
        try:
            yield arrival
        finally:
            with self._wakeup:
                self._arrived(arrival)

    def _arrived(self, arrival: _Arrival | None) -> None:
        """Call with the condition held."""
        if arrival is not None and not arrival.done:
            arrival.done = True
            self._arriving -= 1

    def submit(self, messages: list[Message], rows: int, make_params: ParamsMaker, *,
               arrival: _Arrival | None = None) -> list[GenerationStream]:
        """Blocks until the request's batch starts; returns one stream per row."""
        ticket = _Ticket(messages, rows, make_params)
        with self._wakeup:
            self._pending.append(ticket)
            self._arrived(arrival)
            if self._thread is None:
                self._thread = threading.Thread(target=self._dispatch, name="twin-batcher",
                                                daemon=True)
                self._thread.start()
            self._wakeup.notify()
        ticket.ready.wait()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.streams is not None
        return ticket.streams

    # -- the dispatcher thread --------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending:
                    self._wakeup.wait()
            self._gather()
            with self.lock:
                self._run_next()

    def _gather(self) -> None:
        """Wait while requests are still being prepared or keep arriving (max_gather_s at most)."""
        deadline = time.monotonic() + self.max_gather_s
        seen = -1
        while time.monotonic() < deadline:
            with self._wakeup:
                waiting, arriving = len(self._pending), self._arriving
            if waiting >= self.max_batch or (not arriving and waiting == seen):
                return
            seen = waiting
            time.sleep(0.01 if arriving else self.gather_s)

    def _run_next(self) -> None:
        backend = self.backend_provider()
        batching = isinstance(backend, BatchStreamingBackend) and self.max_batch > 1
        batch = self._take_batch(backend, self.max_batch if batching else 1)
        if not batch:
            return
        if batching and (len(batch) > 1 or batch[0].rows > 1):
            self._run_batch(backend, batch)
        else:
            self._run_alone(backend, batch[0])

    def _take_batch(self, backend: Backend, max_rows: int) -> list[_Ticket]:
        """The first waiting request and every later one with the same sampling settings that fits."""
        with self._wakeup:
            waiting = list(self._pending)
            self._pending.clear()
        batch: list[_Ticket] = []
        rest: list[_Ticket] = []
        rows = 0
        for ticket in waiting:
            if ticket.params is None:
                try:
                    ticket.params = ticket.make_params(backend)
                except Exception as error:
                    ticket.deliver(error=error)
                    continue
            fits = rows + ticket.rows <= max_rows or not batch
            if fits and (not batch or _sampling_key(ticket.sampling) == _sampling_key(batch[0].sampling)):
                batch.append(ticket)
                rows += ticket.rows
            else:
                rest.append(ticket)
        with self._wakeup:
            self._pending.extendleft(reversed(rest))
        return batch

    def _run_batch(self, backend, batch: list[_Ticket]) -> None:
        conversations = [t.messages for t in batch for _ in range(t.rows)]
        limits = [t.sampling.max_new_tokens for t in batch for _ in range(t.rows)]
        try:
            run = backend.stream_batch(conversations, batch[0].sampling, limits)
        except Exception as error:
            for ticket in batch:
                ticket.deliver(error=error)
            return
        start = 0
        for ticket in batch:
            ticket.deliver(run.streams[start:start + ticket.rows])
            start += ticket.rows
        run.join()

    def _run_alone(self, backend: Backend, ticket: _Ticket) -> None:
        try:
            if ticket.rows > 1:
                generations = backend.generate([ticket.messages] * ticket.rows, ticket.sampling)
                ticket.deliver([finished_stream(g) for g in generations])
                return
            done = threading.Event()
            ticket.deliver([tracked(backend.stream(ticket.messages, ticket.sampling), done)])
        except Exception as error:
            ticket.deliver(error=error)
            return
        done.wait()  # the model stays ours until the client has read (or dropped) its answer


class _TrackedStream(GenerationStream):
    """Sets `done` when closed, also before its first piece: closing a generator that never
    started skips its `finally`, which left the model held for ever (every later request hung)
    when a client went away while its request waited for its turn."""

    def __init__(self, pieces: Generator[str, None, Generation], inner: GenerationStream,
                 done: threading.Event):
        super().__init__(pieces)
        self._inner, self._done = inner, done

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._inner.close()
            self._done.set()


def tracked(stream: GenerationStream, done: threading.Event) -> GenerationStream:
    """`stream`, setting `done` once it is exhausted or closed."""
    def pieces() -> Generator[str, None, Generation]:
        try:
            yield from stream
        finally:
            stream.close()
            done.set()
        return stream.final()

    return _TrackedStream(pieces(), stream, done)


def finished_stream(generation: Generation) -> GenerationStream:
    def pieces() -> Generator[str, None, Generation]:
        if generation.text:
            yield generation.text
        return generation

    return GenerationStream(pieces())
