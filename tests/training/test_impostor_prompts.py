"""Held-out perplexity compares like with like: the impostor author's texts get the owner's system
message and user messages from the same builder; unusable impostor folders stop training before
anything is recorded, and the CLI says so in one line. No model is loaded here."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.prompts.wording import system_message
from llm_twin.training import registry
from llm_twin.training.dataset_build import resolve_build
from llm_twin.training.metrics import heldout_metrics, load_impostor_set, owner_system_message
from llm_twin.training.sft import EvalOptions, train_sft
from llm_twin.training_data.impostors import ImpostorFolderError
from llm_twin.training_data.instructions import ExtractiveInstructionWriter, instruction_messages
from llm_twin.training_data.owner_texts import OwnerText

from sft_helpers import sft_row, write_build

OWNER = "Dana"
OWNER_POSTS = [
    "Every network call gets a timeout. Every single one, no exceptions, ever. I learned it the hard way.",
    "A backup you never restored is a hope, not a backup. Restore one this week and time it.",
]
IMPOSTOR_NOTES = [
    "TIL: in Vim, :vsplit opens a vertical split of the current buffer, handy for diffs.",
    "Today I learned that git add -N marks a file as intent-to-add so it shows in git diff.",
    "You can use the jq -r flag to print raw strings instead of JSON-quoted ones in scripts.",
]
# The user message `user_message` builds: "Write <style>, about N characters long, on this idea: <idea>"
_REQUEST = re.compile(r"\AWrite (?P<style>.+), about (?P<chars>\d+) characters long, on this idea: "
                      r"(?P<idea>.+)\Z", re.S)


def _owner_rows() -> list[dict]:
    """Test samples built as `twin dataset build` builds them (blog articles of a Markdown folder)."""
    units = [OwnerText(document_id=i, source_id=1, platform="blog", kind="article", text=text,
                       title=f"Post {i}", created_at=datetime(2024, 5, i + 1, tzinfo=timezone.utc))
             for i, text in enumerate(OWNER_POSTS)]
    ideas = ExtractiveInstructionWriter().fit(units).ideas(units)
    rows = []
    for unit, idea in zip(units, ideas):
        messages = [*instruction_messages(unit, idea, OWNER), {"role": "assistant", "content": unit.text}]
        rows.append({"messages": messages, "source": "instruction", "platform": "blog",
                     "kind": "article", "document_id": unit.document_id,
                     "created_at": unit.created_at.isoformat()})
    return rows


def _build(workspace: Path, writer: str = "extractive"):
    rows = _owner_rows()
    chat = sft_row("Contact 1: lunch?", "sure, 12:30", system="You answer chats as Dana.")
    chat["source"] = "conversation"
    folder = write_build(workspace, train=rows, test=[chat, *rows, chat])
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, "instructions": {"writer": writer}}))
    return resolve_build(workspace)


def _impostor(folder: Path, suffix: str = ".md") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(IMPOSTOR_NOTES):
        header = f"---\ntitle: TIL {i}\n---\n\n" if suffix == ".md" else ""
        (folder / f"til-{i}{suffix}").write_text(header + text + "\n", encoding="utf-8")
    return folder


def test_impostor_prompts_have_the_owners_shape(tmp_path):
    build = _build(tmp_path / "ws")
    impostor = load_impostor_set(_impostor(tmp_path / "til"), build, documents=10)
    owner_rows = _owner_rows()
    assert len(impostor.conversations) == len(IMPOSTOR_NOTES)
    assert impostor.instructions == "extractive" and not impostor.note
    for conversation in impostor.conversations:
        system, user, answer = conversation
        assert system == {"role": "system", "content": system_message(OWNER)}  # the owner's, not the chat one
        assert answer["content"] in IMPOSTOR_NOTES
        assert "Write a post about:" not in user["content"]
        request, owner_request = _REQUEST.match(user["content"]), _REQUEST.match(owner_rows[0]["messages"][1]["content"])
        assert request and owner_request and request["style"] == owner_request["style"]
        assert abs(int(request["chars"]) - len(answer["content"])) <= 10  # its own length, rounded
        assert set(re.findall(r"\w+", request["idea"].lower())) & set(re.findall(r"\w+", answer["content"].lower()))


def test_impostor_user_messages_come_from_the_owners_builder(tmp_path):
    """Same platform, kind, length and idea -> the very same user message as an owner sample."""
    build = _build(tmp_path / "ws")
    impostor = load_impostor_set(_impostor(tmp_path / "til", ".txt"), build, documents=10)
    for _, user, answer in impostor.conversations:
        idea = _REQUEST.match(user["content"])["idea"]
        as_owner = OwnerText(document_id=0, source_id=0, platform="blog", kind="article",
                             text=answer["content"])
        assert instruction_messages(as_owner, idea, OWNER)[1] == user


def test_a_model_written_build_is_noted(tmp_path):
    build = _build(tmp_path / "ws", writer="model:smollm2")
    impostor = load_impostor_set(_impostor(tmp_path / "til"), build, documents=2)
    assert len(impostor.conversations) == 2
    assert "model:smollm2" in impostor.metrics()["impostor_note"]


def test_skips_are_notes_and_given_bad_folders_are_errors(tmp_path, monkeypatch):
    build = _build(tmp_path / "ws")
    assert load_impostor_set(tmp_path / "anything", build, documents=0).note == "impostor corpus skipped"
    monkeypatch.setenv("TWIN_CORPORA", str(tmp_path / "no-corpora"))
    default = load_impostor_set(None, build)
    assert "not found" in default.note and not default.conversations
    with pytest.raises(ImpostorFolderError, match="does not exist"):
        load_impostor_set(tmp_path / "missing", build)
    one = tmp_path / "one"
    _impostor(one)
    for extra in sorted(one.iterdir())[1:]:
        extra.unlink()
    with pytest.raises(ImpostorFolderError, match="fewer than 2 usable texts"):
        load_impostor_set(one, build)
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    for i in range(3):
        (tiny / f"{i}.txt").write_text("ok then", encoding="utf-8")  # too short to be an answer
    with pytest.raises(ImpostorFolderError, match="only 0 of its texts fit the length limits"):
        load_impostor_set(tiny, build)


def test_no_post_samples_in_the_test_split_is_a_note(tmp_path):
    workspace = tmp_path / "ws"
    chat = sft_row("Contact 1: lunch?", "sure", system="chat")
    chat["source"] = "conversation"
    write_build(workspace, test=[chat])
    impostor = load_impostor_set(_impostor(tmp_path / "til"), resolve_build(workspace))
    assert not impostor.conversations and "no test split" in impostor.note
    assert owner_system_message([]) is None


def test_heldout_metrics_without_impostor_report_the_note():
    assert heldout_metrics({}, [], impostor=None) == {"impostor_note": "impostor corpus skipped"}


def test_bad_impostor_folder_stops_training_before_a_run_is_recorded(settings, sessions, tmp_path):
    _build(settings.workspace)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImpostorFolderError, match=str(empty)):
        train_sft(settings, sessions, evaluation=EvalOptions(empty))
    with sessions() as session:
        assert registry.list_runs(session) == []


@pytest.mark.parametrize("command", [["train", "sft", "--steps", "1"], ["train", "dpo"], ["eval"]])
def test_cli_prints_one_line_for_an_unusable_impostor_folder(tmp_path, command, monkeypatch):
    monkeypatch.delenv("TWIN_DEBUG", raising=False)
    workspace = tmp_path / "ws"
    _build(workspace)
    if command[1:2] == ["dpo"]:
        _record_finished_sft(workspace)
    folder = tmp_path / "only-json"
    folder.mkdir()
    (folder / "posts.json").write_text("[]")
    result = CliRunner().invoke(app, ["--workspace", str(workspace), *command, "--impostor", str(folder)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    error_line = " ".join(result.output.split())  # Rich may wrap the one line
    assert error_line.count("Error: Impostor corpus") == 1 and "1 .json" in error_line


def _record_finished_sft(workspace: Path) -> None:
    from llm_twin.config import load_settings
    from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

    engine = create_warehouse_engine(load_settings(workspace).resolved_database_url)
    with session_factory(engine)() as session:
        registry.record_run(session, run_id="sft-a", kind="sft", base_model="smollm2",
                            dataset_id="d0000000001", adapter_path="/nowhere/adapter", hyperparameters={})
        registry.finish_run(session, "sft-a")
    engine.dispose()
