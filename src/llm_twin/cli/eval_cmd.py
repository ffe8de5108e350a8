"""`twin eval`: base, base+RAG, fine-tuned and fine-tuned+RAG, with and without draft ranking, on
the held-out split of the latest dataset build; a table here and an HTML report in the workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.errors import InputError

SYSTEMS_HELP = ("Comma-separated subset of: base, base+rank, base+rag, base+rag+rank, tuned, "
                "tuned+rank, tuned+rag, tuned+rag+rank. Default: all (the tuned ones when a "
                "fine-tuned model exists).")


def evaluate(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Held-out prompts, newest first.")] = 40,
    k: Annotated[int, typer.Option(
        "--k", min=1, max=16, help="Drafts per prompt the ranked systems choose from.")] = 4,
    systems: Annotated[str | None, typer.Option("--systems", help=SYSTEMS_HELP)] = None,
    max_new_tokens: Annotated[int, typer.Option(
        "--max-new-tokens", min=1, help="Longest answer in tokens.")] = 120,
    model: Annotated[str | None, typer.Option(
        "--model", help="The fine-tuned run id to evaluate; default: the model in use.")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Dataset build id; default: the latest.")] = None,
    impostor: Annotated[Path | None, typer.Option(
        "--impostor", help="Folder of another author's .md/.txt posts (impostors for the attribution "
                           "classifier); default: ../shared/corpora/jbranchaud_til when present.")] = None,
    judge_url: Annotated[str | None, typer.Option(
        "--judge-url",
        help="OpenAI-compatible server of an LLM judge, e.g. http://localhost:8000/v1.")] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="The judge's model name.")] = None,
    judge_key: Annotated[str | None, typer.Option(
        "--judge-key", envvar="TWIN_JUDGE_API_KEY", help="The judge's API key, if it needs one.")] = None,
    judge_max_tokens: Annotated[int, typer.Option("--judge-max-tokens", min=1,
                                                  help="Longest judge answer in tokens.")] = 40,
    perplexity: Annotated[bool, typer.Option("--perplexity/--no-perplexity",
                                             help="Held-out perplexity of each model.")] = True,
    base_answers: Annotated[int, typer.Option(
        "--base-answers", min=2, help="Base-model answers to train prompts generated for the "
                                      "attribution classifier when the dataset build has no DPO "
                                      "pairs.")] = 40,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed (prompt i uses seed + i).")] = 0,
) -> None:
    """Measure how much each system sounds like you on posts it never saw."""
    from llm_twin.app.evaluate import evaluate as evaluate_workspace
    from llm_twin.evaluation.harness import EvalConfig
    from llm_twin.evaluation.report import print_table, save_report

    quiet_libraries()
    with user_errors():
        if bool(judge_url) != bool(judge_model):
            raise InputError("A judge needs both --judge-url and --judge-model.")
        judge = None
        if judge_url and judge_model:
            from llm_twin.evaluation.judge import LLMJudge

            judge = LLMJudge(judge_url, judge_model, judge_key, max_tokens=judge_max_tokens)
        config = EvalConfig(systems=systems, limit=limit, k=k, max_new_tokens=max_new_tokens,
                            seed=seed, dataset_id=dataset, model=model, impostor=impostor,
                            perplexity=perplexity, base_answers=base_answers,
                            judge=judge)
        ws = open_workspace()
        with _generation_bar() as progress:
            result = evaluate_workspace(ws, config, progress)
        folder = save_report(result, ws.settings.workspace)
    print_table(result, console)
    console.print(f"Report: {folder / 'report.html'}", highlight=False)


class _GenerationBar:
    """The answers generated so far as a bar; every other stage as a dim line above it."""

    def __init__(self, bar, task):
        self.bar, self.task = bar, task

    def report(self, stage: str, done: int, total: int | None) -> None:
        from llm_twin.app.evaluate import GENERATING

        if stage == GENERATING:
            self.bar.update(self.task, completed=done, total=total)
        else:
            self.bar.console.print(f"[dim]{stage}[/]", highlight=False)


@contextmanager
def _generation_bar() -> Iterator[_GenerationBar]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from llm_twin.app.evaluate import GENERATING

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        yield _GenerationBar(bar, bar.add_task(GENERATING, total=None))
