"""Training samples on the prompt the twin is served with.

`twin write` sends a system message, the owner's style examples, notes retrieved for the idea and
a habits line, then the request. A model tuned only on the bare request loses its voice when it
meets that scaffolding. So each training sample's prompt is rebuilt here by the same functions
`DraftWriter` uses (`retrieve_context`, `build_prompt`), with context
retrieved for the sample's own idea, under three rules that keep the answer out of its prompt:
- never a chunk of the answer's own document;
- nothing dated after the answer (the filter `twin eval` uses; an undated answer has no date to
  bar by, so only the next rules apply to it);
- never a held-out post (the test split), so evaluation stays unseen.

Samples get one of three context shapes, drawn per sample from a recorded mix:
- `full`: examples and notes retrieved for the idea, as served;
- `distractor`: examples for the idea, but the notes retrieved for another sample's idea, so the
  model learns to use notes when they fit and not to paraphrase them when they do not;
- `bare`: the request alone (what `twin write` sends with no index or `--no-rag`-like use).
The prompt fits the budget `twin write` gives it (`prompt_tokens`), and prompt + answer fit
`sample_tokens`, so a long answer carries fewer examples and notes, never a truncated answer.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from llm_twin.backends.base import Message
from llm_twin.inference.prompting import build_prompt
from llm_twin.inference.retrieval import BarredRetriever, RetrievedChunk
from llm_twin.inference.writer import retrieve_context
from llm_twin.training_data.samples import SftSample

if TYPE_CHECKING:
    from llm_twin.inference.profiles import PlatformProfile
    from llm_twin.inference.retrieval import Retriever

CONTEXT_SHAPES = ("full", "distractor", "bare")
END_OF_ANSWER_TOKENS = 2  # the chat template's end-of-turn marker and newline after the answer


@dataclass(frozen=True)
class ContextMix:
    """Shares of the context shapes among training samples (normalised to sum to 1)."""

    full: float = 0.6
    distractor: float = 0.2
    bare: float = 0.2

    def __post_init__(self) -> None:
        shares = (self.full, self.distractor, self.bare)
        if any(share < 0 for share in shares) or sum(shares) <= 0:
            raise ValueError(f"context mix {shares}: shares must be >= 0 and not all 0 "
                             "(full, distractor, bare).")

    @classmethod
    def parse(cls, text: str) -> ContextMix:
        """'0.6,0.2,0.2' (full, distractor, bare)."""
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 3:
            raise ValueError(f"--context-mix {text!r}: give three shares, full,distractor,bare, "
                             "e.g. 0.6,0.2,0.2.")
        return cls(*values)

    def as_dict(self) -> dict[str, float]:
        total = self.full + self.distractor + self.bare
        return {"full": self.full / total, "distractor": self.distractor / total,
                "bare": self.bare / total}

    def shape_for(self, key: str, seed: int) -> str:
        """The shape of one sample: stable for its key and the seed, whatever else is built."""
        digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        cumulative = 0.0
        for shape, share in self.as_dict().items():
            cumulative += share
            if draw < cumulative:
                return shape
        return "bare"


@dataclass(frozen=True)
class ServedPromptSettings:
    owner: str
    retrieval_k: int = 4  # notes, as `twin write` retrieves them (WriterOptions.retrieval_k)
    style_examples: int = 3  # as WriterOptions.style_examples
    sample_tokens: int = 512  # prompt + answer; match `twin train --max-length`
    prompt_tokens: int = 384  # the prompt budget `twin write` uses (setting prompt_tokens)
    mix: ContextMix = field(default_factory=ContextMix)
    seed: int = 0


@dataclass
class ContextReport:
    """What the card records about the samples' prompts."""

    mix: dict[str, float] = field(default_factory=dict)
    shapes: Counter = field(default_factory=Counter)
    notes: int = 0
    examples: int = 0
    over_budget: int = 0  # samples left bare because even the bare prompt filled the budget
    index: bool = True  # False: no index, every sample bare

    def to_json(self, samples: int) -> dict:
        return {"mix": self.mix, "shapes": dict(self.shapes), "index": self.index,
                "mean_notes": round(self.notes / samples, 2) if samples else 0.0,
                "mean_examples": round(self.examples / samples, 2) if samples else 0.0,
                "left_bare_over_budget": self.over_budget}


class ServedPromptBuilder:
    """Rebuilds training samples' prompts as `twin write` would serve them (see module doc)."""

    def __init__(self, retriever: Retriever, settings: ServedPromptSettings, *,
                 count_tokens: Callable[[str], int], render: Callable[[list[Message]], str],
                 profiles: dict[str, PlatformProfile] | None = None):
        self.retriever = retriever
        self.settings = settings
        self.count_tokens = count_tokens
        self.render = render
        self.profiles = profiles or {}
        self.report = ContextReport(mix=settings.mix.as_dict())

    def apply(self, samples: Sequence[SftSample], *, held_out_documents: set[int]) -> None:
        """Give each sample that has an idea its shaped prompt, in place; records the shapes."""
        eligible = [s for s in samples if s.idea is not None and s.rules is not None]
        rng = random.Random(self.settings.seed)
        for sample in eligible:
            shape = self.settings.mix.shape_for(_sample_key(sample), self.settings.seed)
            distractor_idea = None
            if shape == "distractor" and len(eligible) > 1:
                other = rng.choice(eligible)
                while other is sample:
                    other = rng.choice(eligible)
                distractor_idea = other.idea
            elif shape == "distractor":
                shape = "full"
            self._shape(sample, shape, distractor_idea, held_out_documents)

    def _shape(self, sample: SftSample, shape: str, distractor_idea: str | None,
               held_out_documents: set[int]) -> None:
        examples: list[RetrievedChunk] = []
        notes: list[RetrievedChunk] = []
        if shape != "bare":
            retriever = barred_retriever(self.retriever, sample, held_out_documents)
            examples, notes = retrieve_context(retriever, sample.idea, sample.rules,
                                               examples=self.settings.style_examples,
                                               notes=self.settings.retrieval_k,
                                               notes_idea=distractor_idea)
        prompt = self.prompt(sample, examples, notes)
        if prompt is None:
            self.report.over_budget += 1
            shape = "bare"
        else:
            sample.messages = [*prompt.messages, sample.messages[-1]]
            sample.context_source_ids = tuple(sorted({c.source_id for c in
                                                      prompt.examples + prompt.notes}))
            sample.extra["context"] = {
                "shape": shape, "examples": [c.document_id for c in prompt.examples],
                "notes": [c.document_id for c in prompt.notes]}
            self.report.notes += len(prompt.notes)
            self.report.examples += len(prompt.examples)
        self.report.shapes[shape] += 1

    def prompt(self, sample: SftSample, examples: list[RetrievedChunk],
               notes: list[RetrievedChunk]):
        """`build_prompt` exactly as `DraftWriter` calls it, within the sample's budget; None
        when even the bare request does not leave room for the answer."""
        answer_tokens = self.count_tokens(sample.answer) + END_OF_ANSWER_TOKENS
        budget = min(self.settings.prompt_tokens, self.settings.sample_tokens - answer_tokens)
        try:
            return build_prompt(sample.idea, self.settings.owner, sample.rules, examples, notes,
                                count_tokens=self.count_tokens, render=self.render,
                                budget_tokens=budget, habits=self.habits(sample))
        except ValueError:  # the idea alone is over the budget: keep the bare sample
            return None

    def habits(self, sample: SftSample) -> list[str]:
        """The habits line `twin write` adds for this platform (the owner's profile)."""
        profile = self.profiles.get(sample.rules.name)
        return profile.prompt_hints() if profile is not None else []


def barred_retriever(retriever: Retriever, sample: SftSample,
                     held_out_documents: set[int]) -> BarredRetriever:
    """What a sample may draw on: earlier texts, not its own document, no held-out post."""
    until = sample.created_at - timedelta(microseconds=1) if sample.created_at else None
    return BarredRetriever(retriever, until=until,
                           excluded_documents={sample.document_id, *held_out_documents})


def _sample_key(sample: SftSample) -> str:
    return f"{sample.document_id}:{sample.extra.get('section', '')}"
