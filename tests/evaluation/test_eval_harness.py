"""`twin eval` end to end on a tiny corpus with the real SmolLM2-135M: ingest, index, a dataset
build (no DPO pairs, so the evaluation makes its own base-model answers), the base system judged
by the project's own OpenAI-compatible API; then a fine-tuned run (a small random LoRA adapter)
two systems that between them take every path (RAG ranked by `twin write`, plain prompts ranked
here, base and tuned perplexity) on two held-out prompts, a few tokens each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import MODEL_CACHE
from llm_twin.cli.app import app
from llm_twin.errors import ModelError
from llm_twin.evaluation.judge import LLMJudge

sys.path.insert(0, str(Path(__file__).parents[1] / "serving"))
from live_server import API_KEY, MODEL_NAME, twin_api_server  # noqa: E402

pytestmark = pytest.mark.models

POSTS = [
    ("2023-01-05", "Queues", "Keep the queue in Postgres. Boring wins, and one less system to page you at 3am."),
    ("2023-02-11", "Deploys", "Deploy on Tuesdays, never on Fridays. Small batches, fast rollbacks, calm weekends."),
    ("2023-03-02", "Runbooks", "Write the runbook before the pager goes off. Future you is tired and grumpy."),
    ("2023-03-28", "Tea", "Tea first, then code. The kettle is the best design review tool I own."),
    ("2023-04-19", "Indexes", "Every slow query I fixed this year was a missing index. Every single one."),
    ("2023-05-07", "Code review", "Review the design, not the semicolons. Let the linter argue about commas."),
    ("2023-06-01", "Monoliths", "Our monolith is fine. It deploys in four minutes and nobody is on call for it."),
    ("2023-06-30", "Migrations", "Ship the migration first, the code second, and the cleanup a week later."),
    ("2023-07-22", "Logging", "Log the decision, not the data. Nobody reads a megabyte of JSON at 3am."),
    ("2023-08-15", "Hiring", "Hire people who write clearly. Clear writing is clear thinking in disguise."),
    ("2023-09-03", "Feature flags", "Feature flags are loans. Pay them back before the interest eats the sprint."),
    ("2023-09-29", "Testing", "A flaky test is a bug report about your test suite. Fix it or delete it."),
    ("2023-10-18", "Caching", "Cache invalidation is easy if you never cache. We mostly don't, and it's great."),
    ("2023-11-09", "Docs", "Docs rot faster than code. Keep them next to the code or lose them entirely."),
    ("2023-12-01", "Postmortems", "Blameless postmortems only work if the fix ships. Otherwise it's theatre."),
    ("2024-01-12", "Timeouts", "Every network call gets a timeout. Every single one, no exceptions, ever."),
    ("2024-02-20", "Estimates", "My estimates are wrong by a factor of pi. I've stopped fighting it and just multiply."),
    ("2024-03-14", "Retries", "Retries without jitter are a thundering herd waiting to happen. Add jitter."),
    ("2024-04-02", "SQL", "Learn SQL properly once and it pays rent for a whole career. <b>Seriously.</b>"),
    ("2024-05-09", "Backups", "A backup you never restored is a hope, not a backup. Restore one this week."),
]
IMPOSTOR = [
    "TIL: in Vim, :vsplit opens a vertical split of the current buffer.",
    "Today I learned that git add -N marks a file as intent-to-add so it shows in git diff.",
    "You can use the jq -r flag to print raw strings instead of JSON-quoted ones.",
    "In PostgreSQL, \\x toggles expanded display in psql for wide rows.",
    "Ruby's Array#tally counts occurrences of each element and returns a hash.",
    "TIL: tmux prefix-z zooms the current pane to fill the whole window.",
]


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    blog = root / "blog"
    blog.mkdir()
    for date, title, text in POSTS:
        (blog / f"{date}-{title.lower().replace(' ', '-')}.md").write_text(
            f"---\ntitle: {title}\ndate: {date}\n---\n\n{text}\n", encoding="utf-8")
    impostor = root / "impostor"
    impostor.mkdir()
    for i, text in enumerate(IMPOSTOR):
        (impostor / f"til-{i}.md").write_text(f"---\ntitle: TIL {i}\n---\n\n{text}\n", encoding="utf-8")
    workspace = root / "ws"
    runner = CliRunner()
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE), "TWIN_MAX_NEW_TOKENS": "24", "COLUMNS": "250"}

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, ["--workspace", str(workspace), *args], env=env)
        assert result.exit_code == expect, result.output
        return result

    run("init", "--owner", "Dana")
    run("ingest", str(blog))
    run("index")
    run("dataset", "build", "--instructions", "extractive", "--no-preferences")
    run.workspace, run.impostor = workspace, impostor
    return run


def add_tuned_run(workspace: Path) -> str:
    """A finished SFT run in the registry whose LoRA adapter is small, random and real."""
    import torch
    from peft import LoraConfig, get_peft_model

    from llm_twin.config import load_settings
    from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
    from llm_twin.backends.loading import LoadOptions, load_base_model
    from llm_twin.training.registry import finish_run, record_run, use_run

    model, tokenizer = load_base_model(LoadOptions(cache_dir=MODEL_CACHE, device="cpu"))
    torch.manual_seed(0)
    config = LoraConfig(r=2, lora_alpha=1, init_lora_weights=False, target_modules=["q_proj", "v_proj"])
    adapter = workspace / "models" / "sft-eval" / "adapter"
    get_peft_model(model, config).save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    engine = create_warehouse_engine(load_settings(workspace).resolved_database_url)
    with session_factory(engine)() as session:
        record_run(session, run_id="sft-eval", kind="sft", base_model="smollm2", dataset_id="d",
                   adapter_path=str(adapter), hyperparameters={"r": 2})
        finish_run(session, "sft-eval", metrics={})
        use_run(session, "sft-eval")
    engine.dispose()
    return "sft-eval"


def report_path(result) -> Path:
    return Path(result.output.split("Report:")[1].split()[0])


def results_of(result) -> dict:
    return json.loads((report_path(result).parent / "results.json").read_text())


@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_base_only_says_so_then_ranked_rag_and_tuned_systems(twin):
    common = ("--max-new-tokens", "8", "--base-answers", "4", "--impostor", str(twin.impostor))
    with twin_api_server() as url:
        base_only = twin("eval", "--limit", "1", "--systems", "base,tuned", "--no-perplexity",
                         "--judge-url", f"{url}/v1", "--judge-model", MODEL_NAME,
                         "--judge-key", API_KEY, "--judge-max-tokens", "8", *common)
    assert "no fine-tuned model" in base_only.output and "judge accuracy" in base_only.output
    assert "made by this evaluation" in base_only.output
    (judged,) = results_of(base_only)["systems"]
    assert judged["name"] == "base" and judged["judge_unparsable"] in (0, 1)
    assert (judged["judge_accuracy"] is None) == (judged["judge_unparsable"] == 1)
    assert not (twin.workspace / "voice").exists()  # nothing ranked: no voice model needed

    run_id = add_tuned_run(twin.workspace)
    result = twin("eval", "--limit", "2", "--k", "2", "--systems", "base+rag+rank,tuned+rank", *common)
    output = result.output
    assert "base+rag+rank" in output and "tuned+rank" in output
    assert "real held-out posts" in output and run_id in output

    report = report_path(result)
    assert report.name == "report.html" and report.parent.parent == twin.workspace / "eval"
    results = results_of(result)
    assert [s["name"] for s in results["systems"]] == ["base+rag+rank", "tuned+rank"]
    assert len(results["prompts"]) == 2
    held_out = {p["document_id"] for p in results["prompts"]}
    assert sorted(p["created_at"][:10] for p in results["prompts"]) == ["2024-04-02", "2024-05-09"]
    for prompt in results["prompts"]:  # retrieval never hands a RAG system a held-out post
        sources = prompt["rag_sources"]["base+rag"]
        assert sources and not held_out & set(sources)
    for system in results["systems"]:
        assert len(system["outputs"]) == 2
        assert 0.0 <= system["attribution_share"] <= 1.0
        assert system["detector_auc"] is None or 0.0 <= system["detector_auc"] <= 1.0
        assert 0.0 <= system["rouge_l"] <= 1.0 and 0.0 <= system["chrf"] <= 100.0
        assert system["perplexity"] > 1.0
        assert system["model_id"] == ("smollm2" if system["name"].startswith("base") else run_id)
        assert len(system["voice_scores"]) == 2 and all(0 <= v <= 1 for v in system["voice_scores"])
    by_name = {s["name"]: s for s in results["systems"]}
    assert by_name["base+rag+rank"]["perplexity"] != by_name["tuned+rank"]["perplexity"]
    for system in results["systems"] + results["sanity"]:
        for figure, (value, low, high) in system["intervals"].items():
            assert value is None or low is None or low - 1e-9 <= value <= high + 1e-9, figure
        assert 0.0 <= system["copying"] <= 1.0 and system["longest_copy"] >= 0
    assert [s["name"] for s in results["sanity"]] == ["real held-out posts", "a random training post"]
    real, copied = results["sanity"]
    assert real["outputs"] == [p["answer"] for p in results["prompts"]]
    assert real["relevance"] == 1.0 and copied["copying"] == 1.0  # two prompts: own post vs one other
    assert "passes as you" in output
    calibration = results["attribution"]
    assert calibration["owner_false_negative_rate"] == pytest.approx(1 - real["attribution_share"])
    assert calibration["heldout_owner_posts"] == 2
    overlap = results["prompt_overlap"]  # held-out ideas do not hold their answers
    assert overlap["ideas"] == 2 and overlap["copied_runs"] == 0 and overlap["max_longest_run"] <= 3
    assert "held-out ideas vs their answers" in output
    assert calibration["heldout_false_positive_rate"] <= 0.05
    assert calibration["heldout_impostors"] == 2 + 3  # base answers to the 2 prompts, 3 of 6 TIL
    assert calibration["train_impostors"] == 4 + 3 and calibration["impostor_author_texts"] == 6
    card = json.loads((twin.workspace / "voice" / "card.json").read_text())
    assert card["base_model_texts"] == 4  # the ranker, fitted on first use from those answers

    html = report.read_text()
    assert "&lt;b&gt;Seriously.&lt;/b&gt;" in html and "<b>Seriously." not in html
    assert html.count("data:image/png;base64,") == 3
    assert (report.parent / "attribution.png").stat().st_size > 1000


def test_an_unreachable_judge_is_one_clear_error():
    judge = LLMJudge("http://127.0.0.1:9/v1", "judge", max_tokens=4, timeout=5)
    with pytest.raises(ModelError, match="The judge at http://127.0.0.1:9/v1"):
        judge.grade("a draft", "the real post")


def test_eval_without_a_dataset_build_says_what_to_do(tmp_path):
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "empty"), "eval"])
    assert result.exit_code == 2
    assert "twin dataset build" in result.output
