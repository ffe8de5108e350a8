"""`twin index` and `twin search`: the feature pipeline and retrieval from the command line."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.inference.self_query import parse_query_rules
from llm_twin.storage.vector_store import SearchFilters


def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop all vectors and re-embed "
                                          "everything (after changing the embedding model).")] = False,
) -> None:
    """Chunk and embed new or changed documents; remove vectors of forgotten ones."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace()
        if not rebuild and (previous := ws.embedding_model_change()):
            console.print(f"The embedding model changed ({previous} → {ws.settings.embedding_model}): "
                          "re-embedding everything.")
            rebuild = True
        if rebuild:
            ws.reset_index()
        with console.status(f"Loading embedding model {ws.settings.embedding_model}…"):
            _ = ws.embedder.dimension
        with ws.vector_store() as store, _progress() as progress:
            task = progress.add_task("Embedding", total=None)
            report = ws.index_into(store, on_progress=lambda done, total: progress.update(
                task, completed=done, total=total))
            total_points = store.count()
        rate = report.chunks_added / report.seconds_total if report.seconds_total else 0.0
        console.print(f"Indexed {report.documents_indexed} documents: {report.chunks_added} chunks "
                      f"added, {report.chunks_removed + report.orphans_removed} removed "
                      f"({rate:.0f} chunks/s). The store holds {total_points} chunks.")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("chunks"), TimeRemainingColumn(), console=console, transient=True)


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
        topic, filters = (query, explicit) if literal else _self_query(query, explicit)
        with ws.vector_store() as store:
            retriever = ws.retriever(store, expansions=expand, rerank=rerank)
            hits = retriever.search(topic, k=k, filters=filters)
            if explain:
                retriever.explain(topic, hits, filters=filters)
        applied = _describe(filters)
        if as_json:
            print(json.dumps({"query": query, "topic": topic, "filters": applied,
                              "hits": [_hit_dict(h, explain) for h in hits]},
                             ensure_ascii=False, indent=2))
            return
        if not hits:
            console.print("No hits. Did you run [bold]twin index[/] after importing?")
            return
        _print_hits(hits, explain)
        if applied or topic != query:
            console.print(f"[dim]searched for: {topic!r}; filters: "
                          + (", ".join(f"{k}={v}" for k, v in applied.items()) or "none") + "[/]")


def _self_query(query: str, explicit: SearchFilters) -> tuple[str, SearchFilters]:
    """Filters read out of the request ("my LinkedIn posts from 2023 about hiring"); flags win."""
    parsed = parse_query_rules(query)
    found = parsed.to_filters()
    merged = SearchFilters(**{name: getattr(explicit, name) if getattr(explicit, name) is not None
                              else getattr(found, name) for name in vars(explicit)})
    return parsed.topic, merged


def _print_hits(hits, explain: bool) -> None:
    columns = ["score", "platform", "date", "title / text", "source"] + (["why"] if explain else [])
    table = Table(*columns, show_lines=True)
    for hit in hits:
        snippet = hit.text.replace("\n", " ")[:160]
        heading = f"[bold]{hit.title}[/]\n{snippet}" if hit.title else snippet
        row = [f"{hit.score:.3f}", hit.platform,
               hit.created_at.date().isoformat() if hit.created_at else "—",
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


def _hit_dict(hit, explain: bool) -> dict:
    data = {"score": hit.score, "platform": hit.platform, "kind": hit.kind, "title": hit.title,
            "date": hit.created_at.isoformat() if hit.created_at else None, "url": hit.url,
            "source": hit.source_path, "source_id": hit.source_id, "text": hit.text}
    if explain:
        data["fused_rank"] = hit.fused_rank
        data["ranks"] = {name: {"rank": rank, "score": score}
                         for name, (rank, score) in hit.ranks.items()}
    return data


def _describe(filters: SearchFilters) -> dict[str, str]:
    return {name: (value.date().isoformat() if isinstance(value, datetime) else str(value))
            for name, value in vars(filters).items() if value not in (None, ())}


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment else None


def _end_of_day(moment: datetime | None) -> datetime | None:
    return _utc(moment.replace(hour=23, minute=59, second=59)) if moment else None
