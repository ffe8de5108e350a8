"""The imported sources (`twin sources`, `GET /api/sources`) and forgetting one completely
(`twin forget`, `DELETE /api/sources/{id}`): its documents and chunks (warehouse), its vectors,
the dataset builds holding its text, the logged generations that drew on it, and the fine-tuned
models whose weights saw it (each run's recorded lineage): deleted, retrained without it, or kept
with a warning (`models`: MODEL_POLICIES)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, select

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import Workspace
from llm_twin.errors import DatasetError, InputError, NotFoundError
from llm_twin.storage.history import forget_generations
from llm_twin.storage.models import PUBLIC_AUDIENCES, Document, Source
from llm_twin.storage.vector_store import VectorStore
from llm_twin.training_data.store import forget_sources as forget_dataset_builds

if TYPE_CHECKING:
    from llm_twin.storage.models import TrainingRun

# What `twin forget` does with the models that saw the source: delete them (adapters, exports,
# registry rows); delete them and train a replacement without the source, with the same
# hyperparameters; or keep them (their weights still hold the source's words).
MODEL_POLICIES = ("delete", "retrain", "keep")


@dataclass
class SourceListing:
    id: int
    format_name: str
    path: str
    imported_at: datetime
    owner: str | None
    documents: dict[tuple[str, str], int]  # (platform, kind) -> count
    timezone: str | None = None  # the zone its dates are shown in (chats: `--timezone`)
    first: datetime | None = None  # its oldest and newest dated documents, in UTC
    last: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.documents.values())


@dataclass
class SourceSummary:
    id: int
    path: str
    documents: int


@dataclass
class ModelExposure:
    """A run whose weights saw the source, and the files holding them."""

    run_id: str
    kind: str
    status: str
    active: bool
    dataset_id: str
    how: str  # "lineage" (recorded), "card" (its build's card), "parent" (its SFT run saw it)
    paths: list[str]  # adapter folder, exports, merged/GGUF/CTranslate2 copies

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "kind": self.kind, "status": self.status,
                "active": self.active, "dataset_id": self.dataset_id, "how": self.how,
                "paths": self.paths}


@dataclass
class Retrain:
    """A run to train again without the source: its kind and config, and (DPO) its SFT run's."""

    old_run_id: str
    kind: str
    config: dict[str, Any]
    card: dict[str, Any] | None  # the old build's card: how to rebuild the dataset
    parent: Retrain | None = None  # a DPO run's SFT run, when that saw the source too
    parent_id: str | None = None  # a DPO run's SFT run, when that one is kept
    active: bool = False


@dataclass
class ForgetReport:
    source: SourceSummary
    dataset_builds_removed: list[str]
    generations_removed: int
    models: str = "delete"  # the policy applied: MODEL_POLICIES
    runs: list[ModelExposure] = field(default_factory=list)  # the runs that saw the source
    unknown_lineage: list[str] = field(default_factory=list)  # runs whose data cannot be told
    runs_deleted: list[str] = field(default_factory=list)
    paths_deleted: list[str] = field(default_factory=list)
    switched_to_base: bool = False
    retrain: Retrain | None = None  # what `retrain_after_forget` trains
    retrained: dict[str, str] = field(default_factory=dict)  # old run id -> new run id
    retrain_problem: str | None = None  # why no replacement was trained
    dataset_rebuilt: str | None = None

    @property
    def warning(self) -> str | None:
        if self.models == "keep" and self.runs:
            return (f"{len(self.runs)} model(s) kept ({', '.join(r.run_id for r in self.runs)}): "
                    "the source's words remain in their weights and exports.")
        if self.unknown_lineage:
            return (f"Run(s) {', '.join(self.unknown_lineage)} recorded no lineage and their "
                    "dataset build is gone: whether they saw this source cannot be told.")
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"forgotten": self.source.id, "documents": self.source.documents,
                "dataset_builds_removed": self.dataset_builds_removed,
                "generations_removed": self.generations_removed, "models": self.models,
                "runs_that_saw_it": [r.as_dict() for r in self.runs],
                "unknown_lineage": self.unknown_lineage, "runs_deleted": self.runs_deleted,
                "paths_deleted": self.paths_deleted, "switched_to_base": self.switched_to_base,
                "dataset_rebuilt": self.dataset_rebuilt, "retrained": self.retrained,
                "retrain_problem": self.retrain_problem, "warning": self.warning}


def list_sources(ws: Workspace) -> list[SourceListing]:
    """Every imported source, oldest first, with its document counts by platform and kind."""
    with ws.sessions() as session:
        sources = session.scalars(select(Source).order_by(Source.id)).all()
        counts = session.execute(select(Document.source_id, Document.platform, Document.kind,
                                        func.count()).group_by(Document.source_id,
                                                               Document.platform, Document.kind))
        by_source: dict[int, dict[tuple[str, str], int]] = {}
        for source_id, platform, kind, count in counts:
            by_source.setdefault(source_id, {})[(platform, kind)] = count
        spans = {source_id: (first, last) for source_id, first, last in session.execute(
            select(Document.source_id, func.min(Document.created_at),
                   func.max(Document.created_at)).group_by(Document.source_id))}
        return [SourceListing(s.id, s.format_name, s.path, s.imported_at, s.owner,
                              by_source.get(s.id, {}), s.timezone,
                              *(_utc(moment) for moment in spans.get(s.id, (None, None))))
                for s in sources]


def _utc(moment: datetime | None) -> datetime | None:
    """An aggregate's datetime: SQLite hands MIN/MAX back naive (or as text), in UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


# What each kind of text is used for (`twin sources --audit`): drafts for public platforms
# (`twin write`, the web app, the chat API), `twin reply`, and the training datasets.
YES, NO, WIDENED = "yes", "no", "only with --include-private"


@dataclass
class AudienceUse:
    """One source's documents of one audience (chat messages apart), and where they are used."""

    source_id: int
    format_name: str
    path: str
    audience: str  # storage.models.AUDIENCES
    chats: bool  # chat messages (kind "message"), always `private`
    documents: int
    owner_documents: int  # the owner's own; others' texts are never examples or training answers
    posts: str  # retrieval for public-platform drafts and the chat API: YES, NO or WIDENED
    replies: str  # retrieval for `twin reply`
    training: str  # training answers (posts) or conversation samples (replies)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source_id, "format": self.format_name, "path": self.path,
                "audience": self.audience, "chats": self.chats, "documents": self.documents,
                "owner_documents": self.owner_documents,
                "used_for": {"retrieval_posts": self.posts, "retrieval_replies": self.replies,
                             "training": self.training}}


def audience_uses(audience: str, chats: bool) -> tuple[str, str, str]:
    """(posts, replies, training) for the owner's texts of this audience, as the code uses them:
    inference.writer.post_audiences, inference.reply, training_data.quality.keep_public and
    training_data.conversations."""
    if chats:
        return NO, YES, "yes (reply samples)"
    if audience in PUBLIC_AUDIENCES:
        return YES, NO, "yes (post samples)"
    return WIDENED, NO, NO


def audit_sources(ws: Workspace) -> list[AudienceUse]:
    """Per source, its documents counted by audience, and what each group is used for."""
    is_chat = Document.kind == "message"
    with ws.sessions() as session:
        sources = {s.id: s for s in session.scalars(select(Source).order_by(Source.id))}
        rows = session.execute(
            select(Document.source_id, Document.audience, is_chat, func.count(),
                   func.sum(case((Document.is_owner.is_(True), 1), else_=0)))
            .group_by(Document.source_id, Document.audience, is_chat)
            .order_by(Document.source_id, Document.audience)).all()
        uses = []
        for row in rows:
            source_id, audience, chats = int(row[0]), str(row[1]), bool(row[2])
            source = sources[source_id]
            uses.append(AudienceUse(source_id, source.format_name, source.path, audience, chats,
                                    int(row[3]), int(row[4] or 0), *audience_uses(audience, chats)))
        return uses


def describe_source(ws: Workspace, source_id: int) -> SourceSummary:
    with ws.sessions() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise NotFoundError(f"No source #{source_id}; see `twin sources`.")
        count = session.scalar(select(func.count()).select_from(Document)
                               .where(Document.source_id == source_id)) or 0
        return SourceSummary(source_id, source.path, count)


def forget_source(ws: Workspace, store: VectorStore | None, source_id: int, *,
                  models: str = "delete", progress: Progress = SILENT) -> ForgetReport:
    """Forget everything of a source; `store`: the open vector store, None when never built.
    Vectors go first: if that fails, the warehouse still lists the source and a retry works.
    `models` (MODEL_POLICIES) says what becomes of the runs that saw it; "retrain" trains the
    replacement here (long: a dataset build and a training run) after switching to the base."""
    if models not in MODEL_POLICIES:
        raise InputError(f"models must be one of {', '.join(MODEL_POLICIES)}, not {models!r}.")
    summary = describe_source(ws, source_id)
    exposures, unknown = models_that_saw(ws, source_id)
    _refuse_live_training(ws, exposures)
    plan = _retrain_plan(ws, exposures) if models == "retrain" else None
    if store is not None:
        store.delete_source(source_id)
    with ws.sessions.begin() as session:
        generations = forget_generations(session, [source_id])
        session.execute(delete(Source).where(Source.id == source_id))
    builds = forget_dataset_builds(ws.settings.workspace, [source_id])
    report = ForgetReport(summary, builds, generations, models, exposures, unknown, retrain=plan)
    if models != "keep":
        _delete_runs(ws, exposures, report)
    if plan is not None:
        retrain_after_forget(ws, report, progress)
    return report


def models_that_saw(ws: Workspace, source_id: int) -> tuple[list[ModelExposure], list[str]]:
    """The runs whose weights saw the source (a DPO run sees its SFT run's sources too), and
    the runs whose lineage cannot be told (none recorded, build gone)."""
    from llm_twin.training.registry import list_runs, mark_interrupted, read_card, run_source_ids
    from llm_twin.training_data.store import datasets_root

    root = datasets_root(ws.settings.workspace)
    with ws.sessions() as session:
        mark_interrupted(session)
        runs = list_runs(session)
        for run in runs:
            session.expunge(run)
    seen: dict[str, str] = {}
    unknown = []
    for run in runs:
        sources = run_source_ids(run)
        how = "lineage"
        if sources is None or not (run.lineage or {}).get("card_found", True):
            card = read_card(root / run.dataset_id)
            sources = {int(i) for i in card.get("source_ids", [])} if card else None
            how = "card"
        if sources is None:
            unknown.append(run.id)
        elif source_id in sources:
            seen[run.id] = how
    by_id = {run.id: run for run in runs}
    changed = True
    while changed:  # a run stacked on one that saw the source saw it too
        changed = False
        for run in runs:
            if run.id not in seen and run.parent_id in seen:
                seen[run.id], changed = "parent", True
    unknown = [run_id for run_id in unknown if run_id not in seen]
    exports = _export_folders(ws)
    return [ModelExposure(run.id, run.kind, run.status, run.is_active, run.dataset_id, seen[run.id],
                          _run_paths(run, exports.get(run.id, [])))
            for run in runs if run.id in seen and run.id in by_id], unknown


def default_model_policy(exposures: list[ModelExposure]) -> str:
    """Without --models and without a person to ask: retrain when the model in use saw the
    source (the twin keeps a tuned model, without the source's words), else delete."""
    return "retrain" if any(e.active for e in exposures) else "delete"


def _export_folders(ws: Workspace) -> dict[str, list[str]]:
    """Export folders under <workspace>/exports by the run they came from (their export.json)."""
    found: dict[str, list[str]] = {}
    root = ws.settings.workspace / "exports"
    if not root.is_dir():
        return found
    for manifest in sorted(root.glob("*/export.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        run_id = data.get("run") or data.get("model") if isinstance(data, dict) else None
        if isinstance(run_id, str):
            found.setdefault(run_id, []).append(str(manifest.parent.resolve()))
    return found


def _run_paths(run: TrainingRun, exports: list[str]) -> list[str]:
    adapter = Path(run.adapter_path)
    folder = adapter.parent if adapter.parent.name == run.id else adapter
    paths = [str(folder), *(run.exports or []), *exports]
    inside = [Path(p) for p in paths]
    for extra in (run.merged_path, run.gguf_path, run.ct2_path):
        if extra and not any(Path(extra).is_relative_to(p) for p in inside):
            paths.append(extra)
    return list(dict.fromkeys(paths))


def _refuse_live_training(ws: Workspace, exposures: list[ModelExposure]) -> None:
    running = [e.run_id for e in exposures if e.status == "running"]
    if running:
        raise InputError(f"Run(s) {', '.join(running)} trained on this source and are still "
                         "training; stop them (Ctrl-C) and forget the source again.")


def _retrain_plan(ws: Workspace, exposures: list[ModelExposure]) -> Retrain | None:
    """The run to replace: the one in use when it saw the source, else the newest finished one."""
    from llm_twin.training.registry import get_run, read_card
    from llm_twin.training_data.store import datasets_root

    finished = [e for e in exposures if e.status == "finished"]
    chosen = next((e for e in finished if e.active), finished[0] if finished else None)
    if chosen is None:
        return None
    affected = {e.run_id for e in exposures}
    root = datasets_root(ws.settings.workspace)

    def plan(run_id: str) -> Retrain:
        with ws.sessions() as session:
            run = get_run(session, run_id)
            config = dict(run.hyperparameters.get("config", {}))
            kind, parent_id, dataset_id = run.kind, run.parent_id, run.dataset_id
        parent = plan(parent_id) if kind == "dpo" and parent_id in affected else None
        return Retrain(run_id, kind, config, read_card(root / dataset_id), parent,
                       parent_id if parent is None else None)

    retrain = plan(chosen.run_id)
    retrain.active = chosen.active
    return retrain


def _delete_runs(ws: Workspace, exposures: list[ModelExposure], report: ForgetReport) -> None:
    """Switch to the base model if the one in use saw the source, then delete every such run's
    files (adapter folder, exports) and registry row; DPO runs before their SFT runs."""
    from llm_twin.training.registry import delete_run_row, use_run

    if any(e.active for e in exposures):
        with ws.sessions() as session:
            use_run(session, None)
        report.switched_to_base = True
    for exposure in sorted(exposures, key=lambda e: e.kind != "dpo"):
        for path in exposure.paths:
            if _remove(Path(path)):
                report.paths_deleted.append(path)
        with ws.sessions() as session:
            delete_run_row(session, exposure.run_id)
        report.runs_deleted.append(exposure.run_id)


def _remove(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
        return True
    if path.exists() or path.is_symlink():
        path.unlink()
        return True
    return False


def retrain_after_forget(ws: Workspace, report: ForgetReport, progress: Progress = SILENT) -> None:
    """Rebuild the dataset (the source is gone) with the options the old build's card records,
    and train the replacement run(s) with the old hyperparameters; the new run records
    `retrained_after_forget` and becomes the model in use if the old one was. Nothing left to
    train on is reported, not raised: the twin then stays on the base model."""
    plan = report.retrain
    if plan is None:
        return
    try:
        dataset_id = _rebuild_dataset(ws, plan, progress)
    except DatasetError as error:
        report.retrain_problem = f"no dataset without the source: {error}"
        return
    report.dataset_rebuilt = dataset_id
    new_id = _train_again(ws, plan, dataset_id, report, progress)
    if new_id is not None and plan.active:
        from llm_twin.training.registry import use_run

        with ws.sessions() as session:
            use_run(session, new_id)
        report.switched_to_base = False


def _rebuild_dataset(ws: Workspace, plan: Retrain, progress: Progress) -> str:
    from llm_twin.app.dataset import DatasetSpec, build_dataset

    card = plan.card or (plan.parent.card if plan.parent else None) or {}
    writer = str(card.get("instructions", {}).get("writer", "model"))
    spec = DatasetSpec(instructions="model" if writer.startswith("model") else "extractive",
                       preferences=bool(card.get("preferences", {}).get("sources", True)),
                       test_share=card.get("splits", {}).get("test_share"),
                       served_prompts=bool(card.get("prompts", {}).get("served", True)))
    stored, _ = build_dataset(ws, ws.backend(), spec, progress=progress)
    return stored.id


def _train_again(ws: Workspace, plan: Retrain, dataset_id: str, report: ForgetReport,
                 progress: Progress) -> str | None:
    from llm_twin.training.dpo import DpoConfig, train_dpo
    from llm_twin.training.progress import ReportingCallback
    from llm_twin.training.registry import mark_lineage
    from llm_twin.training.sft import SftConfig, train_sft

    parent_id = plan.parent_id
    if plan.parent is not None:
        parent_id = _train_again(ws, plan.parent, dataset_id, report, progress)
        if parent_id is None:
            return None
    title = f"retraining {plan.old_run_id} without the source"
    callbacks = [ReportingCallback(lambda done, total, _: progress.report(title, done, total))]
    try:
        if plan.kind == "sft":
            run = train_sft(ws.settings, ws.sessions, SftConfig.from_dict(plan.config),
                            dataset_id=dataset_id, callbacks=callbacks)
        else:
            run = train_dpo(ws.settings, ws.sessions, DpoConfig.from_dict(plan.config),
                            sft_run_id=parent_id, dataset_id=dataset_id, callbacks=callbacks)
    except DatasetError as error:
        report.retrain_problem = f"{plan.old_run_id} not retrained: {error}"
        return None
    if run is None:  # an extra process of a multi-GPU launch
        return None
    with ws.sessions() as session:
        mark_lineage(session, run.id, retrained_after_forget=plan.old_run_id)
    report.retrained[plan.old_run_id] = run.id
    return str(run.id)
