"""Does the fast backend change what the twin writes? CTranslate2 int8 (the default) against
transformers float32 (the baseline) on one author's held-out split, in the same run.

1. Held-out perplexity of the owner's test posts (assistant tokens only, the training labels)
   under the base model and the fine-tuned run: transformers scores with `training.metrics`,
   CTranslate2 with `Generator.score_batch` on the same token ids.
2. `twin eval` (the real harness) once per backend on the same prompts, seeds, classifier data and
   systems: attribution share (with its binomial standard error) and detector AUC per system.

The workspace holds the corpus, a dataset build with base-model DPO pairs (the classifier's
"not the author" texts, shared by both runs), the index and a short SFT run; pass --workspace to
build it once and reuse it.

    .venv/bin/python benchmarks/backend_quality.py [--corpus brandur_atoms] [--limit 16]
        [--steps 30] [--workspace /tmp/quality-ws]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402
from _train_data import corpus_workspace, twin  # noqa: E402

from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

SYSTEMS = "base,tuned,tuned+rag"


def ensure_tuned_run(settings, steps: int, max_length: int) -> str:
    from llm_twin.training.registry import latest_run, use_run
    from llm_twin.training.sft import EvalOptions, SftConfig, train_sft

    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    with sessions() as session:
        run = latest_run(session, "sft", status="finished")
    if run is None:
        config = SftConfig(max_steps=steps, max_length=max_length, batch_size=4, report_to="none",
                           eval_steps=10_000)
        run = train_sft(settings, sessions, config, evaluation=EvalOptions(heldout=False))
    with sessions() as session:
        use_run(session, run.id)
    return run.id


def transformers_perplexities(settings, run_id: str, test, max_length: int) -> dict[str, float]:
    import torch

    from llm_twin.backends.loading import LoadOptions, load_base_model, load_tuned_model
    from llm_twin.training.metrics import perplexity
    from llm_twin.training.registry import get_run

    options = LoadOptions(cache_dir=settings.cache_dir, device="cpu")
    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    with sessions() as session:
        run = get_run(session, run_id)
        session.expunge(run)
    base = load_base_model(options, dtype=torch.float32)
    tuned = load_tuned_model(run, options, dtype=torch.float32)
    return {name: perplexity(model, tokenizer, test, max_length=max_length).value
            for name, (model, tokenizer) in {"base": base, "tuned": tuned}.items()}


def ct2_perplexities(ws, run_id: str, test, max_length: int) -> dict[str, float]:
    from llm_twin.training.chat_tokens import IGNORE, tokenize_conversation

    values = {}
    for name, model in {"base": "base", "tuned": run_id}.items():
        backend = ws.backend(model)
        backend.load()
        tokenizer = backend.tokenizer
        samples = [tokenize_conversation(tokenizer, messages, max_length) for messages in test]
        samples = [s for s in samples if s.target_count]
        scores = backend.generator.score_batch(
            [tokenizer.convert_ids_to_tokens(s.input_ids) for s in samples], max_batch_size=4)
        nll, tokens = 0.0, 0
        for sample, score in zip(samples, scores):
            for position in range(1, len(sample.labels)):  # log_probs[i] scores token i + 1
                if sample.labels[position] != IGNORE:
                    nll -= score.log_probs[position - 1]
                    tokens += 1
        values[name] = math.exp(nll / tokens)
    return values


def evaluate(ws, backend_name: str, args) -> tuple[object, float]:
    from llm_twin.app.evaluate import evaluate as evaluate_workspace
    from llm_twin.evaluation.harness import EvalConfig

    ws.settings.backend = backend_name
    config = EvalConfig(systems=SYSTEMS, limit=args.limit, k=1, max_new_tokens=args.max_new_tokens,
                        seed=args.seed, perplexity=False, impostor=args.corpora / args.impostor)
    started = time.perf_counter()
    result = evaluate_workspace(ws, config, _Stages(backend_name))
    return result, time.perf_counter() - started


class _Stages:
    """Each stage of the evaluation printed once (the generation count is not)."""

    def __init__(self, backend_name: str):
        self.backend_name = backend_name

    def report(self, stage: str, done: int, total: int | None) -> None:
        from llm_twin.app.evaluate import GENERATING

        if stage != GENERATING:
            print(f"  [{self.backend_name}] {stage}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", default="brandur_atoms")
    parser.add_argument("--owner", default="Brandur Leach")
    parser.add_argument("--impostor", default="jbranchaud_til")
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--preference-pairs", type=int, default=48)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "llm-twin-test-cache")
    args = parser.parse_args()

    from llm_twin.app.workspace import Workspace
    from llm_twin.training.dataset_build import load_conversations, resolve_build

    settings = corpus_workspace(args.corpora / args.corpus, args.owner, args.cache_dir,
                                args.workspace, preference_pairs=args.preference_pairs)
    if not (settings.resolved_vector_store_path / "twin-collection.json").exists():
        twin(settings.workspace, "index")
    run_id = ensure_tuned_run(settings, args.steps, args.max_length)
    test = load_conversations(resolve_build(settings.workspace).path("test.jsonl"))
    ws = Workspace(settings)

    print(f"Held-out perplexity of {args.corpus}'s test split ({len(test)} posts), base → {run_id}:")
    reference = transformers_perplexities(settings, run_id, test, args.max_length)
    fast = ct2_perplexities(ws, run_id, test, args.max_length)
    for name in ("base", "tuned"):
        print(f"  {name:6} transformers float32 {reference[name]:7.2f}   CTranslate2 int8 "
              f"{fast[name]:7.2f}   ratio {fast[name] / reference[name]:.3f}")

    results = {name: evaluate(ws, name, args) for name in ("transformers", "ctranslate2")}
    print(f"\ntwin eval on {args.corpus}: {args.limit} held-out prompts, systems {SYSTEMS}, k=1, "
          f"max {args.max_new_tokens} new tokens, seed {args.seed}, impostor {args.impostor}")
    print(f"{'system':12} {'backend':13} {'attributed':>10} {'± s.e.':>7} {'detector AUC':>13} "
          f"{'chrF':>6}")
    for system in SYSTEMS.split(","):
        for name, (result, _) in results.items():
            score = result.system(system)
            n = len(score.outputs)
            se = math.sqrt(score.attribution_share * (1 - score.attribution_share) / n) if n else 0
            auc = f"{score.detector_auc:.2f}" if score.detector_auc is not None else "-"
            print(f"{system:12} {name:13} {score.attribution_share:10.2f} {se:7.2f} {auc:>13} "
                  f"{score.chrf:6.1f}")
    real = results["ctranslate2"][0].reference
    print(f"the owner's real held-out posts: attributed {real.get('attribution_share', float('nan')):.2f}")
    for name, (_, seconds) in results.items():
        print(f"evaluation wall time with {name}: {seconds:.0f} s")
    ratio = results["transformers"][1] / results["ctranslate2"][1]
    print(f"ctranslate2 evaluation {ratio:.1f}x faster than transformers (same run)")


if __name__ == "__main__":
    main()
