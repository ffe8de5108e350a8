"""One `twin write`, its time split into model load, retrieval, prompt building and generation.

The baseline is a bare `model.generate` on the very same prompt and sampling settings, so the
ratio shows what the pipeline around the model costs.

    .venv/bin/python benchmarks/write_timing.py [--platform linkedin] [--max-new-tokens 160]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, demo_x_archive, timed  # noqa: E402

from llm_twin.app.workspace import Workspace  # noqa: E402
from llm_twin.config import load_settings  # noqa: E402
from llm_twin.features.indexing import index_documents  # noqa: E402
from llm_twin.ingest.pipeline import ingest_path  # noqa: E402
from llm_twin.ingest.registry import detect_importer  # noqa: E402

IDEA = "Why boring technology wins for small teams: we kept our job queue in Postgres"


def demo_workspace(max_new_tokens: int, backend: str | None = None) -> Workspace:
    ws = Workspace(load_settings(tempfile.mkdtemp(prefix="twin-write-"), owner_name="Maya Lindqvist",
                                 max_new_tokens=max_new_tokens, seed=7, backend=backend))
    for path in (demo_x_archive(), REPO / "demo" / "blog"):
        ingest_path(path, detect_importer(path), ws.sessions)
    with ws.vector_store() as store:
        index_documents(ws.sessions, store, ws.embedder)
    return ws


def bare_generate(backend, messages, params) -> int:
    import torch

    tokenizer, model = backend.tokenizer, backend._model
    inputs = tokenizer(backend.render_prompt(messages), return_tensors="pt", add_special_tokens=False)
    torch.manual_seed(params.seed)
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=params.max_new_tokens, do_sample=True,
                                temperature=params.temperature, top_p=params.top_p,
                                repetition_penalty=params.repetition_penalty,
                                no_repeat_ngram_size=params.no_repeat_ngram_size,
                                pad_token_id=tokenizer.pad_token_id)
    return output.shape[1] - inputs["input_ids"].shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", default="linkedin")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    args = parser.parse_args()
    ws = demo_workspace(args.max_new_tokens, backend="transformers")  # the baseline is model.generate
    backend = ws.backend()
    with ws.vector_store() as store:
        writer = ws.writer(store, backend)
        _, result = timed(lambda: writer.write(IDEA, args.platform))
        t = result.timings
        t.model_load = backend.load_seconds
        tokens = result.drafts[0].generation.completion_tokens
        base_seconds, base_tokens = timed(lambda: bare_generate(backend, result.prompt.messages,
                                                                writer.options.generation))
    print(f"twin write --platform {args.platform} ({result.prompt.prompt_tokens} prompt tokens, "
          f"{tokens} generated):")
    print(f"  model load       {t.model_load:7.2f} s  (cached dequantised weights; first run ~30 s)")
    print(f"  retrieval        {t.retrieval:7.2f} s")
    print(f"  prompt building  {t.prompt_building:7.2f} s")
    print(f"  generation       {t.generation:7.2f} s  ({tokens / t.generation:.1f} tok/s)")
    print(f"bare model.generate on the same prompt (baseline): {base_seconds:.2f} s "
          f"({base_tokens / base_seconds:.1f} tok/s)")
    print(f"ratio twin tok/s / bare tok/s: {(tokens / t.generation) / (base_tokens / base_seconds):.2f}")


if __name__ == "__main__":
    main()
