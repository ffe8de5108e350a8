"""The records a dataset build is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llm_twin.backends.base import Message

INSTRUCTION = "instruction"
CONVERSATION = "conversation"


@dataclass
class SftSample:
    """One supervised example: the last message is the assistant's answer, the owner's real text."""

    messages: list[Message]
    source: str  # INSTRUCTION or CONVERSATION
    platform: str
    kind: str
    document_id: int
    created_at: datetime | None
    source_id: int | None = None
    split: str = "train"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        return self.messages[-1]["content"]

    @property
    def prompt(self) -> list[Message]:
        return self.messages[:-1]

    def to_json(self) -> dict[str, Any]:
        return {"messages": self.messages, "source": self.source, "platform": self.platform,
                "kind": self.kind, "document_id": self.document_id,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                **self.extra}


@dataclass
class PreferencePair:
    """prompt -> chosen (the owner's real text) over rejected (e.g. the base model's attempt)."""

    prompt: list[Message]
    chosen: str
    rejected: str
    origin: str  # which PreferenceSource made it, e.g. "base_model"
    sample: SftSample

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt,
                "chosen": [{"role": "assistant", "content": self.chosen}],
                "rejected": [{"role": "assistant", "content": self.rejected}],
                "origin": self.origin, "source": self.sample.source,
                "platform": self.sample.platform, "kind": self.sample.kind,
                "document_id": self.sample.document_id,
                "created_at": self.sample.created_at.isoformat() if self.sample.created_at else None}
