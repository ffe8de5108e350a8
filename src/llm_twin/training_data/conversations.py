"""Conversation samples from chats: prior messages as context -> the owner's reply as the target.

Only the owner's own messages are ever targets. Other people's lines are context at most: they were
pseudonymised and redacted at import, and are redacted again here in case an import predates that
(or a rule improved since). Consecutive messages by one person form one turn, so a reply sent as
three quick messages is learned as one reply. The turns become context the way `twin reply` sends
them (`prompts.chat`).

Each sample also records its conversation window (`SftSample.conversation_documents`): the owner's
messages whose indexed chat window (`features.indexing`, a message with the few before it) shows
the sample's context or its answer. Served-prompt example turns never come from them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from llm_twin.features.indexing import CHAT_WINDOW
from llm_twin.features.redaction import redact_personal_data
from llm_twin.prompts.chat import CONTEXT_TURNS, Turn, context_messages
from llm_twin.prompts.wording import reply_system_message
from llm_twin.storage.models import Document, document_meta
from llm_twin.training_data.owner_texts import MESSAGE_LIMITS
from llm_twin.training_data.quality import QualityReport, drop_repeated_keys
from llm_twin.training_data.samples import CONVERSATION, SftSample


def load_conversations(session: Session) -> list[tuple[Document, list[Document]]]:
    """Each chat conversation's messages in the order written, keyed by its first message."""
    query = select(Document).where(Document.kind == "message").order_by(
        Document.created_at, Document.id)
    grouped: dict[tuple, list[Document]] = defaultdict(list)
    for doc in session.scalars(query):
        conversation = document_meta(doc.extra).get("conversation")
        grouped[(doc.source_id, conversation) if conversation else ("alone", doc.id)].append(doc)
    return [(messages[0], messages) for messages in grouped.values()]


def conversation_samples(conversations: list[tuple[Document, list[Document]]], owner: str,
                         report: QualityReport) -> list[SftSample]:
    samples: list[SftSample] = []
    for _first, messages in conversations:
        turns = _turns(messages)
        places = {doc.id: place for place, doc in enumerate(messages)}
        group_chat = len({t.author for t in turns if not t.is_owner}) > 1
        for index, turn in enumerate(turns):
            if not turn.is_owner:
                continue
            sample = _sample(turns, index, owner, group_chat, messages[0], report)
            if sample is not None:
                sample.conversation_documents = _window_documents(messages, places, turns, index)
                samples.append(sample)
    return drop_repeated_keys(samples, report, key=lambda s: repr(s.messages[1:]))


def _turns(messages: list[Document]) -> list[Turn]:
    turns: list[Turn] = []
    for doc in messages:
        if turns and turns[-1].author == doc.author and turns[-1].is_owner == doc.is_owner:
            turns[-1].texts.append(doc.raw_text.strip())
            turns[-1].document_ids.append(doc.id)
            turns[-1].created_at = doc.created_at or turns[-1].created_at
            continue
        turns.append(Turn(doc.author, bool(doc.is_owner), [doc.raw_text.strip()], [doc.id],
                          doc.created_at))
    return turns


def _sample(turns: list[Turn], index: int, owner: str, group_chat: bool, first: Document,
            report: QualityReport) -> SftSample | None:
    target = turns[index]
    length = len(target.text)
    if length < MESSAGE_LIMITS.min_chars:
        report.drop("too_short")
        return None
    if length > MESSAGE_LIMITS.max_chars:
        report.drop("too_long")
        return None
    context = context_messages(turns[max(0, index - CONTEXT_TURNS):index], group_chat)
    if not context:
        report.drop("no_context")  # the owner opened the conversation: nothing to reply to
        return None
    messages = [{"role": "system", "content": reply_system_message(owner)}, *context,
                {"role": "assistant", "content": target.text}]
    # The message answered is what `twin reply` searches the owner's chats for.
    answered = redact_personal_data(next(t for t in reversed(turns[:index])
                                         if not t.is_owner).texts[-1])
    return SftSample(messages=messages, source=CONVERSATION, platform=first.platform,
                     kind="message", document_id=target.document_ids[0],
                     created_at=target.created_at, source_id=first.source_id, idea=answered)


def _window_documents(messages: list[Document], places: dict[int, int], turns: list[Turn],
                      index: int) -> dict[int, datetime | None]:
    """The owner's messages from the first context turn of `turns[index]` to CHAT_WINDOW messages
    after it: every indexed chat window that holds a line of the sample's prompt or answer."""
    first = places[turns[max(0, index - CONTEXT_TURNS)].document_ids[0]]
    last = places[turns[index].document_ids[-1]] + CHAT_WINDOW
    return {doc.id: doc.created_at for doc in messages[first:last + 1] if doc.is_owner}
