"""`twin write`: retrieve, build the prompt, generate N drafts as one batch, fit the platform."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from llm_twin.backends.base import Backend, Generation, GenerationParams
from llm_twin.inference.platforms import FormattedDraft, PlatformRules, format_draft, rules_for
from llm_twin.inference.prompting import BuiltPrompt, build_prompt
from llm_twin.inference.retrieval import RetrievedChunk, Retriever
from llm_twin.storage.vector_store import SearchFilters

LONG_FORM = ("medium", "substack")
# Chat windows hold other people's (redacted) lines and a conversational register: never used as
# notes or style examples for a post.
CHATS = ("message",)
_SENTENCE_END = re.compile(r"[.!?…](?:[\"')\]]*)(?=\s|$)|\n")


def trim_unfinished(text: str) -> str:
    """Drop the half sentence left when generation hit max_new_tokens, if that loses little."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] >= len(text) * 0.5:
        return text[:ends[-1]].rstrip()
    return text


@dataclass
class WriteTimings:
    model_load: float = 0.0
    retrieval: float = 0.0
    prompt_building: float = 0.0
    generation: float = 0.0

    @property
    def total(self) -> float:
        return self.model_load + self.retrieval + self.prompt_building + self.generation


@dataclass
class Draft:
    formatted: FormattedDraft
    generation: Generation


@dataclass
class WriteResult:
    idea: str
    platform: str
    drafts: list[Draft]
    prompt: BuiltPrompt
    timings: WriteTimings = field(default_factory=WriteTimings)

    @property
    def sources(self) -> list[RetrievedChunk]:
        """The documents the prompt drew on, each once, notes first."""
        seen: set[int] = set()
        unique = []
        for chunk in self.prompt.notes + self.prompt.examples:
            if chunk.document_id not in seen:
                seen.add(chunk.document_id)
                unique.append(chunk)
        return unique


@dataclass
class WriterOptions:
    owner: str
    retrieval_k: int = 4
    style_examples: int = 3
    context_tokens: int = 2048
    generation: GenerationParams = field(default_factory=GenerationParams)


class DraftWriter:
    def __init__(self, retriever: Retriever, backend: Backend, options: WriterOptions):
        self.retriever = retriever
        self.backend = backend
        self.options = options

    def write(self, idea: str, platform: str, *, n: int = 1) -> WriteResult:
        if not idea.strip():
            raise ValueError("The idea is empty: say in a few words what the post should be about.")
        rules = rules_for(platform)
        timings = WriteTimings()

        started = time.perf_counter()
        self.backend.load()
        timings.model_load = time.perf_counter() - started

        started = time.perf_counter()
        notes = self.retriever.search(idea, k=self.options.retrieval_k,
                                      filters=SearchFilters(is_owner=True, exclude_kinds=CHATS))
        examples = self._style_examples(idea, rules)
        timings.retrieval = time.perf_counter() - started

        started = time.perf_counter()
        budget = min(self.options.context_tokens, self.backend.context_window)
        prompt = build_prompt(idea, self.options.owner, rules, examples, notes,
                              count_tokens=self.backend.count_tokens,
                              render=self.backend.render_prompt,
                              budget_tokens=budget - self.options.generation.max_new_tokens)
        timings.prompt_building = time.perf_counter() - started

        started = time.perf_counter()
        generations = self.backend.generate([prompt.messages] * n, self.options.generation)
        timings.generation = time.perf_counter() - started

        drafts = [Draft(format_draft(g.text if g.finished else trim_unfinished(g.text), platform), g)
                  for g in generations]
        return WriteResult(idea, platform, drafts, prompt, timings)

    def _style_examples(self, idea: str, rules: PlatformRules) -> list[RetrievedChunk]:
        """The owner's own posts on this platform; failing that, their texts of the same form."""
        wanted = self.options.style_examples
        if wanted <= 0:
            return []
        found = self.retriever.search(idea, k=wanted, filters=SearchFilters(
            platform=rules.name, is_owner=True, exclude_kinds=CHATS))
        kinds = ("article",) if rules.name in LONG_FORM else ("post", "thread")
        for kind in kinds:
            if len(found) >= wanted:
                break
            more = self.retriever.search(idea, k=wanted,
                                         filters=SearchFilters(kind=kind, is_owner=True))
            known = {c.chunk_id for c in found}
            found += [c for c in more if c.chunk_id not in known][:wanted - len(found)]
        return found
