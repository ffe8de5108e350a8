"""Preference pairs for DPO: prompt -> chosen (the owner's real text) over rejected.

Pairs come from pluggable sources. The first is the base model: its own attempt at the same prompt
is what the twin should move away from. Later sources (drafts the user edited or rejected in the
app) implement the same protocol and are listed in the build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from llm_twin.backends.base import Backend, GenerationParams
from llm_twin.features.shingles import words
from llm_twin.training_data.samples import PreferencePair, SftSample

REJECTED_MIN_TOKENS = 32
REJECTED_MAX_TOKENS = 256


class PreferenceSource(Protocol):
    name: str

    def pairs(self, samples: Sequence[SftSample]) -> Iterator[PreferencePair]:
        """Pairs for (some of) the given samples, plus any the source holds on its own (such as
        edited drafts); a pair made from a sample takes the sample's split."""
        ...


@dataclass
class BaseModelRejections:
    """The base model's generation for the sample's own prompt is the rejected answer."""

    backend: Backend
    params: GenerationParams
    max_pairs: int = 200
    batch_size: int = 8
    progress: Callable[[int], None] | None = None
    name: str = "base_model"

    def pairs(self, samples: Sequence[SftSample]) -> Iterator[PreferencePair]:
        # Similar lengths share a batch: the token budget fits them all and little is padding.
        chosen = sorted(_spread(samples, self.max_pairs), key=lambda s: len(s.answer))
        for start in range(0, len(chosen), self.batch_size):
            batch = chosen[start:start + self.batch_size]
            lengths = sorted(self.backend.count_tokens(s.answer) for s in batch)
            budget = max(lengths[len(lengths) // 2], REJECTED_MIN_TOKENS)  # about as long as the real ones
            budget = min(budget, REJECTED_MAX_TOKENS, self.params.max_new_tokens)
            params = GenerationParams(**{**self.params.__dict__, "max_new_tokens": budget})
            outputs = self.backend.generate([s.prompt for s in batch], params)
            for sample, output in zip(batch, outputs):
                rejected = output.text.strip()
                if rejected and words(rejected) != words(sample.answer):
                    yield PreferencePair.from_sample(sample, rejected, self.name)
            if self.progress:
                self.progress(len(batch))


def _spread(samples: Sequence[SftSample], limit: int) -> list[SftSample]:
    """At most `limit` samples, spread evenly over the list (so every platform and year shows)."""
    if len(samples) <= limit:
        return list(samples)
    step = len(samples) / limit
    return [samples[int(i * step)] for i in range(limit)]
