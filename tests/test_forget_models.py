"""`twin forget` reaches the models: each run records its lineage (dataset build -> sources with
their content hashes), exports record their run, and forgetting a source deletes, retrains or
keeps (with a warning) every run and export whose weights saw it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_twin.app.sources import ModelExposure, default_model_policy
from llm_twin.app.workspace import Workspace
from llm_twin.cli.app import app
from llm_twin.config import load_settings
from llm_twin.training import registry
from llm_twin.training.export import MANIFEST
from conftest import MODEL_CACHE

ENV = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "COLUMNS": "200"}
UNIQUE = "Zorblat mangoes hum quietly under violet kettles."


def _post(folder: Path, name: str, date: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{date}_{name}.md").write_text(
        f"---\ntitle: {name.replace('-', ' ').title()}\ndate: {date}\nauthor: Dana\n---\n\n{body}\n",
        encoding="utf-8")


def _twin(workspace: Path):
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=ENV)
        assert result.exit_code == expect, result.output
        return result

    return run


def _two_sources(tmp_path: Path):
    """Source 1 holds the unique sentence (the oldest posts); source 2 ordinary posts."""
    secret, plain = tmp_path / "secret", tmp_path / "plain"
    for n, (topic, rest) in enumerate([
            ("breakfast", "Toast is fine too."), ("kitchens", "Mine is small and loud."),
            ("mornings", "Coffee comes after.")], start=1):
        _post(secret, topic, f"2020-01-0{n}", f"{UNIQUE} {rest}")
    for n, (topic, body) in enumerate([
            ("queues", "Keep the queue in Postgres. Boring wins, every single time."),
            ("shipping", "Ship small. Ship daily. Sleep well at night, too."),
            ("on-call", "Runbooks first, pager second, heroics never."),
            ("tea", "Tea, then code, then more tea, then a long walk."),
            ("deploys", "Deploy on Tuesdays. Never on Fridays, whatever they say.")], start=1):
        _post(plain, topic, f"2023-02-0{n}", body)
    run = _twin(tmp_path / "ws")
    run("init", "--owner", "Dana")
    run("ingest", str(secret))
    run("ingest", str(plain))
    return run, Workspace(load_settings(tmp_path / "ws", cache_dir=MODEL_CACHE, device="cpu"))


def _fake_build(ws: Workspace, dataset_id: str, source_ids: list[int]) -> Path:
    folder = ws.settings.workspace / "datasets" / dataset_id
    folder.mkdir(parents=True)
    (folder / "card.json").write_text(json.dumps({"id": dataset_id, "source_ids": source_ids,
                                                  "created_at": "2024-01-01T00:00:00"}))
    return folder


def _fake_run(ws: Workspace, run_id: str, kind: str, dataset_id: str, *, parent: str | None = None,
              export: bool = False, active: bool = False) -> Path:
    """A finished run as training records it (lineage from its build), with files on disk."""
    folder = ws.settings.workspace / "models" / run_id
    (folder / "adapter").mkdir(parents=True)
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(b"weights")
    with ws.sessions() as session:
        parent_run = registry.get_run(session, parent) if parent else None
        lineage = registry.build_lineage(
            session, dataset_id, registry.read_card(ws.settings.workspace / "datasets" / dataset_id),
            parent=parent_run)
        registry.record_run(session, run_id=run_id, kind=kind, base_model="smollm2",
                            dataset_id=dataset_id, adapter_path=str(folder / "adapter"),
                            hyperparameters={"config": {}}, parent_id=parent, lineage=lineage)
        registry.finish_run(session, run_id)
        if export:
            out = ws.settings.workspace / "exports" / run_id
            (out / "merged").mkdir(parents=True)
            (out / MANIFEST).write_text(json.dumps({"model": run_id, "run": run_id,
                                                    "lineage": lineage}))
            registry.set_export_paths(session, run_id, merged_path=str(out / "merged"))
            registry.record_export(session, run_id, str(out))
        if active:
            registry.use_run(session, run_id)
    return folder


def _lineages(ws: Workspace) -> dict[str, set[int]]:
    """Every remaining run's and export's source ids, by run id or export folder."""
    found: dict[str, set[int]] = {}
    with ws.sessions() as session:
        for run in registry.list_runs(session):
            found[run.id] = registry.run_source_ids(run) or set()
    for manifest in (ws.settings.workspace / "exports").glob(f"*/{MANIFEST}"):
        found[str(manifest.parent)] = set(json.loads(manifest.read_text())["lineage"]["source_ids"])
    return found


def test_lineage_lists_each_source_with_its_content_hashes(tmp_path):
    _, ws = _two_sources(tmp_path)
    _fake_build(ws, "both0000000a", [1, 2])
    _fake_build(ws, "plain000000b", [2])
    _fake_run(ws, "sft-a", "sft", "both0000000a")
    _fake_run(ws, "dpo-a", "dpo", "plain000000b", parent="sft-a")
    with ws.sessions() as session:
        sft, dpo = registry.get_run(session, "sft-a"), registry.get_run(session, "dpo-a")
    assert [s["id"] for s in sft.lineage["sources"]] == [1, 2]
    assert sft.lineage["sources"][0]["documents"] == 3
    assert len(sft.lineage["sources"][0]["content_sha256"]) == 64
    assert sft.lineage["sources"][0]["file_hash"] and sft.lineage["sources"][0]["format"]
    # a DPO run stacked on the SFT run sees what its SFT run saw
    assert dpo.lineage["source_ids"] == [1, 2] and [s["id"] for s in dpo.lineage["sources"]] == [2]


def test_forget_deletes_every_run_and_export_that_saw_the_source(tmp_path):
    run, ws = _two_sources(tmp_path)
    _fake_build(ws, "both0000000a", [1, 2])
    _fake_build(ws, "plain000000b", [2])
    saw = _fake_run(ws, "sft-a", "sft", "both0000000a", export=True, active=True)
    stacked = _fake_run(ws, "dpo-a", "dpo", "plain000000b", parent="sft-a", export=True)
    clean = _fake_run(ws, "sft-b", "sft", "plain000000b", export=True)
    assert {name: 1 in ids for name, ids in _lineages(ws).items() if "/" not in name} == \
        {"sft-a": True, "dpo-a": True, "sft-b": False}

    report = json.loads(run("forget", "1", "--models", "delete", "--json").output)

    assert {r["run"] for r in report["runs_that_saw_it"]} == {"sft-a", "dpo-a"}
    assert sorted(report["runs_deleted"]) == ["dpo-a", "sft-a"] and report["switched_to_base"]
    assert not saw.exists() and not stacked.exists() and clean.exists()
    assert not (ws.settings.workspace / "exports" / "sft-a").exists()
    remaining = _lineages(ws)
    assert set(remaining) == {"sft-b", str(ws.settings.workspace / "exports" / "sft-b")}
    assert all(1 not in ids for ids in remaining.values())
    with ws.sessions() as session:
        assert registry.active_run(session) is None  # the twin is back on the base model
    assert report["dataset_builds_removed"] == ["both0000000a"]
    shown = json.loads(run("models", "show", "sft-b").output)  # lineage shown with the run
    assert shown["lineage"]["source_ids"] == [2] and shown["exports"]


def test_keep_leaves_the_models_and_warns_that_the_words_remain(tmp_path):
    run, ws = _two_sources(tmp_path)
    _fake_build(ws, "both0000000a", [1, 2])
    folder = _fake_run(ws, "sft-a", "sft", "both0000000a", active=True)
    out = run("forget", "1", "--yes", "--models", "keep").output
    assert "sft-a" in out and "remain in their weights" in out
    assert folder.exists()
    with ws.sessions() as session:
        assert registry.active_run(session).id == "sft-a"


def test_runs_recorded_before_lineage_are_found_through_their_builds_card(tmp_path):
    run, ws = _two_sources(tmp_path)
    _fake_build(ws, "both0000000a", [1, 2])
    _fake_run(ws, "sft-old", "sft", "both0000000a")
    with ws.sessions() as session:
        registry.get_run(session, "sft-old").lineage = None
        session.commit()
    report = json.loads(run("forget", "1", "--models", "delete", "--json").output)
    assert report["runs_that_saw_it"][0]["how"] == "card" and report["runs_deleted"] == ["sft-old"]


def test_the_default_retrains_the_model_in_use_and_deletes_the_others():
    def exposure(active: bool) -> ModelExposure:
        return ModelExposure("r", "sft", "finished", active, "d", "lineage", [])

    assert default_model_policy([exposure(False), exposure(True)]) == "retrain"
    assert default_model_policy([exposure(False)]) == "delete"


def test_an_unknown_policy_is_refused(tmp_path):
    run, _ = _two_sources(tmp_path)
    assert "delete, retrain, keep" in run("forget", "1", "--models", "erase", expect=2).output


def _continues(run, messages: list[dict], prefix: str, tokens: int = 12) -> str:
    """Greedy continuation of `prefix` at the start of the answer to `messages` (system, user)."""
    import torch

    from llm_twin.backends.loading import LoadOptions, load_tuned_model

    model, tokenizer = load_tuned_model(run, LoadOptions(cache_dir=MODEL_CACHE, device="cpu"))
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=tokens, do_sample=False)
    return str(tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))


@pytest.mark.models
@pytest.mark.slow  # `make test-all`: two training runs, ~170 s on 2 cores
def test_a_memorised_sentence_is_gone_after_forgetting_with_retrain(tmp_path):
    """Train until greedy decoding reproduces the unique sentence from its first two words;
    forget its source with --models retrain: the replacement, trained with the same
    hyperparameters on what is left, no longer reproduces it, and no run or export lists it."""
    from llm_twin.training.sft import SftConfig, train_sft

    run, ws = _two_sources(tmp_path)
    run("dataset", "build", "--instructions", "extractive", "--no-preferences", "--bare-prompts")
    config = SftConfig(max_steps=12, learning_rate=3e-3, batch_size=4, lora_dropout=0.0, warmup=0,
                       max_length=128,
                       eval_steps=100, early_stopping_patience=0, report_to="none")
    first = train_sft(ws.settings, ws.sessions, config)
    with ws.sessions() as session:
        registry.use_run(session, first.id)
    assert registry.run_source_ids(first) == {1, 2}
    build = ws.settings.workspace / "datasets" / first.dataset_id / "train.jsonl"
    secret = next(row for row in map(json.loads, build.read_text().splitlines())
                  if UNIQUE in row["messages"][-1]["content"])
    prompt = secret["messages"][:-1]
    first_word, second_word, rest = UNIQUE.split(" ", 2)
    prefix = f"{first_word} {second_word}"
    assert _continues(first, prompt, prefix).strip().startswith(rest[:20])  # memorised

    report = json.loads(run("forget", "1", "--models", "retrain", "--json").output)

    assert report["runs_deleted"] == [first.id] and list(report["retrained"]) == [first.id]
    with ws.sessions() as session:
        (again,) = registry.list_runs(session)
        assert registry.active_run(session).id == again.id == report["retrained"][first.id]
    assert again.lineage["retrained_after_forget"] == first.id
    assert again.hyperparameters["config"] == first.hyperparameters["config"]
    assert registry.run_source_ids(again) == {2} and again.dataset_id == report["dataset_rebuilt"]
    assert all(1 not in ids for ids in _lineages(ws).values())
    continued = _continues(again, prompt, prefix)
    assert not continued.strip().startswith(rest[:8]), continued
