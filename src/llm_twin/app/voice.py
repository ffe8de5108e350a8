"""Fitting the voice model: `twin voice fit`, the server's voice job, `twin write -n N` when the
workspace has none yet, and `twin eval`'s ranked systems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend

if TYPE_CHECKING:
    from llm_twin.inference.voice import VoiceScorer, VoiceTrainingTexts

BASE_DRAFTS = "base-model drafts"  # the stage in which fitting generates drafts to contrast with


def fit_voice(ws: Workspace, backend: Backend | None, *, dataset_id: str | None = None,
              prompts: int | None = None,
              progress: Progress = SILENT) -> tuple[VoiceScorer, dict]:
    """Fit and store the voice model; returns (scorer, card). Uses the newest dataset build's
    base-model answers, else generates some with `backend` (see training_data.voice_texts)."""
    from llm_twin.training_data import voice_texts

    with ws.sessions() as session:
        texts = voice_texts.collect_training_texts(
            session, ws.settings.workspace, owner=ws.owner_name(), backend=backend,
            params=ws.generation_params(), reference_dirs=ws.settings.voice_reference_dirs,
            dataset_id=dataset_id, prompts=prompts or voice_texts.FIT_PROMPTS,
            progress=lambda done, total: progress.report(BASE_DRAFTS, done, total))
    return _fit_and_save(ws, texts)


def fit_voice_on_answers(ws: Workspace, base_answers: Sequence[str], *,
                         dataset_id: str | None) -> tuple[VoiceScorer, dict]:
    """Fit and store the voice model on base-model answers already generated (`twin eval` has
    them): no second round of generation."""
    from llm_twin.inference.voice import VoiceTrainingTexts
    from llm_twin.training_data import voice_texts

    with ws.sessions() as session:
        owner = voice_texts.owner_prose(session)
    reference, sources = voice_texts.reference_texts(ws.settings.voice_reference_dirs)
    texts = VoiceTrainingTexts(owner, list(base_answers), reference,
                               dataset_id=dataset_id, reference_sources=sources)
    return _fit_and_save(ws, texts)


def _fit_and_save(ws: Workspace, texts: VoiceTrainingTexts) -> tuple[VoiceScorer, dict]:
    from llm_twin.inference import voice

    from llm_twin.inference.style_drift import owner_drift

    scorer, card = voice.fit_voice_model(texts)
    with ws.sessions() as session:
        card["drift"] = [row.to_json() for row in owner_drift(session)]
    voice.save_voice_model(ws.settings.workspace, scorer, card)
    return scorer, card
