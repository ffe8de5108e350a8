"""Ingest throughput: documents/s for `twin ingest` against the importer's parse alone.

    .venv/bin/python benchmarks/ingest_speed.py [--corpora ../shared/corpora] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA, best_of, demo_x_archive, spread  # noqa: E402

from llm_twin.ingest.pipeline import ingest_path  # noqa: E402
from llm_twin.ingest.registry import detect_importer  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402


def ingest_once(path: Path) -> int:
    folder = Path(tempfile.mkdtemp(prefix="twin-ingest-"))
    try:
        sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
        report = ingest_path(path, detect_importer(path), sessions)
        return report.new_documents
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(name: str, path: Path, runs: int) -> None:
    importer = detect_importer(path)
    parse_best, parse_runs, result = best_of(runs, lambda: importer.read(path))
    ingest_best, ingest_runs, stored = best_of(runs, lambda: ingest_once(path))
    documents = len(result.documents)
    print(f"{name}: {documents} documents read, {stored} stored ({importer.format_name})")
    print(f"  parse only (baseline): {documents / parse_best:8.0f} docs/s{spread(parse_runs)}")
    print(f"  twin ingest:           {stored / ingest_best:8.0f} docs/s{spread(ingest_runs)}")
    print(f"  ratio ingest/parse:    {parse_best / ingest_best:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    measure("demo X archive", demo_x_archive(), args.runs)
    skeeto = args.corpora / "skeeto_nullprogram"
    if skeeto.exists():
        measure("skeeto_nullprogram", skeeto, args.runs)
    else:
        print(f"skeeto_nullprogram: skipped, {skeeto} is absent")


if __name__ == "__main__":
    main()
