"""Chat turns as a reply prompt's context: the conversation dataset's samples and `twin reply`
alike, so serving builds what training saw.

Consecutive messages by one person form one turn. Other people's lines are redacted again here in
case an import predates redaction (or a rule improved since); in group chats they are prefixed
with the sender's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from llm_twin.backends.base import Message
from llm_twin.features.redaction import redact_personal_data

CONTEXT_TURNS = 6
CONTEXT_MAX_CHARS = 2000


@dataclass
class Turn:
    author: str
    is_owner: bool
    texts: list[str]
    document_ids: list[int]
    created_at: datetime | None

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def context_messages(window: list[Turn], group_chat: bool) -> list[Message]:
    """Chat turns as user/assistant messages, starting at someone else's turn, oldest dropped
    first when over the character budget."""
    while window and window[0].is_owner:
        window = window[1:]
    messages = [_as_message(turn, group_chat) for turn in window]
    while len(messages) > 1 and sum(len(m["content"]) for m in messages) > CONTEXT_MAX_CHARS:
        messages = messages[1:]
        while messages and messages[0]["role"] == "assistant":
            messages = messages[1:]
    return messages


def _as_message(turn: Turn, group_chat: bool) -> Message:
    if turn.is_owner:
        return {"role": "assistant", "content": turn.text}
    text = "\n".join(redact_personal_data(t) for t in turn.texts)
    return {"role": "user", "content": f"{turn.author}: {text}" if group_chat else text}
