"""Generation through any OpenAI-compatible chat completions server.

vLLM, TGI, Ollama, llama.cpp's `llama-server`, OpenAI itself, or this project's own
`llm_twin.serving.openai_api`. The server applies its model's chat template; the client never
sees a tokenizer, so two things are approximations unless the server helps:

- `count_tokens` asks the server's vLLM-style `POST /tokenize` (vLLM, llama.cpp's server and our
  own answer it) and otherwise estimates one token per 4 characters (`CHARS_PER_TOKEN`).
- `context_window` is the model's `max_model_len` from `/v1/models` (vLLM and our own report it),
  else the `context_window` given, else `DEFAULT_CONTEXT_WINDOW`.

Sampling: max_tokens, temperature, top_p and seed are standard fields. The repetition penalty goes
as the extra body fields `repetition_penalty` (vLLM's name) and `repeat_penalty` (llama.cpp's),
which other servers ignore; api.openai.com rejects unknown fields, so they are not sent there.
`no_repeat_ngram_size` has no equivalent on these servers and is not sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

from llm_twin.backends.base import (BackendError, Generation, GenerationParams, GenerationStream,
                                    Message)

CHARS_PER_TOKEN = 4
DEFAULT_CONTEXT_WINDOW = 4096
NO_KEY = "not-needed"  # local servers accept any key, but the openai client insists on one


class OpenAICompatibleBackend:
    """`base_url` is the API root including `/v1`, e.g. http://localhost:8000/v1."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *,
                 context_window: int | None = None, timeout: float = 300.0,
                 max_concurrency: int = 8):
        from openai import OpenAI

        self.base_url = base_url.rstrip("/")
        self.model_id = model
        self.api_key = api_key or NO_KEY
        self.max_concurrency = max_concurrency
        self.load_seconds = 0.0
        self._explicit_window = context_window
        self._model_card: dict | None = None
        self._server_counts_tokens: bool | None = None  # unknown until first asked
        self._client = OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=timeout,
                              max_retries=0)
        self._send_extras = urlsplit(self.base_url).hostname != "api.openai.com"

    # -- errors --------------------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        """openai's exceptions, rephrased to name the server and model and what to change."""
        import openai

        where = f"the OpenAI-compatible server at {self.base_url} (model {self.model_id!r})"
        try:
            yield
        except openai.APIConnectionError as error:
            raise BackendError(f"Cannot reach {where}: {error}. Is the server running? Check "
                               "openai_base_url.") from error
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise BackendError(f"{where} refused the API key (HTTP {error.status_code}): "
                               f"{_server_message(error)}. Set openai_api_key (or OPENAI_API_KEY)."
                               ) from error
        except openai.NotFoundError as error:
            raise BackendError(f"{where} answered 404: {_server_message(error)}. Check "
                               "openai_model, and that openai_base_url ends in /v1.") from error
        except openai.APIStatusError as error:
            raise BackendError(f"{where} answered HTTP {error.status_code}: "
                               f"{_server_message(error)}") from error
        except openai.APIError as error:  # e.g. an error event inside a stream
            raise BackendError(f"{where} failed: {error}") from error

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        """Checks once that the server answers and serves the model (GET /v1/models)."""
        if self._model_card is not None:
            return
        started = time.perf_counter()
        self._model_card = self._find_model()
        self.load_seconds = time.perf_counter() - started

    def _find_model(self) -> dict:
        import openai

        with self._errors():
            try:
                served = list(self._client.models.list())
            except openai.NotFoundError:  # a server without /models: the first request will tell
                return {}
        for model in served:
            # Ollama lists "llama3.2:latest" and answers to "llama3.2" as well.
            if self.model_id in (model.id, model.id.removesuffix(":latest")):
                return model.model_dump()
        names = ", ".join(sorted(m.id for m in served)[:20]) or "none"
        raise BackendError(f"The OpenAI-compatible server at {self.base_url} does not serve model "
                           f"{self.model_id!r}; it serves: {names}. Set openai_model.")

    @property
    def context_window(self) -> int:
        if self._explicit_window:
            return self._explicit_window
        self.load()
        assert self._model_card is not None
        return int(self._model_card.get("max_model_len") or DEFAULT_CONTEXT_WINDOW)

    # -- prompting -----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """The server's count when it has a vLLM-style /tokenize, else len(text) / 4 rounded up."""
        if text and self._server_counts_tokens is not False:
            counted = self._server_token_count(text)
            self._server_counts_tokens = counted is not None
            if counted is not None:
                return counted
        return -(-len(text) // CHARS_PER_TOKEN)

    def _server_token_count(self, text: str) -> int | None:
        import httpx

        root = self.base_url.removesuffix("/v1")
        try:
            response = httpx.post(f"{root}/tokenize", timeout=30.0,
                                  headers={"Authorization": f"Bearer {self.api_key}"},
                                  json={"model": self.model_id, "prompt": text, "content": text})
        except httpx.TransportError as error:
            raise BackendError(f"Cannot reach the OpenAI-compatible server at {self.base_url} "
                               f"(model {self.model_id!r}): {error}") from error
        if response.status_code != 200:
            return None
        body = response.json()
        count = body.get("count", len(body.get("tokens") or []))
        return count if isinstance(count, int) and count > 0 else None

    def render_prompt(self, messages: list[Message]) -> str:
        """A readable rendering of the conversation, one block per message. It is NOT the
        server's chat template (the server applies that); it only feeds token estimates."""
        blocks = [f"{m['role']}: {m['content']}" for m in messages]
        return "\n\n".join([*blocks, "assistant:"])

    # -- generation ----------------------------------------------------------------------------
    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Generation]:
        """Sends the conversations concurrently; the server batches them if it can."""
        self.load()
        if len(conversations) <= 1:
            return [self._complete(messages, params) for messages in conversations]
        with ThreadPoolExecutor(max_workers=min(len(conversations), self.max_concurrency)) as pool:
            return list(pool.map(lambda messages: self._complete(messages, params), conversations))

    def _complete(self, messages: list[Message], params: GenerationParams) -> Generation:
        with self._errors():
            response = self._client.chat.completions.create(**self._request(messages, params))
        choice = response.choices[0]
        text = (choice.message.content or "").strip()
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else self.count_tokens(self.render_prompt(messages))
        completion_tokens = usage.completion_tokens if usage else self.count_tokens(text)
        return Generation(text, prompt_tokens, completion_tokens, choice.finish_reason == "stop")

    def _request(self, messages: list[Message], params: GenerationParams) -> dict:
        request = {"model": self.model_id, "messages": messages,
                   "max_tokens": params.max_new_tokens, "temperature": params.temperature,
                   "top_p": params.top_p}
        if params.seed is not None:
            request["seed"] = params.seed
        if self._send_extras:
            request["extra_body"] = {"repetition_penalty": params.repetition_penalty,
                                     "repeat_penalty": params.repetition_penalty}
        return request

    def stream(self, messages: list[Message], params: GenerationParams) -> GenerationStream:
        return GenerationStream(self._stream_pieces(messages, params))

    def _stream_pieces(self, messages: list[Message], params: GenerationParams):
        self.load()
        with self._errors():
            chunks = self._client.chat.completions.create(
                **self._request(messages, params), stream=True,
                stream_options={"include_usage": True})
        pieces: list[str] = []
        finish_reason, usage = None, None
        try:
            with self._errors():
                for chunk in chunks:
                    usage = chunk.usage or usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish_reason = choice.finish_reason or finish_reason
                    if choice.delta and choice.delta.content:
                        pieces.append(choice.delta.content)
                        yield choice.delta.content
        finally:
            chunks.close()
        text = "".join(pieces).strip()
        prompt_tokens = usage.prompt_tokens if usage else self.count_tokens(self.render_prompt(messages))
        completion_tokens = usage.completion_tokens if usage else self.count_tokens(text)
        return Generation(text, prompt_tokens, completion_tokens, finish_reason == "stop")


def _server_message(error) -> str:
    """The server's own error text from an OpenAI-shaped body, else the exception's message."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(body.get("detail"), str):
            return body["detail"]
    return str(getattr(error, "message", None) or error)
