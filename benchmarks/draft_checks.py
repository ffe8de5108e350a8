"""Cost of the draft checks `twin write` runs on every draft, on a real blog (skeeto_nullprogram).

    .venv/bin/python benchmarks/draft_checks.py [--corpora ../shared/corpora] [--runs 3]

Measures: building the near-duplicate index (MinHash LSH Ensemble over the past posts) against
loading it from the workspace cache, one near-duplicate query, loading the owner's documents
for claim checks, and one claim check. Also checks that a past post's paragraph is found again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA, best_of, spread, timed  # noqa: E402

from llm_twin.inference.grounding import Evidence, find_unsupported_claims  # noqa: E402
from llm_twin.inference.novelty import LazyPastPosts, PastPostIndex, load_past_posts  # noqa: E402
from llm_twin.ingest.pipeline import ingest_path  # noqa: E402
from llm_twin.ingest.registry import detect_importer  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

CLAIM_DRAFT = ("When I was at Acme we rewrote the renderer in C and cut frame times by 40%. "
               "Last year I gave a talk about it in Berlin. Compilers are fun.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpora / "skeeto_nullprogram"
    if not corpus.exists():
        sys.exit(f"{corpus} not found; pass --corpora")
    folder = Path(tempfile.mkdtemp(prefix="twin-checks-"))
    try:
        sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
        ingest_path(corpus, detect_importer(corpus), sessions)
        posts = load_past_posts(sessions)
        chars = sum(len(p.text) for p in posts)
        print(f"skeeto_nullprogram: {len(posts)} past posts, {chars / 1e6:.1f} M characters")

        build, build_runs, index = best_of(args.runs, lambda: PastPostIndex(posts))
        cache = folder / "cache"
        LazyPastPosts(sessions, cache).index()  # writes the cache
        cached, cached_runs, _ = best_of(args.runs, lambda: LazyPastPosts(sessions, cache).index())
        print(f"  index build (baseline):     {build:6.2f} s{spread(build_runs)}")
        print(f"  index from workspace cache: {cached:6.2f} s{spread(cached_runs)}"
              f"  ({build / cached:.1f}x faster)")

        paragraph = max(posts[len(posts) // 2].text.split("\n\n"), key=len)
        query, found = timed(lambda: index.nearest(paragraph))
        print(f"  one near-duplicate query:   {query * 1000:6.1f} ms; a past paragraph -> "
              f"{found['label'] if found else 'NOT FOUND'} "
              f"(containment {found['containment'] if found else 0})")

        load, evidence = timed(lambda: Evidence(p.text for p in posts))
        check, claims = timed(lambda: find_unsupported_claims(CLAIM_DRAFT, [],
                                                              owner_documents=evidence))
        print(f"  owner documents for claims: {load:6.2f} s to index; one check "
              f"{check * 1000:.1f} ms; flagged {[c.facts for c in claims]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
