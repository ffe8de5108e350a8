"""The generation backend protocol: chat messages in, text out, in batches."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from llm_twin.errors import ModelError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


SEED_MODULUS = 2**32  # seeds are taken modulo this: every backend accepts the result


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 220
    temperature: float = 0.6
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    no_repeat_ngram_size: int = 4
    seed: int | None = None

    def __post_init__(self) -> None:
        # Any integer is a seed (an API client may send -928 or 2**70); the backends' generators
        # take 0 .. 2**32 - 1 (CTranslate2 refused a negative one with a TypeError: a 500).
        if self.seed is not None:
            object.__setattr__(self, "seed", self.seed % SEED_MODULUS)

    def overridden(self, *, max_new_tokens: int | None = None, temperature: float | None = None,
                   top_p: float | None = None, repetition_penalty: float | None = None,
                   no_repeat_ngram_size: int | None = None,
                   seed: int | None = None) -> GenerationParams:
        """A copy with each value that is given (not None) in place of this one's."""
        return GenerationParams(
            max_new_tokens=self.max_new_tokens if max_new_tokens is None else max_new_tokens,
            temperature=self.temperature if temperature is None else temperature,
            top_p=self.top_p if top_p is None else top_p,
            repetition_penalty=(self.repetition_penalty if repetition_penalty is None
                                else repetition_penalty),
            no_repeat_ngram_size=(self.no_repeat_ngram_size if no_repeat_ngram_size is None
                                  else no_repeat_ngram_size),
            seed=self.seed if seed is None else seed)


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finished: bool  # False when cut by max_new_tokens


class BackendError(ModelError):
    """A backend cannot serve: server unreachable, key refused, model unknown, library missing."""


ResultT = TypeVar("ResultT")


class TextStream(Iterator[str], Generic[ResultT]):
    """Text pieces as they are generated; once exhausted, `result` holds the whole result (a
    Generation from a backend; a formatted, scored draft or reply from the writers above it).

    Wraps a generator that yields the pieces and returns the result. Closing it early (a client
    that went away) stops the backend's work.
    """

    def __init__(self, pieces: Generator[str, None, ResultT]):
        self._pieces = pieces
        self.result: ResultT | None = None

    def __iter__(self) -> TextStream[ResultT]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as stop:
            self.result = stop.value
            raise

    def close(self) -> None:
        self._pieces.close()

    def finish(self) -> ResultT:
        """Consume the rest silently and return the result."""
        for _ in self:
            pass
        return self.final()

    def final(self) -> ResultT:
        """The result of a stream that has run to its end."""
        if self.result is None:
            raise RuntimeError("The stream's result was read before the stream ended.")
        return self.result


GenerationStream = TextStream  # a backend's stream: TextStream[Generation]


class TokenizerPrompts:
    """`count_tokens` and `render_prompt` through a Hugging Face tokenizer's own chat template, for
    the backends that hold one as `self.tokenizer` (transformers, CTranslate2)."""

    tokenizer: Any  # a transformers tokenizer (the subclass's lazily loading property)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_prompt(self, messages: list[Message]) -> str:
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


class Backend(Protocol):
    name: str  # "ctranslate2", "transformers", "llamacpp", "openai": logged with each generation
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


class ScoringBackend(Protocol):
    """A backend that can tell how likely its model finds a given completion (transformers,
    CTranslate2). llama.cpp and OpenAI-compatible servers cannot, and do not have `score`."""

    def score(self, prompts: list[list[Message]], completions: list[str]) -> list[float | None]:
        """Per pair, the mean log-probability per token of the completion given the prompt
        (through the chat template, as generated); None for an empty completion."""
        ...


def score_completions(backend: object, prompts: list[list[Message]],
                      completions: list[str]) -> list[float | None] | None:
    """`backend.score(...)`, or None when the backend cannot score."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions.")
    score = getattr(backend, "score", None)
    if score is None:
        return None
    return score(prompts, completions)


def completion_token_ids(tokenizer, prompt_text: str, completion: str) -> tuple[list[int], int]:
    """The prompt's and the completion's token ids as one sequence, and where the completion
    starts. Tokenised apart: joined text could merge tokens across the seam."""
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return list(prompt_ids) + list(completion_ids), len(prompt_ids)
