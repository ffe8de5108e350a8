"""`twin blind-test`: "Which one did I write?" One of your held-out posts and the twin's draft for
the same idea, in a random order; you say which one is yours. The score (share of rounds where the
twin fooled you, with a 95 % Wilson interval) is stored per model (`twin models`), and each round
becomes a preference pair (your post over the draft) in the next `twin dataset build`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from llm_twin.app.blind_test import answer_round, blind_test_scores, draft_platform, start_round
from llm_twin.cli.common import (AsJson, MaxNewTokens, ModelChoice, Seed, console, first_load_hint,
                                 open_workspace, quiet_libraries, user_errors)
from llm_twin.platforms import DRAFT_PLATFORMS

STOP = "q"


def blind_test(
    rounds: Annotated[int, typer.Option("--rounds", "-r", min=1, max=100,
                                        help="Rounds to play; answer 'q' to stop early (the "
                                             "rounds answered so far are kept).")] = 10,
    platform: Annotated[str | None, typer.Option(
        "--platform", "-p", help=f"Only posts of this platform (one of: "
                                 f"{', '.join(DRAFT_PLATFORMS)}); default: any.")] = None,
    model: ModelChoice = None, max_new_tokens: MaxNewTokens = None, seed: Seed = None,
    as_json: AsJson = False,
) -> None:
    """Which one did I write? Tell your own post from the twin's draft, round by round."""
    quiet_libraries()
    err = Console(stderr=True)
    out = err if as_json else console  # --json: only the final JSON goes to stdout
    with user_errors():
        draft_platform(platform)  # a bad --platform fails before the model loads
        ws = open_workspace()
        backend = ws.backend(model)
        with out.status(f"Loading {backend.model_id} with {backend.name}"
                        f"{first_load_hint(backend)}…"):
            backend.load()
            _ = ws.embedder.dimension
        played, model_id = [], None
        with ws.vector_store() as store:
            for number in range(1, rounds + 1):
                with out.status(f"Round {number}/{rounds}: the twin is writing…"):
                    game = start_round(ws, store, backend, platform=platform, model=model,
                                       max_new_tokens=max_new_tokens,
                                       seed=None if seed is None else seed + number)
                model_id = game.model
                out.print(f"\n[bold]Round {number}/{rounds}[/] · {game.platform} · idea: "
                          f"{escape(game.idea)}", highlight=False)
                for letter, text in zip("AB", game.texts):
                    out.print(Panel(escape(text), title=letter, title_align="left", expand=False),
                              highlight=False)
                pick = _ask(err if as_json else None)
                if pick == STOP:
                    break
                outcome = answer_round(ws, game.id, pick)
                played.append(outcome.as_dict())
                verdict = ("[yellow]The twin fooled you[/]" if outcome.fooled
                           else "[green]Right, that one is yours[/]")
                out.print(f"{verdict}: you wrote {'B' if outcome.twin == 'a' else 'A'}"
                          + (f" ({outcome.url})" if outcome.url else ""), highlight=False)
        score = blind_test_scores(ws).get(model_id or "")
    if as_json:
        print(json.dumps({"rounds": played, "score": score.as_dict() if score else None},
                         ensure_ascii=False, indent=2))
        return
    if not played or score is None:
        console.print("No round answered.")
        return
    fooled = sum(r["fooled"] for r in played)
    low, high = score.interval
    console.print(f"\nThis session: the twin fooled you in {fooled} of {len(played)} rounds.")
    console.print(f"[bold]{score.model}[/]: fooled you in {score.share:.0%} of {score.rounds} rounds "
                  f"(95 % interval {low:.0%}–{high:.0%}). 50 % means you cannot tell.",
                  highlight=False)


def _ask(stderr: Console | None) -> str:
    while True:
        answer = typer.prompt("Which one did you write? [a/b, q to stop]", err=stderr is not None)
        answer = answer.strip().lower()
        if answer in ("a", "b", STOP):
            return answer
        (stderr or console).print("Answer a, b or q.")
