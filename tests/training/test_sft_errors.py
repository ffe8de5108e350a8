"""Bad input to training and the model commands: clear errors, nothing loaded, nothing half-made.
No model is loaded here (every error is raised before the weights are)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.errors import NotFoundError, TrainingError
from llm_twin.training import registry
from llm_twin.training.dataset_build import DatasetError, load_conversations, load_preferences
from llm_twin.training.dpo import train_dpo
from llm_twin.training.sft import SftConfig, resume_sft, train_sft

from sft_helpers import SYSTEM, sft_row, write_build, write_jsonl


def _finished_sft(sessions, run_id: str = "sft-a", dataset_id: str = "d0000000001"):
    with sessions() as session:
        registry.record_run(session, run_id=run_id, kind="sft", base_model="smollm2",
                            dataset_id=dataset_id, adapter_path=f"/nowhere/{run_id}/adapter",
                            hyperparameters={})
        return registry.finish_run(session, run_id)


def test_training_without_a_dataset_says_how_to_make_one(settings, sessions):
    with pytest.raises(ValueError, match="twin dataset build"):
        train_sft(settings, sessions)
    write_build(settings.workspace)
    with pytest.raises(ValueError, match="'nope' is not a dataset build"):
        train_sft(settings, sessions, dataset_id="nope")
    with sessions() as session:
        assert registry.list_runs(session) == []


@pytest.mark.parametrize("row, problem", [
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
     "first message must be the system message"),
    ({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}]},
     "last message must be a non-empty assistant answer"),
    ({"messages": [{"role": "system", "content": SYSTEM}, {"role": "robot", "content": "x"}]},
     "needs a role"),
    ({"messages": "not a list"}, "non-empty list of messages"),
    ({"text": "no messages field"}, "messages"),
])
def test_malformed_samples_are_reported_by_file_and_line(tmp_path, row, problem):
    file = tmp_path / "train.jsonl"
    write_jsonl(file, [sft_row("Write about tea.", "Tea."), row])
    with pytest.raises(DatasetError, match=problem) as error:
        load_conversations(file)
    assert str(file) in str(error.value)
    if "line" in str(error.value):
        assert "line 2" in str(error.value)


def test_broken_json_names_the_file(tmp_path):
    file = tmp_path / "test.jsonl"
    file.write_text('{"messages": [\n')
    with pytest.raises(DatasetError, match="not valid JSON") as error:
        load_conversations(file)
    assert str(file) in str(error.value)


def test_preference_pairs_need_one_assistant_message_each(tmp_path):
    file = tmp_path / "preference_train.jsonl"
    prompt = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}]
    write_jsonl(file, [{"prompt": prompt, "chosen": [{"role": "assistant", "content": "a"}],
                        "rejected": [{"role": "user", "content": "b"}]}])
    with pytest.raises(DatasetError, match="line 1: 'rejected' must be one assistant message"):
        load_preferences(file)
    file.write_text("")
    assert load_preferences(file) == []


def test_an_empty_training_split_is_refused(settings, sessions):
    write_build(settings.workspace, train=[])
    with pytest.raises(DatasetError, match="has no samples"):
        train_sft(settings, sessions)


def test_qlora_without_a_gpu_fails_clearly_and_the_run_is_marked_failed(settings, sessions):
    write_build(settings.workspace)
    with pytest.raises(TrainingError, match="needs a CUDA GPU"):
        train_sft(settings.model_copy(update={"device": "cpu"}), sessions, SftConfig(qlora=True))
    with sessions() as session:
        [run] = registry.list_runs(session)
        assert run.status == "failed"


def test_resume_needs_a_run_with_a_checkpoint(settings, sessions):
    write_build(settings.workspace)
    with pytest.raises(NotFoundError, match="No unfinished SFT run to resume"):
        resume_sft(settings, sessions)
    with pytest.raises(registry.UnknownModel, match="'sft-nope'"):
        resume_sft(settings, sessions, "sft-nope")
    _finished_sft(sessions)
    with pytest.raises(TrainingError, match="has no checkpoint"):
        resume_sft(settings, sessions, "sft-a")


def test_dpo_needs_a_finished_sft_run_and_preference_pairs(settings, sessions):
    write_build(settings.workspace, preference_train=[])
    with pytest.raises(TrainingError, match="run `twin train sft` first"):
        train_dpo(settings, sessions)
    _finished_sft(sessions)
    with pytest.raises(DatasetError, match="no preference pairs"):
        train_dpo(settings, sessions)
    with sessions() as session:
        registry.record_run(session, run_id="dpo-x", kind="dpo", base_model="smollm2",
                            dataset_id="d0000000001", adapter_path="/x", hyperparameters={})
    with pytest.raises(TrainingError, match="DPO needs a finished SFT run"):
        train_dpo(settings, sessions, sft_run_id="dpo-x")


def _twin(workspace, *args):
    return CliRunner().invoke(app, ["--workspace", str(workspace), *args])


def test_cli_train_without_a_dataset_exits_with_one_line(settings):
    result = _twin(settings.workspace, "train", "sft", "--steps", "1")
    assert result.exit_code == 2
    assert "twin dataset build" in result.output and "Traceback" not in result.output


def test_cli_models_lists_selects_and_shows_runs(settings, sessions):
    result = _twin(settings.workspace, "models")
    assert result.exit_code == 0 and "No fine-tuned model yet" in result.output
    _finished_sft(sessions)
    with sessions() as session:
        registry.update_metrics(session, "sft-a", {"perplexity_author_base": 60.0,
                                                   "perplexity_author_tuned": 40.0, "steps": 7})
    result = _twin(settings.workspace, "models")
    assert "sft-a" in result.output and "60→40" in result.output
    assert "uses the base model" in result.output

    result = _twin(settings.workspace, "models", "use", "sft-a")
    assert result.exit_code == 0 and "now uses sft-a" in result.output
    with sessions() as session:
        assert registry.active_run(session).id == "sft-a"
    shown = json.loads(_twin(settings.workspace, "models", "show", "sft-a").output)
    assert shown["active"] is True and shown["metrics"]["steps"] == 7

    result = _twin(settings.workspace, "models", "use", "base")
    assert "now uses the base model" in result.output
    for args in (("models", "use", "sft-nope"), ("models", "show", "sft-nope"),
                 ("write", "an idea", "--model", "sft-nope")):
        result = _twin(settings.workspace, *args)
        assert result.exit_code == 2 and "No trained model 'sft-nope'" in result.output, args
