"""Percentile bootstrap over prompts: every figure of `twin eval` with a 95 % interval.

A figure is a statistic of the prompts' per-prompt values (a mean, a ratio of sums, a maximum, an
AUC of fixed out-of-fold scores); resampling the prompts with replacement and taking the 2.5th and
97.5th percentiles of the statistic gives its interval. The seed is fixed, so a report is repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000
CONFIDENCE = 0.95

Statistic = Callable[[np.ndarray], "float | None"]  # prompt indices -> figure (None: undefined)


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None = None
    high: float | None = None

    def as_list(self) -> list[float | None]:
        return [self.value, self.low, self.high]


def bootstrap(statistic: Statistic, n: int, *, resamples: int = RESAMPLES, seed: int = 0,
              confidence: float = CONFIDENCE) -> Estimate:
    """The statistic on all `n` prompts, with the percentile interval of `resamples` resamples.
    Resamples where the statistic is undefined are left out; no interval when all are."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}.")
    if n < 1:
        return Estimate(None)
    point = _defined(statistic(np.arange(n)))
    if point is None:
        return Estimate(None)
    rng = np.random.default_rng(seed)
    values = [v for v in (_defined(statistic(rng.integers(0, n, size=n))) for _ in range(resamples))
              if v is not None]
    if not values:
        return Estimate(point)
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return Estimate(point, float(low), float(high))


def mean_statistic(values: Sequence[float | None]) -> Statistic:
    """The mean of the per-prompt values, prompts without a value (None) left out."""
    array = np.asarray([np.nan if v is None else v for v in values], dtype=float)

    def statistic(indices: np.ndarray) -> float | None:
        chosen = array[indices]
        chosen = chosen[~np.isnan(chosen)]
        return float(chosen.mean()) if chosen.size else None

    return statistic


def ratio_statistic(numerators: Sequence[float], denominators: Sequence[float]) -> Statistic:
    """sum(numerators) / sum(denominators) over the prompts (e.g. supported claims / claims)."""
    top, bottom = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)

    def statistic(indices: np.ndarray) -> float | None:
        total = bottom[indices].sum()
        return float(top[indices].sum() / total) if total > 0 else None

    return statistic


def max_statistic(values: Sequence[float]) -> Statistic:
    array = np.asarray(values, dtype=float)
    return lambda indices: float(array[indices].max()) if len(indices) else None


def _defined(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
