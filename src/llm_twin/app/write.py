"""Drafts for an idea (`twin write`, `POST /api/write`): one streamed as it is generated, or N as
one batch, ranked best first."""

from __future__ import annotations

from collections.abc import Generator
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time, UTC
from typing import TYPE_CHECKING

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.voice import fit_voice
from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend, TextStream
from llm_twin.errors import InputError
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
    # Style examples from the owner's most engaging posts on the platform (`--like-my-best`).
    like_my_best: bool = False
    # Notes and examples only from texts dated up to this moment (`--as-of`, parse_as_of).
    as_of: datetime | None = None


# Said wherever a draft may draw on texts that were not public (`include_private`).
PRIVATE_WARNING = ("This draft may quote followers-only posts, direct messages and unpublished "
                   "drafts. Check it before you publish.")
_AS_OF = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2}))?$")


def parse_as_of(text: str) -> datetime:
    """`--as-of`: a year (up to its last moment) or a date YYYY-MM-DD (up to its end), in UTC."""
    match = _AS_OF.match(text.strip())
    try:
        if match is None:
            raise ValueError
        year = int(match[1])
        if match[2] is None:
            return datetime.combine(datetime(year, 12, 31), time.max, UTC)
        return datetime.combine(datetime(year, int(match[2]), int(match[3])), time.max, UTC)
    except ValueError:
        raise InputError(f"--as-of {text!r}: give a year (2021) or a date (2021-06-30).") from None


def era_year(ws: Workspace, request: WriteRequest) -> int | None:
    """The year whose voice `--as-of` asks the model for: only when the model in use was trained
    on a dataset built with `--era-tags` (its card's era_tags), else None."""
    from llm_twin.training_data.store import DatasetNotFound, load_build

    if request.as_of is None:
        return None
    run = ws.tuned_run(request.model)
    if run is None:
        return None
    try:
        card = load_build(ws.settings.workspace, run.dataset_id).card
    except DatasetNotFound:  # the build was deleted since: no way to know, so no tag
        return None
    return request.as_of.year if card.get("era_tags", {}).get("enabled") else None


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
    writer.options = replace(writer.options, like_my_best=request.like_my_best,
                             as_of=request.as_of, era=era_year(ws, request))
    if stream and request.n == 1:
        return writer.stream(request.idea, request.platform)
    return TextStream(_batch(writer, request))


def _batch(writer: DraftWriter, request: WriteRequest) -> Generator[str, None, WriteResult]:
    yield from ()
    return writer.write(request.idea, request.platform, n=request.n)
