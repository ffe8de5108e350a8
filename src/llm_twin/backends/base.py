"""The generation backend protocol: chat messages in, text out, in batches."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Protocol

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 220
    temperature: float = 0.6
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    no_repeat_ngram_size: int = 4
    seed: int | None = None


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finished: bool  # False when cut by max_new_tokens


class BackendError(RuntimeError):
    """A backend cannot serve: server unreachable, key refused, model unknown, library missing."""


class GenerationStream(Iterator[str]):
    """Text pieces as they are generated; once exhausted, `result` holds the whole Generation.

    Wraps a generator that yields the pieces and returns the Generation. Closing it early (a
    client that went away) stops the backend's work.
    """

    def __init__(self, pieces: Generator[str, None, Generation]):
        self._pieces = pieces
        self.result: Generation | None = None

    def __iter__(self) -> GenerationStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as stop:
            self.result = stop.value
            raise

    def close(self) -> None:
        self._pieces.close()


class Backend(Protocol):
    model_id: str

    @property
    def context_window(self) -> int: ...

    def load(self) -> None:
        """Load weights now (otherwise the first call does). Lets callers time and report it."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def render_prompt(self, messages: list[Message]) -> str:
        """The exact prompt text the model sees, through the model's own chat template."""
        ...

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Generation]:
        """One completion per conversation, generated as one batch where the backend can."""
        ...

    def stream(self, messages: list[Message], params: GenerationParams) -> GenerationStream:
        """One completion for one conversation, as text pieces while they are generated."""
        ...
