"""The model registry in a real SQLite warehouse: record, finish, list, select, export paths."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest
from sqlalchemy import create_engine, inspect

from llm_twin.backends.loading import adapter_stack
from llm_twin.errors import InputError
from llm_twin.storage.migrations.baseline import baseline_metadata
from llm_twin.storage.models import TrainingRun
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training import registry
from llm_twin.training.registry import UnknownModel


def _record(session, run_id: str, kind: str = "sft", **extra) -> TrainingRun:
    values = dict(run_id=run_id, kind=kind, base_model="smollm2", dataset_id="abc123",
                  adapter_path=f"/ws/models/{run_id}/adapter",
                  hyperparameters={"config": {"lora_r": 16}, "dataset_sha256": "f" * 64})
    values.update(extra)
    return registry.record_run(session, **values)


def test_a_run_round_trips_with_its_metrics_and_timing(sessions):
    with sessions() as session:
        _record(session, "sft-20260101-000000")
        assert registry.get_run(session, "sft-20260101-000000").status == "running"
        registry.finish_run(session, "sft-20260101-000000", metrics={"eval_loss": 1.5, "steps": 20},
                            duration_s=12.5)
    with sessions() as session:  # a fresh session reads what was stored
        run = registry.get_run(session, "sft-20260101-000000")
        assert run.status == "finished" and run.duration_s == 12.5
        assert run.metrics == {"eval_loss": 1.5, "steps": 20}
        assert run.hyperparameters["config"] == {"lora_r": 16}
        assert run.finished_at is not None and run.finished_at.tzinfo is not None
        assert run.started_at <= run.finished_at
        assert not run.is_active and run.parent_id is None and run.gguf_path is None


def test_metrics_are_merged_not_replaced(sessions):
    with sessions() as session:
        _record(session, "sft-a")
        registry.finish_run(session, "sft-a", metrics={"eval_loss": 2.0})
        registry.update_metrics(session, "sft-a", {"perplexity_author_tuned": 30.0})
    with sessions() as session:
        assert registry.get_run(session, "sft-a").metrics == {"eval_loss": 2.0,
                                                              "perplexity_author_tuned": 30.0}


def test_use_selects_exactly_one_run_and_base_clears_it(sessions):
    with sessions() as session:
        for run_id in ("sft-a", "sft-b"):
            _record(session, run_id)
            registry.finish_run(session, run_id)
        assert registry.active_run(session) is None
        registry.use_run(session, "sft-a")
        registry.use_run(session, "sft-b")
    with sessions() as session:
        assert registry.active_run(session).id == "sft-b"
        assert [r.id for r in registry.list_runs(session) if r.is_active] == ["sft-b"]
        assert registry.use_run(session, "base") is None
        assert registry.active_run(session) is None


def test_unfinished_runs_cannot_be_used(sessions):
    with sessions() as session:
        _record(session, "sft-running")
        with pytest.raises(InputError, match="running, not finished"):
            registry.use_run(session, "sft-running")


def test_unknown_ids_name_the_id_and_the_known_runs(sessions):
    with sessions() as session:
        with pytest.raises(UnknownModel, match="No model has been trained yet"):
            registry.get_run(session, "sft-nope")
        _record(session, "sft-a")
        with pytest.raises(UnknownModel, match=r"'sft-nope'.*Known runs: sft-a"):
            registry.use_run(session, "sft-nope")
        with pytest.raises(UnknownModel):
            registry.set_export_paths(session, "sft-nope", gguf_path="/x.gguf")


def test_export_paths_are_recorded(sessions):
    with sessions() as session:
        _record(session, "sft-a")
        registry.set_export_paths(session, "sft-a", merged_path="/out/merged")
        registry.set_export_paths(session, "sft-a", gguf_path="/out/model.gguf")
    with sessions() as session:
        run = registry.get_run(session, "sft-a")
        assert (run.merged_path, run.gguf_path) == ("/out/merged", "/out/model.gguf")


def test_newest_runs_come_first_and_ids_never_collide(sessions):
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with sessions() as session:
        first = registry.new_run_id("sft", session, moment)
        _record(session, first)
        second = registry.new_run_id("sft", session, moment)
        _record(session, second)
        assert (first, second) == ("sft-20260102-030405", "sft-20260102-030405-2")
        _record(session, "dpo-x", kind="dpo", parent_id=second)
        registry.finish_run(session, second)
        assert registry.list_runs(session)[0].id == "dpo-x"
        assert registry.latest_run(session, "sft", status="finished").id == second
        assert registry.latest_unfinished_run(session, "sft").id == first


def test_a_dpo_run_records_how_to_load_it(sessions):
    stack = ["/ws/models/sft-a/adapter", "/ws/models/dpo-b/adapter"]
    with sessions() as session:
        _record(session, "sft-a")
        run = _record(session, "dpo-b", kind="dpo", parent_id="sft-a",
                      hyperparameters={"adapter_stack": stack})
        assert adapter_stack(run) == stack
        assert adapter_stack(registry.get_run(session, "sft-a")) == ["/ws/models/sft-a/adapter"]


def test_bad_kind_and_status_are_refused(sessions):
    with sessions() as session:
        with pytest.raises(ValueError, match="kind"):
            _record(session, "x", kind="ppo")
        _record(session, "sft-a")
        with pytest.raises(ValueError, match="status"):
            registry.finish_run(session, "sft-a", status="done")


def test_an_older_warehouse_gains_the_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)  # a workspace from before the registry existed
    baseline = baseline_metadata()  # the tables as the first versioned release made them
    baseline.create_all(old, tables=[t for t in baseline.sorted_tables
                                     if t.name != "training_runs"])
    assert "training_runs" not in inspect(old).get_table_names()
    old.dispose()
    engine = create_warehouse_engine(url)
    assert "training_runs" in inspect(engine).get_table_names()
    with session_factory(engine)() as session:
        _record(session, "sft-a")
        assert registry.list_runs(session)[0].id == "sft-a"
    engine.dispose()
