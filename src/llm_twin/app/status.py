"""The workspace at a glance (`twin init`, `twin status`): what it holds and which models serve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_twin.app.workspace import Workspace
from llm_twin.config import set_config_value
from llm_twin.features.engagement import EngagedPost, top_posts
from llm_twin.storage.warehouse import WarehouseSummary, summarize


def init_workspace(ws: Workspace, owner: str | None = None) -> None:
    """Record the owner's name and create the database schema now, so `status` works at once."""
    if owner:
        set_config_value(ws.settings, "owner_name", owner)
    _ = ws.sessions


TOP_POSTS = 3  # best posts shown per platform


@dataclass
class WorkspaceStatus:
    owner: str
    summary: WarehouseSummary
    stale_embedding_models: list[str]  # models some of the index was built with, not the configured
    backend: Any  # backends.factory's choice: its name and the reason
    tuned_run: Any  # the fine-tuned run drafts use; None: the base model
    ct2_precision: str | None  # "<compute type> on <device>" when CTranslate2 generates
    # The owner's best posts per platform by engagement (features.engagement), best first.
    top_posts: dict[str, list[EngagedPost]] = field(default_factory=dict)


def workspace_status(ws: Workspace) -> WorkspaceStatus:
    with ws.sessions() as session:
        summary = summarize(session)
        best = top_posts(session, TOP_POSTS)
    choice = ws.backend_choice()
    stale = [m for m in summary.embedding_models if m != ws.settings.embedding_model]
    return WorkspaceStatus(ws.owner_name(), summary, stale, choice, ws.tuned_run(),
                           _ct2_precision(ws) if choice.name == "ctranslate2" else None,
                           top_posts=best)


def _ct2_precision(ws: Workspace) -> str:
    from llm_twin.backends.ctranslate2_backend import resolve_compute_type, resolve_ct2_device

    device = resolve_ct2_device(ws.settings.device)
    return f"{resolve_compute_type(ws.settings.ct2_compute_type, device)} on {device}"
