"""Held-out perplexity, base → fine-tuned, for the author and for an impostor corpus.

The author's posts (default brandur_atoms) go through `twin ingest` and `twin dataset build`
(extractive instructions), which holds out the newest 10% as the test split; `twin train sft`
then trains on the older posts. Perplexity is token-weighted over the answer tokens, scored for
the author's test split and for 40 posts of another author (jbranchaud_til) in the same prompt
format. The baseline is the base model on the same texts: a fall for the author well beyond the
impostor's shows the author's voice was learned, not just the genre.

    .venv/bin/python benchmarks/heldout_perplexity.py [--corpus brandur_atoms] [--steps 120]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402
from _train_data import corpus_workspace  # noqa: E402

from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402
from llm_twin.training.sft import EvalOptions, SftConfig, train_sft  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", default="brandur_atoms")
    parser.add_argument("--owner", default="Brandur Leach")
    parser.add_argument("--impostor", default="jbranchaud_til")
    parser.add_argument("--impostor-docs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--cache-dir", type=Path, default=None, help="dequantised model cache")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="keep the workspace here (reused when it holds a dataset build), so "
                             "`twin eval` or `twin write` can use the trained run afterwards")
    parser.add_argument("--preference-pairs", type=int, default=0,
                        help="also build this many DPO pairs (base-model generations) in a new workspace")
    args = parser.parse_args()

    settings = corpus_workspace(args.corpora / args.corpus, args.owner, args.cache_dir,
                                args.workspace, args.preference_pairs)
    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    config = SftConfig(max_steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr,
                       max_length=args.max_length, eval_steps=max(10, args.steps // 4), report_to="none")
    run = train_sft(settings, sessions, config,
                    evaluation=EvalOptions(args.corpora / args.impostor, args.impostor_docs))
    m = run.metrics
    print(f"\n{args.corpus} ({m['train_samples']} train / {m['test_samples']} test samples, newest "
          f"posts held out), {m['steps']} steps, {run.duration_s:.0f} s; impostor {args.impostor} "
          f"({args.impostor_docs} posts)")
    print(f"{'held-out text':24} {'base':>8} {'tuned':>8} {'change':>8} {'tokens':>8}")
    changes = {}
    for corpus, label in (("author", f"{args.corpus} (author)"), ("impostor", f"{args.impostor}")):
        base, tuned = m.get(f"perplexity_{corpus}_base"), m.get(f"perplexity_{corpus}_tuned")
        if base is None:
            print(f"{label:24} {m.get('impostor_note', 'not measured')}")
            continue
        changes[corpus] = (tuned - base) / base
        print(f"{label:24} {base:>8.1f} {tuned:>8.1f} {changes[corpus]:>+8.1%} "
              f"{m[f'perplexity_{corpus}_tokens']:>8}")
    if len(changes) == 2:
        print(f"author gain beyond the genre: {changes['author'] - changes['impostor']:+.1%} "
              "(author change minus impostor change)")
    print(json.dumps({"run": run.id, "metrics": m}))


if __name__ == "__main__":
    main()
