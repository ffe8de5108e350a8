"""`twin eval`: every requested system answers the held-out prompts, then each is measured.

Order: load the held-out data; per model (base, then the fine-tuned run) load it once, generate
its arms (plain prompt, RAG prompt), free it, compute its held-out perplexity; then fit the
attribution classifier, set its threshold on held-out impostors, and score every system.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_twin.backends.base import Backend, GenerationParams
from llm_twin.config import TwinSettings
from llm_twin.errors import DatasetError, InputError, WorkspaceError
from llm_twin.evaluation.classifiers import AttributionClassifier
from llm_twin.evaluation.heldout import EvalData, load_eval_data
from llm_twin.evaluation.scoring import (RANDOM_TRAINING_POST, REAL_POSTS, RowFigures,
                                         RowScorer)
from llm_twin.evaluation.systems import (ArmOutputs, System,
                                         generate_plain, generate_with_rag, parse_systems)
from llm_twin.inference.ranking import RankingWeights
from llm_twin.inference.retrieval import BarredRetriever
from llm_twin.inference.writer import DraftWriter

if TYPE_CHECKING:
    from llm_twin.evaluation.judge import LLMJudge

DEFAULT_LIMIT = 40
DEFAULT_K = 4
DEFAULT_MAX_NEW_TOKENS = 120
BASE_ANSWERS = 40  # base answers to train prompts made here when the build has no DPO pairs


@dataclass
class EvalConfig:
    systems: str | None = None  # comma-separated subset of SYSTEMS; None = all that apply
    limit: int = DEFAULT_LIMIT
    k: int = DEFAULT_K
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    seed: int = 0
    dataset_id: str | None = None
    model: str | None = None  # fine-tuned run id; None = the run in use
    impostor: Path | None = None
    perplexity: bool = True
    base_answers: int = BASE_ANSWERS
    judge: LLMJudge | None = None

    def __post_init__(self):
        if self.limit < 1:
            raise InputError("--limit must be at least 1.")
        if self.k < 2 and any(s.ranked for s in parse_systems(self.systems)):
            raise InputError("--k must be at least 2 to rank drafts (or leave the +rank systems out "
                             "of --systems).")


@dataclass
class SystemResult:
    """One table row (a system, or a sanity row whose model_id is "–"); see report.py for the keys."""

    name: str
    model_id: str
    outputs: list[str]
    # None where a figure cannot be measured (e.g. no outputs)
    attribution_share: float | None
    detector_auc: float | None  # the headline "passes as you" figure
    rouge_l: float | None
    chrf: float | None
    perplexity: float | None
    judge_accuracy: float | None = None
    judge_style: float | None = None
    judge_unparsable: int | None = None
    voice_scores: list[float] = field(default_factory=list)
    relevance: float | None = None
    support: float | None = None
    support_claims: int = 0
    copying: float | None = None
    longest_copy: float | None = None
    intervals: dict[str, list[float | None]] = field(default_factory=dict)  # [value, low, high]


@dataclass
class EvalResult:
    dataset_id: str
    created_at: str
    config: dict[str, Any]
    prompts: list[dict[str, Any]]
    systems: list[SystemResult]
    reference: dict[str, Any]  # the real held-out posts through the same classifier
    attribution: dict[str, Any]
    notes: list[str]
    sanity: list[SystemResult] = field(default_factory=list)  # real held-out posts, a random training post
    # How much of its answer each held-out idea gives away (training_data.instructions).
    prompt_overlap: dict[str, Any] = field(default_factory=dict)

    def system(self, name: str) -> SystemResult:
        return next(s for s in self.systems if s.name == name)


Progress = Callable[[int], None]
Say = Callable[[str], None]


@dataclass
class TunedChoice:
    run: Any  # the registry run the tuned systems generate with; None: base systems only
    note: str | None = None  # how it was chosen, when not by --model or as the run in use


@dataclass
class EvalParts:
    """What an evaluation uses of a workspace, wired by the application layer (app.evaluate)."""

    settings: TwinSettings
    tuned: Callable[[], TunedChoice]
    indexed: Callable[[], bool]  # the +rag systems need the index
    backend: Callable[[str], Backend]  # for a run id or "base", not loaded yet
    generation_params: Callable[..., GenerationParams]
    embed: Callable[[list[str]], Any]
    ranking_weights: RankingWeights
    # A draft writer over the open vector store: (backend, voice scorer or None, max new tokens).
    rag_writer: Callable[[Backend, Any, int], AbstractContextManager[DraftWriter]]
    # The voice model the ranked systems rank by (fitted when the workspace has none).
    voice_scorer: Callable[[EvalData, Say], Any]


def run_evaluation(parts: EvalParts, config: EvalConfig, *,
                   on_total: Callable[[int], None] = lambda n: None,
                   advance: Progress = lambda n: None, say: Say = lambda m: None) -> EvalResult:
    from llm_twin.training.dataset_build import resolve_build

    build = resolve_build(parts.settings.workspace, config.dataset_id)
    impostor = _impostor_folder(config)
    data = load_eval_data(build, limit=config.limit, impostor_folder=impostor)
    notes = list(data.notes)
    systems = parse_systems(config.systems)
    tuned = parts.tuned()
    notes += [tuned.note] if tuned.note else []
    tuned_run = tuned.run
    if tuned_run is None:
        dropped = [s.name for s in systems if s.model == "tuned"]
        systems = [s for s in systems if s.model != "tuned"]
        if dropped:
            notes.append("no fine-tuned model in the registry (`twin train sft`): evaluated the base "
                         "systems only")
    if not systems:
        raise InputError("No system left to evaluate: the selected ones need a fine-tuned model.")
    if any(s.rag for s in systems) and not parts.indexed():
        raise WorkspaceError("The +rag systems need the index: run `twin index` first, or leave them "
                             "out with --systems.")
    arms = sorted({s.arm for s in systems})
    k = config.k if any(s.ranked for s in systems) else 1
    on_total(len(arms) * len(data.prompts))
    needs_ranker = any(s.ranked for s in systems)
    scorer = None

    generated: dict[tuple[str, bool], ArmOutputs] = {}
    model_ids: dict[str, str] = {}
    backends_used: dict[str, str] = {}
    perplexities: dict[str, float | None] = {}
    for model in sorted({s.model for s in systems}):
        run_id = "base" if model == "base" else tuned_run.id
        backend = parts.backend(run_id)
        say(f"Generating with {backend.model_id} ({model}) on {backend.name}…")
        backend.load()
        model_ids[model] = backend.model_id
        backends_used[model] = backend.name
        if model == "base":
            _fill_base_generations(backend, data, parts, config, notes, say)
        if needs_ranker and scorer is None:
            scorer = parts.voice_scorer(data, say)
        for arm in [a for a in arms if a[0] == model]:
            generated[arm] = _generate_arm(parts, backend, data, arm[1], k, scorer, config, advance)
        del backend
        gc.collect()
        run = tuned_run if model == "tuned" else None
        perplexities[model] = (_perplexity(parts.settings, run, data, notes)
                               if config.perplexity else None)
    if "base" not in model_ids and not (data.generated_train and data.generated_test):
        raise DatasetError("This dataset build has no DPO pairs (base-model answers) to train and "
                           "calibrate the attribution classifier: include a base system in "
                           "--systems, or rebuild with `twin dataset build --preferences`.")

    say("Scoring…")
    classifier = AttributionClassifier.fit(data.owner_train, data.generated_train + data.impostor_train)
    classifier.calibrate(data.generated_test + data.impostor_test)
    references = [p.answer for p in data.prompts]
    requests = [[_request(p)] for p in data.prompts]
    scorer_of_rows = RowScorer(references, data.owner_train, classifier, parts.embed,
                               seed=config.seed)
    results = []
    for system in systems:
        arm_outputs = generated[system.arm]
        outputs = arm_outputs.ranked if system.ranked else arm_outputs.unranked
        prompt_texts = [r + s for r, s in zip(requests, arm_outputs.source_texts)]
        results.append(_measure(system, outputs, references, scorer_of_rows.measure(outputs, prompt_texts),
                                model_ids[system.model], perplexities.get(system.model), config.judge,
                                arm_outputs.ranked_voice if system.ranked else []))
    sanity = _sanity_rows(scorer_of_rows, requests)
    return EvalResult(
        dataset_id=data.dataset_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config={**_config_dict(config, k, impostor), "backends": backends_used},
        prompts=[{"idea": p.idea, "platform": p.platform, "document_id": p.document_id,
                  "created_at": p.created_at.isoformat() if p.created_at else None,
                  "answer": p.answer,
                  "rag_sources": {f"{m}+rag": generated[(m, True)].sources[i]
                                  for m in model_ids if (m, True) in generated}}
                 for i, p in enumerate(data.prompts)],
        systems=results,
        sanity=sanity,
        reference={"attribution_share": sanity[0].attribution_share, "count": len(references)},
        attribution={"threshold": classifier.threshold, "target_false_positive_rate": 0.05,
                     "features": classifier.features,
                     "heldout_impostors": classifier.calibration_size,
                     "heldout_false_positive_rate": classifier.calibration_fpr,
                     "heldout_owner_posts": len(references),
                     "owner_false_negative_rate": classifier.false_negative_rate(references),
                     "train_owner": len(data.owner_train),
                     "train_impostors": len(data.generated_train) + len(data.impostor_train),
                     "heldout_base_generations": len(data.generated_test),
                     "impostor_author_texts": len(data.impostor_train) + len(data.impostor_test)},
        prompt_overlap=_prompt_overlap(data),
        notes=notes)


def _prompt_overlap(data: EvalData) -> dict[str, Any]:
    from llm_twin.training_data.instructions import idea_answer_overlap, summarize_overlaps

    return summarize_overlaps(idea_answer_overlap(p.idea, p.answer) for p in data.prompts).as_dict()


def _generate_arm(parts: EvalParts, backend, data: EvalData, rag: bool, k: int, scorer,
                  config: EvalConfig, advance: Progress) -> ArmOutputs:
    params = parts.generation_params(max_new_tokens=config.max_new_tokens)
    if not rag:
        return generate_plain(backend, data.prompts, params, k=k, scorer=scorer, seed=config.seed,
                              embed=parts.embed if scorer is not None else None,
                              weights=parts.ranking_weights, advance=advance)
    with parts.rag_writer(backend, scorer, config.max_new_tokens) as writer:
        writer.retriever = BarredRetriever(writer.retriever, until=data.retrieval_until,
                                           excluded_documents=data.test_document_ids)
        return generate_with_rag(writer, data.prompts, k=k, scorer=scorer, seed=config.seed,
                                 advance=advance)


def _fill_base_generations(backend, data: EvalData, parts: EvalParts, config: EvalConfig,
                           notes: list[str], say: Say) -> None:
    """Base-model answers the classifier needs, made now when the build has no DPO pairs: to
    train prompts (training impostors) and to test prompts (threshold), with their own seeds."""
    params = parts.generation_params(max_new_tokens=config.max_new_tokens)
    if not data.generated_test:
        say("The build has no held-out DPO pairs: generating base answers for the threshold…")
        data.generated_test = _one_each(backend, [p.messages for p in data.prompts], params,
                                        config.seed + 100_000)
        notes.append("held-out base generations for the threshold were made by this evaluation "
                     "(the build has no preference_test pairs)")
    if not data.generated_train:
        prompts = data.train_prompts[:config.base_answers]
        say(f"The build has no DPO pairs: generating base answers to {len(prompts)} train prompts…")
        data.generated_train = _one_each(backend, prompts, params, config.seed + 200_000)
        notes.append(f"base generations for {len(prompts)} train prompts were made by this "
                     "evaluation (the build has no preference_train pairs)")


def _one_each(backend, conversations, params, seed: int, batch: int = 8) -> list[str]:
    from dataclasses import replace

    texts = []
    for start in range(0, len(conversations), batch):
        chunk = conversations[start:start + batch]
        texts += [g.text for g in backend.generate(chunk, replace(params, seed=seed + start))]
    return texts


def _request(prompt) -> str:
    """The held-out prompt's user message: the request every system was given."""
    return next((m["content"] for m in reversed(prompt.messages) if m["role"] == "user"), prompt.idea)


def _row(name: str, model_id: str, outputs: list[str], figures: RowFigures,
         perplexity: float | None = None, voice_scores: list[float] | None = None) -> SystemResult:
    value = figures.value
    return SystemResult(name=name, model_id=model_id, outputs=outputs,
                        attribution_share=value("attribution_share"),
                        detector_auc=value("detector_auc"), rouge_l=value("rouge_l"),
                        chrf=value("chrf"), perplexity=perplexity, voice_scores=voice_scores or [],
                        relevance=value("relevance"), support=value("support"),
                        support_claims=figures.support_claims, copying=value("copying"),
                        longest_copy=value("longest_copy"), intervals=figures.intervals())


def _measure(system: System, outputs: list[str], references: list[str], figures: RowFigures,
             model_id: str, perplexity: float | None, judge, voice_scores: list[float]) -> SystemResult:
    result = _row(system.name, model_id, outputs, figures, perplexity, voice_scores)
    if judge is not None:
        summary = judge.grade_all(outputs, references)
        result.judge_accuracy, result.judge_style = summary.accuracy, summary.style
        result.judge_unparsable = summary.unparsable
    return result


def _sanity_rows(scorer: RowScorer, requests: list[list[str]]) -> list[SystemResult]:
    """The real held-out posts (must win every metric) and a random training post per prompt
    (pure copying: must lose on relevance and copying), measured like every system."""
    copied = scorer.random_training_posts()
    return [_row(REAL_POSTS, "–", list(scorer.posts), scorer.real_posts(requests)),
            _row(RANDOM_TRAINING_POST, "–", copied, scorer.measure(copied, requests))]


def _perplexity(settings: TwinSettings, run, data: EvalData, notes: list[str]) -> float | None:
    from llm_twin.backends.loading import load_base_model, load_tuned_model
    from llm_twin.training.metrics import perplexity

    if run is None:
        model, tokenizer = load_base_model(settings, model=settings.generation_model,
                                           gguf_file=settings.gguf_file)
    else:
        model, tokenizer = load_tuned_model(run, settings)
    value = perplexity(model, tokenizer, data.test_conversations).value
    del model
    gc.collect()
    if math.isnan(value):
        notes.append("held-out perplexity: no held-out tokens")
        return None
    return value


def _impostor_folder(config: EvalConfig) -> Path | None:
    from llm_twin.training.metrics import default_impostor_folder

    if config.impostor is not None:
        return config.impostor
    default = default_impostor_folder()
    return default if default.is_dir() else None


def _config_dict(config: EvalConfig, k: int, impostor: Path | None) -> dict[str, Any]:
    return {"systems": config.systems, "limit": config.limit, "k": k,
            "max_new_tokens": config.max_new_tokens, "seed": config.seed,
            "model": config.model, "impostor": str(impostor) if impostor else None,
            "judge": config.judge.model if config.judge is not None else None}
