"""The records a dataset build is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llm_twin.backends.base import Message
from llm_twin.platforms import PlatformRules

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
    # The request's parts, kept so the prompt can be rebuilt with served context
    # (training_data.served_prompts); not written to the JSONL (the messages hold them).
    idea: str | None = field(default=None, repr=False)
    rules: PlatformRules | None = field(default=None, repr=False)
    context_source_ids: tuple[int, ...] = ()  # sources of the examples and notes in the prompt
    # A chat reply's conversation window: the owner's messages whose indexed chat window shows
    # its context or its answer, with their dates. Never context for this sample, nor for any
    # sample when it is held out (training_data.served_prompts); not written to the JSONL.
    conversation_documents: dict[int, datetime | None] = field(default_factory=dict, repr=False)

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
    """prompt -> chosen (the owner's real text) over rejected (e.g. the base model's attempt).

    A pair carries its own platform, date and split, so sources that do not start from a training
    sample (a draft the user edited in the app: chosen = their edit) plug in the same way.
    """

    prompt: list[Message]
    chosen: str
    rejected: str
    origin: str  # which PreferenceSource made it, e.g. "base_model"
    platform: str
    kind: str
    created_at: datetime | None
    split: str = "train"
    source: str = INSTRUCTION
    document_id: int | None = None
    # Sources whose text shaped the pair beyond the sample (a served draft's retrieved notes):
    # forgetting one of them deletes the build.
    source_ids: tuple[int, ...] = ()

    @classmethod
    def from_sample(cls, sample: SftSample, rejected: str, origin: str) -> PreferencePair:
        return cls(prompt=sample.prompt, chosen=sample.answer, rejected=rejected, origin=origin,
                   platform=sample.platform, kind=sample.kind, created_at=sample.created_at,
                   split=sample.split, source=sample.source, document_id=sample.document_id,
                   source_ids=sample.context_source_ids)

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt,
                "chosen": [{"role": "assistant", "content": self.chosen}],
                "rejected": [{"role": "assistant", "content": self.rejected}],
                "origin": self.origin, "source": self.source, "platform": self.platform,
                "kind": self.kind, "document_id": self.document_id,
                "created_at": self.created_at.isoformat() if self.created_at else None}
