"""`twin dataset build` speed on brandur (atoms + fragments + articles): time per 1,000 documents
with the extractive instruction writer, and with the default model writing instructions
(instructions/s and the share rejected by the overlap check).

Baseline, measured in the same run: selecting and filtering the answers alone (no instructions),
and the extractive writer on the same units the model writes for.

    .venv/bin/python benchmarks/dataset_build.py                 # model on a 64-unit sample
    .venv/bin/python benchmarks/dataset_build.py --model-units 0 # extractive only
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from _common import DEFAULT_CORPORA, timed

from llm_twin.backends.transformers_backend import TransformersBackend
from llm_twin.config import load_settings
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training_data.builder import BuildOptions, build_dataset, select_answers
from llm_twin.training_data.instructions import ExtractiveInstructionWriter, ModelInstructionWriter
from llm_twin.training_data.quality import QualityReport, detect_language

FOLDERS = ("brandur_atoms", "brandur_fragments", "brandur_articles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--model-units", type=int, default=64,
                        help="Units the default model writes instructions for (0 = skip).")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    folders = [args.corpora / name for name in FOLDERS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        sys.exit(f"corpora not found: {', '.join(missing)} (use --corpora)")

    workspace = Path(tempfile.mkdtemp(prefix="twin-bench-dataset-"))
    settings = load_settings(workspace)
    sessions = session_factory(create_warehouse_engine(settings.resolved_database_url))
    for folder in folders:
        ingest_path(folder, MarkdownFolderImporter(), sessions)
    options = BuildOptions(owner="Brandur Leach")

    with sessions() as session:
        select_seconds, (units, _langs, documents) = timed(
            lambda: select_answers(session, options, QualityReport()))
        detect_language.cache_clear()  # both timings start cold
        build_seconds, build = timed(
            lambda: build_dataset(session, options, ExtractiveInstructionWriter()))
    per_1000 = 1000 / documents
    print(f"{documents} owner documents -> {len(units)} answer units after filters; "
          f"{len(build.sft)} samples ({len(build.split('test'))} test)")
    print(f"select + filter only (baseline): {select_seconds:.2f} s = "
          f"{select_seconds * per_1000:.2f} s per 1,000 documents")
    print(f"full build, extractive writer:   {build_seconds:.2f} s = "
          f"{build_seconds * per_1000:.2f} s per 1,000 documents "
          f"({build_seconds / select_seconds:.2f}x the baseline)")

    if args.model_units:
        sample = random.Random(0).sample(units, min(args.model_units, len(units)))
        extractive_seconds, _ = timed(lambda: ExtractiveInstructionWriter().fit(units).ideas(sample))
        backend = TransformersBackend(settings.generation_model, cache_dir=settings.cache_dir)
        load_seconds, _ = timed(backend.load)
        writer = ModelInstructionWriter(backend, ExtractiveInstructionWriter().fit(units),
                                        overlap_threshold=settings.instruction_overlap_threshold,
                                        batch_size=args.batch_size)
        model_seconds, _ = timed(lambda: writer.ideas(sample))
        rate = len(sample) / model_seconds
        print(f"model load {load_seconds:.1f} s; default model ({backend.model_id}) wrote "
              f"{len(sample)} instructions in {model_seconds:.1f} s = {rate:.2f} instructions/s "
              f"= {1000 / rate / 60:.1f} min per 1,000 units")
        print(f"extractive writer on the same {len(sample)} units: {extractive_seconds:.3f} s "
              f"({len(sample) / extractive_seconds:.0f} instructions/s); model/extractive speed "
              f"ratio {extractive_seconds / model_seconds:.4f}")
        stats = writer.stats
        print(f"rejected: {stats.rejected} of {stats.generated} ({stats.rejected_share:.1%}): "
              f"{stats.rejected_overlap} for overlap > {writer.overlap_threshold}, "
              f"{stats.rejected_shape} not shaped like a request, {stats.rejected_off_topic} off topic")
    shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
