"""Building the training datasets (`twin dataset build`, `POST /api/datasets`) from everything
imported: answers are the owner's real texts; train samples carry `twin write`'s prompt when an
index exists (training_data.served_prompts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import StoreHolder, StorePerUse, Workspace
from llm_twin.backends.base import Backend
from llm_twin.errors import DatasetError, InputError, disk_full
from llm_twin.training_data.store import StoredDataset

INSTRUCTION_WRITERS = ("model", "extractive")


@dataclass
class DatasetSpec:
    instructions: str = "model"  # who writes each instruction: INSTRUCTION_WRITERS
    preferences: bool = True  # DPO pairs: base-model rejections and the served drafts' feedback
    max_pairs: int = 200
    seed: int = 0
    test_share: float | None = None  # default: dataset_test_share
    languages: tuple[str, ...] = ()  # default: dataset_languages
    served_prompts: bool = True
    sample_tokens: int | None = None  # default: dataset_sample_tokens
    context_mix: str | None = None  # default: dataset_context_mix
    # Train samples of more engaging posts repeated (training_data.engagement_weights).
    weight_by_engagement: bool = False
    era_tags: bool = False  # post prompts end with the answer's year (prompts.era)


def build_dataset(ws: Workspace, backend: Backend, spec: DatasetSpec, *,
                  progress: Progress = SILENT,
                  holder: StoreHolder | None = None) -> tuple[StoredDataset, bool]:
    """Build and save the datasets; returns (StoredDataset, created). `holder`: who opens the
    vector store (`twin serve` holds one open)."""
    from llm_twin.training_data.builder import build_dataset as build
    from llm_twin.training_data.store import save_build

    if spec.instructions not in INSTRUCTION_WRITERS:
        raise InputError(f"instructions must be one of {', '.join(INSTRUCTION_WRITERS)}, "
                         f"not {spec.instructions!r}.")
    if spec.era_tags and not spec.served_prompts:
        raise InputError("--era-tags puts the year in the served prompt: it needs "
                         "--served-prompts (the default), not --bare-prompts.")
    progress.report(f"loading {backend.model_id}", 0, None)
    backend.load()
    counter = _StageCounter(progress)
    options = _build_options(ws, spec)
    writer = _instruction_writer(ws, backend, spec, counter.advance)
    sources = _preference_sources(ws, backend, spec, options.owner, counter.advance)
    with served_prompt_builder(ws, backend, spec, holder or StorePerUse(ws)) as shaper, \
            ws.sessions() as session:
        built = build(session, options, writer, preference_sources=sources,
                      served_prompts=shaper, progress=counter.start)
        _weigh_and_tag(session, built, spec)
    if not built.sft:
        raise DatasetError("No training samples: import your own writing first (`twin ingest`), "
                           "or check the filters in the card of an earlier build.")
    try:
        return save_build(built, ws.settings.workspace, tokenizer_name=backend.model_id,
                          count_tokens=backend.count_tokens)
    except OSError as error:  # nothing half-written stays: the build folder is renamed in whole
        full = disk_full(error, writing=f"the dataset build in {ws.settings.workspace / 'datasets'}")
        if full is None:
            raise
        raise full from error


def dataset_counts(card: dict[str, Any]) -> dict[str, Any]:
    """A build's sample and pair counts, flat (the server's job result and build list)."""
    counts = card.get("counts", {})
    return {"sft_train": counts.get("sft", {}).get("train", 0),
            "sft_test": counts.get("sft", {}).get("test", 0),
            "preference_train": counts.get("preference", {}).get("train", 0),
            "preference_test": counts.get("preference", {}).get("test", 0),
            "preference_origins": card.get("preferences", {}).get("by_origin", {})}


def _build_options(ws: Workspace, spec: DatasetSpec):
    from llm_twin.training_data.builder import BuildOptions

    s = ws.settings
    return BuildOptions(owner=ws.owner_name(),
                        test_share=spec.test_share if spec.test_share is not None
                        else s.dataset_test_share,
                        languages=tuple(spec.languages or s.dataset_languages),
                        near_duplicate_threshold=s.dataset_near_duplicate_threshold)


def _instruction_writer(ws: Workspace, backend: Backend, spec: DatasetSpec, advance):
    from llm_twin.training_data.instructions import (
        ExtractiveInstructionWriter,
        ModelInstructionWriter,
    )

    threshold = ws.settings.instruction_overlap_threshold
    extractive = ExtractiveInstructionWriter(overlap_threshold=threshold)
    if spec.instructions != "model":
        return extractive
    return ModelInstructionWriter(backend, extractive, overlap_threshold=threshold,
                                  seed=spec.seed, progress=advance)


def _preference_sources(ws: Workspace, backend: Backend, spec: DatasetSpec, owner: str,
                        advance) -> list:
    from llm_twin.training_data.feedback_pairs import FeedbackPreferences
    from llm_twin.training_data.preferences import BaseModelRejections

    if not spec.preferences:
        return []
    return [BaseModelRejections(backend, ws.generation_params(seed=spec.seed),
                                max_pairs=spec.max_pairs, progress=advance),
            FeedbackPreferences(ws.sessions, owner)]


@contextmanager
def served_prompt_builder(ws: Workspace, backend: Backend, spec: DatasetSpec,
                          holder: StoreHolder) -> Iterator[Any]:
    """The builder that gives train samples the served prompt, over the index; None when
    `spec.served_prompts` is off. Without an index it reports that every sample stayed bare."""
    from llm_twin.inference.reply import example_turns_budget
    from llm_twin.training_data.served_prompts import (
        ContextMix,
        ContextReport,
        ServedPromptBuilder,
        ServedPromptSettings,
    )

    if not spec.served_prompts:
        yield None
        return
    s = ws.settings
    settings = ServedPromptSettings(
        owner=ws.owner_name(), retrieval_k=s.retrieval_k, style_examples=s.style_examples,
        sample_tokens=spec.sample_tokens or s.dataset_sample_tokens, prompt_tokens=s.prompt_tokens,
        turns_prompt_tokens=example_turns_budget(s.context_tokens, s.max_new_tokens),
        mix=ContextMix.parse(spec.context_mix or s.dataset_context_mix), seed=spec.seed,
        era_tags=spec.era_tags)
    if ws.built_embedding_model() is None:
        yield _BareSamples(ContextReport(mix=settings.mix.as_dict(), index=False))
        return
    with holder.store() as store:
        yield ServedPromptBuilder(ws.retriever(store, backend=backend), settings,
                                  count_tokens=backend.count_tokens, render=backend.render_prompt,
                                  profiles=ws.profiles())


def _weigh_and_tag(session, built, spec: DatasetSpec) -> None:
    """Record `--era-tags` (the post samples whose prompt carries their year) and apply
    `--weight-by-engagement` (sample repetition), both in the card."""
    from llm_twin.features.engagement import engaged_posts
    from llm_twin.prompts.era import era_hint
    from llm_twin.training_data.engagement_weights import weight_by_engagement

    if spec.era_tags:
        tagged = sum(1 for sample in built.sft if sample.created_at is not None
                     and len(sample.messages) > 1
                     and era_hint(sample.created_at.year) in sample.messages[-2]["content"])
        built.era_tags = {"enabled": True, "tagged": tagged, "wording": era_hint(2021)}
    if spec.weight_by_engagement:
        relative = {post.document_id: post.relative for post in engaged_posts(session)}
        built.sft, built.weighting = weight_by_engagement(built.sft, relative)


class _StageCounter:
    """The builder names each stage; the instruction and preference writers count their batches."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.stage, self.done = "", 0
        self.total: int | None = None

    def start(self, stage: str, done: int, total: int | None) -> None:
        self.stage, self.done, self.total = stage, done, total
        self.progress.report(stage, done, total)

    def advance(self, count: int) -> None:
        self.done += count
        self.progress.report(self.stage, self.done, self.total)


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
