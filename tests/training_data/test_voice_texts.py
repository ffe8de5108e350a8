"""The texts a voice model is fitted on: the owner's prose, the base model's answers from a
dataset build, and other authors' texts (shipped and the user's folders)."""

from __future__ import annotations

import json

import pytest

from llm_twin.errors import NotFoundError, WorkspaceError
from llm_twin.training_data import voice_texts
from llm_twin.training_data.voice_texts import (collect_training_texts, reference_texts,
                                                rejected_texts)

OWNER = [f"tbh post {i}: the queue just lives in postgres now, runbooks beat heroics."
         for i in range(6)]
OTHER = [f"Here are {i} key takeaways every leader should know about growth." for i in range(9)]


def test_rejected_texts_read_base_model_answers_only(tmp_path):
    pair = {"prompt": [], "chosen": [{"role": "assistant", "content": "mine"}]}
    lines = [json.dumps({**pair, "rejected": [{"role": "assistant", "content": " base one "}],
                         "origin": "base_model"}),
             json.dumps({**pair, "rejected": [{"role": "assistant", "content": "edited"}],
                         "origin": "edited_draft"}), ""]
    (tmp_path / "preference_train.jsonl").write_text("\n".join(lines), encoding="utf-8")
    assert rejected_texts(tmp_path) == ["base one"]
    (tmp_path / "preference_train.jsonl").write_text(lines[0] + "\n{\"prompt\": 1}\n")
    with pytest.raises(ValueError, match=r"preference_train.jsonl, line 2: not a preference pair"):
        rejected_texts(tmp_path)
    assert rejected_texts(tmp_path / "nowhere") == []


def test_reference_texts_ship_with_the_package_and_take_user_folders(tmp_path):
    shipped, sources = reference_texts([])
    assert len(shipped) >= 10 and sources == [str(voice_texts.REFERENCE_DIR)]
    (tmp_path / "blogs" / "nested").mkdir(parents=True)
    (tmp_path / "blogs" / "a.md").write_text("Someone else's post.", encoding="utf-8")
    (tmp_path / "blogs" / "nested" / "b.txt").write_text("Another one.", encoding="utf-8")
    (tmp_path / "blogs" / "c.json").write_text("{}", encoding="utf-8")
    texts, sources = reference_texts([tmp_path / "blogs"])
    assert texts[len(shipped):] == ["Someone else's post.", "Another one."]
    with pytest.raises(NotFoundError, match="voice_reference_dirs: .*nope is not a folder"):
        reference_texts([tmp_path / "nope"])
    (tmp_path / "blogs" / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match=r"bad\.md: not UTF-8"):
        reference_texts([tmp_path / "blogs"])


def test_collect_uses_the_newest_dataset_build(ingest, settings, sessions):
    ingest(*OWNER[:6])
    build = settings.workspace / "datasets" / "b1"
    build.mkdir(parents=True)
    (build / "card.json").write_text('{"created_at": "2025-01-01"}', encoding="utf-8")
    records = [{"prompt": [], "chosen": [], "origin": "base_model",
                "rejected": [{"role": "assistant", "content": t}]} for t in OTHER[:9]]
    (build / "preference_train.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records), encoding="utf-8")
    (settings.workspace / "datasets" / "LATEST").write_text("b1", encoding="utf-8")
    with sessions() as session:
        texts = collect_training_texts(session, settings.workspace, owner="Dana")
    assert sorted(texts.owner) == sorted(OWNER[:6])
    assert texts.base_model == OTHER[:9] and texts.dataset_id == "b1"
    assert len(texts.reference) >= 10 and texts.generation_model is None


def test_collect_without_a_build_needs_a_backend(ingest, settings, sessions):
    with sessions() as session:
        with pytest.raises(WorkspaceError, match="none of your own writing"):
            collect_training_texts(session, settings.workspace, owner="Dana")
    ingest(*OWNER[:3])
    with sessions() as session:
        with pytest.raises(ValueError, match="a generation backend is needed"):
            collect_training_texts(session, settings.workspace, owner="Dana")
