"""Builds the pipeline's parts from settings, on demand: nothing opens or loads until asked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.base import Backend, GenerationParams
from llm_twin.config import TwinSettings, ensure_workspace
from llm_twin.features.embeddings import QueryEmbeddingCache, SentenceTransformerEmbedder
from llm_twin.inference.ranking import RankingWeights
from llm_twin.inference.rerank import build_reranker
from llm_twin.inference.retrieval import Retriever
from llm_twin.inference.writer import DraftWriter, WriterOptions
from llm_twin.storage.stores import built_embedding_model, built_vector_store, open_vector_store
from llm_twin.storage.vector_store import VectorStore
from llm_twin.storage.warehouse import create_warehouse_engine, most_common_owner, session_factory


class StoreHolder(Protocol):
    """Who opens the vector store for a use case: `StorePerUse` opens it for each use; `twin serve`
    holds one open (Qdrant Edge allows one opener) and closes it while a rebuild wipes it."""

    def store(self) -> AbstractContextManager[VectorStore]: ...

    def closed_store(self) -> AbstractContextManager[None]: ...


class Workspace:
    def __init__(self, settings: TwinSettings):
        self.settings = settings
        self.created_now = ensure_workspace(settings)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(create_warehouse_engine(self.settings.resolved_database_url))

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        device = "cpu" if self.settings.device == "auto" else self.settings.device
        return SentenceTransformerEmbedder(self.settings.embedding_model, device=device)

    @contextmanager
    def vector_store(self) -> Iterator[VectorStore]:
        """The vector store for the configured embedding model (storage.stores picks which)."""
        store = open_vector_store(self.settings, self.settings.embedding_model,
                                  self.embedder.dimension)
        try:
            yield store
        finally:
            store.close()

    def built_embedding_model(self) -> str | None:
        """The embedding model the vector store was built with; None when not built yet."""
        return built_embedding_model(self.settings, lambda: self.embedder.dimension)

    def existing_vector_store(self) -> AbstractContextManager[VectorStore | None]:
        """The store as built, without loading the embedding model; None if never built."""
        return built_vector_store(self.settings, lambda: self.embedder.dimension)

    def owner_name(self) -> str:
        if self.settings.owner_name:
            return self.settings.owner_name
        with self.sessions() as session:
            return most_common_owner(session) or "the author"

    def backend(self, model: str | None = None) -> Backend:
        """The configured backend (settings.backend) serving the model in use: the active
        fine-tuned run from the registry, else the base model. Nothing loads yet.
        `model` picks another: a run id, or "base"."""
        from llm_twin.backends.factory import build_backend

        return build_backend(self.settings, self.tuned_run(model),
                             on_converted=self._record_ct2_path)

    def prepare_model(self, model: str) -> None:
        """Ready a run for the configured backend now (CTranslate2 converts it once)."""
        backend = self.backend(model)
        prepare = getattr(backend, "prepare", None)
        if prepare is not None:
            prepare()

    def backend_choice(self, model: str | None = None):
        """Which backend generates for the model in use, and why (`twin status`)."""
        from llm_twin.backends.factory import choose_backend

        return choose_backend(self.settings, self.tuned_run(model))

    def _record_ct2_path(self, run_id: str, path: str) -> None:
        """Where CTranslate2 converted a run, kept in the registry (`ct2_path`)."""
        from llm_twin.training.registry import set_export_paths

        with self.sessions() as session:
            set_export_paths(session, run_id, ct2_path=path)

    def tuned_run(self, model: str | None = None):
        """The registry run to generate with: `model` (a run id; "base" = none), else the
        active one."""
        from llm_twin.training.registry import BASE_MODEL_NAME, active_run, get_run

        if model == BASE_MODEL_NAME:
            return None
        with self.sessions() as session:
            run = get_run(session, model) if model else active_run(session)
            if run is not None:
                session.expunge(run)  # read after the session closes
        return run

    def generation_params(self, **overrides: Any) -> GenerationParams:
        """The settings' sampling, with each override that is not None in its place."""
        s = self.settings
        return GenerationParams(
            max_new_tokens=s.max_new_tokens, temperature=s.temperature, top_p=s.top_p,
            repetition_penalty=s.repetition_penalty, no_repeat_ngram_size=s.no_repeat_ngram_size,
            seed=s.seed).overridden(**overrides)

    def retriever(self, store: VectorStore, *, expansions: int | None = None,
                  rerank: bool | None = None, backend: Backend | None = None) -> Retriever:
        """Hybrid search with the configured rewrites and reranker. The generation model writes
        the rewrites only when llm_query_tools is on (the 135M default is not good at it)."""
        s = self.settings
        use_rerank = s.rerank if rerank is None else rerank
        embedder = QueryEmbeddingCache(self.embedder)  # one idea is searched several times
        return Retriever(store, embedder, self.sessions,
                         expansions=s.query_expansions if expansions is None else expansions,
                         rewriter=backend if s.llm_query_tools else None,
                         reranker=build_reranker(s.cross_encoder, embedder) if use_rerank else None)

    def writer(self, store: VectorStore, backend: Backend, *, voice=None, rank: bool = True,
               include_private: bool = False, **generation_overrides) -> DraftWriter:
        """The draft writer with the owner's platform profiles and, when one is stored (or
        `voice` is given), the voice model that scores and ranks drafts. `include_private`: notes
        and examples from non-public texts too (`twin write --include-private`)."""
        s = self.settings
        options = WriterOptions(owner=self.owner_name(), retrieval_k=s.retrieval_k,
                                style_examples=s.style_examples, context_tokens=s.context_tokens,
                                prompt_tokens=s.prompt_tokens,
                                generation=self.generation_params(**generation_overrides),
                                rank=rank, rank_weights=self.ranking_weights(),
                                include_private=include_private)
        return DraftWriter(self.retriever(store, backend=backend), backend, options,
                           voice=voice if voice is not None else self.voice_scorer(),
                           profiles=self.profiles(), checker=self.draft_checker())

    def ranking_weights(self) -> RankingWeights:
        """The weights `twin write -n N` and `twin eval`'s ranked systems rank drafts by."""
        s = self.settings
        return RankingWeights(voice=s.rank_voice_weight, fluency=s.rank_fluency_weight)

    def draft_checker(self):
        """Claim and near-duplicate checks; the past-post index is cached in <workspace>/cache."""
        from llm_twin.inference.grounding import DraftChecker

        return DraftChecker(self.sessions, cache_dir=self.settings.workspace / "cache")

    def reply_writer(self, store: VectorStore, backend: Backend, **generation_overrides):
        from llm_twin.inference.reply import ReplyOptions, ReplyWriter

        options = ReplyOptions(owner=self.owner_name(), retrieval_k=self.settings.retrieval_k,
                               context_tokens=self.settings.context_tokens,
                               generation=self.generation_params(**generation_overrides))
        return ReplyWriter(self.retriever(store, backend=backend), backend, options)

    def code_writer(self, store: VectorStore, backend: Backend, **generation_overrides):
        from llm_twin.inference.code_writer import CodeOptions, CodeWriter

        options = CodeOptions(owner=self.owner_name(), retrieval_k=self.settings.retrieval_k,
                              context_tokens=self.settings.context_tokens,
                              generation=self.generation_params(**generation_overrides))
        return CodeWriter(self.retriever(store, backend=backend), backend, options)

    def profiles(self) -> dict:
        """The owner's platform profiles (cached in <workspace>/profiles.json)."""
        from llm_twin.inference.profiles import load_profiles

        with self.sessions() as session:
            return load_profiles(session, self.settings.workspace)

    def voice_scorer(self):
        """The stored voice model (<workspace>/voice/model.joblib), or None when not fitted yet."""
        from llm_twin.inference.voice import VoiceScorer, model_path

        path = model_path(self.settings.workspace)
        return VoiceScorer.load(path) if path.exists() else None

    def voice_scorer_exists(self) -> bool:
        from llm_twin.inference.voice import model_path

        return model_path(self.settings.workspace).exists()


class StorePerUse:
    """The workspace's vector store, opened for each use and closed after it (the CLI)."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    def store(self) -> AbstractContextManager[VectorStore]:
        return self.ws.vector_store()

    def closed_store(self) -> AbstractContextManager[None]:
        return nullcontext()
