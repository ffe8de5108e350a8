"""How much of each answer its extractive instruction gives away, per Markdown folder.

Each folder (one author's posts) is imported into a fresh workspace and its answers are selected
exactly as `twin dataset build` selects them; then every answer gets its extractive idea. Per
folder the table shows: answers, the share of ideas holding 4+ of the answer's words in a row, the
mean share of the idea's word 3-grams found in the answer, and the longest shared word run (mean,
max). With --baseline, another version of `training_data/instructions.py` (e.g. an older commit's)
is measured on the same answers, in a row above.

    .venv/bin/python benchmarks/instruction_overlap.py                       # 3 shared corpora
    .venv/bin/python benchmarks/instruction_overlap.py ~/blog --examples 3
    git show HEAD~5:src/llm_twin/training_data/instructions.py > /tmp/old_instructions.py
    .venv/bin/python benchmarks/instruction_overlap.py --baseline /tmp/old_instructions.py
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from _common import DEFAULT_CORPORA

from llm_twin.config import load_settings
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training_data import instructions
from llm_twin.training_data.builder import BuildOptions, select_answers
from llm_twin.training_data.instructions import (DEFAULT_OVERLAP_THRESHOLD, MAX_SHARED_RUN,
                                                 OverlapSummary, idea_answer_overlap,
                                                 summarize_overlaps)
from llm_twin.training_data.owner_texts import OwnerText
from llm_twin.training_data.quality import QualityReport

DEFAULT_FOLDERS = ("brandur_atoms", "jbranchaud_til", "skeeto_nullprogram")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path,
                        help=f"Markdown folders (default: {', '.join(DEFAULT_FOLDERS)} under "
                             "$TWIN_CORPORA or ../shared/corpora)")
    parser.add_argument("--baseline", type=Path,
                        help="Another version of training_data/instructions.py to compare with.")
    parser.add_argument("--threshold", type=float, default=DEFAULT_OVERLAP_THRESHOLD,
                        help="3-gram share an idea may reach (default: "
                             "instruction_overlap_threshold's default).")
    parser.add_argument("--examples", type=int, default=0, help="Print this many ideas per folder.")
    args = parser.parse_args()
    folders = args.folders or [DEFAULT_CORPORA / name for name in DEFAULT_FOLDERS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        sys.exit(f"not a folder: {', '.join(missing)}")
    baseline = _load_module(args.baseline) if args.baseline else None

    print(f"| folder | writer | answers | ideas with {MAX_SHARED_RUN + 1}+ answer words in a row "
          "| mean 3-gram share | longest run: mean | max |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for folder in folders:
        units = _answers(folder)
        writers = [("before", baseline)] if baseline else []
        writers.append(("now", instructions))
        for label, module in writers:
            writer = _writer(module, args.threshold)
            ideas = writer.fit(units).ideas(units)
            summary = summarize_overlaps(idea_answer_overlap(idea, unit.text)
                                         for idea, unit in zip(ideas, units))
            print(_row(folder.name, label, summary))
            for idea, unit in list(zip(ideas, units))[:args.examples]:
                print(f"|   | {label} example: {idea!r} <- {unit.text[:80]!r} | | | | | |")


def _answers(folder: Path) -> list[OwnerText]:
    workspace = Path(tempfile.mkdtemp(prefix="twin-bench-overlap-"))
    try:
        settings = load_settings(workspace)
        sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
        ingest_path(folder, MarkdownFolderImporter(), sessions)
        with sessions() as session:
            units, _languages, _documents = select_answers(session, BuildOptions(owner="owner"),
                                                           QualityReport())
        return units
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _writer(module: ModuleType, threshold: float):
    writer_class = module.ExtractiveInstructionWriter
    if "overlap_threshold" in writer_class.__dataclass_fields__:
        return writer_class(overlap_threshold=threshold)
    return writer_class()  # an older version without the rule


def _row(folder: str, label: str, summary: OverlapSummary) -> str:
    copied = summary.copied_runs / summary.ideas if summary.ideas else 0.0
    return (f"| {folder} | {label} | {summary.ideas} | {copied:.1%} | "
            f"{summary.mean_trigram_share:.3f} | {summary.mean_longest_run:.1f} | "
            f"{summary.max_longest_run} |")


def _load_module(path: Path) -> ModuleType:
    if not path.is_file():
        sys.exit(f"--baseline: {path} is not a file")
    spec = importlib.util.spec_from_file_location("baseline_instructions", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
