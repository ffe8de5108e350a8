"""inference.ranking's shared assembly of a batch's parts and its fluency part, and the ranked pick
of `twin eval` built from the same parts and weights (no model: a word-count embedder and a
backend whose scores are given)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from llm_twin.backends.base import Generation, GenerationParams, score_completions
from llm_twin.backends.llamacpp_backend import LlamaCppBackend
from llm_twin.backends.openai_backend import OpenAICompatibleBackend
from llm_twin.app.workspace import Workspace
from llm_twin.config import load_settings
from llm_twin.evaluation.heldout import HeldOutPrompt
from llm_twin.evaluation.systems import ArmOutputs, _pick, generate_plain
from llm_twin.inference.ranking import (FLUENCY_WEIGHT, RankingParts, RankingWeights, best_index, draft_fluency,
                                        ranking_parts, repetition_share)

VOCABULARY = ["queue", "postgres", "cat", "keyboard", "boring"]
MESSAGES = [{"role": "user", "content": "Write about the queue in Postgres."}]


def word_embed(texts: list[str]) -> np.ndarray:
    return np.array([[t.lower().count(w) + 0.01 for w in VOCABULARY] for t in texts], dtype=float)


class ScoringBackend:
    """Scores each completion by a table; generates the table's texts in order."""

    name, model_id, context_window = "fake", "fake", 2048

    def __init__(self, fluency: dict[str, float]):
        self.fluency = fluency
        self.scored: list[tuple[list, str]] = []

    def score(self, prompts, completions):
        self.scored += list(zip(prompts, completions))
        return [self.fluency[c] for c in completions]

    def generate(self, conversations, params):
        return [Generation(t, 1, 1, True) for t in list(self.fluency)[:len(conversations)]]


class VoiceScorer:
    class cliches:  # noqa: N801 (the attribute the ranker reads)
        @staticmethod
        def find(text: str) -> list[str]:
            return ["let's dive in"] if "dive in" in text else []

    def score(self, texts):
        return [0.5] * len(texts)


TEXTS = ["The queue lives in Postgres now, boring wins.",
         "My cat sleeps on the keyboard.",
         "The queue lives in Postgres the queue lives in Postgres the queue lives in Postgres"]


def test_ranking_parts_measures_relevance_and_repetition_and_keeps_the_given_parts():
    parts = ranking_parts("the queue in postgres", TEXTS, embed=word_embed, cliches=[0, 2, 0],
                          unsupported=[1, 0, 0], voices=[0.9, None, 0.4], fluency=[-2.0, -3.5, None])
    assert [p.cliches for p in parts] == [0, 2, 0]
    assert [p.unsupported for p in parts] == [1, 0, 0]
    assert [p.voice for p in parts] == [0.9, None, 0.4]
    assert [p.fluency for p in parts] == [-2.0, -3.5, None]
    assert parts[0].relevance > parts[1].relevance
    assert [p.repetition for p in parts] == [repetition_share(t) for t in TEXTS]
    assert parts[2].repetition > 0.5 and parts[0].repetition == 0


def test_ranking_parts_without_an_embedder_or_scores_leaves_those_parts_out():
    parts = ranking_parts("idea", TEXTS[:2])
    assert all(p.relevance is None and p.voice is None and p.fluency is None for p in parts)
    assert all(p.cliches == 0 and p.unsupported == 0 for p in parts)
    assert ranking_parts("idea", []) == []


@pytest.mark.parametrize("given", ["cliches", "unsupported", "voices", "fluency"])
def test_ranking_parts_refuses_a_part_of_the_wrong_length(given):
    with pytest.raises(ValueError, match=f"1 {given} for 2 drafts"):
        ranking_parts("idea", TEXTS[:2], **{given: [0]})


def test_the_fluency_weight_counts_fluency_and_a_missing_fluency_counts_nothing():
    fluent, odd = RankingParts(relevance=0.5, fluency=-2.0), RankingParts(relevance=0.5, fluency=-4.0)
    unscored = RankingParts(relevance=0.5)
    neutral = RankingWeights(fluency=0.0)
    assert fluent.score(neutral) == odd.score(neutral) == unscored.score(neutral) == 0.5
    # By default the less likely draft wins (FLUENCY_WEIGHT < 0); no fluency counts nothing.
    assert RankingWeights().fluency == FLUENCY_WEIGHT < 0 and odd.score() > fluent.score()
    prefer_fluent, prefer_unlikely = RankingWeights(fluency=0.1), RankingWeights(fluency=-0.1)
    assert fluent.score(prefer_fluent) == pytest.approx(0.5 - 0.2)
    assert best_index([odd, fluent], prefer_fluent) == 1
    assert best_index([fluent, odd], prefer_unlikely) == 1
    assert unscored.score(prefer_fluent) == 0.5
    shown = fluent.to_json(prefer_fluent)
    assert shown["fluency"] == -2.0 and shown["weights"]["fluency"] == 0.1
    assert unscored.to_json()["fluency"] is None


def test_draft_fluency_asks_the_backend_for_each_draft_given_the_prompt():
    backend = ScoringBackend({TEXTS[0]: -2.0, TEXTS[1]: -3.0})
    assert draft_fluency(backend, MESSAGES, TEXTS[:2]) == [-2.0, -3.0]
    assert backend.scored == [(MESSAGES, TEXTS[0]), (MESSAGES, TEXTS[1])]
    assert draft_fluency(backend, MESSAGES, []) == []


def test_backends_that_cannot_score_report_none(tmp_path):
    cannot = [OpenAICompatibleBackend("http://127.0.0.1:9/v1", "some-model"),
              LlamaCppBackend(tmp_path / "model.gguf")]
    for backend in cannot:
        assert score_completions(backend, [MESSAGES], ["text"]) is None
        assert draft_fluency(backend, MESSAGES, TEXTS[:2]) is None
        parts = ranking_parts("idea", TEXTS[:2], fluency=draft_fluency(backend, MESSAGES, TEXTS[:2]))
        assert all(p.fluency is None for p in parts)
    with pytest.raises(ValueError, match="2 prompts for 1 completions"):
        score_completions(ScoringBackend({}), [MESSAGES, MESSAGES], ["one"])


def test_the_eval_pick_ranks_with_the_shared_parts_and_the_given_weights():
    # Equal relevance and voice: the fluency weight alone decides, in either direction.
    texts = ["the queue in postgres, shipped.", "the queue in postgres, boring."]
    backend = ScoringBackend({texts[0]: -1.5, texts[1]: -3.0})
    picked = {}
    for weight in (0.5, -0.5):
        outputs = ArmOutputs()
        _pick(outputs, "the queue in postgres", texts, VoiceScorer(), word_embed, random.Random(0),
              backend=backend, messages=MESSAGES, weights=RankingWeights(fluency=weight))
        picked[weight] = outputs.ranked[0]
        expected = ranking_parts("the queue in postgres", texts, embed=word_embed,
                                 voices=[0.5, 0.5], cliches=[0, 0], fluency=[-1.5, -3.0])
        assert outputs.ranked[0] == texts[best_index(expected, RankingWeights(fluency=weight))]
    assert picked == {0.5: texts[0], -0.5: texts[1]}


def test_generate_plain_scores_the_fluency_given_each_held_out_prompt():
    texts = ["the queue in postgres, shipped.", "my cat, the keyboard, dive in."]
    backend = ScoringBackend({texts[0]: -3.0, texts[1]: -1.0})
    prompt = HeldOutPrompt(idea="the queue in postgres", platform="blog", messages=MESSAGES,
                           answer="The queue is in Postgres.", document_id=None, created_at=None)
    outputs = generate_plain(backend, [prompt], GenerationParams(), k=2, scorer=VoiceScorer(), seed=0,
                             embed=word_embed, weights=RankingWeights(fluency=1.0))
    # Fluency 1.0 outweighs relevance and the cliché: the second draft is picked.
    assert outputs.ranked == [texts[1]]
    assert backend.scored == [(MESSAGES, texts[0]), (MESSAGES, texts[1])]
    plain = generate_plain(backend, [prompt], GenerationParams(), k=2, scorer=VoiceScorer(), seed=0,
                           embed=word_embed, weights=RankingWeights(fluency=0.0))
    assert plain.ranked == [texts[0]]


def test_the_fluency_weight_setting_reaches_the_ranking_weights(monkeypatch, tmp_path):
    assert load_settings(tmp_path).rank_fluency_weight == FLUENCY_WEIGHT  # one default
    monkeypatch.setenv("TWIN_RANK_FLUENCY_WEIGHT", "-0.25")
    monkeypatch.setenv("TWIN_RANK_VOICE_WEIGHT", "0.5")
    weights = Workspace(load_settings(tmp_path)).ranking_weights()
    assert weights == RankingWeights(voice=0.5, fluency=-0.25)
    monkeypatch.setenv("TWIN_RANK_FLUENCY_WEIGHT", "fluent")
    with pytest.raises(ValueError):
        load_settings(tmp_path)
