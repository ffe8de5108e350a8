"""Index throughput: `twin index` chunks/s against raw SentenceTransformer.encode on the same chunks.

`twin index` does more than encode (chunking, BM25 sparse vectors, Qdrant upserts, SQL rows); the
goal is that all of it costs at most 10% over the bare model (ratio ≥ 0.9).

    .venv/bin/python benchmarks/index_speed.py [--docs 80] [--corpus skeeto_nullprogram] [--runs 2]
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
from llm_twin.features.embeddings import SentenceTransformerEmbedder  # noqa: E402
from llm_twin.features.indexing import chunks_of, index_documents  # noqa: E402
from llm_twin.ingest.base import ImportResult  # noqa: E402
from llm_twin.ingest.pipeline import store_import  # noqa: E402
from llm_twin.ingest.registry import detect_importer  # noqa: E402
from llm_twin.storage.models import Document  # noqa: E402
from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402


def fresh_warehouse(corpus: Path, docs: int):
    folder = Path(tempfile.mkdtemp(prefix="twin-index-"))
    sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
    result = detect_importer(corpus).read(corpus)
    if docs:
        result = ImportResult(result.format_name, result.documents[:docs], result.owner)
    store_import(corpus, "benchmark", result, sessions)
    return folder, sessions


def chunk_texts(sessions, settings) -> list[str]:
    with sessions() as session:
        documents = session.scalars(select(Document).order_by(Document.id)).all()
        return [c.embedding_text() for d in documents
                for c in chunks_of(d, settings.chunk_max_chars, settings.chunk_overlap_chars)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--corpus", default="skeeto_nullprogram")
    parser.add_argument("--docs", type=int, default=80, help="first N documents; 0 = all")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    corpus = args.corpora / args.corpus
    if not corpus.exists():
        sys.exit(f"{corpus} is absent; pass --corpora")
    settings = load_settings(tempfile.mkdtemp())
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    _ = embedder.dimension  # load once, outside the timings

    raw_times, twin_times, chunks = [], [], 0
    for _ in range(args.runs):  # interleaved, so machine noise hits both sides alike
        folder, sessions = fresh_warehouse(corpus, args.docs)
        texts = chunk_texts(sessions, settings)
        elapsed, _ = timed(lambda: embedder.model.encode(texts, batch_size=settings.embedding_batch_size,
                                                          normalize_embeddings=True))
        raw_times.append(elapsed)
        with QdrantEdgeStore(folder / "vectors", embedding_model=embedder.model_id,
                             dimension=embedder.dimension) as store:
            elapsed, report = timed(lambda: index_documents(
                sessions, store, embedder, max_chars=settings.chunk_max_chars,
                overlap_chars=settings.chunk_overlap_chars, batch_size=settings.embedding_batch_size))
        twin_times.append(elapsed)
        chunks = report.chunks_added
        assert chunks == len(texts), (chunks, len(texts))
        shutil.rmtree(folder, ignore_errors=True)

    raw_rate, twin_rate = chunks / min(raw_times), chunks / min(twin_times)
    print(f"{args.corpus}: {args.docs or 'all'} documents, {chunks} chunks, batch size "
          f"{settings.embedding_batch_size}, best of {args.runs}")
    print(f"  raw SentenceTransformer.encode (baseline): {raw_rate:6.1f} chunks/s")
    print(f"  twin index:                                {twin_rate:6.1f} chunks/s")
    print(f"  ratio twin/raw:                            {twin_rate / raw_rate:6.2f}  (goal ≥ 0.9)")


if __name__ == "__main__":
    main()
