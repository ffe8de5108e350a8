"""`twin models`: the registry of fine-tuned runs, and which one `twin write` uses."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from llm_twin.app.blind_test import blind_test_scores
from llm_twin.app.models import describe_model, list_models, use_model
from llm_twin.cli.common import console, open_workspace, user_errors

models_app = typer.Typer(
    help="Your fine-tuned models (one per training run) and the one twin write uses.\n\n"
         "  twin models                 # list runs with their metrics\n\n"
         "  twin models use ID          # twin write uses this run (`base` = the base model)\n\n"
         "  twin models show ID         # hyperparameters, metrics, paths",
    invoke_without_command=True)


def _blind(score) -> str:
    low, high = score.interval
    return f"{score.share:.0%} of {score.rounds} ({low:.0%}–{high:.0%})"


@models_app.callback()
def models(ctx: typer.Context) -> None:
    """List the training runs; the one in use is marked with *."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        ws = open_workspace()
        runs = list_models(ws)
        blind = blind_test_scores(ws)
        if "base" in blind:
            console.print(f"Base model, blind test: {_blind(blind['base'])}")
        if not runs:
            console.print("No fine-tuned model yet: `twin dataset build`, then `twin train sft`.")
            return
        # The id holds the kind and start time; the rest is in `twin models show ID`.
        table = Table("id (* = in use)", "status", "steps", "eval loss", "ppl yours", "ppl impostor",
                      "blind test", box=box.SIMPLE_HEAD,
                      caption="ppl: perplexity on held-out text, base → tuned; blind test: share of "
                              "`twin blind-test` rounds the twin fooled you (95 % interval)")
        table.columns[0].no_wrap = True
        for run in runs:
            m = run.metrics or {}
            table.add_row(run.id + (" *" if run.is_active else ""), run.status, str(m.get("steps", "")),
                          _fmt(m.get("eval_loss")), _change(m, "author"), _change(m, "impostor"),
                          _blind(blind[run.id]) if run.id in blind else "")
        console.print(table)
        if not any(run.is_active for run in runs):
            console.print("twin write uses the base model; `twin models use ID` switches.")


@models_app.command("use")
def use(run_id: Annotated[str, typer.Argument(help="A run id from `twin models`, or 'base'.")]) -> None:
    """Make a finished run the model twin write (and the server) use; 'base' goes back."""
    with user_errors():
        run = use_model(open_workspace(), run_id)
        console.print(f"twin write now uses {run.id if run else 'the base model'}.")


@models_app.command("show")
def show(run_id: Annotated[str, typer.Argument(help="A run id from `twin models`.")]) -> None:
    """Everything recorded about a run: hyperparameters, metrics, paths, timing."""
    with user_errors():
        record = describe_model(open_workspace(), run_id)
        console.print_json(json.dumps(record, default=str))


def _change(metrics: dict, corpus: str) -> str:
    base, tuned = metrics.get(f"perplexity_{corpus}_base"), metrics.get(f"perplexity_{corpus}_tuned")
    if base is None or tuned is None:
        return ""
    return f"{base:.3g}→{tuned:.3g}"


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}"
