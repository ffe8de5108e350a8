"""The systems under evaluation and how each answers the held-out prompts.

A system is a model (the base, or the fine-tuned run), with or without RAG, with or without draft
ranking. Without RAG the model gets the held-out prompt exactly as trained; with RAG it gets the
prompt `twin write` builds (DraftWriter), whose retrieval is barred from the held-out posts.

Ranked and unranked rows share one batch of K samples per prompt: the unranked row takes one of
them at random (the same distribution as a single draft), the ranked row the one `twin write`
would put first (inference.ranking: the same parts and weights).
That is a paired comparison at half the generation cost.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from llm_twin.backends.base import Backend, GenerationParams
from llm_twin.errors import InputError
from llm_twin.evaluation.heldout import HeldOutPrompt
from llm_twin.inference.ranking import RankingWeights, best_index, draft_fluency, ranking_parts
from llm_twin.inference.writer import DraftWriter, trim_unfinished

MODELS = ("base", "tuned")
SYSTEMS = tuple(f"{model}{rag}{rank}" for model in MODELS for rag in ("", "+rag")
                for rank in ("", "+rank"))


@dataclass(frozen=True)
class System:
    model: str  # "base" or "tuned"
    rag: bool
    ranked: bool

    @property
    def name(self) -> str:
        return self.model + ("+rag" if self.rag else "") + ("+rank" if self.ranked else "")

    @property
    def arm(self) -> tuple[str, bool]:
        """Systems sharing an arm share their generations."""
        return self.model, self.rag

    @classmethod
    def parse(cls, name: str) -> System:
        cleaned = name.strip().lower().replace("fine-tuned", "tuned")
        if cleaned not in SYSTEMS:
            raise InputError(f"Unknown system {name!r} in --systems; choose from {', '.join(SYSTEMS)}.")
        return cls(cleaned.split("+")[0], "+rag" in cleaned, cleaned.endswith("+rank"))


def parse_systems(spec: str | None) -> list[System]:
    names = SYSTEMS if not spec else [n for n in spec.split(",") if n.strip()]
    systems = []
    for name in names:
        system = System.parse(name)
        if system not in systems:
            systems.append(system)
    return systems


class ClicheFinder(Protocol):
    def find(self, text: str) -> list[str]: ...


class Scorer(Protocol):
    """The ranker's scorer (llm_twin.inference.voice.VoiceScorer): voice score and clichés."""

    @property
    def cliches(self) -> ClicheFinder: ...

    def score(self, texts: list[str]) -> list[float]: ...


@dataclass
class ArmOutputs:
    """One arm's answers: per prompt, the unranked pick and the ranked pick."""

    unranked: list[str] = field(default_factory=list)
    ranked: list[str] = field(default_factory=list)
    ranked_voice: list[float] = field(default_factory=list)  # the ranked pick's voice score
    sources: list[list[int]] = field(default_factory=list)  # document ids a RAG prompt drew on
    source_texts: list[list[str]] = field(default_factory=list)  # the texts a RAG prompt showed


def generate_plain(backend: Backend, prompts: list[HeldOutPrompt], params: GenerationParams, *,
                   k: int, scorer: Scorer | None, seed: int,
                   embed: Callable[[list[str]], object] | None = None,
                   weights: RankingWeights = RankingWeights(),
                   advance: Callable[[int], None] = lambda n: None) -> ArmOutputs:
    """K samples of each held-out prompt as trained (one batch per prompt); the ranked pick is
    the one `twin write` would put first (`embed`: the index's embedding model, for relevance;
    `weights`: the ranking weights `twin write` uses)."""
    outputs = ArmOutputs()
    for i, prompt in enumerate(prompts):
        generations = backend.generate([prompt.messages] * k, replace(params, seed=seed + i))
        texts = [g.text if g.finished else trim_unfinished(g.text) for g in generations]
        _pick(outputs, prompt.idea, texts, scorer, embed, random.Random(seed + i),
              backend=backend, messages=prompt.messages, weights=weights)
        outputs.sources.append([])
        outputs.source_texts.append([])
        advance(1)
    return outputs


def generate_with_rag(writer: DraftWriter, prompts: list[HeldOutPrompt], *, k: int,
                      scorer: Scorer | None, seed: int,
                      advance: Callable[[int], None] = lambda n: None) -> ArmOutputs:
    """K drafts of each held-out idea through `twin write`'s own pipeline (retrieval, prompt,
    platform formatting), as one batch per prompt."""
    outputs = ArmOutputs()
    base_params = writer.options.generation
    for i, prompt in enumerate(prompts):
        writer.options.generation = replace(base_params, seed=seed + i)
        try:
            result = writer.write(prompt.idea, prompt.platform, n=k)
        finally:
            writer.options.generation = base_params
        texts = [d.formatted.as_text() for d in result.drafts]
        best_voice = result.drafts[0].voice_score if result.drafts else None
        if scorer is not None and _ranked_by_writer(result.drafts) and best_voice is not None:
            outputs.unranked.append(texts[random.Random(seed + i).randrange(len(texts))])
            outputs.ranked.append(texts[0])  # best first already
            outputs.ranked_voice.append(float(best_voice))
        else:
            _pick(outputs, prompt.idea, texts, scorer, None, random.Random(seed + i),
                  backend=writer.backend, messages=result.prompt.messages,
                  weights=writer.options.rank_weights)
        outputs.sources.append([chunk.document_id for chunk in result.sources])
        outputs.source_texts.append([chunk.text for chunk in result.sources])
        advance(1)
    return outputs


def _ranked_by_writer(drafts) -> bool:
    return len(drafts) > 1 and all(getattr(d, "voice_score", None) is not None for d in drafts)


def _pick(outputs: ArmOutputs, idea: str, texts: list[str], scorer: Scorer | None, embed,
          rng: random.Random, *, backend: object = None, messages=None,
          weights: RankingWeights = RankingWeights()) -> None:
    """Unranked: one at random. Ranked: `twin write`'s order (inference.ranking's parts; the
    unsupported-claims part needs the prompt's notes, which a plain prompt has none of; fluency
    needs the backend and the prompt the texts answered)."""
    outputs.unranked.append(texts[rng.randrange(len(texts))])
    if scorer is None:
        return
    voices = scorer.score(texts)
    fluency = draft_fluency(backend, messages, texts) if messages is not None else None
    parts = ranking_parts(idea, texts, embed=embed, voices=voices, fluency=fluency,
                          cliches=[len(scorer.cliches.find(t)) for t in texts])
    best = best_index(parts, weights)
    outputs.ranked.append(texts[best])
    outputs.ranked_voice.append(float(voices[best]))
