"""Search latency at scale: hybrid (dense + BM25, RRF) `QdrantEdgeStore.search` over 50,000 chunks.

Synthetic data, seeded: random unit 384-d vectors and random-word texts (2,000-word vocabulary) with
a platform (5 values) and a creation time (10 years). Query embedding is excluded: the timings are
the store's search alone, without filters, with a platform filter and with a one-year date range.
The baseline, in the same run, is numpy brute force over the same vectors (matrix @ query, then
argpartition). The goal is p95 <= 10 ms.

    .venv/bin/python benchmarks/retrieval_speed.py [--chunks 50000] [--queries 300] [--optimize]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed

from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters

DIMENSION = 384
PLATFORMS = ["blog", "x", "linkedin", "chat", "notes"]
START = datetime(2015, 1, 1, tzinfo=UTC)
YEARS = 10
LIMIT = 20  # what `Retriever.search` asks the store for at its default k=5
GOAL_MS = 10.0


def vocabulary(rng: np.random.Generator, size: int = 2000) -> list[str]:
    """Distinct pronounceable pseudo-words, so no English stopword or stem merges them."""
    consonants, vowels = list("bcdfghjklmnprstvz"), list("aeiou")
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.integers(2, 4)
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)))
    return sorted(words)


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def synthetic_chunks(rng: np.random.Generator, vectors: np.ndarray, words: list[str],
                     words_per_chunk: int) -> list[IndexedChunk]:
    seconds = YEARS * 365 * 86400
    chunks = []
    for number, vector in enumerate(vectors):
        text = " ".join(words[i] for i in rng.integers(0, len(words), words_per_chunk))
        payload = {"platform": PLATFORMS[number % len(PLATFORMS)], "kind": "post",
                   "is_owner": True, "source_id": 1, "document_id": number,
                   "created_ts": START.timestamp() + float(rng.integers(0, seconds))}
        chunks.append(IndexedChunk(f"{number:08d}-0000-4000-8000-000000000000", vector.tolist(),
                                   text, payload))
    return chunks


def upsert_all(store: QdrantEdgeStore, chunks: list[IndexedChunk], batch: int) -> None:
    for start in range(0, len(chunks), batch):
        store.upsert(chunks[start:start + batch])


def latencies_ms(search: Callable[[int], object], queries: int, warmup: int = 10) -> list[float]:
    for number in range(warmup):
        search(number)
    timings = []
    for number in range(queries):
        started = time.perf_counter()
        search(number)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p50_p95(timings: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94]


def brute_force(matrix: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    scores = matrix @ query
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def measure_store(store: QdrantEdgeStore, query_vectors: list[list[float]], query_texts: list[str],
                  queries: int) -> dict[str, list[float]]:
    one_year = SearchFilters(since=START + timedelta(days=365 * 4), until=START + timedelta(days=365 * 5))
    cases = {"hybrid, no filter": lambda n: None,
             "hybrid, platform": lambda n: SearchFilters(platform=PLATFORMS[n % len(PLATFORMS)]),
             "hybrid, 1-year range": lambda n: one_year}
    return {name: latencies_ms(lambda n, f=make_filter: store.search(
                query_vectors[n % queries], query_texts[n % queries], limit=LIMIT, filters=f(n)), queries)
            for name, make_filter in cases.items()}


def report(results: dict[str, list[float]], baseline: tuple[float, float]) -> None:
    base50, base95 = baseline
    print(f"  {'numpy brute force':<22} p50 {base50:7.2f} ms   p95 {base95:7.2f} ms   (baseline)")
    for name, timings in results.items():
        p50, p95 = p50_p95(timings)
        verdict = "yes" if p95 <= GOAL_MS else "NO"
        print(f"  {name:<22} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   "
              f"x{p50 / base50:5.1f} / x{p95 / base95:5.1f} baseline   p95 <= {GOAL_MS:.0f} ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--words", type=int, default=60, help="words per synthetic chunk text")
    parser.add_argument("--batch", type=int, default=1000, help="chunks per upsert call")
    parser.add_argument("--optimize", action="store_true",
                        help="also time store.optimize() (what `twin index` runs after a load) "
                             "and search again")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    words = vocabulary(rng)
    matrix = unit_vectors(rng, args.chunks)
    chunks = synthetic_chunks(rng, matrix, words, args.words)
    query_matrix = unit_vectors(rng, args.queries)
    query_vectors = query_matrix.tolist()
    query_texts = [" ".join(rng.choice(words, 3)) for _ in range(args.queries)]

    folder = Path(tempfile.mkdtemp(prefix="twin-retrieval-speed-"))
    try:
        with QdrantEdgeStore(folder / "vectors", embedding_model="synthetic-384",
                             dimension=DIMENSION) as store:
            elapsed, _ = timed(lambda: upsert_all(store, chunks, args.batch))
            assert store.count() == args.chunks
            print(f"{args.chunks:,} chunks ({args.words} words each, {DIMENSION}-d), "
                  f"{args.queries} queries, top {LIMIT}")
            print(f"upsert: {elapsed:.1f}s, {args.chunks / elapsed:,.0f} chunks/s "
                  f"(dense + BM25, batches of {args.batch})")
            baseline = p50_p95(latencies_ms(lambda n: brute_force(matrix, query_matrix[n % args.queries],
                                                                  LIMIT), args.queries))
            print("search latency right after loading (payload indexes on the filtered fields), "
                  "query embedding excluded:")
            report(measure_store(store, query_vectors, query_texts, args.queries), baseline)
            if args.optimize:
                elapsed, _ = timed(store.optimize)
                print(f"after optimize() ({elapsed:.1f}s):")
                report(measure_store(store, query_vectors, query_texts, args.queries), baseline)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
