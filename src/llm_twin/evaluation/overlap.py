"""Overlap with the real held-out post: ROUGE-L (rouge-score) and chrF (sacrebleu)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F-measure in [0, 1] (longest common word subsequence)."""
    return float(_rouge_scorer().score(reference, candidate)["rougeL"].fmeasure)


def chrf(candidate: str, reference: str) -> float:
    """chrF in [0, 100] (character n-gram F-score)."""
    from sacrebleu.metrics import CHRF

    return float(CHRF().sentence_score(candidate, [reference]).score)


def mean_overlap(candidates: list[str], references: list[str]) -> dict[str, float]:
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} outputs for {len(references)} reference posts.")
    if not candidates:
        return {"rouge_l": float("nan"), "chrf": float("nan")}
    pairs = list(zip(candidates, references))
    return {"rouge_l": sum(rouge_l(c, r) for c, r in pairs) / len(pairs),
            "chrf": sum(chrf(c, r) for c, r in pairs) / len(pairs)}
