"""Searching what the owner wrote (`twin search`, `GET /api/search`, the web app's search box):
filters read out of the request first ("my LinkedIn posts from 2023 about hiring": the rules,
refined by the generation model when `llm_query_tools` is on), then hybrid retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import select

from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.self_query import parse_query
from llm_twin.ingest.timezones import in_zone
from llm_twin.storage.models import Source
from llm_twin.storage.vector_store import SearchFilters, VectorStore


@dataclass
class SearchRequest:
    query: str
    k: int = 5
    filters: SearchFilters | None = None  # given ones win over those read from the query
    literal: bool = False  # search the query as typed: no filters read out of it
    expansions: int | None = None  # query rewrites to fuse; default: the query_expansions setting
    rerank: bool | None = None  # default: the rerank setting
    explain: bool = False  # annotate hits with their rank in the dense and BM25 searches


@dataclass
class SearchResult:
    query: str
    topic: str  # what was searched for once the filters were read out
    filters: SearchFilters
    hits: list[RetrievedChunk]
    # Source id -> the zone its dates are shown in (chat exports: `twin ingest --timezone`).
    zones: dict[int, str] = field(default_factory=dict)

    def applied_filters(self) -> dict[str, str]:
        return describe_filters(self.filters)

    def local_time(self, hit: RetrievedChunk) -> datetime | None:
        """The hit's date in its source's zone (UTC for sources without one)."""
        return in_zone(hit.created_at, self.zones.get(hit.source_id)) if hit.created_at else None


def search_writing(ws: Workspace, store: VectorStore, request: SearchRequest, *,
                   backend: Backend | None = None) -> SearchResult:
    """The hits for a request. `backend`: the generation model that reads the query and writes
    rewrites when llm_query_tools is on (default: the model in use, loaded on first use)."""
    if ws.settings.llm_query_tools and backend is None:
        backend = ws.backend()
    tools = backend if ws.settings.llm_query_tools else None
    explicit = request.filters or SearchFilters()
    topic, filters = (request.query, explicit) if request.literal else \
        read_query(request.query, explicit, tools)
    retriever = ws.retriever(store, expansions=request.expansions, rerank=request.rerank,
                             backend=tools)
    hits = retriever.search(topic, k=request.k, filters=filters)
    if request.explain:
        retriever.explain(topic, hits, filters=filters)
    return SearchResult(request.query, topic, filters, hits, _zones(ws, hits))


def _zones(ws: Workspace, hits: list[RetrievedChunk]) -> dict[int, str]:
    ids = {hit.source_id for hit in hits}
    if not ids:
        return {}
    with ws.sessions() as session:
        return {source_id: str(zone) for source_id, zone in session.execute(
            select(Source.id, Source.timezone).where(Source.id.in_(ids),
                                                     Source.timezone.is_not(None)))}


def read_query(query: str, explicit: SearchFilters,
               backend: Backend | None = None) -> tuple[str, SearchFilters]:
    """The topic and the filters read out of the request; explicitly given filters win."""
    parsed = parse_query(query, backend)
    found = parsed.to_filters()
    merged = SearchFilters(**{f.name: getattr(explicit, f.name) if getattr(explicit, f.name)
                              not in (None, ()) else getattr(found, f.name)
                              for f in fields(SearchFilters)})
    return parsed.topic, merged


def describe_filters(filters: SearchFilters) -> dict[str, str]:
    """The filters set, as text (dates as ISO days)."""
    return {name: (value.date().isoformat() if isinstance(value, datetime) else str(value))
            for name, value in vars(filters).items() if value not in (None, ())}
