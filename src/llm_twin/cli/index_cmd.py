"""`twin index` and `twin search`: the feature pipeline and retrieval from the command line."""

from __future__ import annotations

import json
from datetime import datetime, UTC
from typing import Annotated

import typer
from rich.table import Table

from llm_twin.app.indexing import index_workspace
from llm_twin.app.search import SearchRequest, search_writing
from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.cli.progress import progress_bar
from llm_twin.storage.vector_store import SearchFilters


def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop all vectors and re-embed "
                                          "everything (after changing the embedding model).")] = False,
) -> None:
    """Chunk and embed new or changed documents; remove vectors of forgotten ones."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace()
        with progress_bar() as progress:
            outcome = index_workspace(ws, rebuild=rebuild, progress=progress)
        if outcome.rebuilt_after_model_change:
            console.print(f"The embedding model changed ({outcome.rebuilt_after_model_change} → "
                          f"{ws.settings.embedding_model}): re-embedded everything.")
        report = outcome.report
        rate = report.chunks_added / report.seconds_total if report.seconds_total else 0.0
        console.print(f"Indexed {report.documents_indexed} documents: {report.chunks_added} chunks "
                      f"added, {outcome.chunks_removed} removed ({rate:.0f} chunks/s). "
                      f"The store holds {outcome.chunks} chunks.")


def search(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 5,
    platform: Annotated[str | None, typer.Option(help="Only this platform (x, blog, linkedin, …).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (post, thread, article, …).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only written on or after this date.",
                                                   formats=["%Y-%m-%d"])] = None,
    until: Annotated[datetime | None, typer.Option(help="Only written on or before this date.",
                                                   formats=["%Y-%m-%d"])] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only your own words (no chat context).")] = False,
    source: Annotated[int | None, typer.Option(help="Only this source id (see `twin sources`).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each hit's rank and score in "
                                          "the dense and BM25 searches behind the fused rank.")] = False,
    expand: Annotated[int | None, typer.Option("--expand", min=0, max=8, help="Rewrites of the "
                                               "query to search and fuse (default: settings).")] = None,
    rerank: Annotated[bool | None, typer.Option("--rerank/--no-rerank", help="Rerank hits (MMR, "
                                                "or the configured cross-encoder).")] = None,
    literal: Annotated[bool, typer.Option("--literal", help="Do not read filters out of the "
                                          "query (\"my LinkedIn posts from 2023 about …\").")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search what you wrote (dense + BM25 hybrid) and show where each hit came from."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace()
        explicit = SearchFilters(platform=platform, kind=kind, is_owner=True if mine else None,
                                 source_id=source, since=_utc(since), until=_end_of_day(until))
        request = SearchRequest(query, k=k, filters=explicit, literal=literal, expansions=expand,
                                rerank=rerank, explain=explain)
        with ws.vector_store() as store:
            found = search_writing(ws, store, request)
        applied = found.applied_filters()
        if as_json:
            print(json.dumps({"query": query, "topic": found.topic, "filters": applied,
                              "hits": [_hit_dict(h, explain, found.local_time(h))
                                       for h in found.hits]},
                             ensure_ascii=False, indent=2))
            return
        if not found.hits:
            console.print("No hits. Did you run [bold]twin index[/] after importing?")
            return
        _print_hits(found, explain)
        if applied or found.topic != query:
            console.print(f"[dim]searched for: {found.topic!r}; filters: "
                          + (", ".join(f"{k}={v}" for k, v in applied.items()) or "none") + "[/]")


def _print_hits(found, explain: bool) -> None:
    """The hits; dates in their source's zone (a chat's `--timezone`), else UTC."""
    columns = ["score", "platform", "date", "title / text", "source"] + (["why"] if explain else [])
    table = Table(*columns, show_lines=True)
    for hit in found.hits:
        snippet = hit.text.replace("\n", " ")[:160]
        heading = f"[bold]{hit.title}[/]\n{snippet}" if hit.title else snippet
        when = found.local_time(hit)
        row = [f"{hit.score:.3f}", hit.platform, when.date().isoformat() if when else "—",
               heading, hit.url or hit.source_path]
        if explain:
            row.append(_why(hit))
        table.add_row(*row)
    console.print(table)


def _why(hit) -> str:
    parts = [f"fused #{hit.fused_rank}"]
    for name, label in (("dense", "dense"), ("sparse", "bm25")):
        rank_score = hit.ranks.get(name)
        parts.append(f"{label} #{rank_score[0]} ({rank_score[1]:.3f})" if rank_score
                     else f"{label}: not in top 100")
    for name in ("mmr", "cross_encoder"):
        if name in hit.ranks:
            parts.append(f"{name} #{hit.ranks[name][0]} ({hit.ranks[name][1]:.3f})")
    return "\n".join(parts)


def _hit_dict(hit, explain: bool, when) -> dict:
    data = {"score": hit.score, "platform": hit.platform, "kind": hit.kind, "title": hit.title,
            "date": when.isoformat() if when else None, "url": hit.url,
            "source": hit.source_path, "source_id": hit.source_id, "text": hit.text}
    if explain:
        data["fused_rank"] = hit.fused_rank
        data["ranks"] = {name: {"rank": rank, "score": score}
                         for name, (rank, score) in hit.ranks.items()}
    return data


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment else None


def _end_of_day(moment: datetime | None) -> datetime | None:
    return _utc(moment.replace(hour=23, minute=59, second=59)) if moment else None
