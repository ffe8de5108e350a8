"""Every figure of one table row, each with its bootstrap interval over the prompts.

A row is a list of texts, one per held-out prompt: a system's drafts, or a sanity row (the real
held-out posts themselves; a random training post per prompt, i.e. pure copying). All rows are
measured by the same code, so the sanity rows check the metrics: the real posts must win, the
copied training posts must lose on relevance and copying.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from llm_twin.errors import DatasetError
from llm_twin.evaluation.bootstrap import (Estimate, bootstrap, max_statistic, mean_statistic,
                                           ratio_statistic)
from llm_twin.evaluation.classifiers import AttributionClassifier, detector_scores
from llm_twin.evaluation.copying import MIN_SPAN, SpanIndex
from llm_twin.evaluation.overlap import chrf, rouge_l
from llm_twin.evaluation.relevance import Embed, relevance_scores
from llm_twin.evaluation.support import support_counts
from llm_twin.inference.grounding import Evidence

REAL_POSTS = "real held-out posts"
RANDOM_TRAINING_POST = "a random training post"
# results.json keys of SystemResult.intervals, in table order
FIGURES = ("detector_auc", "attribution_share", "relevance", "support", "copying", "longest_copy",
           "rouge_l", "chrf")


@dataclass
class RowFigures:
    estimates: dict[str, Estimate] = field(default_factory=dict)
    support_claims: int = 0

    def value(self, name: str) -> float | None:
        return self.estimates[name].value

    def intervals(self) -> dict[str, list[float | None]]:
        return {name: estimate.as_list() for name, estimate in self.estimates.items()}


@dataclass
class RowScorer:
    """What every row is measured against: the real posts, the prompts' own texts, the owner's
    training texts, the attribution classifier and an embedder."""

    posts: list[str]  # the real held-out post of each prompt
    owner_train: list[str]
    classifier: AttributionClassifier
    embed: Embed
    seed: int = 0
    _evidence: Evidence | None = None
    _spans: SpanIndex | None = None

    def measure(self, texts: Sequence[str], prompt_texts: Sequence[Sequence[str]], *,
                detector_real: Sequence[str] | None = None,
                detector_generated: Sequence[str] | None = None) -> RowFigures:
        """The row's figures. The detector compares the real posts with `texts` unless another
        pair is given (the real-posts row compares two halves of the real posts)."""
        texts = list(texts)
        if len(texts) != len(self.posts):
            raise ValueError(f"{len(texts)} texts for {len(self.posts)} held-out prompts.")
        n, boot = len(texts), (lambda statistic: bootstrap(statistic, len(texts), seed=self.seed))
        figures = RowFigures()
        figures.estimates["detector_auc"] = self._detector(
            list(self.posts if detector_real is None else detector_real),
            texts if detector_generated is None else list(detector_generated))
        attributed = [float(flag) for flag in self.classifier.attributed(texts)] if n else []
        figures.estimates["attribution_share"] = boot(mean_statistic(attributed))
        figures.estimates["relevance"] = boot(mean_statistic(relevance_scores(texts, self.posts, self.embed)))
        counts = support_counts(texts, prompt_texts, self.evidence)
        figures.support_claims = sum(c.claims for c in counts)
        figures.estimates["support"] = boot(ratio_statistic([c.supported for c in counts],
                                                            [c.claims for c in counts]))
        spans = [self.spans.longest_span(t) for t in texts]
        figures.estimates["copying"] = boot(mean_statistic([float(s >= MIN_SPAN) for s in spans]))
        figures.estimates["longest_copy"] = boot(max_statistic(spans))
        pairs = list(zip(texts, self.posts))
        figures.estimates["rouge_l"] = boot(mean_statistic([rouge_l(t, p) for t, p in pairs]))
        figures.estimates["chrf"] = boot(mean_statistic([chrf(t, p) for t, p in pairs]))
        return figures

    def real_posts(self, prompt_texts: Sequence[Sequence[str]]) -> RowFigures:
        """The real held-out posts as a row. Its detector tells one random half of them from the
        other: the measured "indistinguishable" level, not an assumed 0.5."""
        order = random.Random(self.seed).sample(range(len(self.posts)), len(self.posts))
        half = len(order) // 2
        return self.measure(self.posts, prompt_texts,
                            detector_real=[self.posts[i] for i in order[:half]],
                            detector_generated=[self.posts[i] for i in order[half:2 * half]])

    def random_training_posts(self) -> list[str]:
        """For each prompt, one training post drawn at random (seeded): a copying "system"."""
        if not self.owner_train:
            raise DatasetError("No training posts to draw the random-training-post row from.")
        rng = random.Random(self.seed)
        return [rng.choice(self.owner_train) for _ in self.posts]

    @property
    def evidence(self) -> Evidence:
        if self._evidence is None:
            self._evidence = Evidence(self.owner_train)
        return self._evidence

    @property
    def spans(self) -> SpanIndex:
        if self._spans is None:
            self._spans = SpanIndex(self.owner_train)
        return self._spans

    def _detector(self, real: list[str], generated: list[str]) -> Estimate:
        """The detector's cross-validated scores, fitted once; the interval resamples prompts
        (pairs of a real and a generated text) over those fixed scores."""
        from sklearn.metrics import roc_auc_score

        scores = detector_scores(real, generated, seed=self.seed)
        if scores is None:
            return Estimate(None)
        real_scores, generated_scores = scores[:len(real)], scores[len(real):]
        pairs = min(len(real), len(generated))

        def auc(indices: np.ndarray) -> float | None:
            chosen_real, chosen_generated = real_scores[indices], generated_scores[indices]
            labels = [1] * len(indices) + [0] * len(indices)
            return float(roc_auc_score(labels, np.concatenate([chosen_real, chosen_generated])))

        point = float(roc_auc_score([1] * len(real) + [0] * len(generated), scores))
        interval = bootstrap(auc, pairs, seed=self.seed)
        return Estimate(point, interval.low, interval.high)
