"""`twin dataset`: training data from your own words (build, list, show, export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from llm_twin.app.dataset import DatasetSpec, build_dataset
from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.cli.progress import progress_bar
from llm_twin.errors import InputError
from llm_twin.training_data.store import (COPIED_RUN, EXPORT_FORMATS, export_build, latest_id,
                                          list_builds, resolve_build)

dataset_app = typer.Typer(
    help="Training data from your own words: instruction, conversation and preference datasets.\n\n"
         "Answers are always your real texts; a model only writes the instruction that could have "
         "produced each one. Builds are versioned by content in <workspace>/datasets/.\n\n"
         "  twin dataset build                       # model-written instructions + DPO pairs\n\n"
         "  twin dataset build --instructions extractive --no-preferences   # fast, deterministic\n\n"
         "  twin dataset show\n\n"
         "  twin dataset export --out ./my-data",
    no_args_is_help=True)


@dataset_app.command("build")
def build(
    instructions: Annotated[str, typer.Option(
        help="Who writes each instruction: 'model' (the configured generation backend; rejected "
             "ones fall back to extractive) or 'extractive' (title or key terms, points to make, "
             "tone; never the text's own wording; deterministic and fast).")] = "model",
    preferences: Annotated[bool, typer.Option(
        "--preferences/--no-preferences",
        help="Make DPO pairs: your real text (chosen) vs the base model's try (rejected), "
             "and your edits and ratings of served drafts (`twin serve`).")] = True,
    max_pairs: Annotated[int, typer.Option(min=1, help="Most preference pairs to generate.")] = 200,
    test_share: Annotated[float | None, typer.Option(
        min=0.01, max=0.5, help="Newest share per platform held out as test (default 0.1).")] = None,
    language: Annotated[list[str] | None, typer.Option(
        "--language", help="Keep texts in this language (ISO code, repeatable); default: your "
                           "most common language.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for model-written instructions and pairs.")] = 0,
    served_prompts: Annotated[bool, typer.Option(
        "--served-prompts/--bare-prompts",
        help="Train samples carry the prompt `twin write` serves: your style examples and notes "
             "retrieved for the idea from earlier texts (never the answer's own document or a "
             "held-out post), mixed with bare requests (needs `twin index`).")] = True,
    sample_tokens: Annotated[int | None, typer.Option(
        min=128, help="Prompt + answer tokens per train sample (default: dataset_sample_tokens, "
                      "512); examples and notes are added while they fit. Match `twin train "
                      "--max-length`.")] = None,
    context_mix: Annotated[str | None, typer.Option(
        help="Shares of served prompts with full context, distractor notes (retrieved for another "
             "idea) and the bare request: full,distractor,bare (default 0.6,0.2,0.2).")] = None,
    weight_by_engagement: Annotated[bool, typer.Option(
        "--weight-by-engagement",
        help="Let your more engaging posts count more: a train sample whose post got at least 2x "
             "your median engagement on its platform (likes + 2 x reposts + 2 x quotes + "
             "replies, as your exports carry them) is written twice, from 4x three times. The "
             "test split is unchanged; the card records the rule and counts.")] = False,
    era_tags: Annotated[bool, typer.Option(
        "--era-tags",
        help="End each post prompt with the year its answer was written (\"Write as I wrote in "
             "2021.\"), so a model trained on it can write in a given year's voice: `twin write "
             "--as-of 2021` asks for it when the model in use was trained with era tags.")] = False,
) -> None:
    """Build the datasets from everything you imported; prints the dataset card's summary."""
    quiet_libraries()
    spec = DatasetSpec(instructions=instructions, preferences=preferences, max_pairs=max_pairs,
                       seed=seed, test_share=test_share, languages=tuple(language or ()),
                       served_prompts=served_prompts, sample_tokens=sample_tokens,
                       context_mix=context_mix, weight_by_engagement=weight_by_engagement,
                       era_tags=era_tags)
    with user_errors():
        ws = open_workspace()
        with progress_bar() as progress:
            stored, created = build_dataset(ws, ws.backend(), spec, progress=progress)
    _print_summary(stored.card, stored.path, created)


def _print_summary(card: dict, path: Path, created: bool) -> None:
    counts = card["counts"]
    table = Table("", "train", "test", title=f"Dataset {card['id']}", title_justify="left")
    table.add_row("SFT samples", str(counts["sft"]["train"]), str(counts["sft"]["test"]))
    for name, row in counts["by_source"].items():
        table.add_row(f"  {name}", str(row["train"]), str(row["test"]))
    table.add_row("preference pairs", str(counts["preference"]["train"]),
                  str(counts["preference"]["test"]))
    console.print(table)
    for part, report in card["filters"].items():
        dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) or "nothing"
        console.print(f"Filtered ({part}): {dropped}")
    stats = card["instructions"]
    if stats["generated"]:
        console.print(f"Instructions by {stats['writer']}: {stats['generated']} generated, "
                      f"{stats['rejected_share']:.0%} rejected (overlap {stats['rejected_overlap']}, "
                      f"shape {stats['rejected_shape']}, off topic {stats['rejected_off_topic']}) and "
                      "written extractively instead.")
    prompts = card.get("prompts", {})
    if prompts.get("served"):
        shapes = ", ".join(f"{name} {count}" for name, count in prompts["shapes"].items())
        console.print(f"Train prompts as served: {shapes}; mean {prompts['mean_examples']} "
                      f"examples, {prompts['mean_notes']} notes."
                      + ("" if prompts["index"] else " [yellow]No index yet (`twin index`): every "
                                                      "sample kept the bare request.[/]"))
    overlap = stats.get("idea_overlap", {}).get("all", {})
    if overlap.get("ideas"):
        console.print(f"Instructions vs answers: mean 3-gram share "
                      f"{overlap['mean_trigram_share']:.3f}, longest shared run mean "
                      f"{overlap['mean_longest_run']:.1f} / max {overlap['max_longest_run']} words, "
                      f"{overlap['copied_runs']} of {overlap['ideas']} ideas with {COPIED_RUN}+ "
                      "answer words in a row.")
    weighting = card.get("weighting", {})
    if weighting.get("method", "none") != "none":
        if weighting["documents_with_counts"]:
            console.print(f"Weighted by engagement ({weighting['method']}): "
                          f"{weighting['repeated_samples']} train samples repeated, "
                          f"{weighting['added_samples']} copies added.")
        else:
            console.print("[yellow]No engagement counts in your imports: no sample was weighted.[/]")
    era = card.get("era_tags", {})
    if era.get("enabled"):
        console.print(f"Era tags: {era['tagged']} post prompts end with their year.")
    state = "Saved" if created else "Unchanged since the last identical build:"
    console.print(f"{state} {path}  (card: twin dataset show {card['id']})")


@dataset_app.command("list")
def list_command() -> None:
    """Every build in the workspace, newest first."""
    with user_errors():
        ws = open_workspace()
        builds = list_builds(ws.settings.workspace)
        latest = latest_id(ws.settings.workspace)
    if not builds:
        console.print("No dataset builds yet; run `twin dataset build`.")
        return
    table = Table("id", "built", "train", "test", "pairs", "instructions by")
    for b in builds:
        counts = b.card["counts"]
        pairs = counts["preference"]["train"] + counts["preference"]["test"]
        table.add_row(b.id + (" (latest)" if b.id == latest else ""), b.card["created_at"],
                      str(counts["sft"]["train"]), str(counts["sft"]["test"]), str(pairs),
                      b.card["instructions"]["writer"])
    console.print(table)


@dataset_app.command("show")
def show(
    dataset_id: Annotated[str | None, typer.Argument(help="Build id or prefix; default: latest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The card as JSON.")] = False,
    samples: Annotated[int, typer.Option(help="Also print this many training samples.")] = 0,
) -> None:
    """The dataset card: counts by platform and kind, tokens, filters, split dates."""
    from llm_twin.training_data.store import read_jsonl

    with user_errors():
        ws = open_workspace()
        stored = resolve_build(ws.settings.workspace, dataset_id)
        if as_json:
            print(json.dumps(stored.card, indent=2, ensure_ascii=False))
            return
        console.print(Markdown((stored.path / "README.md").read_text(encoding="utf-8")))
        console.print(f"[dim]{stored.path}[/]")
        for record in read_jsonl(stored.path / "train.jsonl")[:samples]:
            for message in record["messages"][1:]:
                console.print(f"[bold]{message['role']}:[/] {message['content']}", highlight=False)
            console.print()


@dataset_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")],
    dataset_id: Annotated[str | None, typer.Argument(help="Build id or prefix; default: latest.")] = None,
    formats: Annotated[str, typer.Option(
        "--format", help="Comma-separated: jsonl (chat 'messages' JSONL for TRL, Axolotl, "
                         "LLaMA-Factory) and/or hf (datasets.load_from_disk).")] = "jsonl,hf",
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty --out.")] = False,
) -> None:
    """Copy a build (with its card) out of the workspace for other training tools."""
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    with user_errors():
        unknown = sorted(set(chosen) - set(EXPORT_FORMATS))
        if unknown or not chosen:
            raise InputError(f"--format: unknown {', '.join(unknown) or '(empty)'}; "
                             f"use {', '.join(EXPORT_FORMATS)}.")
        ws = open_workspace()
        stored = resolve_build(ws.settings.workspace, dataset_id)
        written = export_build(stored, out, chosen, force=force)
    console.print(f"Exported dataset {stored.id} to {out} ({len(written)} files).")
