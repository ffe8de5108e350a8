"""benchmarks/voice_eval.py without models: reading results.json defensively, the one table, and an
owner whose step fails while the next one still runs (a stand-in CLI replaces `twin`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "voice_eval.py"


@pytest.fixture(scope="module")
def voice_eval():
    spec = importlib.util.spec_from_file_location("voice_eval", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["voice_eval"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("voice_eval", None)


RESULTS = {
    "dataset_id": "abc",
    "systems": [
        {"name": "base", "model_id": "smollm2", "outputs": ["x"], "detector_auc": 0.91,
         "attribution_share": 0.25, "rouge_l": 0.1234, "chrf": 18.96, "perplexity": 25.5,
         "support": None, "flag": True, "voice_scores": [0.1, 0.2],
         "intervals": {"detector_auc": [0.91, 0.8, 0.97], "attribution_share": [0.25, None, None],
                       "relevance": [0.7, 0.6, 0.8]}},
        {"name": "tuned+rag", "detector_auc": float("nan"), "attribution_share": 0.5,
         "ci": {"attribution_share": {"low": 0.3, "high": 0.7}}, "copying": 0.0, "longest_copy": 3},
    ],
    "sanity": [{"name": "real held-out posts", "detector_auc": 0.5, "attribution_share": 0.9}],
    "attribution": {"threshold": 0.514, "features": "word 1-2-grams", "owner_false_negative_rate": 0.1},
}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


def test_rows_keep_every_numeric_figure_and_interval(voice_eval):
    base, tuned, real = voice_eval.table_rows_of(RESULTS)
    assert base["name"] == "base" and real["name"] == "real held-out posts"
    assert set(base["figures"]) == {"detector_auc", "attribution_share", "rouge_l", "chrf",
                                    "perplexity", "relevance"}  # no bools, lists, None or text
    assert base["intervals"] == {"detector_auc": (0.8, 0.97), "relevance": (0.6, 0.8)}
    assert tuned["intervals"] == {"attribution_share": (0.3, 0.7)}


def test_an_older_results_file_gets_the_reference_row(voice_eval):
    old = {"systems": [{"name": "base", "attribution_share": 0.3}],
           "reference": {"attribution_share": 0.94, "count": 16}}
    rows = voice_eval.table_rows_of(old)
    assert [r["name"] for r in rows] == ["base", "real held-out posts"]
    assert voice_eval.table_rows_of({}) == []


def test_table_has_one_row_per_owner_and_system_and_names_failures(voice_eval):
    good = voice_eval.OwnerResult("atoms", "/c/atoms", rows=voice_eval.table_rows_of(RESULTS),
                                  attribution={"threshold": 0.514},
                                  training={"perplexity_author_base": 25.5, "perplexity_author_tuned": 19.4})
    bad = voice_eval.OwnerResult("skeeto", "/c/skeeto", failed_step="train sft",
                                 error="Error: out of memory | try --batch-size 1")
    table = voice_eval.render_table([good, bad])
    header, rule, *lines = table.splitlines()
    columns = _cells(header)
    assert columns[:2] == ["owner", "system"] and "detector_auc" in columns and "longest_copy" in columns
    assert len(lines) == 4 and all(len(_cells(line)) == len(columns) for line in lines)
    base = dict(zip(columns, _cells(lines[0])))
    assert base["detector_auc"] == "0.910 [0.800–0.970]" and base["chrf"] == "19.0"
    assert columns[2] == "detector_auc"  # the report's headline first
    assert base["attribution_share"] == "0.250" and base["copying"] == "–"
    tuned = dict(zip(columns, _cells(lines[1])))
    assert tuned["detector_auc"] == "–" and tuned["attribution_share"] == "0.500 [0.300–0.700]"
    assert tuned["longest_copy"] == "3"
    assert lines[3].startswith("| skeeto | **failed** at `train sft`: Error: out of memory \\| try")
    notes = voice_eval.owner_notes([good, bad])
    assert "perplexity owner 25.5 → 19.4 (-24%)" in notes and "threshold 0.514" in notes


def test_default_impostor_is_a_corpus_that_is_not_an_owner(voice_eval, tmp_path):
    for name in ("jbranchaud_til", "brandur_atoms", "skeeto"):
        (tmp_path / name).mkdir()
    assert voice_eval.default_impostor([tmp_path / "brandur_atoms"], tmp_path) == tmp_path / "jbranchaud_til"
    owners = [tmp_path / "jbranchaud_til", tmp_path / "brandur_atoms"]
    assert voice_eval.default_impostor(owners, tmp_path) == tmp_path / "skeeto"
    assert voice_eval.default_impostor(owners + [tmp_path / "skeeto"], tmp_path) is None
    assert voice_eval.owner_names([Path("/a/blog"), Path("/b/blog")]) == ["blog", "blog-2"]


FAKE_TWIN = """
import json, os, pathlib, sys
args = sys.argv[1:]
at = args.index("--workspace")
workspace, rest = pathlib.Path(args[at + 1]), args[at + 2:]
workspace.mkdir(parents=True, exist_ok=True)
if rest[0] == "init":
    (workspace / "twin.toml").write_text("")
if rest[:2] == ["train", "sft"] and "broken" in str(workspace):
    print("Error: Impostor corpus /nowhere does not exist")
    sys.exit(2)
if rest[0] == "eval":
    folder = workspace / "eval" / "20250101-000000"
    folder.mkdir(parents=True)
    folder.joinpath("results.json").write_text(os.environ["FAKE_RESULTS"])
with open(workspace.parent / "calls.txt", "a") as calls:
    calls.write(" ".join(rest) + "\\n")
"""


def test_a_failing_owner_is_reported_and_the_next_one_runs(voice_eval, tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake_twin.py"
    fake.write_text(FAKE_TWIN)
    monkeypatch.setattr(voice_eval, "twin_command", lambda: [sys.executable, str(fake)])
    monkeypatch.setattr(voice_eval, "training_perplexities", lambda workspace: {})
    monkeypatch.setenv("FAKE_RESULTS", json.dumps(RESULTS))
    owners = [tmp_path / "corpora" / "broken", tmp_path / "corpora" / "fine"]
    out = tmp_path / "out"
    code = voice_eval.main(["--owners", *map(str, owners), "--impostor", str(tmp_path / "til"),
                            "--out", str(out), "--steps", "2", "--limit", "4", "--k", "2",
                            "--max-new-tokens", "16", "--dpo-steps", "1", "--max-pairs", "0"])
    assert code == 1
    table = (out / "voice_eval.md").read_text()
    assert "| broken | **failed** at `train sft`: Error: Impostor corpus /nowhere does not exist" in table
    assert "| fine | base | " in table and "| fine | real held-out posts | " in table
    assert "--steps 2 --limit 4" in table.splitlines()[0]  # the exact command heads the file
    calls = (out / "fine" / "calls.txt").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["init", "ingest", "index", "dataset", "train", "train", "eval"]
    assert "--no-preferences" in calls[3] and calls[4].startswith("train sft --steps 2 --max-length 384")
    assert calls[5].startswith("train dpo --steps 1") and "--k 2 --max-new-tokens 16" in calls[6]
    assert not (out / "broken" / "calls.txt").read_text().count("eval")
    printed = capsys.readouterr().out
    assert "[1/2] broken" in printed and "FAILED at train sft" in printed and "[2/2] fine" in printed
    saved = json.loads((out / "voice_eval.json").read_text())
    assert saved[0]["failed_step"] == "train sft" and saved[1]["rows"][0]["name"] == "base"


def test_a_rerun_replaces_only_workspaces_it_made(voice_eval, tmp_path):
    root = tmp_path / "owner"
    (root / "ws").mkdir(parents=True)
    (root / "ws" / "notes.txt").write_text("someone's files")
    with pytest.raises(voice_eval.StepFailed, match="not a twin workspace"):
        voice_eval.fresh_workspace(root)
    (root / "ws" / "twin.toml").write_text("")
    workspace, logs = voice_eval.fresh_workspace(root)
    assert not workspace.exists() and logs.is_dir()


def test_collect_renders_one_table_from_earlier_runs_without_running_anything(voice_eval, tmp_path):
    done = tmp_path / "runs" / "owner_a"
    (done / "ws" / "eval" / "20260101-000000").mkdir(parents=True)
    (done / "ws" / "eval" / "20260101-000000" / "results.json").write_text(json.dumps(RESULTS))
    missing = tmp_path / "runs" / "owner_b"
    out = tmp_path / "table"
    status = voice_eval.main(["--collect", str(done), str(missing), "--out", str(out),
                              "--impostor", str(tmp_path)])
    table = (out / "voice_eval.md").read_text()
    assert status == 1  # one owner folder holds no evaluation
    assert "| owner_a | base |" in table and "| owner_a | tuned+rag |" in table
    assert "| owner_b | **failed** at `read results`" in table
    assert not (done / "logs").exists()  # nothing was run
