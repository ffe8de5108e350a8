"""`twin voice`: the voice score (an authorship classifier) and your platform profiles."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from llm_twin.app.voice import fit_voice
from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.cli.progress import progress_bar

voice_app = typer.Typer(
    help="Your voice score and platform profiles.\n\n"
         "The voice score is a classifier (character n-grams + logistic regression) that tells your "
         "texts from the base model's own drafts and other people's writing; `twin write -n 4` "
         "shows it under each draft (ranking weighs it by `rank_voice_weight`, 0 by default).\n\n"
         "  twin voice fit     # uses the newest `twin dataset build`, else writes ~24 base drafts\n\n"
         "  twin voice show",
    no_args_is_help=True)


@voice_app.command("fit")
def fit(
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Dataset build whose base-model answers to learn from (default: the "
                          "newest; without any build, base drafts are generated now).")] = None,
    prompts: Annotated[int, typer.Option(
        min=2, max=200, help="Base-model drafts to generate when there is no dataset build.")] = 24,
    backend_name: Annotated[str | None, typer.Option(
        "--backend", help="Generation backend for those drafts (default: the 'backend' setting).")] = None,
) -> None:
    """Fit the voice model on your texts and store it in <workspace>/voice/."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace(backend=backend_name)
        backend = ws.backend("base")  # the untouched base model is what drafts must move away from
        with progress_bar() as progress:  # shows the base-model drafts it writes, if any
            _, card = fit_voice(ws, backend, dataset_id=dataset, prompts=prompts, progress=progress)
        print_card(card)


@voice_app.command("show")
def show(
    cliches: Annotated[int, typer.Option(min=0, help="Clichés to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The voice model's card, its clichés, and your profile on each platform."""
    from llm_twin.inference.voice import load_card

    with user_errors():
        ws = open_workspace()
        card = load_card(ws.settings.workspace)
        scorer = ws.voice_scorer() if card else None
        phrases = scorer.cliches.phrases[:cliches] if scorer else []
        profiles = ws.profiles()
        if as_json:
            print(json.dumps({"card": card, "cliches": phrases,
                              "profiles": {k: p.to_json() for k, p in profiles.items()}},
                             ensure_ascii=False, indent=2))
            return
        if card is None:
            console.print("No voice model yet: run [bold]twin voice fit[/].")
        else:
            print_card(card)
            if phrases:
                console.print("[bold]Clichés[/] (the base model's, never yours): "
                              + ", ".join(f"“{p}”" for p in phrases), highlight=False)
        print_profiles(profiles)


def print_card(card: dict) -> None:
    accuracy = card.get("held_out_accuracy")
    source = (f"dataset {card['dataset_id']}" if card.get("dataset_id")
              else f"{card.get('generation_model') or 'base model'} drafts written now")
    console.print(f"Voice model: {card['owner_texts']} of your texts vs "
                  f"{card['base_model_texts']} base-model drafts ({source}) and "
                  f"{card['reference_texts']} other-author texts; {card['cliches']} clichés.",
                  highlight=False)
    if accuracy is None:
        console.print("  [dim]too few texts for a held-out check[/]")
    else:
        console.print(f"  held-out accuracy {accuracy:.1%}, AUC {card['held_out_auc']:.3f} "
                      f"({card['held_out_pieces']} pieces); mean score of your held-out texts "
                      f"{card['held_out_owner_mean_score']:.2f}"
                      + (f", of the base model's {card['held_out_base_model_mean_score']:.2f}"
                         if "held_out_base_model_mean_score" in card else ""), highlight=False)
    print_drift(card.get("drift") or [])


def print_drift(rows: list[dict]) -> None:
    """Your style by year (inference.style_drift): sentence length, emoji, hashtags, formality."""
    if not rows:
        return
    table = Table("year", "texts", "words/sentence", "emoji/post", "hashtags/post", "formality",
                  title="How your style drifted (formality: share of sentences without "
                        "contractions, !, emoji, I/we/you or a lower-case start)",
                  title_justify="left")
    for row in rows:
        table.add_row(str(row["year"]), str(row["posts"]), f"{row['sentence_words']:.1f}",
                      f"{row['emoji_per_post']:.2f}", f"{row['hashtags_per_post']:.2f}",
                      f"{row['formality']:.0%}")
    console.print(table)


def print_profiles(profiles: dict) -> None:
    if not profiles:
        console.print("No platform profile yet (each needs 5 of your texts on the platform); "
                      "drafts use the platform defaults.")
        return
    table = Table(title="Your platform profiles", title_justify="left")
    for column in ("platform", "texts", "length (median, p25-p75)", "paragraphs", "emoji",
                   "hashtags", "opening", "closing", "threads"):
        table.add_column(column)
    for name, p in profiles.items():
        hook = max(p.hooks, key=p.hooks.get) if p.hooks else "-"
        closing = max(p.closings, key=p.closings.get) if p.closings else "-"
        threads = (f"{p.thread_share:.0%}, ~{p.median_thread_posts:g} posts, {p.thread_numbering}"
                   if p.thread_share else "-")
        table.add_row(name, str(p.texts), f"{p.median_chars} ({p.p25_chars}-{p.p75_chars})",
                      f"{p.median_paragraphs:g}", f"{p.emoji_share:.0%}",
                      f"{p.hashtag_share:.0%} (max {p.max_hashtags})", hook, closing, threads)
    console.print(table)

