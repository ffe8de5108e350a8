"""`twin index` and `twin search`: the feature pipeline and retrieval from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import delete

from llm_twin.cli.common import console, open_workspace, quiet_libraries, user_errors
from llm_twin.features.indexing import index_documents
from llm_twin.storage.models import Chunk
from llm_twin.storage.qdrant_edge_store import wipe_store
from llm_twin.storage.vector_store import SearchFilters


def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop all vectors and re-embed "
                                          "everything (after changing the embedding model).")] = False,
) -> None:
    """Chunk and embed new or changed documents; remove vectors of forgotten ones."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace()
        if rebuild:
            wipe_store(ws.settings.resolved_vector_store_path)
            with ws.sessions.begin() as session:
                session.execute(delete(Chunk))
        with console.status(f"Loading embedding model {ws.settings.embedding_model}…"):
            _ = ws.embedder.dimension
        with ws.vector_store() as store, _progress() as progress:
            task = progress.add_task("Embedding", total=None)
            report = index_documents(
                ws.sessions, store, ws.embedder, max_chars=ws.settings.chunk_max_chars,
                overlap_chars=ws.settings.chunk_overlap_chars,
                batch_size=ws.settings.embedding_batch_size,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total))
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
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search what you wrote (dense + BM25 hybrid) and show where each hit came from."""
    quiet_libraries()
    with user_errors():
        ws = open_workspace()
        from llm_twin.inference.retrieval import Retriever

        with ws.vector_store() as store:
            hits = Retriever(store, ws.embedder, ws.sessions).search(
                query, k=k, filters=SearchFilters(platform=platform, kind=kind))
        if as_json:
            print(json.dumps([{"score": h.score, "platform": h.platform, "kind": h.kind,
                               "title": h.title, "date": h.created_at.isoformat() if h.created_at else None,
                               "url": h.url, "source": h.source_path, "text": h.text} for h in hits],
                             ensure_ascii=False, indent=2))
            return
        if not hits:
            console.print("No hits. Did you run [bold]twin index[/] after importing?")
            return
        table = Table("score", "platform", "date", "title / text", "source", show_lines=True)
        for hit in hits:
            snippet = hit.text.replace("\n", " ")[:160]
            heading = f"[bold]{hit.title}[/]\n{snippet}" if hit.title else snippet
            table.add_row(f"{hit.score:.3f}", hit.platform,
                          hit.created_at.date().isoformat() if hit.created_at else "—",
                          heading, hit.url or hit.source_path)
        console.print(table)
