"""Builds the pipeline's parts from settings, on demand: nothing opens or loads until asked."""

from __future__ import annotations

import json
from contextlib import contextmanager, nullcontext
from functools import cached_property
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from llm_twin.backends.base import Backend, GenerationParams
from llm_twin.config import TwinSettings, ensure_workspace
from llm_twin.features.embeddings import QueryEmbeddingCache, SentenceTransformerEmbedder
from llm_twin.inference.rerank import build_reranker
from llm_twin.inference.ranking import RankingWeights
from llm_twin.inference.retrieval import Retriever
from llm_twin.inference.writer import DraftWriter, WriterOptions
from llm_twin.storage.qdrant_edge_store import META_FILE, QdrantEdgeStore, wipe_store
from llm_twin.storage.vector_store import EmbeddingModelMismatch, VectorStore
from llm_twin.storage.warehouse import create_warehouse_engine, most_common_owner, session_factory


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
        """The embedded Qdrant Edge shard, or a Qdrant server when vector_store_url is set."""
        store = self._open_store(self.settings.embedding_model, self.embedder.dimension)
        try:
            yield store
        finally:
            store.close()

    def _open_store(self, embedding_model: str, dimension: int) -> VectorStore:
        s = self.settings
        if s.vector_store_url:
            from llm_twin.storage.qdrant_server_store import QdrantServerStore

            return QdrantServerStore(s.vector_store_url, collection=s.vector_store_collection,
                                     embedding_model=embedding_model, dimension=dimension,
                                     api_key=s.vector_store_api_key)
        return QdrantEdgeStore(s.resolved_vector_store_path, embedding_model=embedding_model,
                               dimension=dimension)

    def wipe_vector_store(self) -> None:
        s = self.settings
        if s.vector_store_url:
            from llm_twin.storage.qdrant_server_store import wipe_collection

            wipe_collection(s.vector_store_url, s.vector_store_collection, s.vector_store_api_key)
        else:
            wipe_store(s.resolved_vector_store_path)

    def built_embedding_model(self) -> str | None:
        """The embedding model the vector store was built with; None when not built yet."""
        if self.settings.vector_store_url:
            try:
                with self.vector_store():
                    return self.settings.embedding_model
            except EmbeddingModelMismatch as mismatch:
                return mismatch.built_with or "another model"
        meta_path = self.settings.resolved_vector_store_path / META_FILE
        if not meta_path.exists():
            return None
        return json.loads(meta_path.read_text(encoding="utf-8")).get("embedding_model")

    @contextmanager
    def existing_vector_store(self) -> Iterator[VectorStore | None]:
        """The store as built, without loading the embedding model; None if never built."""
        if self.settings.vector_store_url:  # the server keeps the model id; open with the current one
            with self.vector_store() as store:
                yield store
            return
        path = self.settings.resolved_vector_store_path
        meta_path = path / META_FILE
        if not meta_path.exists():
            yield None
            return
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        store = QdrantEdgeStore(path, embedding_model=meta["embedding_model"],
                                dimension=meta["dimension"])
        try:
            yield store
        finally:
            store.close()

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

        return build_backend(self.settings, self.tuned_run(model), on_converted=self._record_ct2_path)

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
        """The registry run to generate with: `model` (a run id; "base" = none), else the active one."""
        from llm_twin.training.registry import BASE_MODEL_NAME, active_run, get_run

        if model == BASE_MODEL_NAME:
            return None
        with self.sessions() as session:
            run = get_run(session, model) if model else active_run(session)
            if run is not None:
                session.expunge(run)  # read after the session closes
        return run

    def generation_params(self, **overrides) -> GenerationParams:
        s = self.settings
        values = dict(max_new_tokens=s.max_new_tokens, temperature=s.temperature, top_p=s.top_p,
                      repetition_penalty=s.repetition_penalty,
                      no_repeat_ngram_size=s.no_repeat_ngram_size, seed=s.seed)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return GenerationParams(**values)

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
               **generation_overrides) -> DraftWriter:
        """The draft writer with the owner's platform profiles and, when one is stored (or
        `voice` is given), the voice model that scores and ranks drafts."""
        s = self.settings
        options = WriterOptions(owner=self.owner_name(), retrieval_k=s.retrieval_k,
                                style_examples=s.style_examples, context_tokens=s.context_tokens,
                                prompt_tokens=s.prompt_tokens,
                                generation=self.generation_params(**generation_overrides),
                                rank=rank, rank_weights=self.ranking_weights())
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

    def fit_voice(self, backend: Backend | None, *, dataset_id: str | None = None,
                  prompts: int | None = None, progress=None):
        """Fit and store the voice model; returns (scorer, card). Uses the newest dataset build's
        base-model answers, else generates some with `backend` (see inference.voice)."""
        from llm_twin.inference import voice

        with self.sessions() as session:
            texts = voice.collect_training_texts(
                session, self.settings.workspace, owner=self.owner_name(), backend=backend,
                params=self.generation_params(), reference_dirs=self.settings.voice_reference_dirs,
                dataset_id=dataset_id, prompts=prompts or voice.FIT_PROMPTS, progress=progress)
        scorer, card = voice.fit_voice_model(texts)
        voice.save_voice_model(self.settings.workspace, scorer, card)
        return scorer, card

    # -- stages shared by the CLI and `twin serve` ------------------------------------------
    @contextmanager
    def served_prompt_builder(self, backend: Backend, *, seed: int, sample_tokens: int | None,
                              context_mix: str | None, enabled: bool = True,
                              store: VectorStore | None = None):
        """The builder that gives train samples the served prompt, over the open index; None when
        disabled. Without an index it reports that every sample stayed bare."""
        from llm_twin.training_data.served_prompts import (ContextMix, ContextReport,
                                                           ServedPromptBuilder,
                                                           ServedPromptSettings)

        if not enabled:
            yield None
            return
        from llm_twin.inference.reply import example_turns_budget

        s = self.settings
        settings = ServedPromptSettings(
            owner=self.owner_name(), retrieval_k=s.retrieval_k, style_examples=s.style_examples,
            sample_tokens=sample_tokens or s.dataset_sample_tokens, prompt_tokens=s.prompt_tokens,
            turns_prompt_tokens=example_turns_budget(s.context_tokens, s.max_new_tokens),
            mix=ContextMix.parse(context_mix or s.dataset_context_mix), seed=seed)
        if self.built_embedding_model() is None:
            yield _BareSamples(ContextReport(mix=settings.mix.as_dict(), index=False))
            return
        with nullcontext(store) if store is not None else self.vector_store() as store:
            yield ServedPromptBuilder(self.retriever(store, backend=backend), settings,
                                      count_tokens=backend.count_tokens,
                                      render=backend.render_prompt, profiles=self.profiles())

    def embedding_model_change(self) -> str | None:
        """The model the store was built with, when it differs from the configured one."""
        built = self.built_embedding_model()
        return built if built is not None and built != self.settings.embedding_model else None

    def reset_index(self) -> None:
        """Drop every vector and chunk row (the store must be closed)."""
        from sqlalchemy import delete

        from llm_twin.storage.models import Chunk

        self.wipe_vector_store()
        with self.sessions.begin() as session:
            session.execute(delete(Chunk))

    def index_into(self, store: VectorStore, on_progress=None):
        """Chunk and embed new or changed documents into `store`; returns the IndexReport."""
        from llm_twin.features.indexing import index_documents

        s = self.settings
        report = index_documents(self.sessions, store, self.embedder, max_chars=s.chunk_max_chars,
                                 overlap_chars=s.chunk_overlap_chars,
                                 batch_size=s.embedding_batch_size, on_progress=on_progress)
        if report.chunks_added or report.chunks_removed:
            store.optimize()
        return report

    def build_dataset(self, backend: Backend, *, instructions: str = "model",
                      preferences: bool = True, max_pairs: int = 200, seed: int = 0,
                      test_share: float | None = None, languages=(), stage=None, advance=None,
                      served_prompts: bool = True, sample_tokens: int | None = None,
                      context_mix: str | None = None, store: VectorStore | None = None):
        """Build and save the training datasets; returns (StoredDataset, created).
        `stage(name, done, total)` and `advance(count)` report progress. With `served_prompts`
        and an index, train samples carry `twin write`'s prompt (training_data.served_prompts);
        `store`: an already open vector store (`twin serve` holds one), else it is opened here."""
        from llm_twin.training_data.builder import BuildOptions, build_dataset
        from llm_twin.training_data.feedback_pairs import FeedbackPreferences
        from llm_twin.training_data.instructions import (ExtractiveInstructionWriter,
                                                         ModelInstructionWriter)
        from llm_twin.training_data.preferences import BaseModelRejections
        from llm_twin.training_data.store import save_build

        s = self.settings
        options = BuildOptions(owner=self.owner_name(),
                               test_share=test_share if test_share is not None else s.dataset_test_share,
                               languages=tuple(languages or s.dataset_languages),
                               near_duplicate_threshold=s.dataset_near_duplicate_threshold)
        extractive = ExtractiveInstructionWriter(overlap_threshold=s.instruction_overlap_threshold)
        writer = extractive
        if instructions == "model":
            writer = ModelInstructionWriter(backend, extractive,
                                            overlap_threshold=s.instruction_overlap_threshold,
                                            seed=seed, progress=advance)
        sources = [BaseModelRejections(backend, self.generation_params(seed=seed),
                                       max_pairs=max_pairs, progress=advance),
                   FeedbackPreferences(self.sessions, options.owner)] if preferences else []
        with self.served_prompt_builder(backend, seed=seed, sample_tokens=sample_tokens,
                                        context_mix=context_mix, enabled=served_prompts,
                                        store=store) as shaper:
            with self.sessions() as session:
                built = build_dataset(session, options, writer, preference_sources=sources,
                                      served_prompts=shaper, progress=stage)
        if not built.sft:
            raise ValueError("No training samples: import your own writing first (`twin ingest`), "
                             "or check the filters in the card of an earlier build.")
        return save_build(built, s.workspace, tokenizer_name=backend.model_id,
                          count_tokens=backend.count_tokens)


class _BareSamples:
    """Stands in for ServedPromptBuilder when there is no index: every sample keeps the bare
    request, and the card says why."""

    def __init__(self, report):
        self.report = report

    def apply(self, samples, *, held_out_documents) -> None:
        from llm_twin.training_data.served_prompts import prompt_kind

        for sample in samples:
            if (kind := prompt_kind(sample)) is not None:
                self.report.record(kind, "bare")
