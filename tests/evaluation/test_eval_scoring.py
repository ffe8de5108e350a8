"""Rows of the `twin eval` table measured by one scorer: the sanity rows' ordering on a small
fixture (real held-out posts beat a random training post on relevance and copying), intervals
around every figure, and the table/results.json shape (headline first, sanity rows present)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from llm_twin.errors import DatasetError
from llm_twin.evaluation.classifiers import AttributionClassifier
from llm_twin.evaluation.harness import EvalResult, SystemResult
from llm_twin.evaluation.report import COLUMNS, markdown_table, table_rows
from llm_twin.evaluation.scoring import FIGURES, RANDOM_TRAINING_POST, REAL_POSTS, RowScorer

TOPICS = ["postgres queue", "sourdough bread", "marathon running", "rust borrow checker",
          "garden tomatoes", "chess openings", "vinyl records", "mountain cycling"]


def post(topic: str, variant: int) -> str:
    return (f"Honestly, I keep coming back to {topic}. Note {variant}: the {topic} thing taught me "
            f"patience, and {topic} rewards it. Variant {variant} of my {topic} thoughts, ha!")


OWNER_TRAIN = [post(t, v) for v in range(2) for t in TOPICS]
HELD_OUT = [f"Newer thoughts on {t}, honestly: slower this year, and {t} with friends beats {t} "
            "alone. Ha!" for t in TOPICS]
IMPOSTOR = [f"The {t} documentation describes configuration option {i} in detail."
            for i, t in enumerate(TOPICS * 2)]


def word_embed(texts: list[str]) -> np.ndarray:
    vocabulary = sorted({w for t in TOPICS for w in t.split()})
    return np.asarray([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=float)


@pytest.fixture(scope="module")
def scorer() -> RowScorer:
    classifier = AttributionClassifier.fit(OWNER_TRAIN, IMPOSTOR[:8]).calibrate(IMPOSTOR[8:])
    return RowScorer(HELD_OUT, OWNER_TRAIN, classifier, word_embed, seed=0)


def test_real_posts_beat_a_random_training_post_on_relevance_and_copying(scorer):
    requests = [[f"Write a post about {t}"] for t in TOPICS]
    real = scorer.real_posts(requests)
    copied = scorer.measure(scorer.random_training_posts(), requests)
    assert real.value("relevance") == 1.0
    assert copied.value("relevance") < 0.7
    assert real.value("copying") < copied.value("copying") == 1.0
    assert copied.value("longest_copy") >= 25  # a whole training post
    assert real.value("rouge_l") > copied.value("rouge_l")
    for figures in (real, copied):
        for name in FIGURES:
            value, low, high = figures.intervals()[name]
            if value is not None and low is not None:
                assert low - 1e-9 <= value <= high + 1e-9, name


def test_rows_need_one_text_per_prompt_and_training_posts(scorer):
    with pytest.raises(ValueError, match="2 texts for 8"):
        scorer.measure(["a", "b"], [[], []])
    empty = RowScorer(HELD_OUT, [], scorer.classifier, word_embed)
    with pytest.raises(DatasetError, match="No training posts"):
        empty.random_training_posts()


def test_empty_drafts_and_one_prompt_are_measured_not_crashed(scorer):
    figures = scorer.measure([""] * len(HELD_OUT), [[]] * len(HELD_OUT))
    assert figures.value("relevance") == 0.0 and figures.value("copying") == 0.0
    assert figures.value("support") is None and figures.support_claims == 0
    single = RowScorer(HELD_OUT[:1], OWNER_TRAIN, scorer.classifier, word_embed)
    one = single.measure([HELD_OUT[0]], [["idea"]])
    assert one.value("relevance") is None and one.value("detector_auc") is None
    assert one.value("chrf") == pytest.approx(100.0)


def _result(scorer) -> EvalResult:
    requests = [["idea"]] * len(HELD_OUT)
    real, copied = scorer.real_posts(requests), scorer.random_training_posts()

    def row(name, model, texts, figures):
        return SystemResult(name=name, model_id=model, outputs=texts,
                            attribution_share=figures.value("attribution_share"),
                            detector_auc=figures.value("detector_auc"),
                            rouge_l=figures.value("rouge_l"), chrf=figures.value("chrf"),
                            perplexity=None, relevance=figures.value("relevance"),
                            intervals=figures.intervals())

    return EvalResult(dataset_id="d", created_at="now", config={}, prompts=[], notes=[],
                      systems=[row("tuned", "sft-1", copied, scorer.measure(copied, requests))],
                      sanity=[row(REAL_POSTS, "–", HELD_OUT, real)],
                      reference={"attribution_share": real.value("attribution_share"), "count": 8},
                      attribution={"threshold": 0.5})


def test_table_puts_passes_as_you_first_with_intervals_and_the_sanity_rows(scorer):
    result = _result(scorer)
    header, rows = table_rows(result)
    assert header[:3] == ["system", "passes as you", "attributed"]
    assert [r[0] for r in rows] == ["tuned", REAL_POSTS]
    assert "[" in rows[0][header.index("relevance")]  # "0.55 [0.31–0.80]"
    narrow = table_rows(result, interval="below")[1]
    assert "\n" in narrow[0][header.index("relevance")]
    assert markdown_table(result).count("\n") == 3
    assert [key for key, _, _ in COLUMNS] == list(FIGURES)
    saved = json.loads(json.dumps(asdict(result), default=str))
    assert set(saved["systems"][0]["intervals"]) == set(FIGURES) and saved["sanity"]
    assert RANDOM_TRAINING_POST == "a random training post"
