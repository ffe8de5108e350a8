"""One dataset build, top to bottom: owner texts -> filters -> instructions -> conversations ->
time split -> leak removal -> preference pairs. Nothing here writes files (see `store`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from llm_twin.training_data import quality
from llm_twin.training_data.conversations import conversation_samples, load_conversations
from llm_twin.training_data.instructions import (IdeaOverlap, InstructionStats, InstructionWriter,
                                                 OverlapSummary, idea_answer_overlap,
                                                 instruction_messages, summarize_overlaps,
                                                 training_rules)
from llm_twin.training_data.owner_texts import OwnerText, load_owner_documents, owner_texts
from llm_twin.training_data.preferences import PreferenceSource
from llm_twin.training_data.quality import QualityReport
from llm_twin.training_data.samples import INSTRUCTION, PreferencePair, SftSample
from llm_twin.training_data.served_prompts import (ContextReport, ServedPromptBuilder,
                                                   held_out_documents)
from llm_twin.training_data.splits import SplitInfo, remove_test_leaks, split_by_time

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)


@dataclass(frozen=True)
class BuildOptions:
    owner: str
    test_share: float = 0.1
    languages: Sequence[str] = ()
    near_duplicate_threshold: float = 0.8


@dataclass
class DatasetBuild:
    sft: list[SftSample]
    preferences: list[PreferencePair]
    options: BuildOptions
    instruction_writer: str
    languages: list[str]
    split_info: SplitInfo
    instruction_report: QualityReport = field(default_factory=QualityReport)
    conversation_report: QualityReport = field(default_factory=QualityReport)
    instruction_stats: InstructionStats | None = None
    preference_sources: list[str] = field(default_factory=list)
    context_report: ContextReport | None = None  # None: samples carry the bare request
    idea_overlap: dict[str, OverlapSummary] = field(default_factory=dict)  # "all", "train", "test"
    owner_documents: int = 0
    source_ids: set[int] = field(default_factory=set)
    seconds: dict[str, float] = field(default_factory=dict)
    # How train samples were weighted and era-tagged (app.dataset: `--weight-by-engagement`,
    # `--era-tags`); recorded in the card.
    weighting: dict[str, Any] = field(default_factory=lambda: {"method": "none"})
    era_tags: dict[str, Any] = field(default_factory=lambda: {"enabled": False})

    def split(self, name: str) -> list[SftSample]:
        return [s for s in self.sft if s.split == name]

    def preference_split(self, name: str) -> list[PreferencePair]:
        return [p for p in self.preferences if p.split == name]


def select_answers(session: Session, options: BuildOptions,
                   report: QualityReport) -> tuple[list[OwnerText], list[str], int]:
    """The owner's texts that pass every filter, the languages kept, and the document count."""
    documents = load_owner_documents(session)
    units: list[OwnerText] = []
    for document in documents:
        pieces, too_long = owner_texts(document)
        units.extend(pieces)
        report.drop("too_long_section", too_long)
    units = quality.drop_drafts(units, report)
    units = quality.keep_public(units, report)
    units = quality.drop_templated(units, report)
    units = quality.strip_boilerplate(units, report)
    units = quality.apply_length_limits(units, report)
    languages = list(options.languages) or quality.main_languages(units)
    units = quality.filter_languages(units, languages, report)
    units = quality.drop_exact_duplicates(units, report)
    units = quality.drop_near_duplicates(units, options.near_duplicate_threshold, report)
    return units, languages, len(documents)


def build_dataset(session: Session, options: BuildOptions, writer: InstructionWriter, *,
                  preference_sources: Sequence[PreferenceSource] = (),
                  served_prompts: ServedPromptBuilder | None = None,
                  progress: Progress | None = None) -> DatasetBuild:
    """`served_prompts` rebuilds the train split's samples on the prompt they are served with
    (posts: `twin write`'s examples, notes and habits line; chat replies and code: `twin reply`'s
    and `twin code`'s example turns); the test split keeps the bare request, which `twin eval`
    turns into served prompts itself."""
    clock = _Clock()
    instruction_report = QualityReport()
    units, languages, documents = select_answers(session, options, instruction_report)
    clock.lap("select")
    if progress:
        progress("instructions", 0, len(units))
    ideas = writer.ideas(units)
    instruction_samples = [_instruction_sample(unit, idea, options.owner)
                           for unit, idea in zip(units, ideas)]
    idea_overlaps = {id(sample): idea_answer_overlap(idea, unit.text)
                     for sample, unit, idea in zip(instruction_samples, units, ideas)}
    clock.lap("instructions")
    conversation_report = QualityReport()
    chats = conversation_samples(load_conversations(session), options.owner, conversation_report)
    samples = instruction_samples + chats
    split_info = split_by_time(samples, options.test_share)
    leak_report = instruction_report  # leaks are counted where most samples come from
    samples = remove_test_leaks(samples, leak_report)
    clock.lap("split")
    if served_prompts is not None:
        if progress:
            progress("served prompts", 0, None)
        served_prompts.apply([s for s in samples if s.split == "train"],
                             held_out_documents=held_out_documents(samples))
        clock.lap("served prompts")
    pairs: list[PreferencePair] = []
    for source in preference_sources:
        if progress:
            progress(f"preferences ({source.name})", 0,
                     min(len(samples), getattr(source, "max_pairs", len(samples))))
        pairs.extend(source.pairs([s for s in samples if s.source == INSTRUCTION]))
    clock.lap("preferences")
    return DatasetBuild(
        sft=samples, preferences=pairs, options=options, instruction_writer=writer.name,
        languages=languages, split_info=split_info, instruction_report=instruction_report,
        conversation_report=conversation_report,
        instruction_stats=getattr(writer, "stats", None),
        preference_sources=[source.name for source in preference_sources],
        context_report=served_prompts.report if served_prompts is not None else None,
        idea_overlap=_idea_overlap_by_split(samples, idea_overlaps),
        owner_documents=documents,
        source_ids={s.source_id for s in samples if s.source_id is not None}
        | {source_id for s in samples for source_id in s.context_source_ids}
        | {source_id for pair in pairs for source_id in pair.source_ids},
        seconds=clock.laps)


def _instruction_sample(unit: OwnerText, idea: str, owner: str) -> SftSample:
    messages = [*instruction_messages(unit, idea, owner),
                {"role": "assistant", "content": unit.text}]
    extra = {"section": unit.section} if unit.section is not None else {}
    is_commit = unit.tag == "commit_message"  # no command serves these with context
    is_post = unit.kind != "code" and not is_commit
    return SftSample(messages=messages, source=INSTRUCTION, platform=unit.platform,
                     kind="commit" if is_commit else unit.kind,
                     document_id=unit.document_id, created_at=unit.created_at,
                     source_id=unit.source_id, extra=extra,
                     idea=None if is_commit else idea,
                     rules=training_rules(unit) if is_post else None)


def _idea_overlap_by_split(samples: Sequence[SftSample],
                           overlaps: dict[int, IdeaOverlap]) -> dict[str, OverlapSummary]:
    """How much of its answer each kept instruction sample's idea gives away, per split."""
    kept = [(sample.split, overlaps[id(sample)]) for sample in samples if id(sample) in overlaps]
    return {"all": summarize_overlaps(o for _, o in kept),
            **{split: summarize_overlaps(o for s, o in kept if s == split)
               for split in ("train", "test")}}


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
