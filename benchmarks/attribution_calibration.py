"""Attribution calibrated on both sides, per feature set, on real corpora (no model generation).

For each owner corpus: the owner's older posts train the attribution classifier against half of
another author's posts; the threshold is set so that 5 % of the other half (held-out impostors)
pass; then the script reports the share of the owner's *newer* posts that pass (1 - false-negative
rate) and the ROC AUC of owner-held-out vs impostor-held-out scores. A classifier that learned the
training era's topics rejects the owner's newer posts; one that learned the voice does not.

    .venv/bin/python benchmarks/attribution_calibration.py
    .venv/bin/python benchmarks/attribution_calibration.py --owners brandur_atoms skeeto_nullprogram \
        --impostors jbranchaud_til --features words masked-chars
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402

from llm_twin.evaluation.classifiers import (FALSE_POSITIVE_RATE, FEATURE_SETS,  # noqa: E402
                                             AttributionClassifier, text_only_pipeline)
from llm_twin.evaluation.heldout import impostor_texts  # noqa: E402

OWNERS = ("brandur_atoms", "brandur_fragments", "brandur_articles", "skeeto_nullprogram")
IMPOSTORS = ("jbranchaud_til", "skeeto_nullprogram")


def owner_split(folder: Path, test_share: float, max_train: int) -> tuple[list[str], list[str]]:
    """Posts oldest first (file names start with the date): the newest `test_share` are held out,
    the newest `max_train` of the rest train."""
    import frontmatter

    texts = [frontmatter.load(p).content.strip() for p in sorted(folder.glob("*.md"))]
    texts = [t for t in texts if t]
    cut = len(texts) - max(2, round(len(texts) * test_share))
    return texts[:cut][-max_train:], texts[cut:]


def measure(features: str, owner_train, owner_test, impostor_train, impostor_test, *,
            text_only: bool) -> dict:
    from sklearn.metrics import roc_auc_score

    started = time.perf_counter()
    if text_only:  # the text features alone, to see what they learn without the style rates
        pipeline = text_only_pipeline(features)
        pipeline.fit(owner_train + impostor_train, [1] * len(owner_train) + [0] * len(impostor_train))
        classifier = AttributionClassifier(pipeline, features)
    else:
        classifier = AttributionClassifier.fit(owner_train, impostor_train, features=features)
    classifier.calibrate(impostor_test, FALSE_POSITIVE_RATE)
    owner_scores, impostor_scores = classifier.scores(owner_test), classifier.scores(impostor_test)
    labels = [1] * len(owner_scores) + [0] * len(impostor_scores)
    return {"owner_pass": 1.0 - classifier.false_negative_rate(owner_test),
            "fpr": classifier.calibration_fpr, "threshold": classifier.threshold,
            "auc": roc_auc_score(labels, owner_scores + impostor_scores),
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--owners", nargs="+", default=list(OWNERS))
    parser.add_argument("--impostors", nargs="+", default=list(IMPOSTORS))
    parser.add_argument("--features", nargs="+", default=list(FEATURE_SETS), choices=list(FEATURE_SETS))
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--max-train", type=int, default=300)
    parser.add_argument("--impostor-files", type=int, default=200)
    parser.add_argument("--text-only", action="store_true",
                        help="leave the style rates out (they dominate the default union)")
    args = parser.parse_args()

    print("owner | impostor | features | owner held-out pass | held-out impostor FPR | AUC | threshold | s")
    summary: dict[str, list[float]] = {f: [] for f in args.features}
    for owner in args.owners:
        owner_train, owner_test = owner_split(args.corpora / owner, args.test_share, args.max_train)
        for impostor in args.impostors:
            if impostor == owner:
                continue
            impostor_train, impostor_test = impostor_texts(args.corpora / impostor,
                                                           files=args.impostor_files)
            for features in args.features:
                m = measure(features, owner_train, owner_test, impostor_train, impostor_test,
                            text_only=args.text_only)
                summary[features].append(m["owner_pass"])
                print(f"{owner} ({len(owner_train)}/{len(owner_test)}) | {impostor} | {features} | "
                      f"{m['owner_pass']:.2f} | {m['fpr']:.2f} | {m['auc']:.3f} | "
                      f"{m['threshold']:.3f} | {m['seconds']:.1f}", flush=True)
    print("\nfeatures | mean owner pass | worst owner pass")
    for features, passes in summary.items():
        if passes:
            print(f"{features} | {np.mean(passes):.2f} | {min(passes):.2f}")


if __name__ == "__main__":
    main()
