"""Ranking a batch of drafts: voice score minus a penalty per cliché.

    ranking score = voice score - CLICHE_PENALTY x (clichés found, at most MAX_CLICHE_HITS)

The voice score is a probability in [0, 1]; each stock phrase of the base model that the owner
never uses costs 0.05 of it, so three clichés outweigh a 0.15 lead in voice. The cap keeps one
rambling draft from sinking below drafts that are simply off-voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

CLICHE_PENALTY = 0.05
MAX_CLICHE_HITS = 6


class Scored(Protocol):
    voice_score: float | None
    cliches: list[str]


T = TypeVar("T", bound=Scored)


def ranking_score(voice_score: float | None, cliches: Sequence[str]) -> float:
    """Higher is better; a draft without a voice score counts as 0.5 (undecided)."""
    voice = 0.5 if voice_score is None else voice_score
    return voice - CLICHE_PENALTY * min(len(cliches), MAX_CLICHE_HITS)


def rank(drafts: Sequence[T]) -> list[T]:
    """Best first; ties keep the generation order (sorted is stable)."""
    return sorted(drafts, key=lambda d: -ranking_score(d.voice_score, d.cliches))
