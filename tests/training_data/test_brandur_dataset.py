"""Acceptance on a real author: brandur_atoms + brandur_fragments through the real importer."""

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.storage.models import Document
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.instructions import ExtractiveInstructionWriter
from llm_twin.training_data.store import save_build

CORPORA = Path(os.environ.get("TWIN_CORPORA") or Path(__file__).parents[2].parent / "shared" / "corpora")
FOLDERS = [CORPORA / "brandur_atoms", CORPORA / "brandur_fragments"]
TEMPLATED = re.compile(r"^Published (fragment|\[sequence)")


def five_grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))}


def jaccard(x: set, y: set) -> float:
    return len(x & y) / len(x | y) if x | y else 0.0


@pytest.mark.skipif(not all(f.is_dir() for f in FOLDERS),
                    reason=f"brandur corpora not found under {CORPORA} (set TWIN_CORPORA)")
def test_brandur_build_filters_templates_keeps_answers_verbatim_and_has_no_leaks(sessions, settings):
    for folder in FOLDERS:
        ingest_path(folder, MarkdownFolderImporter(), sessions)
    with sessions() as session:
        raw = {d.id: d.raw_text for d in session.scalars(select(Document))}
        build = build_dataset(session, BuildOptions(owner="Brandur Leach"),
                              ExtractiveInstructionWriter())
    stored, _ = save_build(build, settings.workspace, tokenizer_name="words",
                           count_tokens=lambda text: len(text.split()))

    assert build.instruction_report.dropped["templated"] >= 115  # about 121 in the corpus
    assert not [s for s in build.sft if TEMPLATED.match(s.answer)]
    assert all(s.answer in raw[s.document_id] for s in build.sft)

    train, test = build.split("train"), build.split("test")
    assert len(test) >= 40 and len(train) >= 400
    assert max(s.created_at for s in train) <= min(s.created_at for s in test)
    train_grams = [five_grams(s.answer) for s in train]
    for item in test:  # an independent check (5-grams, Jaccard) of the builder's leak removal
        grams = five_grams(item.answer)
        assert all(jaccard(grams, other) < 0.5 for other in train_grams)

    card = stored.card
    assert card["counts"]["sft"] == {"train": len(train), "test": len(test)}
    assert card["splits"]["platforms"]["blog"]["test_from"]
    assert (stored.path / "hf").is_dir()
