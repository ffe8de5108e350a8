import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from llm_twin.errors import ExportError
from llm_twin.storage.models import Document
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.instructions import ExtractiveInstructionWriter
from llm_twin.training_data.store import (DatasetNotFound, export_build, forget_sources,
                                          latest_id, list_builds, read_jsonl, resolve_build,
                                          save_build)
from conftest import make_doc

DAY0 = datetime(2022, 1, 1, tzinfo=timezone.utc)
TOPICS = [
    "We moved the job queue into Postgres and deleted a whole Redis cluster.",
    "Indexes are a product decision: every slow page is a missing one somewhere.",
    "Our migration checklist has eleven steps and every one was paid for in blood.",
    "On-call got quieter once alerts had owners and a runbook link in the message.",
    "Hiring is marketing: write the job post like a landing page for one reader.",
    "Code review is where juniors learn the most, so make it kind and specific.",
    "Flaky tests are bugs with good PR; fix them or delete them this sprint.",
    "Deploy on Fridays if your rollback takes a minute; otherwise fix rollbacks.",
    "Caching hides slow queries until the cache misses at the worst possible time.",
    "Structured logs beat clever dashboards when something breaks at 3am.",
    "Tracing showed half our latency lived in one chatty ORM call per request.",
    "Cloud budgets are engineering work; tag everything, review monthly, cut ruthlessly.",
]


def owner_posts():
    posts = [make_doc(text, platform="linkedin", created_at=DAY0 + timedelta(days=7 * i))
             for i, text in enumerate(TOPICS)]
    posts.append(make_doc("A draft I never published about queues and their many joys.",
                          platform="linkedin", created_at=DAY0, metadata={"draft": True}))
    posts.append(make_doc("Someone else's post that I only reposted about databases.",
                          platform="linkedin", author="Other", is_owner=False, created_at=DAY0))
    return posts


def words_only(text):
    return len(text.split())


@pytest.fixture
def built(ingest, sessions):
    ingest(*owner_posts())
    with sessions() as session:
        return build_dataset(session, BuildOptions(owner="Dana", test_share=0.2),
                             ExtractiveInstructionWriter())


def test_every_answer_is_verbatim_owner_text(built, sessions):
    with sessions() as session:
        owner_texts = {d.id: d.raw_text for d in session.scalars(select(Document)) if d.is_owner}
    assert built.sft
    for sample in built.sft:
        assert sample.answer in owner_texts[sample.document_id]
        assert sample.messages[0]["role"] == "system" and sample.messages[-1]["role"] == "assistant"
    answers = " ".join(s.answer for s in built.sft)
    assert "Someone else's post" not in answers and "never published" not in answers
    assert built.instruction_report.dropped["draft"] == 1


def test_saved_build_has_files_card_and_a_content_id(built, settings):
    stored, created = save_build(built, settings.workspace, tokenizer_name="words",
                                 count_tokens=words_only)
    assert created and latest_id(settings.workspace) == stored.id
    train = read_jsonl(stored.path / "train.jsonl")
    test = read_jsonl(stored.path / "test.jsonl")
    assert len(train) + len(test) == len(built.sft) and len(test) == 3  # ceil(0.2 * 12)
    assert set(train[0]) >= {"messages", "source", "platform", "kind", "document_id", "created_at"}
    card = stored.card
    assert card["counts"]["by_platform_kind"]["linkedin/post"] == {"train": 9, "test": 3}
    assert card["filters"]["instruction"]["dropped"]["draft"] == 1
    assert card["tokens"]["train"]["samples"] == 9 and card["tokens"]["tokenizer"] == "words"
    split = card["splits"]["platforms"]["linkedin"]
    assert split["test_from"] > split["train_until"]
    assert "# Dataset" in (stored.path / "README.md").read_text()
    again, created_again = save_build(built, settings.workspace, tokenizer_name="words",
                                      count_tokens=words_only)
    assert again.id == stored.id and not created_again


def test_hf_copy_loads_with_datasets(built, settings):
    from datasets import load_from_disk

    stored, _ = save_build(built, settings.workspace, tokenizer_name="words", count_tokens=words_only)
    loaded = load_from_disk(str(stored.path / "hf"))
    assert loaded["train"].num_rows == 9 and loaded["test"].num_rows == 3
    assert loaded["train"][0]["messages"][-1]["role"] == "assistant"


def test_export_refuses_to_overwrite_and_copies_what_was_asked(built, settings, tmp_path):
    stored, _ = save_build(built, settings.workspace, tokenizer_name="words", count_tokens=words_only)
    out = tmp_path / "out"
    written = export_build(stored, out, ["jsonl"])
    assert {p.name for p in written} >= {"train.jsonl", "test.jsonl", "card.json"}
    assert not (out / "hf").exists()
    with pytest.raises(ExportError, match="--force"):
        export_build(stored, out, ["hf"])
    export_build(stored, out, ["hf"], force=True)
    assert (out / "hf").is_dir() and not (out / "train.jsonl").exists()
    with pytest.raises(ValueError, match="unknown export format parquet"):
        export_build(stored, tmp_path / "x", ["parquet"])


def test_resolve_errors_are_clear(settings, built):
    with pytest.raises(DatasetNotFound, match="twin dataset build"):
        resolve_build(settings.workspace)
    stored, _ = save_build(built, settings.workspace, tokenizer_name="words", count_tokens=words_only)
    assert resolve_build(settings.workspace, stored.id[:4]).id == stored.id
    with pytest.raises(DatasetNotFound, match="not a dataset build"):
        resolve_build(settings.workspace, "zzzz")


def test_a_broken_jsonl_line_is_named(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n{broken\n')
    with pytest.raises(ValueError, match=r"train.jsonl, line 2"):
        read_jsonl(path)


def test_forgetting_a_source_deletes_builds_holding_its_text(built, settings):
    stored, _ = save_build(built, settings.workspace, tokenizer_name="words", count_tokens=words_only)
    assert forget_sources(settings.workspace, [12345]) == []
    assert forget_sources(settings.workspace, stored.card["source_ids"]) == [stored.id]
    assert list_builds(settings.workspace) == [] and latest_id(settings.workspace) is None


def test_card_json_is_valid_json(built, settings):
    stored, _ = save_build(built, settings.workspace, tokenizer_name="words", count_tokens=words_only)
    assert json.loads((stored.path / "card.json").read_text())["id"] == stored.id
