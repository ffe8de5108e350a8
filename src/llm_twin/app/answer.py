"""Answers in the owner's voice: a reply to a message (`twin reply`) and code in their style
(`twin code`), each streamed as it is generated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from llm_twin.app.workspace import Workspace
from llm_twin.app.write import Sampling
from llm_twin.backends.base import Backend
from llm_twin.errors import InputError
from llm_twin.inference.reply import ModeStream
from llm_twin.platforms import CHAT_PLATFORMS
from llm_twin.storage.vector_store import VectorStore

# Starts an answer once the vector store and the backend are open (the model not loaded yet).
StartAnswer = Callable[[VectorStore, Backend], ModeStream]


@dataclass
class ReplyRequest:
    message: str
    sender: str | None = None  # who sent it (named in group chats)
    platform: str | None = None  # answer as in the owner's chats there; None: all
    context: Path | None = None  # a transcript of the conversation so far
    sampling: Sampling = field(default_factory=Sampling)

    def __post_init__(self) -> None:
        if not self.message.strip():
            raise InputError("The message is empty: pass the text you want to answer.")
        if self.platform is not None and self.platform not in CHAT_PLATFORMS:
            raise InputError(f"unknown chat platform {self.platform!r}; choose one of "
                             f"{', '.join(CHAT_PLATFORMS)}")


@dataclass
class CodeRequest:
    request: str
    language: str | None = None  # only draw on the owner's code in this language
    path: str | None = None  # the file it is for
    sampling: Sampling = field(default_factory=Sampling)

    def __post_init__(self) -> None:
        if not self.request.strip():
            raise InputError("The request is empty: say what the code should do.")


def reply(ws: Workspace, request: ReplyRequest) -> StartAnswer:
    """The reply, once started; the transcript is read now."""
    from llm_twin.inference.reply import read_transcript

    turns = read_transcript(request.context, ws.owner_name()) if request.context else None
    return lambda store, backend: ws.reply_writer(
        store, backend, **request.sampling.overrides()).stream(
        request.message, sender=request.sender, platform=request.platform, context=turns)


def code(ws: Workspace, request: CodeRequest) -> StartAnswer:
    return lambda store, backend: ws.code_writer(
        store, backend, **request.sampling.overrides()).stream(
        request.request, language=request.language, path=request.path)


@contextmanager
def answering(ws: Workspace, start: StartAnswer,
              model: str | None = None) -> Iterator[tuple[Backend, ModeStream]]:
    """The backend for `model` (default: the model in use, not loaded yet) and the answer's
    stream, with the vector store open for the block. Starting checks the workspace has what the
    answer needs before any model loads."""
    backend = ws.backend(model)
    with ws.vector_store() as store:
        yield backend, start(store, backend)
