"""An OpenAI-compatible HTTP API over one generation backend (FastAPI).

    GET  /v1/models                  the one model served (with vLLM's `max_model_len`)
    GET  /v1/models/{model}
    POST /v1/chat/completions        `stream: false` -> a chat.completion with usage;
                                     `stream: true`  -> server-sent events, `data: [DONE]` last
    POST /tokenize                   vLLM's token counting endpoint: {"prompt"} or {"messages"}

Honoured request fields: model, messages, max_tokens (or max_completion_tokens), temperature,
top_p, n, seed, stream, stream_options.include_usage, and the vLLM extras repetition_penalty and
no_repeat_ngram_size. Other OpenAI fields are accepted and ignored, as vLLM does. Errors use
OpenAI's `{"error": {"message", "type", "param", "code"}}` shape so OpenAI clients show them.

One model is in memory behind a lock (which `twin serve` shares with its own draft endpoint).
Concurrent chat requests are batched (`serving.batching`): those waiting when the model frees up
are generated together, each streamed to its own client, on backends that can stream a batch
(transformers); others answer one request at a time. A client that goes away frees its row.
`prepare_messages` lets a caller rewrite each conversation before generation (`twin serve` answers
as the twin, with retrieved notes) and `on_served` sees every answer (`twin serve` logs it).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, ConfigDict, Field

from llm_twin.app.chat import PreparedChat
from llm_twin.backends.base import Backend, Generation, GenerationParams, GenerationStream, Message
from llm_twin.serving.batching import RequestBatcher


@dataclass
class ServedChat:
    """What `on_served` receives after each answered request."""

    request: ChatCompletionRequest
    prepared: PreparedChat
    generations: list[Generation]
    latency_s: float
    first_token_s: float | None = None


MessagesHook = Callable[[list[Message]], "list[Message] | PreparedChat"]
ServedHook = Callable[[ServedChat], None]


OPENAI_PATHS = ("/v1/", "/tokenize")  # the routes that answer errors in OpenAI's shape


class APIError(Exception):
    """An error answered in OpenAI's error shape."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """What every /v1 and /tokenize error answers (OpenAI's shape), declared in the OpenAPI
    document in place of FastAPI's default 422 (the validation errors here are 400s)."""

    error: ErrorDetail


OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in ((400, "Invalid request"), (401, "Invalid or missing API key"),
                         (404, "Unknown model"))}


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that closes its async generator as soon as the response ends, also
    when the client disconnected mid-stream. Starlette leaves an unfinished generator to the
    garbage collector, so the `finally` that releases the model (and its locks) could run much
    later, or never: every later draft, chat answer and search waited on those locks for ever."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


# -- request schema ----------------------------------------------------------------------------
class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def as_message(self) -> Message:
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    n: int = Field(1, ge=1, le=8)
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    repetition_penalty: float | None = Field(None, gt=0.0)
    no_repeat_ngram_size: int | None = Field(None, ge=0)


class TokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    prompt: str | None = None
    messages: list[ChatMessage] | None = None


# -- the app -----------------------------------------------------------------------------------
def create_openai_app(backend: Backend, *, model_name: str, api_key: str | None = None,
                      default_params: GenerationParams | None = None,
                      prepare_messages: MessagesHook | None = None) -> FastAPI:
    """The API for `backend`, answering to `model_name`. With `api_key`, every request needs
    `Authorization: Bearer <api_key>`. Sampling fields a request leaves out come from
    `default_params`. The backend loads on the first request unless the caller loaded it."""
    service = ChatService(lambda: backend, model_name, default_params or GenerationParams(),
                          prepare_messages)
    app = FastAPI(title="LLM Twin (OpenAI-compatible)", docs_url=None, redoc_url=None)
    add_openai_routes(app, service, Depends(bearer_check(api_key)))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return openai_validation_error(error)

    return app


def add_openai_routes(app: FastAPI, service: ChatService, authorised) -> None:
    """The /v1 and /tokenize routes and OpenAI-shaped errors on `app`; `authorised` is the
    dependency that checks the caller."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        """FastAPI's own errors (a body it cannot parse, a route not found) in OpenAI's shape on
        the OpenAI routes, as their schema declares; FastAPI's default everywhere else."""
        if not request.url.path.startswith(OPENAI_PATHS):
            return await http_exception_handler(request, error)
        return JSONResponse(APIError(error.status_code, str(error.detail)).body(),
                            status_code=error.status_code, headers=error.headers)

    @app.get("/v1/models", dependencies=[authorised], responses=OPENAI_ERRORS)
    def list_models() -> dict:
        return {"object": "list", "data": [service.model_card()]}

    @app.get("/v1/models/{model:path}", dependencies=[authorised], responses=OPENAI_ERRORS)
    def get_model(model: str) -> dict:
        service.check_model(model)
        return service.model_card()

    @app.post("/v1/chat/completions", dependencies=[authorised], responses=OPENAI_ERRORS)
    def chat_completions(request: ChatCompletionRequest):
        if request.stream:
            return ClosingStreamingResponse(service.stream_events(request), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return service.complete(request)

    @app.post("/tokenize", dependencies=[authorised], responses=OPENAI_ERRORS)
    def tokenize(request: TokenizeRequest) -> dict:
        return service.tokenize(request)


def openai_validation_error(error: RequestValidationError) -> JSONResponse:
    return JSONResponse(_validation_error(error).body(), status_code=400)


def bearer_check(api_key: str | None) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        if api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), api_key):
            raise APIError(401, "Invalid or missing API key: send 'Authorization: Bearer <key>'.",
                           code="invalid_api_key")
    return check


def _validation_error(error: RequestValidationError) -> APIError:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    first_param = problems[0].split(":")[0] if problems else None
    return APIError(400, "Invalid request: " + "; ".join(problems), param=first_param)


class ChatService:
    """The endpoints' work, with every backend call behind one lock. `backend_provider` returns
    the backend to use now (`twin serve` swaps models); it is called with the lock held."""

    def __init__(self, backend_provider: Callable[[], Backend], model_name: str,
                 defaults: GenerationParams, prepare_messages: MessagesHook | None = None, *,
                 lock: AbstractContextManager[object] | None = None, on_served: ServedHook | None = None,
                 max_batch: int = 16):
        self.backend_provider = backend_provider
        self.model_name = model_name
        self.defaults = defaults
        self.prepare_messages = prepare_messages
        self.on_served = on_served
        self.lock = lock or threading.Lock()
        self.batcher = RequestBatcher(backend_provider, self.lock, max_batch=max_batch)
        self.created = int(time.time())

    @property
    def backend(self) -> Backend:
        return self.backend_provider()

    def model_card(self) -> dict:
        with self.lock:
            window = self.backend.context_window
        return {"id": self.model_name, "object": "model", "created": self.created,
                "owned_by": "llm-twin", "max_model_len": window}

    def check_model(self, model: str) -> None:
        if model != self.model_name:
            raise APIError(404, f"The model {model!r} does not exist; this server serves "
                                f"{self.model_name!r}.", param="model", code="model_not_found")

    # -- requests to generation arguments ---------------------------------------------------
    def _conversation(self, request: ChatCompletionRequest) -> PreparedChat:
        messages = [message.as_message() for message in request.messages]
        prepared = self.prepare_messages(messages) if self.prepare_messages else messages
        return prepared if isinstance(prepared, PreparedChat) else PreparedChat(prepared)

    def _params(self, request: ChatCompletionRequest, prompt_tokens: int,
                window: int) -> GenerationParams:
        """Request fields over the defaults; an unasked-for answer length shrinks to the window."""
        room = window - prompt_tokens
        asked = request.max_completion_tokens or request.max_tokens
        if room < 1 or (asked is not None and asked > room):
            raise APIError(400, f"This model's maximum context length is {window} tokens; the "
                                f"messages take {prompt_tokens} tokens and max_tokens asks for "
                                f"{asked or 1} more.", param="messages",
                           code="context_length_exceeded")
        return self.defaults.overridden(
            max_new_tokens=asked or min(self.defaults.max_new_tokens, room),
            temperature=request.temperature, top_p=request.top_p, seed=request.seed,
            repetition_penalty=request.repetition_penalty,
            no_repeat_ngram_size=request.no_repeat_ngram_size)

    def _submit(self, request: ChatCompletionRequest) -> tuple[PreparedChat, list[GenerationStream]]:
        """Rewrite the conversation (retrieval, outside the model lock), then wait for a batch."""
        self.check_model(request.model)

        def params(backend: Backend) -> GenerationParams:  # runs in the batcher, lock held
            prompt_tokens = backend.count_tokens(backend.render_prompt(prepared.messages))
            return self._params(request, prompt_tokens, backend.context_window)

        try:
            with self.batcher.arriving() as arrival:
                prepared = self._conversation(request)
                streams = self.batcher.submit(prepared.messages, request.n, params, arrival=arrival)
            return prepared, streams
        except APIError:
            raise
        except Exception as error:
            raise APIError(500, f"Generation failed: {error}", type="server_error") from error

    def _served(self, request: ChatCompletionRequest, prepared: PreparedChat,
                generations: list[Generation], started: float, first_token: float | None) -> None:
        if self.on_served is not None:
            now = time.perf_counter()
            self.on_served(ServedChat(request, prepared, generations, now - started,
                                      None if first_token is None else first_token - started))

    # -- non-streaming ------------------------------------------------------------------------
    def complete(self, request: ChatCompletionRequest) -> dict:
        started = time.perf_counter()
        prepared, streams = self._submit(request)
        generations = [self._finish(stream) for stream in streams]
        self._served(request, prepared, generations, started, None)
        completion_tokens = sum(g.completion_tokens for g in generations)
        prompt_tokens = generations[0].prompt_tokens
        return {
            "id": _completion_id(), "object": "chat.completion", "created": int(time.time()),
            "model": self.model_name,
            "choices": [{"index": i, "message": {"role": "assistant", "content": g.text},
                         "logprobs": None, "finish_reason": _finish_reason(g)}
                        for i, g in enumerate(generations)],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    @staticmethod
    def _finish(stream: GenerationStream) -> Generation:
        try:
            return stream.finish()
        except Exception as error:
            raise APIError(500, f"Generation failed: {error}", type="server_error") from error
        finally:
            stream.close()

    # -- streaming ---------------------------------------------------------------------------
    async def stream_events(self, request: ChatCompletionRequest) -> AsyncIterator[str]:
        """SSE lines. The blocking iteration runs in worker threads; the stream is closed in
        `finally`, also when the client disconnects mid-stream."""
        if request.n != 1:
            yield _sse(APIError(400, "n must be 1 when stream is true.", param="n").body())
            yield "data: [DONE]\n\n"
            return
        chunk = _ChunkMaker(self.model_name)
        started = time.perf_counter()
        first_token = None
        stream: GenerationStream | None = None
        submitted: list[GenerationStream] = []

        def submit() -> tuple[PreparedChat, list[GenerationStream]]:
            prepared, streams = self._submit(request)
            submitted.extend(streams)  # closed in `finally` even if the client left meanwhile
            return prepared, streams

        try:
            prepared, streams = await anyio.to_thread.run_sync(submit)
            (stream,) = streams  # n is 1
            yield _sse(chunk({"role": "assistant", "content": ""}))
            while (piece := await anyio.to_thread.run_sync(next, stream, None)) is not None:
                first_token = first_token or time.perf_counter()
                yield _sse(chunk({"content": piece}))
            generation = stream.final()
            await anyio.to_thread.run_sync(self._served, request, prepared, [generation],
                                           started, first_token)
            yield _sse(chunk({}, finish_reason=_finish_reason(generation)))
            if request.stream_options and request.stream_options.include_usage:
                yield _sse(chunk.usage(generation))
        except APIError as error:
            yield _sse(error.body())
        except Exception as error:  # headers are sent: the error goes in the stream
            yield _sse(APIError(500, f"Generation failed: {error}", type="server_error").body())
        finally:
            if submitted:  # a client that went away frees its row (or the model)
                with anyio.CancelScope(shield=True):
                    for leftover in submitted:
                        await anyio.to_thread.run_sync(leftover.close)
        yield "data: [DONE]\n\n"

    # -- token counting ----------------------------------------------------------------------
    def tokenize(self, request: TokenizeRequest) -> dict:
        if request.model is not None:
            self.check_model(request.model)
        if (request.prompt is None) == (request.messages is None):
            raise APIError(400, "Send exactly one of 'prompt' or 'messages'.", param="prompt")
        with self.lock:
            if request.messages is not None:
                messages = [message.as_message() for message in request.messages]
                text = self.backend.render_prompt(messages)
            else:
                assert request.prompt is not None  # checked above: exactly one of the two
                text = request.prompt
            return {"count": self.backend.count_tokens(text),
                    "max_model_len": self.backend.context_window}


class _ChunkMaker:
    """chat.completion.chunk objects sharing one id and timestamp."""

    def __init__(self, model_name: str):
        self.base = {"id": _completion_id(), "object": "chat.completion.chunk",
                     "created": int(time.time()), "model": model_name}

    def __call__(self, delta: dict, finish_reason: str | None = None) -> dict:
        return {**self.base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                          "finish_reason": finish_reason}]}

    def usage(self, generation: Generation) -> dict:
        return {**self.base, "choices": [], "usage": {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            "total_tokens": generation.prompt_tokens + generation.completion_tokens}}


def _finish_reason(generation: Generation) -> str:
    return "stop" if generation.finished else "length"


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _sse(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
