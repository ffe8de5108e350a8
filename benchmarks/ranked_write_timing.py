"""Time per ranked draft set (`twin write -n 4`) against a single draft, on the demo workspace,
with the default backend (`auto`: CTranslate2) and with transformers (the baseline, what `twin
write` used before), in the same run.

Both use the same prompt path (retrieval, profile, prompt building); the ranked set generates 4
drafts as one batch, then scores their voice, finds clichés and sorts them. The voice model is
fitted first (timed separately: it happens once per workspace, on first use).

    .venv/bin/python benchmarks/ranked_write_timing.py [--platform linkedin] [--max-new-tokens 120]
        [--backends auto transformers]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402
from write_timing import IDEA, demo_workspace  # noqa: E402

from llm_twin.app.voice import fit_voice  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", default="linkedin")
    parser.add_argument("--max-new-tokens", type=int, default=120)
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--backends", nargs="+", default=["auto", "transformers"])
    args = parser.parse_args()
    ws = demo_workspace(args.max_new_tokens)
    fit_seconds, (scorer, card) = timed(lambda: fit_voice(ws, ws.backend("base")))
    print(f"voice model fit (once per workspace, backend {ws.backend('base').name}): "
          f"{fit_seconds:.1f} s — {card['owner_texts']} owner texts, {card['base_model_texts']} "
          f"base drafts, held-out accuracy {card.get('held_out_accuracy')}")
    ranked_by_backend = {}
    for name in args.backends:
        ws.settings.backend = name
        backend = ws.backend()
        backend.load()
        with ws.vector_store() as store:
            writer = ws.writer(store, backend, voice=scorer)
            writer.write(IDEA, args.platform)  # warm-up: first retrieval and checks load their parts
            single_seconds, single = timed(lambda: writer.write(IDEA, args.platform, n=1))
            ranked_seconds, ranked = timed(lambda: writer.write(IDEA, args.platform, n=args.n))
        ranked_by_backend[name] = ranked_seconds
        print(f"backend {name} ({backend.name}):")
        for label, seconds, result in (("single draft", single_seconds, single),
                                       (f"ranked set of {args.n}", ranked_seconds, ranked)):
            t = result.timings
            tokens = sum(d.generation.completion_tokens for d in result.drafts)
            print(f"{label:>16}: {seconds:6.2f} s (retrieval {t.retrieval:.2f}, prompt "
                  f"{t.prompt_building:.2f}, generation {t.generation:.2f} for {tokens} tokens, "
                  f"scoring {t.scoring:.2f}); {result.prompt.prompt_tokens} prompt tokens")
        print("  ranked voice scores: " + ", ".join(f"{d.voice_score:.2f}" for d in ranked.drafts))
        print(f"  ratio ranked set / single draft: {ranked_seconds / single_seconds:.2f} "
              f"(per draft: {ranked_seconds / args.n / single_seconds:.2f})")
        del backend
    if len(ranked_by_backend) > 1:
        first, *others = args.backends
        for other in others:
            print(f"twin write -n {args.n} wall time, {first} / {other}: "
                  f"{ranked_by_backend[first] / ranked_by_backend[other]:.2f}x")

if __name__ == "__main__":
    main()
