"""Drafts for an idea (`twin write`, `POST /api/write`): one streamed as it is generated, or N as
one batch, ranked best first."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.voice import fit_voice
from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend, TextStream
from llm_twin.inference.writer import DraftWriter, WriteResult
from llm_twin.storage.vector_store import VectorStore

if TYPE_CHECKING:
    from llm_twin.inference.voice import VoiceScorer


@dataclass
class Sampling:
    """A request's generation overrides; None keeps the setting."""

    max_new_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None

    def overrides(self) -> dict[str, int | float | None]:
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
                "seed": self.seed}


@dataclass
class WriteRequest:
    idea: str
    platform: str = "linkedin"
    n: int = 1
    rank: bool = True  # rank N > 1 drafts best first
    sampling: Sampling = field(default_factory=Sampling)
    model: str | None = None  # a run id or "base"; default: the model in use
    # Notes and examples from followers-only, direct and draft texts too (never chats).
    include_private: bool = False


def needs_voice_fit(ws: Workspace, request: WriteRequest) -> bool:
    """Ranked drafts are scored by the voice model; is there none to score them yet?"""
    return request.n > 1 and request.rank and not ws.voice_scorer_exists()


def fit_voice_for_ranking(ws: Workspace, progress: Progress = SILENT) -> tuple[VoiceScorer, dict]:
    """The voice model fitted now, against the untouched base model's drafts (as `twin voice fit`)."""
    return fit_voice(ws, ws.backend("base"), progress=progress)


def write_drafts(ws: Workspace, store: VectorStore, backend: Backend, request: WriteRequest, *,
                 stream: bool, voice: VoiceScorer | None = None) -> TextStream[WriteResult]:
    """The drafts as a text stream: with `stream` and one draft, its pieces as they are generated;
    otherwise the N drafts as one batch (no pieces). `voice`: a voice model just fitted, else the
    stored one ranks."""
    writer = ws.writer(store, backend, voice=voice, rank=request.rank,
                       include_private=request.include_private, **request.sampling.overrides())
    if stream and request.n == 1:
        return writer.stream(request.idea, request.platform)
    return TextStream(_batch(writer, request))


def _batch(writer: DraftWriter, request: WriteRequest) -> Generator[str, None, WriteResult]:
    yield from ()
    return writer.write(request.idea, request.platform, n=request.n)
