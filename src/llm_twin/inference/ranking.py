"""Ranking a batch of drafts for passing as the person, not for looking typical.

Each draft gets its parts (`RankingParts`), shown one by one in `twin write --json`:
- relevance: cosine similarity of the draft and the idea (the embedding model of the index);
- clichés: the base model's stock phrases the owner never uses;
- unsupported: first-person facts found in none of the owner's texts (grounding.DraftChecker);
- repetition: share of the draft's word 3-grams that repeat an earlier one (small models loop);
- voice: the voice model's probability that the owner wrote it;
- fluency: the mean log-probability per token of the draft given its prompt under the model that
  wrote it (None where the backend cannot score: llama.cpp, OpenAI-compatible servers).

    score = relevance·w_rel − w_cliché·clichés − w_unsupported·unsupported
            − w_rep·repetition + w_voice·(voice − 0.5) + w_fluency·fluency

`ranking_parts` assembles the parts of a batch, for `twin write -n N` and `twin eval`'s ranked
systems alike. The fluency weight is negative (FLUENCY_WEIGHT): small models' drafts are far more
likely under the model than the owner's own posts, and preferring the less likely draft of a batch
made the picks harder for a detector to tell from real posts.

The voice weight is 0 by default: best-of-N selection by the char-n-gram voice score made drafts
easier for a detector to tell from real posts (issue 15: brandur 0.68 → 0.88 AUC), because it
picks the most typical draft, not the most human one. It stays a part, for display and for
whoever sets `rank_voice_weight`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from llm_twin.backends.base import Message, score_completions

CLICHE_PENALTY = 0.05
MAX_CLICHE_HITS = 6
UNSUPPORTED_PENALTY = 0.05
# Negative: prefer the drafts the model found less likely. Drafts are far likelier under the model
# than the owner's real posts (mean log-prob/token about -1.8 against -3.4 on two tuned owners), and
# picking the less likely of 4 lowered the detector AUC on both (README: Voice score).
FLUENCY_WEIGHT = -1.0
MAX_UNSUPPORTED_HITS = 4
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class RankingWeights:
    relevance: float = 1.0
    cliche: float = CLICHE_PENALTY
    unsupported: float = UNSUPPORTED_PENALTY
    repetition: float = 1.0
    voice: float = 0.0
    fluency: float = FLUENCY_WEIGHT


@dataclass
class RankingParts:
    relevance: float | None = None  # None: no embedding model at hand
    cliches: int = 0
    unsupported: int = 0
    repetition: float = 0.0
    voice: float | None = None
    fluency: float | None = None  # mean log-prob per token; None: the backend cannot score

    def score(self, weights: RankingWeights = RankingWeights()) -> float:
        """Higher is better."""
        total = weights.relevance * (self.relevance or 0.0)
        total -= weights.cliche * min(self.cliches, MAX_CLICHE_HITS)
        total -= weights.unsupported * min(self.unsupported, MAX_UNSUPPORTED_HITS)
        total -= weights.repetition * self.repetition
        if self.voice is not None:
            total += weights.voice * (self.voice - 0.5)
        if self.fluency is not None:
            total += weights.fluency * self.fluency
        return total

    def to_json(self, weights: RankingWeights = RankingWeights()) -> dict:
        return {"relevance": self.relevance, "cliches": self.cliches,
                "unsupported_claims": self.unsupported, "repetition": round(self.repetition, 4),
                "voice": self.voice,
                "fluency": round(self.fluency, 4) if self.fluency is not None else None,
                "score": round(self.score(weights), 4),
                "weights": {"relevance": weights.relevance, "cliche": weights.cliche,
                            "unsupported": weights.unsupported, "repetition": weights.repetition,
                            "voice": weights.voice, "fluency": weights.fluency}}


def ranking_parts(idea: str, texts: Sequence[str], *,
                  embed: Callable[[list[str]], np.ndarray] | None = None,
                  cliches: Sequence[int] | None = None, unsupported: Sequence[int] | None = None,
                  voices: Sequence[float | None] | None = None,
                  fluency: Sequence[float | None] | None = None) -> list[RankingParts]:
    """The parts of each draft of one batch. Relevance (with `embed`) and repetition are measured
    here; the counts and scores given are per draft, in the texts' order; a part not given is
    None (or 0 for the counts)."""
    n = len(texts)
    for name, given in (("cliches", cliches), ("unsupported", unsupported), ("voices", voices),
                        ("fluency", fluency)):
        if given is not None and len(given) != n:
            raise ValueError(f"{len(given)} {name} for {n} drafts.")
    relevance = relevance_to_idea(embed, idea, texts) if embed is not None else [None] * n
    return [RankingParts(relevance=relevance[i],
                         cliches=cliches[i] if cliches is not None else 0,
                         unsupported=unsupported[i] if unsupported is not None else 0,
                         repetition=repetition_share(texts[i]),
                         voice=voices[i] if voices is not None else None,
                         fluency=fluency[i] if fluency is not None else None)
            for i in range(n)]


def draft_fluency(backend: object, messages: list[Message],
                  texts: Sequence[str]) -> list[float | None] | None:
    """Each draft's mean log-probability per token given the prompt that produced it, under the
    backend's model; None when the backend cannot score."""
    if not texts:
        return []
    return score_completions(backend, [messages] * len(texts), list(texts))


def repetition_share(text: str) -> float:
    """Share of the text's word 3-grams that already occurred in it (0 = no repeats)."""
    words = [w.lower() for w in _WORD.findall(text)]
    grams = list(zip(words, words[1:], words[2:]))
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def relevance_to_idea(embed: Callable[[list[str]], np.ndarray], idea: str,
                      texts: Sequence[str]) -> list[float]:
    """Cosine similarity of each text to the idea (embeddings normalised here)."""
    if not texts:
        return []
    vectors = np.asarray(embed([idea, *texts]), dtype=float)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    return [float(v) for v in vectors[1:] @ vectors[0]]


class Ranked(Protocol):
    ranking: RankingParts | None


T = TypeVar("T", bound=Ranked)


def rank(drafts: Sequence[T], weights: RankingWeights = RankingWeights()) -> list[T]:
    """Best first; ties keep the generation order (sorted is stable)."""
    return sorted(drafts, key=lambda d: -(d.ranking or RankingParts()).score(weights))


def best_index(parts: Sequence[RankingParts], weights: RankingWeights = RankingWeights()) -> int:
    """The index `rank` would put first (the first of equals)."""
    return max(range(len(parts)), key=lambda i: (parts[i].score(weights), -i))
