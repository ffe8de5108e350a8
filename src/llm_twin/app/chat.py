"""Chat as the twin (`twin serve`'s OpenAI-compatible API): the conversation a client sends,
given the twin's system message and notes from the owner's own writing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Message
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.writer import CHATS
from llm_twin.prompts.wording import system_message
from llm_twin.storage.models import PUBLIC_AUDIENCES
from llm_twin.storage.vector_store import SearchFilters, VectorStore

CHAT_NOTES = 3  # retrieved chunks given to a chat as notes
CHAT_NOTE_CHARS = 420

OpenStore = Callable[[], AbstractContextManager[VectorStore]]  # `twin serve` holds one store open


@dataclass
class PreparedChat:
    """A conversation as the model will see it, with what retrieval added to it."""

    messages: list[Message]
    chunk_ids: list[str] = field(default_factory=list)
    source_ids: list[int] = field(default_factory=list)


def twin_chat(ws: Workspace, open_store: OpenStore, messages: list[Message]) -> PreparedChat:
    """Answer as the twin: its system message and notes from the owner's own writing about the
    last user message come first; a client's system message follows as instructions."""
    question = last_user_message(messages) or ""
    notes = chat_notes(ws, open_store, question) if question.strip() else []
    own = [m["content"] for m in messages if m["role"] == "system"]
    system = system_message(ws.owner_name())
    if notes:
        system += "\n\nThings I have written that may help:\n" + "\n".join(
            f"- {_clip(n.text)}" for n in notes)
    if own:
        system += "\n\nInstructions for this conversation:\n" + "\n".join(own)
    rest = [m for m in messages if m["role"] != "system"]
    return PreparedChat([{"role": "system", "content": system}, *rest],
                        [n.chunk_id for n in notes], [n.source_id for n in notes])


def last_user_message(messages: list[Message]) -> str | None:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), None)


def chat_notes(ws: Workspace, open_store: OpenStore, question: str) -> list[RetrievedChunk]:
    """The owner's own public writing (no chats, nothing followers-only, direct or draft) most
    related to the question; none before indexing. An API client is no more trusted than a
    public post's reader."""
    if ws.built_embedding_model() is None:
        return []
    with open_store() as store:
        retriever = ws.retriever(store, expansions=0, rerank=False)
        return retriever.search(question, k=CHAT_NOTES,
                                filters=SearchFilters(is_owner=True, exclude_kinds=CHATS,
                                                      audiences=PUBLIC_AUDIENCES))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CHAT_NOTE_CHARS else text[:CHAT_NOTE_CHARS].rsplit(" ", 1)[0] + " …"
