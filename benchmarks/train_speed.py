"""Training tokens/s: the `twin train sft` path against a plain TRL SFTTrainer, in the same run.

Same model (SmolLM2-135M from the bundled GGUF), same data (a real `twin dataset build` of a
corpus), same LoRA config (r=16 on all linear layers), same batch, max_length, learning rate and
step budget. Tokens are the real (non-padding) tokens each trainer counts itself; the rate is
tokens / train_runtime. Variants:

- twin: `train_sft` as `twin train sft` runs it (pre-tokenised with assistant-only labels, fp32
  on CPU, no gradient checkpointing);
- twin + packing: the same with `--packing` (sequences packed best-fit, no padding);
- TRL defaults: a plain SFTTrainer on the `messages` file with TRL's own defaults (bf16 autocast
  and gradient checkpointing on);
- TRL, fp32, no checkpointing: the plain SFTTrainer with the precision and checkpointing twin uses.

    .venv/bin/python benchmarks/train_speed.py [--corpus brandur_fragments] [--steps 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402
from _train_data import corpus_workspace  # noqa: E402

from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402
from llm_twin.training.dataset_build import resolve_build  # noqa: E402
from llm_twin.training.loading import load_base_model  # noqa: E402
from llm_twin.training.runs import lora_config  # noqa: E402
from llm_twin.training.sft import EvalOptions, SftConfig, train_sft  # noqa: E402


def twin_path(settings, config: SftConfig) -> dict:
    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    run = train_sft(settings, sessions, config, evaluation=EvalOptions(heldout=False))
    m = run.metrics
    return {"tokens": m["train_tokens"], "seconds": m["train_runtime_s"], "tokens_per_s": m["tokens_per_s"],
            "first_loss": m["loss_curve"][0][1] if m["loss_curve"] else None}


def plain_trl(settings, config: SftConfig, *, trl_defaults: bool) -> dict:
    """A textbook SFTTrainer: the build's train.jsonl `messages`, TRL tokenises and collates."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    build = resolve_build(settings.workspace)
    data = datasets.load_dataset("json", data_files=str(build.path("train.jsonl")), split="train")
    model, tokenizer = load_base_model(settings, place=False)
    matched = {} if trl_defaults else {"bf16": False, "gradient_checkpointing": False}
    args = SFTConfig(output_dir=tempfile.mkdtemp(prefix="trl-bench-"), max_steps=config.max_steps,
                     per_device_train_batch_size=config.batch_size, max_length=config.max_length,
                     learning_rate=config.learning_rate, seed=config.seed, use_cpu=True,
                     report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True,
                     **matched)
    trainer = SFTTrainer(model=model, args=args, train_dataset=data.select_columns(["messages"]),
                         processing_class=tokenizer, peft_config=lora_config(config))
    output = trainer.train()
    seconds = output.metrics["train_runtime"]
    first = next((e["loss"] for e in trainer.state.log_history if "loss" in e), None)
    return {"tokens": trainer._total_train_tokens, "seconds": seconds,
            "tokens_per_s": trainer._total_train_tokens / seconds, "first_loss": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", default="brandur_fragments")
    parser.add_argument("--owner", default="Brandur Leach")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--cache-dir", type=Path, default=None, help="dequantised model cache")
    parser.add_argument("--skip", nargs="*", default=[], help="variants to skip: packing trl-defaults trl-matched")
    args = parser.parse_args()

    settings = corpus_workspace(args.corpora / args.corpus, args.owner, args.cache_dir)
    config = SftConfig(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                       eval_steps=10_000, logging_steps=1, report_to="none")
    variants = {"twin": lambda: twin_path(settings, config),
                "twin + packing": lambda: twin_path(settings, SftConfig(**{**config.__dict__, "packing": True})),
                "TRL defaults": lambda: plain_trl(settings, config, trl_defaults=True),
                "TRL, fp32, no checkpointing": lambda: plain_trl(settings, config, trl_defaults=False)}
    skipped = {"packing": "twin + packing", "trl-defaults": "TRL defaults",
               "trl-matched": "TRL, fp32, no checkpointing"}
    results = {}
    for name, measure in variants.items():
        if name in {skipped[s] for s in args.skip}:
            continue
        results[name] = measure()
        print(f"{name}: {json.dumps(results[name])}", flush=True)

    baseline = results.get("TRL defaults") or next(iter(results.values()))
    print(f"\n{args.corpus}: {args.steps} steps x batch {args.batch_size}, max_length {args.max_length}, "
          "LoRA r=16 all linear, SmolLM2-135M, CPU")
    print(f"{'variant':32} {'tokens':>8} {'seconds':>8} {'tokens/s':>9} {'vs TRL defaults':>16} {'first loss':>11}")
    for name, r in results.items():
        first = f"{r['first_loss']:.3f}" if r["first_loss"] is not None else "-"
        print(f"{name:32} {r['tokens']:>8} {r['seconds']:>8.1f} {r['tokens_per_s']:>9.1f} "
              f"{r['tokens_per_s'] / baseline['tokens_per_s']:>15.2f}x {first:>11}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
