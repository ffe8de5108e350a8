"""Training samples on the prompt the twin is served with.

`twin write` sends a system message, the owner's style examples, notes retrieved for the idea and
a habits line, then the request. A model tuned only on the bare request loses its voice when it
meets that scaffolding. So each training sample's prompt is rebuilt here by the same functions the
serving command uses, with context retrieved for the sample's own request:
- a post (`twin write`, `DraftWriter`): `retrieve_context` and `build_prompt`;
- a chat reply (`twin reply`, `ReplyWriter`): the owner's replies to similar messages from their
  indexed chat windows (`retrieve_reply_examples`) as example turns before the conversation;
- code (`twin code`, `CodeWriter`): pieces of the owner's code (`retrieve_code_examples`) as
  example turns before the request;
both of the last two fitted by `fit_example_turns`. Commit messages keep the bare request: no
command serves them with context. Three rules keep the answer out of its prompt:
- never a chunk of the answer's own document, nor, for a chat reply, an indexed chat window that
  shows a line of its conversation (`SftSample.conversation_documents`);
- nothing dated after the answer (the filter `twin eval` uses; an undated answer has no date to
  bar by, so only the other rules apply to it);
- never a held-out (test) sample's text, so evaluation stays unseen.

Samples get one of three context shapes, drawn per sample from a recorded mix:
- `full`: examples (and notes) retrieved for the request, as served;
- `distractor`: for a post, examples for the idea but notes retrieved for another post's idea, so
  the model learns to use notes when they fit and not to paraphrase them when they do not; for a
  reply or code, example turns retrieved for another sample's request (what serving shows when
  nothing the owner wrote is close), so the model answers the request, not the examples;
- `bare`: the request alone (what `twin write` sends with no index or `--no-rag`-like use).
The prompt fits the budget its command gives it (`prompt_tokens` for a post; for a reply or code,
the context budget less the answer's room), and prompt + answer fit `sample_tokens`, so a long
answer carries fewer examples and notes, never a truncated answer.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC
from typing import TYPE_CHECKING

from llm_twin.backends.base import Message
from llm_twin.errors import InputError
from llm_twin.inference.code_writer import document_languages, retrieve_code_examples
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.reply import ExampleTurns, example_turns_budget, retrieve_reply_examples
from llm_twin.inference.retrieval import BarredRetriever
from llm_twin.inference.writer import retrieve_context
from llm_twin.platforms import CHAT_PLATFORMS, PlatformRules
from llm_twin.prompts.budget import build_prompt, fit_example_turns
from llm_twin.prompts.era import era_hint
from llm_twin.training_data.samples import CONVERSATION, SftSample

if TYPE_CHECKING:
    from llm_twin.inference.profiles import PlatformProfile
    from llm_twin.inference.retrieval import Retriever

CONTEXT_SHAPES = ("full", "distractor", "bare")
PROMPT_KINDS = ("post", "reply", "code")  # served by `twin write`, `twin reply`, `twin code`
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
            raise InputError(f"context mix {shares}: shares must be >= 0 and not all 0 "
                             "(full, distractor, bare).")

    @classmethod
    def parse(cls, text: str) -> ContextMix:
        """'0.6,0.2,0.2' (full, distractor, bare)."""
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 3:
            raise InputError(f"--context-mix {text!r}: give three shares, full,distractor,bare, "
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
    retrieval_k: int = 4  # notes, reply and code examples, as the writers retrieve them
    style_examples: int = 3  # as WriterOptions.style_examples
    sample_tokens: int = 512  # prompt + answer; match `twin train --max-length`
    prompt_tokens: int = 384  # the prompt budget `twin write` uses (setting prompt_tokens)
    # The prompt budget of `twin reply` and `twin code` (inference.reply.example_turns_budget).
    turns_prompt_tokens: int = example_turns_budget(2048, 220)
    mix: ContextMix = field(default_factory=ContextMix)
    seed: int = 0
    era_tags: bool = False  # a post's habits line ends with its answer's year (prompts.era)


@dataclass
class ShapeCounts:
    """How some samples' prompts were shaped."""

    shapes: Counter = field(default_factory=Counter)
    notes: int = 0
    examples: int = 0
    over_budget: int = 0  # samples left bare because even the bare prompt filled the budget

    def to_json(self, samples: int) -> dict:
        return {"shapes": dict(self.shapes),
                "mean_notes": round(self.notes / samples, 2) if samples else 0.0,
                "mean_examples": round(self.examples / samples, 2) if samples else 0.0,
                "left_bare_over_budget": self.over_budget}


@dataclass
class ContextReport(ShapeCounts):
    """What the card records about the samples' prompts: all kinds together and per kind."""

    mix: dict[str, float] = field(default_factory=dict)
    index: bool = True  # False: no index, every sample bare
    by_kind: dict[str, ShapeCounts] = field(default_factory=dict)

    def record(self, kind: str, shape: str, *, examples: int = 0, notes: int = 0,
               over_budget: bool = False) -> None:
        for counts in (self, self.by_kind.setdefault(kind, ShapeCounts())):
            counts.shapes[shape] += 1
            counts.examples += examples
            counts.notes += notes
            counts.over_budget += over_budget

    def to_json(self, samples: int) -> dict:
        return {"mix": self.mix, **super().to_json(samples), "index": self.index,
                "by_kind": {kind: {"samples": sum(counts.shapes.values()),
                                   **counts.to_json(sum(counts.shapes.values()))}
                            for kind, counts in sorted(self.by_kind.items())}}


@dataclass
class ShapedPrompt:
    messages: list[Message]
    examples: list[RetrievedChunk]
    notes: list[RetrievedChunk]


HeldOut = Mapping[int, datetime | None] | Set[int]  # documents (with dates when known)


class ServedPromptBuilder:
    """Rebuilds training samples' prompts as their command would serve them (see module doc)."""

    def __init__(self, retriever: Retriever, settings: ServedPromptSettings, *,
                 count_tokens: Callable[[str], int], render: Callable[[list[Message]], str],
                 profiles: dict[str, PlatformProfile] | None = None):
        self.retriever = retriever
        self.settings = settings
        self.count_tokens = count_tokens
        self.render = render
        self.profiles = profiles or {}
        self.report = ContextReport(mix=settings.mix.as_dict())
        self._languages: dict[int, str | None] = {}

    def apply(self, samples: Sequence[SftSample], *, held_out_documents: HeldOut) -> None:
        """Give each sample that a command serves with context its shaped prompt, in place;
        records the shapes. `held_out_documents`: see `held_out_documents()` (a plain set of ids:
        dates unknown, each barred from every sample)."""
        by_kind: dict[str, list[SftSample]] = defaultdict(list)
        for sample in samples:
            kind = prompt_kind(sample)
            if kind is not None:
                by_kind[kind].append(sample)
        if by_kind.get("code"):
            self._languages = document_languages(self.retriever,
                                                 [s.document_id for s in by_kind["code"]])
        for kind, eligible in by_kind.items():
            rng = random.Random(f"{self.settings.seed}:{kind}")
            for sample in eligible:
                shape = self.settings.mix.shape_for(_sample_key(sample), self.settings.seed)
                other = _another(eligible, sample, rng) if shape == "distractor" else None
                if shape == "distractor" and other is None:
                    shape = "full"
                self._shape(kind, sample, shape, other.idea if other else None,
                            held_out_documents)

    def _shape(self, kind: str, sample: SftSample, shape: str, distractor_idea: str | None,
               held_out_documents: HeldOut) -> None:
        retriever = (None if shape == "bare"
                     else barred_retriever(self.retriever, sample, held_out_documents))
        build = {"post": self._post, "reply": self._reply, "code": self._code}[kind]
        prompt = build(sample, retriever, distractor_idea)
        if prompt is None:
            self.report.record(kind, "bare", over_budget=True)
            return
        sample.messages = [*prompt.messages, sample.messages[-1]]
        sample.context_source_ids = tuple(sorted({c.source_id for c in
                                                  prompt.examples + prompt.notes}))
        sample.extra["context"] = {
            "shape": shape, "examples": [c.document_id for c in prompt.examples],
            "notes": [c.document_id for c in prompt.notes]}
        self.report.record(kind, shape, examples=len(prompt.examples), notes=len(prompt.notes))

    def _post(self, sample: SftSample, retriever: BarredRetriever | None,
              distractor_idea: str | None) -> ShapedPrompt | None:
        examples: list[RetrievedChunk] = []
        notes: list[RetrievedChunk] = []
        if retriever is not None:
            examples, notes = retrieve_context(retriever, _idea_of(sample), _rules_of(sample),
                                               examples=self.settings.style_examples,
                                               notes=self.settings.retrieval_k,
                                               notes_idea=distractor_idea)
        prompt = self.prompt(sample, examples, notes)
        return None if prompt is None else ShapedPrompt(prompt.messages, prompt.examples,
                                                        prompt.notes)

    def _reply(self, sample: SftSample, retriever: BarredRetriever | None,
               distractor_idea: str | None) -> ShapedPrompt | None:
        """`twin reply --platform <the chat's platform>`'s example turns."""
        examples: ExampleTurns = []
        if retriever is not None:
            platform = sample.platform if sample.platform in CHAT_PLATFORMS else None
            examples, _ = retrieve_reply_examples(retriever, distractor_idea or _idea_of(sample),
                                                  platform, self.settings.retrieval_k)
        return self.fit_turns(sample, examples)

    def _code(self, sample: SftSample, retriever: BarredRetriever | None,
              distractor_idea: str | None) -> ShapedPrompt | None:
        """`twin code`'s example turns, in the language of the sample's file."""
        examples: ExampleTurns = []
        if retriever is not None:
            examples = retrieve_code_examples(retriever, distractor_idea or _idea_of(sample),
                                              self._languages.get(sample.document_id),
                                              self.settings.retrieval_k)
        return self.fit_turns(sample, examples)

    def prompt(self, sample: SftSample, examples: list[RetrievedChunk],
               notes: list[RetrievedChunk]):
        """`build_prompt` exactly as `DraftWriter` calls it, within the sample's budget; None
        when even the bare request does not leave room for the answer."""
        idea, rules = _idea_of(sample), _rules_of(sample)
        budget = min(self.settings.prompt_tokens, self._room(sample))
        try:
            return build_prompt(idea, self.settings.owner, rules, examples, notes,
                                count_tokens=self.count_tokens, render=self.render,
                                budget_tokens=budget, habits=self.habits(sample))
        except ValueError:  # the idea alone is over the budget: keep the bare sample
            return None

    def fit_turns(self, sample: SftSample, examples: ExampleTurns) -> ShapedPrompt | None:
        """`fit_example_turns` exactly as `ReplyWriter` and `CodeWriter` call it: the sample's
        system message, the example turns, then its conversation or request; None when that
        alone does not leave room for the answer."""
        budget = min(self.settings.turns_prompt_tokens, self._room(sample))
        try:
            messages, _, used = fit_example_turns(
                sample.prompt[:1], examples, sample.prompt[1:], count_tokens=self.count_tokens,
                render=self.render, budget_tokens=budget, too_long="The sample needs")
        except ValueError:
            return None
        return ShapedPrompt(messages, [hit for hit, _ in used], [])

    def _room(self, sample: SftSample) -> int:
        """What `sample_tokens` leaves the prompt beside the whole answer."""
        answer_tokens = self.count_tokens(sample.answer) + END_OF_ANSWER_TOKENS
        return self.settings.sample_tokens - answer_tokens

    def habits(self, sample: SftSample) -> list[str]:
        """The habits line `twin write` adds for this platform (the owner's profile)."""
        profile = self.profiles.get(_rules_of(sample).name)
        hints = profile.prompt_hints() if profile is not None else []
        if self.settings.era_tags and sample.created_at is not None:
            hints = [*hints, era_hint(sample.created_at.year)]
        return hints


def _idea_of(sample: SftSample) -> str:
    if sample.idea is None:  # prompt_kind() gives such a sample no kind, so no prompt
        raise ValueError(f"The sample of document {sample.document_id} has no request to shape.")
    return sample.idea


def _rules_of(sample: SftSample) -> PlatformRules:
    if sample.rules is None:  # prompt_kind() makes only a sample with its rules a "post"
        raise ValueError(f"The sample of document {sample.document_id} has no platform rules.")
    return sample.rules


def prompt_kind(sample: SftSample) -> str | None:
    """The command whose prompt a sample is trained on ("post", "reply", "code"); None for one
    no command serves with context (a commit message) or one without its request's parts."""
    if sample.idea is None:
        return None
    if sample.source == CONVERSATION:
        return "reply"
    if sample.kind == "code":
        return "code"
    return "post" if sample.rules is not None else None


def held_out_documents(samples: Sequence[SftSample]) -> dict[int, datetime | None]:
    """Every document whose indexed text shows a held-out (test) sample, with its date: the
    answer's own document and, for a chat reply, its conversation window."""
    held_out: dict[int, datetime | None] = {}
    for sample in samples:
        if sample.split == "test":
            held_out[sample.document_id] = sample.created_at
            held_out.update(sample.conversation_documents)
    return held_out


def barred_retriever(retriever: Retriever, sample: SftSample,
                     held_out_documents: HeldOut) -> BarredRetriever:
    """What a sample may draw on: earlier texts, not its own document or conversation window,
    no held-out text. Held-out documents dated after the sample are barred by the date already;
    naming only the others keeps the search shallow."""
    until = sample.created_at - timedelta(microseconds=1) if sample.created_at else None
    dated = (held_out_documents if isinstance(held_out_documents, Mapping)
             else dict.fromkeys(held_out_documents))
    visible = {document for document, when in dated.items()
               if until is None or when is None or _utc(when) <= _utc(until)}
    return BarredRetriever(retriever, until=until, excluded_documents={
        sample.document_id, *sample.conversation_documents, *visible})


def _utc(moment: datetime) -> datetime:
    """A naive datetime means UTC, as in the warehouse."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _another(samples: Sequence[SftSample], sample: SftSample,
             rng: random.Random) -> SftSample | None:
    """Another sample of the same kind, for the distractor shape; None when there is none."""
    if len(samples) < 2:
        return None
    other = rng.choice(samples)
    while other is sample:
        other = rng.choice(samples)
    return other


def _sample_key(sample: SftSample) -> str:
    return f"{sample.document_id}:{sample.extra.get('section', '')}"
