"""Training tokens/s: the `twin train sft` / `twin train dpo` paths against plain TRL trainers, in
the same run, variants alternated (ABBA...) and repeated.

Same model (SmolLM2-135M from the bundled GGUF), same data (a real `twin dataset build` of a
corpus, with preference pairs for DPO), same LoRA config (r=16 on all linear layers), same batch,
max_length, learning rate and step budget. Tokens are the real (non-padding) tokens each trainer
counts itself (the attention mask's sum, prompt tokens included, for twin and TRL alike); the rate
is tokens / train_runtime (the Trainer's own clock: steps, evaluations and checkpoints in the run,
not model loading). SFT variants:

- twin: `train_sft` as `twin train sft` runs it (pre-tokenised with assistant-only labels,
  its default precision "auto" and gradient checkpointing, the default evaluation/checkpoint
  cadence, the end-of-run checkpoint written);
- twin, fp32: the same in float32 (the precision twin used before "auto");
- twin + checkpointing / twin, no checkpointing: the same with gradient checkpointing flipped;
- twin + packing: the same with `--packing`;
- TRL defaults: a plain SFTTrainer on the `messages` file with TRL's own defaults (bf16 autocast
  and gradient checkpointing on), no evaluation, no checkpoints;
- TRL, fp32, no checkpointing: the plain SFTTrainer in float32 without checkpointing.

DPO variants (on the merged model of one SFT run made for the purpose, the pairs of the build):

- twin dpo: `train_dpo` as `twin train dpo` runs it (and with gradient checkpointing flipped);
- TRL DPO defaults: a plain DPOTrainer with TRL's defaults (bf16 autocast, checkpointing).

    .venv/bin/python benchmarks/train_speed.py [--steps 6] [--dpo-steps 4] [--repeats 2]
        [--workspace /tmp/twin-train-bench] [--skip packing ...] [--only sft|dpo]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402
from _train_data import corpus_workspace  # noqa: E402

from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402
from llm_twin.training import registry  # noqa: E402
from llm_twin.training.dataset_build import load_preferences, resolve_build  # noqa: E402
from llm_twin.training.dpo import PREFERENCE_TEST, PREFERENCE_TRAIN, DpoConfig, train_dpo  # noqa: E402
from llm_twin.backends.loading import load_base_model, load_tuned_model  # noqa: E402
from llm_twin.training.runs import lora_config, resolve_precision  # noqa: E402
from llm_twin.training.sft import EvalOptions, SftConfig, train_sft  # noqa: E402

NO_HELDOUT = EvalOptions(heldout=False)


def _sessions(settings):
    return session_factory(create_warehouse_engine(settings.resolved_database_url))


def _result(tokens: int, seconds: float, curve: list) -> dict:
    # The 1-minute load average after the run: above the cores' count, something else was running.
    return {"tokens": int(tokens), "seconds": round(seconds, 2), "tokens_per_s": tokens / seconds,
            "losses": [round(loss, 4) for _, loss in curve], "load": round(os.getloadavg()[0], 1)}


def twin_sft(settings, config: SftConfig) -> dict:
    run = train_sft(settings, _sessions(settings), config, evaluation=NO_HELDOUT)
    m = run.metrics
    return {**_result(m["train_tokens"], m["train_runtime_s"], m["loss_curve"]), "run": run.id}


def _plain_curve(trainer) -> list:
    return [(e["step"], e["loss"]) for e in trainer.state.log_history if "loss" in e]


def plain_sft(settings, config: SftConfig, *, trl_defaults: bool) -> dict:
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
    return _result(trainer._total_train_tokens, output.metrics["train_runtime"], _plain_curve(trainer))


def parent_sft_run(settings, config: SftConfig) -> str:
    """The SFT run every DPO variant starts from: the newest finished one, else a 2-step run."""
    with _sessions(settings)() as session:
        run = registry.latest_run(session, "sft", status="finished")
    if run is None:
        run = train_sft(settings, _sessions(settings), replace(config, max_steps=2), evaluation=NO_HELDOUT)
    return run.id


def twin_dpo(settings, config: DpoConfig, parent: str) -> dict:
    run = train_dpo(settings, _sessions(settings), config, sft_run_id=parent, evaluation=NO_HELDOUT)
    m = run.metrics
    return {**_result(m["train_tokens"], m["train_runtime_s"], m["loss_curve"]), "run": run.id}


def plain_dpo(settings, config: DpoConfig, parent: str) -> dict:
    """A textbook DPOTrainer with TRL's defaults on the same merged SFT model and pairs."""
    import datasets
    from trl import DPOConfig, DPOTrainer

    with _sessions(settings)() as session:
        run = registry.get_run(session, parent)
    model, tokenizer = load_tuned_model(run, settings, place=False)
    model.train()
    build = resolve_build(settings.workspace, run.dataset_id)
    pairs = datasets.Dataset.from_list(load_preferences(build.path(PREFERENCE_TRAIN)))
    args = DPOConfig(output_dir=tempfile.mkdtemp(prefix="trl-dpo-bench-"), max_steps=config.max_steps,
                     per_device_train_batch_size=config.batch_size,
                     gradient_accumulation_steps=config.grad_accumulation, max_length=config.max_length,
                     beta=config.beta, learning_rate=config.learning_rate, seed=config.seed, use_cpu=True,
                     report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True)
    trainer = DPOTrainer(model=model, args=args,
                         train_dataset=pairs.select_columns(["prompt", "chosen", "rejected"]),
                         processing_class=tokenizer, peft_config=lora_config(config))
    output = trainer.train()
    return _result(trainer._total_train_tokens, output.metrics["train_runtime"], _plain_curve(trainer))


def alternate(variants: dict, repeats: int) -> dict[str, list[dict]]:
    """Each variant `repeats` times, the order reversed every other round (ABBA...), so warm-up
    and drifting load land on every variant alike."""
    names = list(variants)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            result = variants[name]()
            runs[name].append(result)
            print(f"[round {round_ + 1}] {name}: {json.dumps(result)}", flush=True)
            gc.collect()
    return runs


def table(title: str, runs: dict[str, list[dict]], baseline: str) -> None:
    rate = {name: statistics.mean(r["tokens_per_s"] for r in results) for name, results in runs.items()}
    base = rate.get(baseline)
    print(f"\n{title}")
    print(f"| variant | tokens per run | tokens/s, mean | tokens/s, each run (load) | vs {baseline} "
          "| losses, first run |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        tokens = "/".join(sorted({str(r["tokens"]) for r in results}))
        each = ", ".join(f"{r['tokens_per_s']:.1f} ({r.get('load', '-')})" for r in results)
        ratio = f"{rate[name] / base:.2f}x" if base else "-"
        losses = " ".join(f"{x:.3f}" for x in results[0]["losses"])
        print(f"| {name} | {tokens} | {rate[name]:.1f} | {each} | {ratio} | {losses} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", default="brandur_fragments")
    parser.add_argument("--owner", default="Brandur Leach")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="reuse this workspace (imported and built on first use; default: a new temporary one)")
    parser.add_argument("--pairs", type=int, default=24, help="preference pairs to generate for DPO")
    parser.add_argument("--steps", type=int, default=6, help="SFT optimizer steps per run")
    parser.add_argument("--dpo-steps", type=int, default=4, help="DPO optimizer steps per run")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant, order alternated")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--cache-dir", type=Path, default=None, help="dequantised model cache")
    parser.add_argument("--only", choices=["sft", "dpo"], default=None)
    parser.add_argument("--skip", nargs="*", default=[],
                        help="variants to skip: fp32 checkpointing packing trl-defaults trl-matched "
                             "dpo-checkpointing")
    args = parser.parse_args()

    settings = corpus_workspace(args.corpora / args.corpus, args.owner, args.cache_dir, args.workspace,
                                preference_pairs=0 if args.only == "sft" else args.pairs)
    config = SftConfig(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                       logging_steps=1, report_to="none")
    print(f"precision auto -> {resolve_precision('auto', 'cpu')} on this CPU", flush=True)
    if args.only != "dpo":
        checkpointing = ("twin, no checkpointing" if config.gradient_checkpointing
                         else "twin + checkpointing")
        variants = {
            "twin": lambda: twin_sft(settings, config),
            "TRL defaults": lambda: plain_sft(settings, config, trl_defaults=True),
            "twin, fp32": lambda: twin_sft(settings, replace(config, precision="fp32")),
            "TRL, fp32, no checkpointing": lambda: plain_sft(settings, config, trl_defaults=False),
            checkpointing: lambda: twin_sft(settings, replace(
                config, gradient_checkpointing=not config.gradient_checkpointing)),
            "twin + packing": lambda: twin_sft(settings, replace(config, packing=True)),
        }
        skipped = {"fp32": "twin, fp32", "checkpointing": checkpointing, "packing": "twin + packing",
                   "trl-defaults": "TRL defaults", "trl-matched": "TRL, fp32, no checkpointing"}
        for name in args.skip:
            variants.pop(skipped.get(name), None)
        sft_runs = alternate(variants, args.repeats)
        table(f"SFT, {args.corpus}: {args.steps} steps x batch {args.batch_size}, max_length {args.max_length}, "
              f"LoRA r=16 all linear, SmolLM2-135M, CPU, {args.repeats} runs each (order alternated)",
              sft_runs, "TRL defaults")
        print(json.dumps(sft_runs))
    if args.only != "sft":
        dpo_config = DpoConfig(max_steps=args.dpo_steps, max_length=args.max_length, logging_steps=1,
                               report_to="none")
        parent = parent_sft_run(settings, config)
        flipped = replace(dpo_config, gradient_checkpointing=not dpo_config.gradient_checkpointing)
        other = "twin dpo, no checkpointing" if dpo_config.gradient_checkpointing else "twin dpo + checkpointing"
        variants = {"twin dpo": lambda: twin_dpo(settings, dpo_config, parent),
                    "TRL DPO defaults": lambda: plain_dpo(settings, dpo_config, parent),
                    other: lambda: twin_dpo(settings, flipped, parent)}
        if "dpo-checkpointing" in args.skip:
            variants.pop(other)
        dpo_runs = alternate(variants, args.repeats)
        pairs = len(load_preferences(resolve_build(settings.workspace).path(PREFERENCE_TRAIN)))
        tests = len(load_preferences(resolve_build(settings.workspace).path(PREFERENCE_TEST)))
        table(f"DPO, {args.corpus} ({pairs} train / {tests} test pairs), on SFT run {parent}: {args.dpo_steps} "
              f"steps x batch {dpo_config.batch_size} x accumulation {dpo_config.grad_accumulation}, "
              f"max_length {args.max_length}, {args.repeats} runs each (order alternated)",
              dpo_runs, "TRL DPO defaults")
        print(json.dumps(dpo_runs))


if __name__ == "__main__":
    main()
