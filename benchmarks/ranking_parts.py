"""Which ranking weights make `twin write -n K`'s pick pass as the person? One run on a tuned
workspace: K drafts per held-out idea through the writer (tuned+rag, as `twin eval` makes them,
retrieval barred from the held-out posts), every draft's ranking parts kept; then each weight
setting picks its draft per idea and the pick is measured as `twin eval` measures a row (detector
AUC of real held-out posts vs the picks, attribution, relevance, support, with bootstrap
intervals). The unranked row is a random draft per idea (`twin eval`'s seeds), so every ranked
row is compared with its baseline on the same drafts; one generation pass serves all weights.

Also printed: where the drafts' fluency sits against the real held-out posts' (scored given the
same served prompt), and how well fluency alone tells the two apart (AUC), i.e. which direction
of the fluency weight points towards the owner.

    .venv/bin/python benchmarks/ranking_parts.py --workspace WS [--limit 40] [--k 4]
        [--max-new-tokens 64] [--fluency-weights 0,-0.1,-0.2,0.1] [--voice-weight 0] [--json out]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path

from llm_twin.backends.base import score_completions
from llm_twin.inference.ranking import RankingParts, RankingWeights, best_index


def generate(ws, data, args):
    """Per held-out prompt: the drafts (generation order), their parts, the served prompt and
    its sources."""
    from llm_twin.inference.retrieval import BarredRetriever

    run = ws.tuned_run()
    if run is None:
        raise SystemExit("No fine-tuned model in use in this workspace (`twin models use`).")
    backend = ws.backend(run.id)
    backend.load()
    rows = []
    with ws.vector_store() as store:
        writer = ws.writer(store, backend, rank=False, max_new_tokens=args.max_new_tokens)
        writer.retriever = BarredRetriever(writer.retriever, until=data.retrieval_until,
                                           excluded_documents=data.test_document_ids)
        params = writer.options.generation
        for i, prompt in enumerate(data.prompts):
            writer.options.generation = replace(params, seed=args.seed + i)
            result = writer.write(prompt.idea, prompt.platform, n=args.k)
            real = score_completions(backend, [result.prompt.messages], [prompt.answer])
            rows.append({"texts": [d.formatted.as_text() for d in result.drafts],
                         "parts": [d.ranking for d in result.drafts],
                         "request": _request(prompt),
                         "sources": [c.text for c in result.sources],
                         "real_fluency": real[0] if real else None})
            print(f"  {i + 1}/{len(data.prompts)} ideas", end="\r", flush=True)
    print()
    return run.id, backend.name, rows


def _request(prompt) -> str:
    return next((m["content"] for m in reversed(prompt.messages) if m["role"] == "user"), prompt.idea)


def row_scorer(ws, data, seed: int):
    from llm_twin.evaluation.classifiers import AttributionClassifier
    from llm_twin.evaluation.scoring import RowScorer

    classifier = AttributionClassifier.fit(data.owner_train,
                                           data.generated_train + data.impostor_train)
    classifier.calibrate(data.generated_test + data.impostor_test)
    return RowScorer([p.answer for p in data.prompts], data.owner_train, classifier,
                     ws.embedder.embed, seed=seed)


def picks(rows, weights: RankingWeights | None, seed: int) -> list[int]:
    """The ranked pick per idea, or (weights None) `twin eval`'s random unranked pick."""
    if weights is None:
        return [random.Random(seed + i).randrange(len(row["texts"])) for i, row in enumerate(rows)]
    return [best_index([p or RankingParts() for p in row["parts"]], weights) for row in rows]


def measure(scorer, rows, chosen: list[int]) -> dict:
    texts = [row["texts"][c] for row, c in zip(rows, chosen)]
    prompt_texts = [[row["request"], *row["sources"]] for row in rows]
    figures = scorer.measure(texts, prompt_texts)
    fluency = [row["parts"][c].fluency for row, c in zip(rows, chosen)
               if row["parts"][c] is not None and row["parts"][c].fluency is not None]
    return {**{name: figures.estimates[name].as_list()
               for name in ("detector_auc", "attribution_share", "relevance", "support")},
            "mean_fluency": statistics.fmean(fluency) if fluency else None}


def fluency_auc(real: list[float], drafts: list[float]) -> float | None:
    """P(a draft's fluency > a real post's): 0.5 = fluency does not tell them apart."""
    from sklearn.metrics import roc_auc_score

    if not real or not drafts:
        return None
    return float(roc_auc_score([0] * len(real) + [1] * len(drafts), real + drafts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fluency-weights", default="0,-0.1,-0.2,-0.4,0.1,0.2",
                        help="Comma-separated fluency weights, one ranked row each.")
    parser.add_argument("--voice-weight", type=float, default=0.0)
    parser.add_argument("--impostor", type=Path, default=None,
                        help="Another author's posts for the attribution classifier (as twin eval).")
    parser.add_argument("--json", type=Path, default=None,
                        help="Write the figures, and every draft with its parts, here too.")
    args = parser.parse_args()
    if args.k < 2:
        parser.error("--k must be at least 2 to rank.")
    fluency_weights = [float(w) for w in args.fluency_weights.split(",") if w.strip()]

    from llm_twin.app.workspace import Workspace
    from llm_twin.config import load_settings
    from llm_twin.evaluation.heldout import load_eval_data
    from llm_twin.training.dataset_build import resolve_build
    from llm_twin.training.metrics import default_impostor_folder

    ws = Workspace(load_settings(args.workspace))
    impostor = args.impostor or default_impostor_folder()
    data = load_eval_data(resolve_build(ws.settings.workspace), limit=args.limit,
                          impostor_folder=impostor if impostor.is_dir() else None)
    started = time.perf_counter()
    print(f"Generating {args.k} drafts for each of {len(data.prompts)} held-out ideas…")
    run_id, backend, rows = generate(ws, data, args)
    scorer = row_scorer(ws, data, args.seed)
    table = {"unranked": measure(scorer, rows, picks(rows, None, args.seed))}
    for weight in fluency_weights:
        weights = RankingWeights(voice=args.voice_weight, fluency=weight)
        table[f"ranked, fluency {weight:+g}"] = measure(scorer, rows, picks(rows, weights, args.seed))

    real = [row["real_fluency"] for row in rows if row["real_fluency"] is not None]
    drafts = [p.fluency for row in rows for p in row["parts"] if p and p.fluency is not None]
    print(f"\n{args.workspace}: run {run_id} on {backend}, {len(rows)} ideas, k={args.k}, "
          f"max {args.max_new_tokens} new tokens, voice weight {args.voice_weight:g}, "
          f"{time.perf_counter() - started:.0f} s")
    if real and drafts:
        print(f"fluency (mean log-prob/token): real held-out posts {statistics.fmean(real):.2f}, "
              f"drafts {statistics.fmean(drafts):.2f}; AUC of fluency alone, drafts vs real "
              f"{fluency_auc(real, drafts):.2f}")
    else:
        print("fluency: this backend cannot score (llamacpp, openai); the fluency rows equal weight 0")
    base = table["unranked"]
    print(f"{'row':22} {'detector AUC [95% CI]':>24} {'Δ AUC':>7} {'attributed':>10} "
          f"{'relevance':>9} {'support':>7} {'fluency':>7}")
    for name, row in table.items():
        auc, low, high = row["detector_auc"]
        delta = auc - base["detector_auc"][0] if auc is not None and name != "unranked" else None
        print(f"{name:22} {_f(auc):>6} [{_f(low)}, {_f(high)}]".ljust(48)
              + f"{_f(delta, '+.3f'):>7} {_f(row['attribution_share'][0]):>10} "
                f"{_f(row['relevance'][0]):>9} {_f(row['support'][0]):>7} "
                f"{_f(row['mean_fluency']):>7}")
    if args.json is not None:
        args.json.write_text(json.dumps({"workspace": str(args.workspace), "run": run_id,
                                         "backend": backend, "k": args.k, "limit": args.limit,
                                         "max_new_tokens": args.max_new_tokens,
                                         "real_fluency": real, "draft_fluency": drafts,
                                         "rows": table,
                                         "drafts": [{"texts": row["texts"],
                                                     "parts": [asdict(p) if p else None
                                                               for p in row["parts"]]}
                                                    for row in rows]}, indent=2))


def _f(value, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


if __name__ == "__main__":
    main()
