"""Retrieval quality: each post's title is the query, the post without its title is the target.

Recall@1/5/10 and MRR at document level (a hit is any chunk of the target post; a document's rank
is the first rank at which any of its chunks appears) for BM25 alone, dense alone and the store's
hybrid search (RRF), all on the same index built by the product's own ingest and index code.
Titles are blanked before storing, so neither the chunk text nor the embedding text contains them.

    .venv/bin/python benchmarks/retrieval_quality.py [--corpus brandur_fragments] [--limit 60]
        [--cache DIR]    # keep built indexes between runs
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA, timed  # noqa: E402

from sqlalchemy import select  # noqa: E402

from llm_twin.config import load_settings  # noqa: E402
from llm_twin.inference.rerank import MmrReranker  # noqa: E402
from llm_twin.inference.retrieval import Retriever  # noqa: E402
from llm_twin.features.cleaning import normalize_for_search  # noqa: E402
from llm_twin.features.embeddings import SentenceTransformerEmbedder  # noqa: E402
from llm_twin.features.indexing import chunks_of, index_documents  # noqa: E402
from llm_twin.ingest.base import ImportResult  # noqa: E402
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter  # noqa: E402
from llm_twin.ingest.pipeline import store_import  # noqa: E402
from llm_twin.storage.models import Document  # noqa: E402
from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

CORPORA = ("skeeto_nullprogram", "brandur_fragments", "jbranchaud_til")
REFERENCE_BM25_RECALL_AT_5 = {"skeeto_nullprogram": 0.952, "brandur_fragments": 0.922,
                              "jbranchaud_til": 0.929}  # the plain BM25 baseline
TOP_CHUNKS = 50
METRICS = ("R@1", "R@5", "R@10", "MRR")


def build_index(corpus: Path, limit: int, folder: Path, settings, embedder):
    """Warehouse + vector store for the corpus with titles blanked; returns sessions and titles."""
    result = MarkdownFolderImporter().read(corpus)
    documents = result.documents[:limit] if limit else result.documents
    titles = {doc.external_id: doc.title for doc in documents}
    for doc in documents:
        doc.title = None  # the target is the post without its title
    sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
    with sessions() as session:
        stored = session.scalars(select(Document).order_by(Document.id)).all()
        if not stored:  # a cached warehouse is complete: store_import is all-or-nothing
            store_import(corpus, "benchmark", ImportResult(result.format_name, documents, result.owner),
                         sessions)
            stored = session.scalars(select(Document).order_by(Document.id)).all()
        for doc in stored:  # no title may reach the indexed text
            assert doc.title is None
            assert all(c.embedding_text() == normalize_for_search(c.text) for c in
                       chunks_of(doc, settings.chunk_max_chars, settings.chunk_overlap_chars))
    with QdrantEdgeStore(folder / "vectors", embedding_model=embedder.model_id,
                         dimension=embedder.dimension) as store:
        index_documents(sessions, store, embedder, max_chars=settings.chunk_max_chars,
                        overlap_chars=settings.chunk_overlap_chars,
                        batch_size=settings.embedding_batch_size, on_progress=_progress)
    print(file=sys.stderr)
    return sessions, titles


def _progress(done: int, total: int) -> None:
    print(f"\r  embedding {done}/{total} chunks", end="", file=sys.stderr, flush=True)


def single_method(store: QdrantEdgeStore, name: str, text: str, vector: list[float],
                  limit: int) -> list[int]:
    """One of the rankings the hybrid query fuses ("dense" or "sparse"), on its own."""
    ranking = store.search_each(vector, text, limit=limit).get(name, [])
    return [hit.payload["document_id"] for hit in ranking]


def hybrid(store: QdrantEdgeStore, text: str, vector: list[float], limit: int) -> list[int]:
    return [hit.payload["document_id"] for hit in store.search(vector, text, limit=limit)]


def document_rank(chunk_documents: list[int], target: int) -> int | None:
    """1-based rank of the target among distinct documents, in the order their chunks came."""
    ranked = list(dict.fromkeys(chunk_documents))
    return ranked.index(target) + 1 if target in ranked else None


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    out = {f"R@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 10)}
    out["MRR"] = sum(1 / r for r in ranks if r) / n
    return out


def evaluate(corpus: Path, limit: int, folder: Path, settings, embedder) -> None:
    seconds, (sessions, titles) = timed(lambda: build_index(corpus, limit, folder, settings, embedder))
    with sessions() as session:  # stored documents only: one blanked duplicate is stored once
        targets = [(doc.id, normalize_for_search(titles.get(doc.external_id) or ""))
                   for doc in session.scalars(select(Document).order_by(Document.id))]
    targets = [(doc_id, query) for doc_id, query in targets if query]
    vectors = embedder.embed([query for _, query in targets],
                             batch_size=settings.embedding_batch_size).tolist()
    with QdrantEdgeStore(folder / "vectors", embedding_model=embedder.model_id,
                         dimension=embedder.dimension) as store:
        chunks = store.count()
        # The product's retriever: best chunk per document, then MMR over the top 40 (top 10 kept).
        mmr = Retriever(store, embedder, sessions,
                        reranker=MmrReranker(embedder, relevance="fused"))
        methods = {"BM25 alone": lambda q, v: single_method(store, "sparse", q, v, TOP_CHUNKS),
                   "dense alone": lambda q, v: single_method(store, "dense", q, v, TOP_CHUNKS),
                   "hybrid (RRF)": lambda q, v: hybrid(store, q, v, TOP_CHUNKS),
                   "hybrid + MMR": lambda q, v: [hit.document_id for hit in mmr.search(q, k=10)]}
        results = {name: scores([document_rank(search(query, vector), doc_id)
                                 for (doc_id, query), vector in zip(targets, vectors)])
                   for name, search in methods.items()}

    print(f"\n{corpus.name}: {len(targets)} title queries over {chunks} chunks "
          f"({limit or 'all'} documents; index ready in {seconds:.0f}s); top {TOP_CHUNKS} chunks "
          "collapsed to documents")
    print(f"  {'method':<16}" + "".join(f"{m:>8}" for m in METRICS))
    for name, values in results.items():
        print(f"  {name:<16}" + "".join(f"{values[m]:8.3f}" for m in METRICS))
    print("  (hybrid + MMR: the product's retriever, top 10 documents; no cross-encoder is "
          "available offline)")
    reference = REFERENCE_BM25_RECALL_AT_5.get(corpus.name)
    if reference is not None:
        caveat = " (whole corpus; this run is a subset)" if limit else ""
        print(f"  reference BM25 recall@5 from the issue: {reference:.3f}{caveat}")
    best, singles = results["hybrid (RRF)"], (results["BM25 alone"], results["dense alone"])
    behind = [m for m in METRICS if any(best[m] < single[m] for single in singles)]
    print(f"  hybrid >= both single methods: {'yes' if not behind else 'no (' + ', '.join(behind) + ')'}")
    print(f"  hybrid recall@5 >= 0.95: {'yes' if best['R@5'] >= 0.95 else 'no'} ({best['R@5']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", action="append", help=f"repeatable; default: {', '.join(CORPORA)}")
    parser.add_argument("--limit", type=int, default=0, help="first N documents per corpus; 0 = all")
    parser.add_argument("--cache", type=Path, help="keep built indexes here between runs")
    args = parser.parse_args()
    settings = load_settings(tempfile.mkdtemp())
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    for name in args.corpus or CORPORA:
        corpus = args.corpora / name
        if not corpus.is_dir():
            print(f"\n{name}: skipped, {corpus} is absent (pass --corpora)")
            continue
        if args.cache:
            folder = args.cache / f"{name}-{args.limit or 'all'}"
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(tempfile.mkdtemp(prefix="twin-retrieval-"))
        try:
            evaluate(corpus, args.limit, folder, settings, embedder)
        finally:
            if not args.cache:
                shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
