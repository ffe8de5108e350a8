"""`twin dataset build --weight-by-engagement`: the owner's more engaging posts count more in
fine-tuning, by sample repetition.

The SFT trainer reads only each line's messages (training.dataset_build.load_conversations) and
has no per-sample loss weight, so a weight has to be copies: a train sample whose post scored at
least twice the platform's median engagement (features.engagement: likes + 2 x reposts + 2 x
quotes + replies, over the median of the owner's posts on that platform) is written twice, from
four times the median three times (`sample_repeats`). Samples without counts, chat replies, code
and the test split are written once, so the held-out evaluation is unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from llm_twin.features.engagement import MAX_REPEATS, WEIGHTS, sample_repeats
from llm_twin.training_data.samples import INSTRUCTION, SftSample

METHOD = "sample repetition"
RULE = ("train samples of posts scoring >= 2x their platform's median engagement are written "
        f"twice, >= 4x {MAX_REPEATS} times; score = "
        + " + ".join(f"{weight:g} x {key}" for key, weight in WEIGHTS.items()))


def weight_by_engagement(samples: list[SftSample], relative: Mapping[int, float]
                         ) -> tuple[list[SftSample], dict[str, Any]]:
    """The samples with the copies added (each right after its original), and the card's
    `weighting` record. `relative`: document id -> relative engagement score."""
    weighted: list[SftSample] = []
    by_repeats: Counter[int] = Counter()
    for sample in samples:
        weighted.append(sample)
        if sample.split != "train" or sample.source != INSTRUCTION:
            continue
        repeats = sample_repeats(relative.get(sample.document_id))
        if repeats > 1:
            sample.extra["engagement_repeats"] = repeats
            weighted.extend(replace(sample) for _ in range(repeats - 1))
            by_repeats[repeats] += 1
    return weighted, {
        "method": METHOD, "rule": RULE,
        "documents_with_counts": len(relative),
        "repeated_samples": sum(by_repeats.values()),
        "added_samples": sum((repeats - 1) * count for repeats, count in by_repeats.items()),
        "by_repeats": {str(repeats): count for repeats, count in sorted(by_repeats.items())}}
