"""A few hundred fuzzed exports across every local importer (hypothesis, derandomized, driving the
mutators of benchmarks/fuzz_importers.py on the real fixtures): only ImportFormatError, naming the
export, may come out; and a failing export stores nothing."""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import load_benchmark
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.formats.x_archive import XArchiveImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.storage.models import Document, Source





fuzz = load_benchmark("fuzz_importers")
SEEDS = fuzz.seeds()
FORMATS = sorted(SEEDS)


@pytest.fixture(autouse=True, scope="module")
def _small_inputs() -> Iterator[None]:
    """Huge values and deep nesting at sizes that still cross the parsers' limits (the JSON
    recursion limit, csv's 128 KiB field limit) but keep a few hundred inputs within seconds."""
    saved = fuzz.HUGE_BYTES, fuzz.JSON_DEPTHS, fuzz.MARKUP_DEPTHS
    fuzz.HUGE_BYTES, fuzz.JSON_DEPTHS, fuzz.MARKUP_DEPTHS = 1 << 16, (50, 3_000), (100, 500)
    yield
    fuzz.HUGE_BYTES, fuzz.JSON_DEPTHS, fuzz.MARKUP_DEPTHS = saved


def test_every_local_importer_and_the_zip_reader_have_a_seed() -> None:
    expected = {"x-archive", "linkedin", "medium", "substack", "instagram", "messenger",
                "telegram", "whatsapp", "mastodon", "bluesky", "wordpress", "ghost",
                "arxiv-latex", "pdf", "feed", "markdown-folder", "zip"}
    assert expected <= set(FORMATS)


def test_the_unmutated_seeds_read_without_error(tmp_path: Path) -> None:
    for name in FORMATS:
        for number, seed in enumerate(SEEDS[name]):
            root = tmp_path / f"{name}-{number}"
            root.mkdir()
            location = fuzz.write_export(root, seed, seed.files, seed.layout)
            assert fuzz.run_one(name, seed, location) == "ok", (name, seed.name)


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(FORMATS), rng=st.randoms(use_true_random=False))
def test_a_mutated_export_raises_only_import_format_error(name: str, rng: random.Random) -> None:
    seed, files, layout = fuzz.make_input(SEEDS[name], rng)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        location = fuzz.write_export(Path(tmp), seed, files, layout, rng)
        # run_one lets only ImportFormatError naming the export through, as "documented"
        assert fuzz.run_one(name, seed, location) in ("ok", "not detected", "documented")


def _archive(root: Path, second_part: str) -> Path:
    tweets = [{"tweet": {"id_str": str(n), "full_text": f"Tweet number {n} about drafts",
                         "created_at": "Tue May 14 08:00:02 +0000 2024"}} for n in (1, 2, 3)]
    (root / "data").mkdir(parents=True)
    (root / "data" / "account.js").write_text(
        "window.YTD.account.part0 = " + json.dumps(
            [{"account": {"username": "dana_writes", "accountId": "90011"}}]), encoding="utf-8")
    (root / "data" / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(tweets),
                                             encoding="utf-8")
    (root / "data" / "tweets-part1.js").write_text(second_part, encoding="utf-8")
    return root


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (session.scalar(select(func.count()).select_from(Source)) or 0,
                session.scalar(select(func.count()).select_from(Document)) or 0)


def test_a_failing_export_stores_nothing(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    # The first part is valid and read; the second is nested past the JSON parser's limit.
    broken = _archive(tmp_path / "broken", "window.YTD.tweets.part1 = " + "[" * 5000 + "]" * 5000)
    importer = XArchiveImporter()
    assert importer.detect(broken)
    with pytest.raises(ImportFormatError) as caught:
        ingest_path(broken, importer, sessions)
    assert caught.value.file.endswith("tweets-part1.js")
    assert _counts(sessions) == (0, 0)
    # The same warehouse takes a sound export, so the zero above is not an empty pipeline.
    good = _archive(tmp_path / "good", "window.YTD.tweets.part1 = []")
    report = ingest_path(good, importer, sessions)
    assert _counts(sessions) == (1, 3)
    assert report.format_name == "x-archive"
