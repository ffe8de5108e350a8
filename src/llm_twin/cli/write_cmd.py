"""`twin write`: a draft in your voice for one platform, with the sources it drew on.

One draft streams to the terminal as it is generated; `-n N` generates N as one batch and shows
them ranked best first (inference.ranking: relevance to the idea, minus clichés, unsupported
claims and repetition), each with its voice score (fitting the voice model first if there is none).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from llm_twin.app.write import (PRIVATE_WARNING, Sampling, WriteRequest, era_year, fit_voice_for_ranking,
                                needs_voice_fit, parse_as_of, write_drafts)
from llm_twin.backends.base import TextStream
from llm_twin.cli.common import (AsJson, BackendName, MaxNewTokens, ModelChoice, Seed, ShowTimings,
                                 Temperature, console, first_load_hint, open_workspace,
                                 print_sources, quiet_libraries, user_errors)
from llm_twin.inference.writer import Draft, WriteResult
from llm_twin.platforms import DRAFT_PLATFORMS


def write(
    idea: Annotated[str, typer.Argument(help="The skeleton idea, e.g. '3 lessons from moving our "
                                             "queue into Postgres, keep it punchy'.")],
    platform: Annotated[str, typer.Option(
        "--platform", "-p", help=f"One of: {', '.join(DRAFT_PLATFORMS)}. blog: a Markdown post "
                                 "with front matter keyed like your imported blog's files (title, "
                                 "date, tags by default). paper: an abstract; start the idea with "
                                 "'introduction:' or 'section on …' for those parts.")
    ] = "linkedin",
    n: Annotated[int, typer.Option("-n", min=1, max=8, help="Drafts to generate (one batch), "
                                                          "ranked best first.")] = 1,
    rank: Annotated[bool, typer.Option("--rank/--no-rank", help="Rank N > 1 drafts: relevance to "
                                                                "the idea minus clichés, unsupported "
                                                                "claims and repetition (--json shows "
                                                                "each part).")] = True,
    max_new_tokens: MaxNewTokens = None, temperature: Temperature = None, seed: Seed = None,
    backend_name: BackendName = None, model: ModelChoice = None, timings: ShowTimings = False,
    as_json: AsJson = False,
    include_private: Annotated[bool, typer.Option(
        "--include-private", help="Also draw notes and examples from texts that were not public "
                                  "(followers-only posts, direct messages, drafts; never chats). "
                                  "Default: public and unlisted texts only.")] = False,
    preview: Annotated[bool, typer.Option(
        "--preview", help="Show each draft as its platform will: X as one card per post with its "
                          "n/280, LinkedIn folded at \"…see more\" (~210 characters or 3 lines), "
                          "Instagram's caption with its length and hashtag count, an article's "
                          "title, subtitle and body; counts over a limit in red. (--json always "
                          "has each draft's \"preview\".)")] = False,
    like_my_best: Annotated[bool, typer.Option(
        "--like-my-best", help="Take the style examples from your most engaging posts on this "
                               "platform (likes + 2 x reposts + 2 x quotes + replies, as your X or "
                               "Mastodon export carried them), the ones closest to the idea among "
                               "them. Without counts for the platform: the most relevant "
                               "examples, with a notice. See `twin status` for your top posts.")
    ] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YEAR|YYYY-MM-DD",
        help="Write as you did then: notes and style examples only from texts dated up to the end "
             "of that year or day (undated texts are left out). If the model in use was trained "
             "on a `twin dataset build --era-tags` build, it is also asked for that year's "
             "voice.")] = None,
    show_past: Annotated[bool, typer.Option(
        "--show-past", help="First list what you already said on the idea: your own past posts "
                            "on its topic (hybrid search), newest first, with date, platform and "
                            "first line or URL, so you can reuse or avoid an angle (public posts "
                            "only unless --include-private).")] = False,
) -> None:
    """Draft a post in your voice, grounded in what you wrote. You edit and publish it yourself."""
    quiet_libraries()
    if platform not in DRAFT_PLATFORMS:
        console.print(f"[red]Error:[/] unknown platform {platform!r}; "
                      f"choose one of {', '.join(DRAFT_PLATFORMS)}.")
        raise typer.Exit(code=2)
    with user_errors():
        as_of_moment = parse_as_of(as_of) if as_of is not None else None
    request = WriteRequest(idea, platform, n, rank, Sampling(max_new_tokens, temperature, seed), model,
                           include_private=include_private, like_my_best=like_my_best,
                           as_of=as_of_moment)
    if include_private:
        # stderr: `--json` output stays parseable.
        Console(stderr=True).print(f"[yellow]Warning:[/] --include-private: {PRIVATE_WARNING}")
    with user_errors():
        ws = open_workspace(backend=backend_name)
        backend = ws.backend(model)
        hint = first_load_hint(backend)
        with console.status(f"Loading {backend.model_id} with {backend.name}{hint}…"):
            backend.load()
            _ = ws.embedder.dimension
        voice = _fit_voice_first(ws) if needs_voice_fit(ws, request) else None
        live = n == 1 and not as_json
        with ws.vector_store() as store:
            if show_past:
                _print_past(ws, store, idea, include_private, stderr=as_json)
            drafts = write_drafts(ws, store, backend, request, stream=live, voice=voice)
            if live:
                result = _stream_one(drafts)
            else:
                with console.status(f"Writing {n} {platform} draft{'s' if n > 1 else ''}…"):
                    result = drafts.finish()
        result.timings.model_load = getattr(backend, "load_seconds", result.timings.model_load)
        if as_of_moment is not None and era_year(ws, request) is None:
            result.notices.append(f"the model in use was not trained with era tags (`twin dataset "
                                  f"build --era-tags`): --as-of {as_of} only limits the notes and "
                                  "examples to texts up to then")
        for notice in result.notices:  # stderr: `--json` output stays parseable
            Console(stderr=True).print(f"[yellow]Note:[/] {escape(notice)}", highlight=False)
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        else:
            _print_result(result, show_timings=timings, preview=preview)


def _print_past(ws, store, idea: str, include_private: bool, *, stderr: bool) -> None:
    from llm_twin.app.blind_test import past_posts

    out = Console(stderr=True) if stderr else console  # --json output stays parseable
    posts = past_posts(ws, store, idea, include_private=include_private)
    if not posts:
        out.print("[dim]What you already said: nothing of yours on this topic.[/]")
        return
    out.print("[bold]What you already said[/] (newest first):")
    for post in posts:
        when = post.created_at.date().isoformat() if post.created_at else "undated"
        out.print(f"  {when} · {post.platform} · {escape(post.first_line)}"
                  + (f"  [dim]{escape(post.url)}[/]" if post.url else ""), highlight=False)


def _fit_voice_first(ws):
    from llm_twin.cli.progress import progress_bar
    from llm_twin.cli.voice_cmd import print_card

    console.print("No voice model yet: fitting one to rank the drafts (once; `twin voice fit` "
                  "refits it)…")
    with progress_bar() as progress:
        scorer, card = fit_voice_for_ranking(ws, progress)
    print_card(card)
    return scorer


def _stream_one(stream: TextStream[WriteResult]) -> WriteResult:
    """Show the draft live as it is generated; the formatted draft replaces it when done (on a
    terminal; piped output gets the formatted draft only)."""
    from rich.live import Live
    from rich.text import Text

    with console.status("Finding your notes and examples…"):
        first = next(stream, None)
    generated = first or ""
    with Live(Text(generated), console=console, transient=True, refresh_per_second=8) as live:
        for piece in stream:
            generated += piece
            live.update(Text(_last_lines(generated, console.height - 2)))
    return stream.final()


def _last_lines(text: str, count: int) -> str:
    """The tail that fits the terminal: a live display cannot scroll back to redraw more."""
    return "\n".join(text.splitlines()[-max(count, 1):])


def _print_result(result: WriteResult, *, show_timings: bool, preview: bool = False) -> None:
    from llm_twin.cli.preview_render import render_preview
    from llm_twin.inference.preview import preview_draft

    for i, draft in enumerate(result.drafts, 1):
        formatted = draft.formatted
        label = _draft_label(result, draft, i)
        shown = (render_preview(preview_draft(formatted), title=label) if preview else
                 Panel(formatted.as_text(), title=label, title_align="left", expand=False))
        console.print(shown, highlight=False)
        if draft.cliches:
            console.print("  [dim]clichés: " + ", ".join(f"“{c}”" for c in draft.cliches) + "[/]",
                          highlight=False)
        for note in formatted.notes:
            console.print(f"  [dim]formatter: {note}[/]")
        _print_checks(draft)
    print_sources(result.sources)
    if show_timings:
        t = result.timings
        console.print(f"[dim]model load {t.model_load:.2f}s · retrieval {t.retrieval:.2f}s · "
                      f"prompt {t.prompt_building:.2f}s ({result.prompt.prompt_tokens} tokens) · "
                      f"generation {t.generation:.2f}s · voice score {t.scoring:.2f}s[/]")


def _print_checks(draft: Draft) -> None:
    if draft.unsupported_claims:
        console.print("  [yellow]Check these claims[/] (found in none of your writing):")
        for claim in draft.unsupported_claims:
            facts = ", ".join(getattr(claim, "facts", ()))
            console.print(f"    • {escape(claim)}  [dim]({escape(facts)})[/]", highlight=False)
    if draft.near_duplicate_of:
        past = draft.near_duplicate_of
        console.print(f"  [yellow]Similar to your post[/] {past['label']} {past['url'] or ''} "
                      f"(Jaccard {past['jaccard']:.2f}, {past['containment']:.0%} of the draft's "
                      "word 3-grams are in it)", highlight=False)


def _draft_label(result: WriteResult, draft: Draft, index: int) -> str:
    formatted = draft.formatted
    label = f"{formatted.platform} draft {index}/{len(result.drafts)}"
    if result.ranked:
        label += " (best first)" if index == 1 else ""
    if len(formatted.posts) > 1:
        label += f" · thread of {len(formatted.posts)} posts"
    if draft.voice_score is not None:
        label += f" · voice {draft.voice_score:.2f}"
    if draft.ranking is not None and draft.ranking.relevance is not None:
        label += f" · relevance {draft.ranking.relevance:.2f}"
    if draft.support is not None:
        found = max(0, draft.claims - len(draft.unsupported_claims))
        label += f" · claims found {found}/{draft.claims}"  # short: the label is a panel title
    if draft.cliches:
        label += f" · {len(draft.cliches)} cliché{'s' if len(draft.cliches) > 1 else ''}"
    return label
