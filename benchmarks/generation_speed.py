"""Generation tokens/s by backend: CTranslate2 (the default) and llama.cpp against transformers
(the baseline), one request at a time and batched.

Same model (the bundled SmolLM2-135M-Instruct: transformers runs its dequantised float32 weights,
CTranslate2 an int8 conversion of them, llama.cpp the Q4_1 GGUF as is), same prompts (the twin's
system message and a draft request), same sampling and seed, same max_new_tokens, each through the
project's Backend protocol. The backends are interleaved prompt by prompt, so a busy shared machine
slows them alike. Model loading (and conversion) and a short warm-up are excluded.

- single: one request at a time, as `twin write -n 1`, `twin reply` and one chat request do;
- batched: the prompts as one `generate` call, as `twin write -n N`, `twin dataset build` and the
  server's request batching do (llama.cpp has no batched path: it runs them one after another).

    .venv/bin/python benchmarks/generation_speed.py [--max-new-tokens 128] [--runs 2] [--threads N]
        [--skip llamacpp] [--compute-type int8]

llama.cpp is measured when llama-cpp-python is installed (`pip install '.[fast]'`, a source build).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

# llama.cpp and torch run OpenMP threads; the policy is read once per process, so set it before
# either loads. PASSIVE is what the llamacpp backend sets by default (spinning threads are slow on
# a busy machine); OMP_WAIT_POLICY=ACTIVE in the environment measures the other way.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

from llm_twin.backends.base import Generation, GenerationParams, Message  # noqa: E402
from llm_twin.backends.ctranslate2_backend import CTranslate2Backend  # noqa: E402
from llm_twin.backends.loading import bundled_smollm2  # noqa: E402
from llm_twin.backends.transformers_backend import TransformersBackend  # noqa: E402
from llm_twin.prompts.wording import system_message  # noqa: E402

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
        return self.tokens / self.seconds if self.seconds else 0.0


def interleaved(backends: dict, prompts: list[list[Message]], params: GenerationParams,
                runs: int) -> dict[str, Tally]:
    """Each prompt goes to every backend back to back, then each batch, every round."""
    for backend in backends.values():
        backend.generate(prompts[:1], replace(params, max_new_tokens=8))  # warm-up
    tallies = {f"{name} {mode}": Tally() for name in backends for mode in ("single", "batched")}
    for _ in range(runs):
        for prompt in prompts:
            for name, backend in backends.items():
                tallies[f"{name} single"].add(*timed(lambda: backend.generate([prompt], params)))
        for name, backend in backends.items():
            tallies[f"{name} batched"].add(*timed(lambda: backend.generate(prompts, params)))
    return tallies


def load_backends(args) -> dict:
    location = bundled_smollm2()
    backends = {"transformers": TransformersBackend("smollm2", cache_dir=args.cache_dir, device="cpu"),
                "ctranslate2": CTranslate2Backend("smollm2", cache_dir=args.cache_dir, device="cpu",
                                                  compute_type=args.compute_type,
                                                  threads=args.threads)}
    if "llamacpp" not in args.skip:
        if importlib.util.find_spec("llama_cpp") is None:
            print("llama.cpp: not measured (llama-cpp-python is not installed: pip install '.[fast]').")
        else:
            from llm_twin.backends.llamacpp_backend import LlamaCppBackend

            backends["llamacpp"] = LlamaCppBackend(Path(location.name_or_path) / location.gguf_file,
                                                   n_ctx=2048, n_threads=args.threads)
    for backend in backends.values():
        backend.load()
    return backends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=2, help="rounds over the prompts")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="CPU threads for every backend (default: all cores).")
    parser.add_argument("--compute-type", default="int8", help="CTranslate2 compute type.")
    parser.add_argument("--no-repeat-ngram-size", type=int, default=0,
                        help="not in llama.cpp; 0 keeps the work equal across backends.")
    parser.add_argument("--skip", nargs="*", default=[], help="backends to leave out: llamacpp")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "llm-twin-test-cache",
                        help="dequantised and converted weights (made on first use).")
    args = parser.parse_args()
    params = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=0.6, top_p=0.9,
                              repetition_penalty=1.1, no_repeat_ngram_size=args.no_repeat_ngram_size,
                              seed=7)
    prompts = conversations()

    import torch

    torch.set_num_threads(args.threads)
    backends = load_backends(args)
    tallies = interleaved(backends, prompts, params, args.runs)

    base = backends["transformers"]
    print(f"\nGeneration speed, SmolLM2-135M-Instruct: {len(prompts)} prompts "
          f"({base.count_tokens(base.render_prompt(prompts[0]))}+ prompt tokens each), "
          f"max {args.max_new_tokens} new tokens, temperature 0.6, seed 7, {args.runs} interleaved "
          f"rounds, {args.threads} threads each on {os.cpu_count()} CPU cores; CTranslate2 "
          f"{args.compute_type}, transformers float32, llama.cpp Q4_1")
    print(f"{'backend':28} {'tok/s':>7} {'tokens':>7} {'seconds':>8} {'load s':>7}")
    for name, tally in tallies.items():
        load = backends[name.split()[0]].load_seconds
        print(f"{name:28} {tally.rate:7.1f} {tally.tokens:7d} {tally.seconds:8.1f} {load:7.1f}")
    ct2, hf = tallies["ctranslate2 single"], tallies["transformers single"]
    print(f"ctranslate2 / transformers, single: {ct2.rate / hf.rate:.2f}x (goal >= 3)")
    print(f"ctranslate2 batched / ctranslate2 single: "
          f"{tallies['ctranslate2 batched'].rate / ct2.rate:.2f}x (goal >= 1.5)")
    print(f"ctranslate2 / transformers, batched: "
          f"{tallies['ctranslate2 batched'].rate / tallies['transformers batched'].rate:.2f}x")
    if "llamacpp" in backends:
        print(f"ctranslate2 / llama.cpp, single: {ct2.rate / tallies['llamacpp single'].rate:.2f}x "
              "(goal >= 0.9)")


if __name__ == "__main__":
    main()
