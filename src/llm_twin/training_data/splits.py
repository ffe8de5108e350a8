"""Time-based splits: the newest share of each platform's documents is the test split.

A held-out test of a voice is "can it write what I wrote next", so the split is by date, per
platform (each platform has its own register), and by document (sections of one article never
straddle the split). Then no train sample may nearly contain a test answer: a cross-post, a quote
of a newer post or an old draft of it would leak the answer into training.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from llm_twin.features.shingles import shingles
from llm_twin.training_data.quality import QualityReport
from llm_twin.training_data.samples import SftSample

MIN_DOCUMENTS_FOR_TEST = 5
LEAK_CONTAINMENT = 0.5
LEAK_MIN_SHARED = 4  # word 3-grams; fewer is a common phrase, not a copy


@dataclass
class SplitInfo:
    """Per platform: documents in each split and the dates where test begins."""

    platforms: dict[str, dict] = field(default_factory=dict)


def split_by_time(samples: Sequence[SftSample], test_share: float) -> SplitInfo:
    """Sets `sample.split` to "train" or "test"; undated documents always train."""
    by_platform: dict[str, dict[int, datetime | None]] = defaultdict(dict)
    for sample in samples:
        by_platform[sample.platform].setdefault(sample.document_id, sample.created_at)
    test_documents: set[tuple[str, int]] = set()
    info = SplitInfo()
    for platform, documents in sorted(by_platform.items()):
        dated = sorted((when, doc) for doc, when in documents.items() if when is not None)
        count = math.ceil(test_share * len(dated)) if len(dated) >= MIN_DOCUMENTS_FOR_TEST else 0
        test = dated[len(dated) - count:] if count else []
        test_documents.update((platform, doc) for _when, doc in test)
        info.platforms[platform] = {
            "documents": len(documents), "undated": len(documents) - len(dated),
            "test_documents": len(test),
            "train_until": _iso(dated[len(dated) - count - 1][0]) if len(dated) > count else None,
            "test_from": _iso(test[0][0]) if test else None,
            "test_until": _iso(test[-1][0]) if test else None}
    for sample in samples:
        sample.split = "test" if (sample.platform, sample.document_id) in test_documents else "train"
    return info


def remove_test_leaks(samples: Sequence[SftSample], report: QualityReport,
                      containment: float = LEAK_CONTAINMENT) -> list[SftSample]:
    """Drop train samples that share most of a test answer's word 3-grams (or it most of theirs)."""
    test = [s for s in samples if s.split == "test"]
    index: dict[str, list[int]] = defaultdict(list)
    sizes = []
    for position, sample in enumerate(test):
        grams = shingles(sample.answer)
        sizes.append(len(grams))
        for gram in grams:
            index[gram].append(position)
    kept = []
    for sample in samples:
        if sample.split == "train" and _leaks(shingles(sample.answer), index, sizes, containment):
            report.drop("near_duplicate_of_test")
            continue
        kept.append(sample)
    return kept


def _leaks(grams: set[str], index: dict[str, list[int]], sizes: list[int],
           containment: float) -> bool:
    shared: dict[int, int] = defaultdict(int)
    for gram in grams:
        for position in index.get(gram, ()):
            shared[position] += 1
    return any(count >= LEAK_MIN_SHARED
               and count / max(1, min(len(grams), sizes[position])) >= containment
               for position, count in shared.items())


def _iso(when: datetime) -> str:
    return when.isoformat()
