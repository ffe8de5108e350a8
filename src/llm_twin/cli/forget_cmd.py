"""`twin forget SOURCE`: forget a source completely, the models trained on it included."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import click
import typer

from llm_twin.app.sources import (MODEL_POLICIES, ForgetReport, ModelExposure, default_model_policy,
                                  describe_source, forget_source, models_that_saw)
from llm_twin.cli.common import AsJson, console, open_workspace, user_errors
from llm_twin.cli.progress import progress_bar
from llm_twin.errors import InputError


def forget(
    source_id: Annotated[int, typer.Argument(help="Source id from `twin sources`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    models: Annotated[str | None, typer.Option(
        "--models", metavar="delete|retrain|keep",
        help="What becomes of the fine-tuned runs (adapters, merged and GGUF exports) whose "
             "weights saw the source: delete them; delete them and train a replacement without it "
             "(same hyperparameters; the twin uses the base model until it is done); or keep them "
             "(the source's words stay in their weights). Asked when interactive; with --yes or "
             "--json: retrain when the model in use saw it, else delete.")] = None,
    as_json: AsJson = False,
) -> None:
    """Forget a source completely: its documents, chunks, vectors, dataset builds and logged
    generations, and the models trained on it (--models)."""
    with user_errors():
        if models is not None and models not in MODEL_POLICIES:
            raise InputError(f"--models must be one of {', '.join(MODEL_POLICIES)}, not {models!r}.")
        ws = open_workspace()
        summary = describe_source(ws, source_id)
        exposures, _ = models_that_saw(ws, source_id)
        ask = not yes and not as_json
        if ask and not typer.confirm(f"Forget source #{source_id} ({summary.path}, "
                                     f"{summary.documents} documents)?"):
            raise typer.Exit(code=1)
        if models is None:
            models = default_model_policy(exposures)
            if exposures and ask and sys.stdin.isatty():
                _list_runs(exposures)
                models = typer.prompt("Delete them, retrain a replacement without the source, or "
                                      "keep them", default=models,
                                      type=click.Choice(list(MODEL_POLICIES)))
        with ws.existing_vector_store() as store:
            if models == "retrain" and not as_json:
                with progress_bar() as bar:
                    report = forget_source(ws, store, source_id, models=models, progress=bar)
            else:
                report = forget_source(ws, store, source_id, models=models)
        if as_json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            _print_report(report)


def _list_runs(exposures: list[ModelExposure]) -> None:
    console.print(f"{len(exposures)} fine-tuned model(s) saw this source:")
    for exposure in exposures:
        active = " [bold](in use)[/]" if exposure.active else ""
        console.print(f"  {exposure.run_id} ({exposure.kind}, {exposure.status}){active}: "
                      f"{', '.join(exposure.paths)}")


def _print_report(report: ForgetReport) -> None:
    source_id = report.source.id
    console.print(f"Forgot source #{source_id}: {report.source.documents} documents and their vectors.")
    if report.generations_removed:
        console.print(f"Deleted {report.generations_removed} logged generation(s) that drew on it.")
    if report.dataset_builds_removed:
        console.print(f"Deleted {len(report.dataset_builds_removed)} dataset build(s) holding "
                      f"its text: {', '.join(report.dataset_builds_removed)}.")
    if report.runs_deleted:
        console.print(f"Deleted {len(report.runs_deleted)} model(s) trained on it: "
                      f"{', '.join(report.runs_deleted)} ({len(report.paths_deleted)} folder(s) "
                      "and file(s): adapters, exports).")
    for old, new in report.retrained.items():
        console.print(f"Retrained {old} without the source as [bold]{new}[/] "
                      f"(dataset {report.dataset_rebuilt}).")
    if report.retrain_problem:
        console.print(f"[yellow]Not retrained:[/] {report.retrain_problem}")
    if report.switched_to_base:
        console.print("The twin now uses the base model (`twin train sft` trains a new one).")
    if report.warning:
        console.print(f"[yellow]Warning:[/] {report.warning}")
