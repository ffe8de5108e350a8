"""benchmarks/context_sweep.py without models: settings and their environment, reading results.json,
the table's differences against the baseline, and a sweep through a stand-in `twin` CLI."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "context_sweep.py"


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("context_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["context_sweep"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("context_sweep", None)


def _results(relevance: float, low: float, high: float, auc: float = 0.9, sources=(2, 4)) -> dict:
    def system(name):
        return {"name": name, "outputs": ["x", "y"], "relevance": relevance, "support": 0.5,
                "support_claims": 6, "detector_auc": auc, "attribution_share": 0.25, "copying": 0.0,
                "intervals": {"relevance": [relevance, low, high], "support": [0.5, 0.2, 0.8],
                              "detector_auc": [auc, auc - 0.05, min(auc + 0.05, 1.0)],
                              "attribution_share": [0.25, 0.1, 0.4], "copying": [0.0, 0.0, 0.0]}}
    return {"systems": [system("base+rag"), system("tuned+rag")],
            "sanity": [{"name": "real held-out posts", "relevance": 1.0, "detector_auc": 0.6,
                        "intervals": {"relevance": [1.0, 1.0, 1.0]}}],
            "prompts": [{"rag_sources": {"base+rag": list(range(n)), "tuned+rag": [1]}}
                        for n in sources]}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


def test_settings_parse_and_set_the_eval_environment(sweep):
    setting = sweep.parse_setting(" 6/3 ")
    assert (setting.notes, setting.examples, setting.label) == (6, 3, "6/3")
    assert setting.env() == {"TWIN_RETRIEVAL_K": "6", "TWIN_STYLE_EXAMPLES": "3"}
    assert sweep.parse_grid("4/3, 0/0,") == [sweep.Setting(4, 3), sweep.Setting(0, 0)]
    budget = sweep.parse_setting("4/3@768")
    assert (budget.prompt_tokens, budget.label, budget.log_name) == (768, "4/3@768",
                                                                     "notes4-examples3-tokens768.log")
    assert budget.env()["TWIN_PROMPT_TOKENS"] == "768" and "TWIN_PROMPT_TOKENS" not in setting.env()
    assert sweep.parse_grid("4/3,4/3@768") == [sweep.Setting(4, 3), budget]  # not a repeat
    for bad in ("4", "4/3/1", "a/3", "-1/3", "4.5/3", "", "4/3@", "4/3@big", "4/3@-1"):
        with pytest.raises(ValueError):
            sweep.parse_setting(bad)
    with pytest.raises(ValueError, match="repeats"):
        sweep.parse_grid("4/3,4/3")
    with pytest.raises(ValueError, match="no setting"):
        sweep.parse_grid(" , ")


def test_bad_command_lines_are_refused(sweep, capsys):
    for argv in (["--workspace", "w", "--grid", "2/1,0/0"],  # the baseline 4/3 is not in it
                 ["--workspace", "w", "--grid", "4/x"],
                 ["--workspace", "w", "--systems", "base,tuned"]):  # settings would change nothing
        with pytest.raises(SystemExit):
            sweep.parse_args(argv)
    assert "baseline 4/3 is not in the grid" in capsys.readouterr().err


def test_mean_sources_counts_the_documents_each_prompt_carried(sweep):
    results = _results(0.8, 0.7, 0.9, sources=(2, 4, 0))
    assert sweep.mean_sources(results, "base+rag") == 2.0
    assert sweep.mean_sources(results, "tuned+rag") == 1.0
    assert sweep.mean_sources(results, "tuned") is None
    assert sweep.mean_sources({"prompts": [{"rag_sources": None}, "junk"]}, "base+rag") is None


def test_differences_against_the_baseline_mark_disjoint_intervals(sweep):
    baseline = sweep.rows_by_name(_results(0.80, 0.70, 0.90))
    overlapping = sweep.rows_by_name(_results(0.85, 0.75, 0.95))
    disjoint = sweep.rows_by_name(_results(0.50, 0.40, 0.60))
    row, base = overlapping["base+rag"], baseline["base+rag"]
    assert sweep.difference(row, base, "relevance") == " (+0.050)"
    assert sweep.difference(disjoint["base+rag"], base, "relevance") == " (-0.300*)"
    assert sweep.difference(row, None, "relevance") == ""
    assert sweep.difference(row, base, "rouge_l") == ""  # a figure neither row has
    assert sweep.metric_cell(row, base, "support") == "0.500 [0.200–0.800] (+0.000) n=6"


def test_table_puts_the_baseline_first_names_failures_and_ends_with_the_real_posts(sweep):
    base = sweep.SettingRun(4, 3, folder="/ws/eval/1", results=_results(0.80, 0.70, 0.90))
    none = sweep.SettingRun(0, 0, folder="/ws/eval/2",
                            results=_results(0.50, 0.40, 0.60, auc=0.97, sources=(0, 0)))
    broken = sweep.SettingRun(6, 3, error="exit 2 | see log")
    table = sweep.render_table([none, broken, base], sweep.Setting(4, 3))
    header, rule, *lines = table.splitlines()
    columns = _cells(header)
    assert columns[:3] == ["notes/examples", "system", "documents in prompt"]
    assert columns[-1] == "eval folder" and "passes as you (AUC ↓)" in columns
    rows = [dict(zip(columns, _cells(line))) for line in lines if "failed" not in line]
    assert [(r["notes/examples"], r["system"]) for r in rows] == [
        ("4/3 (baseline)", "base+rag"), ("4/3 (baseline)", "tuned+rag"),
        ("0/0", "base+rag"), ("0/0", "tuned+rag"), ("–", "real held-out posts")]
    assert all(len(_cells(line)) == len(columns) for line in lines)
    assert rows[0]["relevance"] == "0.800 [0.700–0.900]" and rows[0]["documents in prompt"] == "3.0"
    assert rows[2]["relevance"] == "0.500 [0.400–0.600] (-0.300*)"
    assert rows[2]["passes as you (AUC ↓)"] == "0.970 [0.920–1.000] (+0.070)"
    assert rows[2]["documents in prompt"] == "0.0" and rows[2]["eval folder"] == "`/ws/eval/2`"
    assert rows[4]["relevance"] == "1.000 [1.000–1.000]" and rows[4]["eval folder"] == "`/ws/eval/1`"
    assert "| 6/3 | **failed**: exit 2 \\| see log |" in table


def test_a_sweep_without_its_baseline_has_no_differences(sweep):
    other = sweep.SettingRun(0, 3, folder="/f", results=_results(0.5, 0.4, 0.6))
    failed_base = sweep.SettingRun(4, 3, error="timed out")
    table = sweep.render_table([failed_base, other], sweep.Setting(4, 3))
    assert "(+" not in table and "(-" not in table and "real held-out posts" not in table
    assert "| 4/3 (baseline) | **failed**: timed out |" in table


FAKE_TWIN = """
import json, os, pathlib, sys, time
args = sys.argv[1:]
workspace = pathlib.Path(args[args.index("--workspace") + 1])
notes, examples = os.environ["TWIN_RETRIEVAL_K"], os.environ["TWIN_STYLE_EXAMPLES"]
with open(workspace / "calls.txt", "a") as calls:
    calls.write(f"{notes}/{examples} " + " ".join(args[args.index("eval"):]) + "\\n")
if notes == "6" and not os.environ.get("FIXED"):
    print("Error: out of memory")
    sys.exit(2)
results = json.loads(os.environ["FAKE_RESULTS"])
results["systems"][0]["relevance"] = 0.5 + int(notes) / 10
tokens = os.environ.get("TWIN_PROMPT_TOKENS", "default")
folder = workspace / "eval" / f"2026-notes{notes}-examples{examples}-tokens{tokens}"
folder.mkdir(parents=True)
folder.joinpath("results.json").write_text(json.dumps(results))
"""


def test_a_sweep_runs_each_setting_with_its_environment_and_can_be_collected_again(
        sweep, tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake_twin.py"
    fake.write_text(FAKE_TWIN)
    workspace = tmp_path / "ws"
    (workspace / "eval" / "old").mkdir(parents=True)
    (workspace / "eval" / "old" / "results.json").write_text("{}")  # an earlier eval: not a setting's
    monkeypatch.setattr(sweep, "twin_command", lambda: [sys.executable, str(fake)])
    monkeypatch.setenv("FAKE_RESULTS", json.dumps(_results(0.8, 0.7, 0.9)))
    out = tmp_path / "out"
    argv = ["--workspace", str(workspace), "--out", str(out), "--grid", "0/3,4/3,6/3",
            "--limit", "4", "--max-new-tokens", "16", "--impostor", str(tmp_path / "til")]
    assert sweep.main(argv) == 1  # 6/3 failed
    calls = (workspace / "calls.txt").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["4/3", "0/3", "6/3"]  # the baseline first
    assert "eval --systems base+rag,tuned+rag --limit 4 --k 1 --max-new-tokens 16" in calls[0]
    assert "--no-perplexity --impostor" in calls[0]
    table = (out / "context_sweep.md").read_text()
    assert "`twin eval --systems base+rag,tuned+rag --limit 4" in table.splitlines()[0]
    assert "| 0/3 | base+rag | 3.0 | 0.500 [0.700–0.900] (-0.400) |" in table
    assert "| 6/3 | **failed**: exit 2; see " in table
    saved = json.loads((out / "context_sweep.json").read_text())
    assert [(s["notes"], s["examples"]) for s in saved] == [(4, 3), (0, 3), (6, 3)]
    assert saved[0]["folder"].endswith("2026-notes4-examples3-tokensdefault") and saved[2]["folder"] is None
    assert "Error: out of memory" in (out / "logs" / "notes6-examples3.log").read_text()
    assert "[3/3] 6/3 " in capsys.readouterr().out

    (workspace / "calls.txt").unlink()
    assert sweep.main(argv + ["--collect"]) == 1
    assert not (workspace / "calls.txt").exists()  # nothing ran
    assert (out / "context_sweep.md").read_text().split("\n", 1)[1] == table.split("\n", 1)[1]
    assert sweep.main([*argv[:4], "--out", str(tmp_path / "empty"), "--collect"]) == 1


def test_resume_reruns_only_what_the_earlier_sweep_lacks(sweep, tmp_path, monkeypatch):
    fake = tmp_path / "fake_twin.py"
    fake.write_text(FAKE_TWIN)
    workspace, out = tmp_path / "ws", tmp_path / "out"
    workspace.mkdir()
    monkeypatch.setattr(sweep, "twin_command", lambda: [sys.executable, str(fake)])
    monkeypatch.setenv("FAKE_RESULTS", json.dumps(_results(0.8, 0.7, 0.9)))
    argv = ["--workspace", str(workspace), "--out", str(out), "--grid", "4/3,6/3"]
    assert sweep.main(argv) == 1
    (workspace / "calls.txt").unlink()
    monkeypatch.setenv("FIXED", "1")
    assert sweep.main([*argv[:-1], "4/3,6/3,4/3@768", "--resume"]) == 0
    calls = (workspace / "calls.txt").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["6/3", "4/3"]  # the failed one again, the new budget
    saved = json.loads((out / "context_sweep.json").read_text())
    assert [s["prompt_tokens"] for s in saved] == [None, None, 768]
    assert saved[2]["folder"].endswith("notes4-examples3-tokens768")
    assert "| 4/3@768 | base+rag |" in (out / "context_sweep.md").read_text()
