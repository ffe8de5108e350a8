"""Several conversations generated as one batch, each streamed on its own.

The server's request batcher uses it so concurrent chat requests share one `model.generate`
call: on a CPU a batch of 8 costs far less than 8 requests one after another. Each row has its
own token limit and ends at its own end-of-turn token; a row whose reader goes away is dropped
and generation stops once no row needs more tokens.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Sequence
from typing import Protocol, runtime_checkable

from llm_twin.backends.base import Generation, GenerationParams, GenerationStream, Message

_END = object()


@runtime_checkable
class BatchStreamingBackend(Protocol):
    def stream_batch(self, conversations: Sequence[list[Message]], params: GenerationParams,
                     max_new_tokens: Sequence[int]) -> BatchRun:
        """One stream per conversation, generated together with `params`' sampling settings;
        row i stops after max_new_tokens[i]."""
        ...


class RowStreamer:
    """A streamer for a batch: routes each step's tokens to per-row queues as text.

    transformers calls put() once with the prompt ids (skipped), then once per step with one new
    token per row, and end() when generation stops."""

    def __init__(self, tokenizer, limits: Sequence[int], eos_ids: set[int]):
        self.tokenizer = tokenizer
        self.limits = list(limits)
        self.eos_ids = eos_ids
        self.tokens: list[list[int]] = [[] for _ in limits]
        self.emitted = ["" for _ in limits]
        self.finished = [False] * len(limits)  # ended by an end-of-turn token
        self.open = [True] * len(limits)  # still wants tokens
        self.queues: list[queue.Queue] = [queue.Queue() for _ in limits]
        self._prompt_seen = False

    def put(self, value) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for row, token in enumerate(value.reshape(len(self.limits), -1)[:, -1].tolist()):
            if self.open[row]:
                self.add(row, token)

    def add(self, row: int, token: int) -> None:
        """One generated token for `row` (backends without a transformers streamer call this)."""
        if token in self.eos_ids:
            self.finished[row] = True
            self._close(row)
            return
        self.tokens[row].append(token)
        text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
        if not text.endswith("\ufffd"):  # a character still incomplete: wait for its next byte
            self.queues[row].put(text[len(self.emitted[row]):])
            self.emitted[row] = text
        if len(self.tokens[row]) >= self.limits[row]:
            self._close(row)

    def _close(self, row: int) -> None:
        if self.open[row]:
            self.open[row] = False
            self.queues[row].put(_END)

    def drop(self, row: int) -> None:
        """The reader went away: stop generating for this row."""
        self.open[row] = False

    def end(self) -> None:
        for row in range(len(self.limits)):
            self._close(row)

    def all_closed(self) -> bool:
        return not any(self.open)


class BatchRun:
    """The streams of one batch and the thread generating them; `join()` waits for the end."""

    def __init__(self, streamer: RowStreamer, prompt_tokens: Sequence[int],
                 worker: threading.Thread, outcome: dict):
        self.streamer = streamer
        self.prompt_tokens = list(prompt_tokens)
        self.worker = worker
        self.outcome = outcome
        self.streams = [GenerationStream(self._pieces(row)) for row in range(len(prompt_tokens))]

    def _pieces(self, row: int) -> Generator[str, None, Generation]:
        streamer = self.streamer
        try:
            while (piece := streamer.queues[row].get()) is not _END:
                if piece:
                    yield piece
        finally:
            streamer.drop(row)
        if "error" in self.outcome:
            raise self.outcome["error"]
        text = streamer.tokenizer.decode(streamer.tokens[row], skip_special_tokens=True).strip()
        return Generation(text, self.prompt_tokens[row], len(streamer.tokens[row]),
                          streamer.finished[row])

    def join(self) -> None:
        self.worker.join()
