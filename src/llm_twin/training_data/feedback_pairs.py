"""Preference pairs from the user's feedback on served drafts (the web app and the API).

- A draft the user edited: their edit (their own words) is chosen over the model's draft.
- A draft rated down: chosen is a sibling of the same request the user edited (their edit) or
  rated up (a draft they said they would publish); without such a sibling it makes no pair.
- A blind-test round the user answered (`twin blind-test`, app.blind_test): their real post is
  chosen over the twin's draft for the same idea, whichever they picked (`feedback:blind_test`).
  The real text is read from the warehouse (the round keeps its document id and span, not a copy);
  a round whose post is gone or changed makes no pair. When the post is a held-out answer of this
  build, the pair goes to the test split, so training never sees a held-out post.

The prompt is the idea as the training samples ask it (system message + request, no retrieved
notes), so the pairs train the same prompt shape as the SFT samples. Pairs are dated by the
feedback and go to the train split (blind-test pairs on a held-out post excepted): the held-out
split stays the owner's real, dated posts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.base import Message
from llm_twin.features.shingles import words
from llm_twin.platforms import rules_for
from llm_twin.prompts.wording import system_message, user_message
from llm_twin.storage.models import Document, GenerationRecord
from llm_twin.training_data.instructions import round_length
from llm_twin.training_data.samples import CONVERSATION, INSTRUCTION, PreferencePair, SftSample

EDITED = "user_edit"
RATED = "user_rating"
BLIND_TEST = "blind_test"  # app.blind_test.ENDPOINT: the endpoint and the origin


@dataclass
class FeedbackPreferences:
    """PreferenceSource over the generation log."""

    sessions: sessionmaker[Session]
    owner: str
    name: str = "feedback"

    def pairs(self, samples: Sequence[SftSample] = ()) -> Iterator[PreferencePair]:
        with self.sessions() as session:
            records = list(session.scalars(
                select(GenerationRecord)
                .where(or_(GenerationRecord.edited_text.is_not(None),
                           GenerationRecord.rating.is_not(None)))
                .order_by(GenerationRecord.id)))
            blind = list(session.scalars(
                select(GenerationRecord).where(GenerationRecord.endpoint == BLIND_TEST)
                .order_by(GenerationRecord.id)))
            answered = [r for r in blind if (r.request or {}).get("pick") is not None]
            ids = {r.request.get("document_id") for r in answered}
            real = {d.id: d.raw_text for d in session.scalars(
                select(Document).where(Document.id.in_(ids)))} if ids else {}
            session.expunge_all()
        records = [r for r in records if r.endpoint != BLIND_TEST]
        by_request: dict[str, list[GenerationRecord]] = defaultdict(list)
        for record in records:
            by_request[record.request_id].append(record)
        for record in records:
            pair = self._pair(record, by_request[record.request_id])
            if pair is not None:
                yield pair
        held_out = {s.document_id for s in samples if s.split == "test"}
        for record in answered:
            pair = self._blind_test_pair(record, real, held_out)
            if pair is not None:
                yield pair

    def _blind_test_pair(self, record: GenerationRecord, real: dict[int, str],
                         held_out: set[int]) -> PreferencePair | None:
        """The real post (chosen) over the twin's draft (rejected) of one answered round."""
        document_id = record.request.get("document_id")
        start, end = (record.request.get("span") or (0, 0))[:2]
        chosen = real.get(document_id, "")[start:end] if document_id in real else ""
        if not _differs(chosen, record.output):
            return None
        pair = self._make(record, chosen=chosen, rejected=record.output, origin=BLIND_TEST)
        if pair is None:
            return None
        return replace(pair, document_id=document_id,
                       split="test" if document_id in held_out else "train")

    def _pair(self, record: GenerationRecord, siblings: list[GenerationRecord]) -> PreferencePair | None:
        if record.edited_text and _differs(record.edited_text, record.output):
            return self._make(record, chosen=record.edited_text, rejected=record.output, origin=EDITED)
        if record.rating != "down":
            return None
        for sibling in siblings:
            if sibling.id == record.id:
                continue
            chosen = sibling.edited_text or (sibling.output if sibling.rating == "up" else None)
            if chosen and _differs(chosen, record.output):
                return self._make(record, chosen=chosen, rejected=record.output, origin=RATED)
        return None

    def _make(self, record: GenerationRecord, *, chosen: str, rejected: str,
              origin: str) -> PreferencePair | None:
        prompt = self._prompt(record, chosen)
        if prompt is None:
            return None
        return PreferencePair(prompt=prompt, chosen=chosen.strip(), rejected=rejected.strip(),
                              origin=f"{self.name}:{origin}",
                              platform=record.platform or "chat",
                              kind="message" if record.endpoint == "chat" else "post",
                              created_at=record.feedback_at or record.created_at, split="train",
                              source=CONVERSATION if record.endpoint == "chat" else INSTRUCTION,
                              source_ids=tuple(record.source_ids or ()))

    def _prompt(self, record: GenerationRecord, chosen: str) -> list[Message] | None:
        if record.endpoint == "chat":
            messages = (record.request or {}).get("messages") or []
            return [dict(m) for m in messages] or None
        if not record.idea or not record.platform:
            return None
        rules = replace(rules_for(record.platform), target_chars=round_length(len(chosen)))
        return [{"role": "system", "content": system_message(self.owner)},
                {"role": "user", "content": user_message(record.idea, rules, [], [])}]


def _differs(chosen: str, rejected: str) -> bool:
    return bool(chosen.strip()) and words(chosen) != words(rejected)
