"""`twin reply`: answer a message as the owner, in the register of their own chats.

The prompt is the one the conversation dataset trains on (`prompts.chat`): the
reply system message, the prior turns (other people's lines redacted, their names prefixed in
group chats) and the new message as the last user turn. Retrieval adds a few of the owner's own
replies to similar messages as earlier user/assistant turns in that same format, so a base model
sees how the owner talks and a fine-tuned one sees nothing it was not trained on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from llm_twin.backends.base import Backend, Generation, GenerationParams, Message, TextStream
from llm_twin.errors import InputError, NotFoundError, WorkspaceError
from llm_twin.features.redaction import redact_personal_data
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.retrieval import Retriever, Searcher
from llm_twin.platforms import CHAT_PLATFORMS
# The conversation dataset's own turn and context code: serving must build what training saw.
from llm_twin.prompts.budget import fit_example_turns
from llm_twin.prompts.chat import CONTEXT_TURNS, Turn, context_messages
from llm_twin.prompts.wording import reply_system_message
from llm_twin.storage.models import Chunk, Document
from llm_twin.storage.vector_store import SearchFilters
OWNER_ALIASES = frozenset({"me", "i", "myself"})
DEFAULT_SENDER = "Contact 1"
EXAMPLE_MAX_CHARS = 300
_SPEAKER_LINE = re.compile(r"^(?P<name>[^:\n]{1,60}):[ \t]*(?P<text>.*)$")
_SENTENCE_END = re.compile(r"[.!?…](?:[\"')\]]*)(?=\s|$)|\n")


@dataclass
class ModeTimings:
    model_load: float = 0.0
    retrieval: float = 0.0
    prompt_building: float = 0.0
    generation: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"model_load": self.model_load, "retrieval": self.retrieval,
                "prompt_building": self.prompt_building, "generation": self.generation}


@dataclass
class ModeResult:
    """What `twin reply` and `twin code` produce: the text, what it drew on, the prompt, timings."""

    text: str
    sources: list[RetrievedChunk]
    messages: list[Message]
    prompt_tokens: int
    generation: Generation | None = None
    timings: ModeTimings = field(default_factory=ModeTimings)
    notes: list[str] = field(default_factory=list)


ModeStream = TextStream  # a reply or code answer as it is generated: TextStream[ModeResult]


@dataclass
class ReplyOptions:
    owner: str
    retrieval_k: int = 3
    context_tokens: int = 2048
    generation: GenerationParams = field(default_factory=GenerationParams)


def parse_transcript(text: str, owner: str, *, where: str = "the transcript") -> list[Turn]:
    """"Name: text" lines as turns (a line without a name continues the message above). The
    owner is their name, first name, or "me"; consecutive lines of one person form one turn."""
    turns: list[Turn] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _SPEAKER_LINE.match(line)
        if match is None:
            if not turns:
                raise InputError(f"{where}, line {number}: expected 'Name: message', "
                                 f"got {line.strip()[:60]!r}")
            turns[-1].texts[-1] += "\n" + line.strip()
            continue
        name, said = match["name"].strip(), match["text"].strip()
        _add_turn(turns, name, _is_owner(name, owner), said)
    if not turns:
        raise InputError(f"{where} holds no 'Name: message' lines")
    return turns


def _is_owner(name: str, owner: str) -> bool:
    folded = name.casefold()
    return (folded in OWNER_ALIASES or folded == owner.casefold()
            or folded == owner.split()[0].casefold())


def _add_turn(turns: list[Turn], author: str, is_owner: bool, text: str) -> None:
    if turns and turns[-1].author == author and turns[-1].is_owner == is_owner:
        turns[-1].texts.append(text)
    else:
        turns.append(Turn(author, is_owner, [text], [], None))


def conversation_messages(owner: str, turns: list[Turn], message: str, sender: str) -> list[Message]:
    """The dataset's conversation prompt for a new message: system, prior turns, the message."""
    turns = [Turn(t.author, t.is_owner, list(t.texts), [], None) for t in turns]
    _add_turn(turns, sender, False, message.strip())
    group_chat = len({t.author for t in turns if not t.is_owner}) > 1
    return [{"role": "system", "content": reply_system_message(owner)},
            *context_messages(turns[-CONTEXT_TURNS:], group_chat)]


ExampleTurns = list[tuple[RetrievedChunk, list[Message]]]  # a hit and the turns it became


def example_turns_budget(context_tokens: int, max_new_tokens: int,
                         context_window: int | None = None) -> int:
    """The prompt budget of `twin reply` and `twin code` (and of the training samples built for
    them): the context budget, within the model's window when known, less the answer's room."""
    window = context_tokens if context_window is None else min(context_tokens, context_window)
    return window - max_new_tokens


def retrieve_reply_examples(retriever: Searcher, message: str, platform: str | None,
                            k: int) -> tuple[ExampleTurns, list[str]]:
    """The owner's replies to messages like `message`, from their indexed chat windows, as
    user/assistant turns (`twin reply` and its training samples alike); notes say when the
    platform had none and other chats were used."""
    notes: list[str] = []
    hits = retriever.search(message, k=k, filters=SearchFilters(
        kind="message", is_owner=True, platform=platform))
    if platform and not hits:
        notes.append(f"none of your {platform} chats are indexed; used your other chats")
        hits = retriever.search(message, k=k, filters=SearchFilters(kind="message", is_owner=True))
    replies = _owner_replies(retriever, [hit.document_id for hit in hits])
    pairs = []
    for hit in hits:
        pair = _example_pair(hit.text, *replies.get(hit.document_id, ("", "")))
        if pair is not None:
            pairs.append((hit, pair))
    return pairs, notes


def _owner_replies(retriever: Searcher, document_ids: list[int]) -> dict[int, tuple[str, str]]:
    with retriever.sessions() as session:
        rows = session.execute(select(Document.id, Document.author, Document.raw_text)
                               .where(Document.id.in_(document_ids))).all()
    return {doc_id: (author, text) for doc_id, author, text in rows}


class ReplyWriter:
    def __init__(self, retriever: Retriever, backend: Backend, options: ReplyOptions):
        self.retriever = retriever
        self.backend = backend
        self.options = options

    def stream(self, message: str, *, sender: str | None = None, platform: str | None = None,
               context: list[Turn] | None = None) -> ModeStream:
        """The reply as text pieces while it is generated; `result` after the last piece."""
        if not message.strip():
            raise InputError("The message is empty: pass the text you want to answer.")
        if platform is not None and platform not in CHAT_PLATFORMS:
            raise InputError(f"unknown chat platform {platform!r}; choose one of "
                             f"{', '.join(CHAT_PLATFORMS)}")
        self._require_chats()
        return ModeStream(self._pieces(message, sender, platform, context or []))

    def reply(self, message: str, **options) -> ModeResult:
        return self.stream(message, **options).finish()

    def _pieces(self, message: str, sender: str | None, platform: str | None,
                context: list[Turn]) -> Generator[str, None, ModeResult]:
        timings = ModeTimings()
        started = time.perf_counter()
        self.backend.load()
        timings.model_load = time.perf_counter() - started

        started = time.perf_counter()
        examples, notes = retrieve_reply_examples(self.retriever, message, platform,
                                                  self.options.retrieval_k)
        timings.retrieval = time.perf_counter() - started

        started = time.perf_counter()
        sender = sender or next((t.author for t in reversed(context) if not t.is_owner),
                                DEFAULT_SENDER)
        conversation = conversation_messages(self.options.owner, context, message, sender)
        messages, tokens, used = self._fit(conversation, examples)
        timings.prompt_building = time.perf_counter() - started

        started = time.perf_counter()
        stream = self.backend.stream(messages, self.options.generation)
        try:
            yield from stream
        finally:
            stream.close()
        timings.generation = time.perf_counter() - started
        generation = stream.final()
        text = _clean_reply(generation.text, generation.finished, self.options.owner)
        return ModeResult(text, [chunk for chunk, _ in used], messages, tokens, generation,
                          timings, notes)

    def _require_chats(self) -> None:
        with self.retriever.sessions() as session:
            mine = session.scalar(select(func.count()).select_from(Document).where(
                Document.kind == "message", Document.is_owner.is_(True)))
            indexed = session.scalar(select(func.count()).select_from(Chunk).join(Document).where(
                Document.kind == "message", Document.is_owner.is_(True)))
        if not mine:
            raise WorkspaceError("No chat messages of yours are imported, so there is nothing to "
                                 "learn your replies from. Import a chat export first, e.g. `twin "
                                 "ingest 'WhatsApp Chat with Sam.txt' --me 'Your Name'` (WhatsApp, "
                                 "Telegram, Messenger, Instagram or LinkedIn messages), then `twin "
                                 "index`.")
        if not indexed:
            raise WorkspaceError(f"{mine} chat messages of yours are imported but not indexed yet: "
                                 "run `twin index` first.")

    def _fit(self, conversation: list[Message], examples: ExampleTurns):
        """Examples go first, the best nearest the conversation; the lowest ranked ones are
        dropped while the prompt is over the token budget."""
        budget = example_turns_budget(self.options.context_tokens,
                                      self.options.generation.max_new_tokens,
                                      self.backend.context_window)
        return fit_example_turns(conversation[:1], examples, conversation[1:],
                                 count_tokens=self.backend.count_tokens,
                                 render=self.backend.render_prompt, budget_tokens=budget,
                                 too_long="The message with its context needs")


def _example_pair(window: str, author: str, reply: str) -> list[Message] | None:
    """The message the owner answered (the other person's last lines in the window) and the
    owner's reply, as a user/assistant pair; None when the owner spoke first."""
    ending = f"{author}: {reply}"
    if not reply or not window.endswith(ending):
        return None
    before = window[:-len(ending)].rstrip().splitlines()
    start, first_text = None, ""
    for index in range(len(before) - 1, -1, -1):
        match = _SPEAKER_LINE.match(before[index])
        if match and match["name"] == author:
            break
        if match:
            start, first_text = index, match["text"]
            break
    if start is None:
        return None
    lines = before[start:]
    lines[0] = first_text
    said = redact_personal_data("\n".join(lines).strip())[-EXAMPLE_MAX_CHARS:]
    if not said:
        return None
    return [{"role": "user", "content": said},
            {"role": "assistant", "content": reply.strip()[:EXAMPLE_MAX_CHARS]}]


def _clean_reply(text: str, finished: bool, owner: str) -> str:
    """The reply alone: no "Owner:" prefix the model copied from chat lines, no half sentence
    left at the token limit."""
    text = text.strip()
    for name in {owner, owner.split()[0]}:
        if text.casefold().startswith(f"{name.casefold()}:"):
            text = text[len(name) + 1:].strip()
    if not finished:
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        if ends and ends[-1] >= len(text) * 0.5:
            text = text[:ends[-1]].rstrip()
    return text


def read_transcript(path: Path, owner: str) -> list[Turn]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except FileNotFoundError as error:
        raise NotFoundError(f"{path}: no such file.") from error
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from error
    return parse_transcript(text, owner, where=str(path))
