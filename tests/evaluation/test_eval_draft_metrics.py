"""The per-system draft metrics on small crafted inputs: relevance (with the real MiniLM embedder),
support (the grounding check's claims), copying (>= 8-word spans), bootstrap intervals, text
distortion, and the attribution classifier's two error rates."""

from __future__ import annotations

import numpy as np
import pytest

from llm_twin.errors import DatasetError
from llm_twin.evaluation.bootstrap import (Estimate, bootstrap, max_statistic, mean_statistic,
                                           ratio_statistic)
from llm_twin.evaluation.classifiers import FEATURE_SETS, AttributionClassifier, attribution_pipeline
from llm_twin.evaluation.copying import MIN_SPAN, SpanIndex
from llm_twin.evaluation.distortion import distort, word_shape
from llm_twin.evaluation.relevance import relevance_scores
from llm_twin.evaluation.support import support_counts
from llm_twin.inference.grounding import Evidence

POSTS = [
    "Keep the job queue in Postgres: one less system to run, and transactions for free.",
    "My sourdough starter died again. Flour, water, patience, and still a flat loaf.",
    "Marathon training week 12: long run of 30 km, legs heavy, knees fine.",
    "Rust's borrow checker finally clicked for me: lifetimes are just scopes with names.",
]


def bag_of_words_embed(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in embedder: counts of a fixed vocabulary."""
    vocabulary = ["postgres", "queue", "sourdough", "loaf", "marathon", "run", "rust", "borrow"]
    return np.asarray([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=float)


def test_relevance_is_one_for_drafts_on_their_own_topic_and_low_for_swapped_ones():
    on_topic = ["Postgres as a queue works fine.", "Another flat sourdough loaf.",
                "Marathon long run today.", "The Rust borrow checker and me."]
    assert relevance_scores(on_topic, POSTS, bag_of_words_embed) == [1.0] * 4
    swapped = on_topic[1:] + on_topic[:1]
    assert all(score < 0.5 for score in relevance_scores(swapped, POSTS, bag_of_words_embed))


def test_relevance_of_empty_drafts_ties_and_bad_inputs():
    scores = relevance_scores(["", "nothing matches here", "Marathon run", "Rust borrow"], POSTS,
                              bag_of_words_embed)
    assert scores[0] == 0.0  # an empty draft is about nothing
    assert scores[1] == 0.5  # a zero vector ties with every other post: chance
    assert scores[2:] == [1.0, 1.0]
    assert relevance_scores(["Postgres"], POSTS[:1], bag_of_words_embed) == [None]  # one prompt
    assert relevance_scores([], [], bag_of_words_embed) == []
    with pytest.raises(ValueError, match="2 drafts for 3"):
        relevance_scores(["a", "b"], POSTS[:3], bag_of_words_embed)


@pytest.mark.models
def test_relevance_with_the_real_minilm_embedder():
    from llm_twin.features.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    drafts = ["We moved our background jobs into a Postgres table instead of Redis.",
              "Baking bread at home: my starter needs more feeding before the loaf rises.",
              "Twelve weeks into training for the marathon, my long runs feel easier.",
              "Understanding lifetimes in Rust made the borrow checker less scary."]
    assert relevance_scores(drafts, POSTS, embedder.embed) == [1.0] * 4
    wrong = relevance_scores(drafts[::-1], POSTS, embedder.embed)
    assert sum(wrong) / len(wrong) < 0.5


def test_support_counts_claims_backed_by_the_prompt_or_the_owner():
    owner = Evidence(["I worked at Acme for six years.", "We shipped 3 releases in 2021."])
    drafts = ["At Acme I learned to ship small.",  # a name the owner wrote: supported
              "When I was at Globex we grew 40% in a year.",  # neither name nor number known
              "I think tea helps.",  # no factual claim
              "We cut costs by 25% last year.",  # backed by the prompt's notes
              ""]
    prompts = [["an idea"], ["an idea"], ["an idea"], ["notes: costs fell 25%"], ["an idea"]]
    counts = support_counts(drafts, prompts, owner)
    assert [(c.claims, c.supported) for c in counts] == [(1, 1), (1, 0), (0, 0), (1, 1), (0, 0)]
    assert counts[2].share is None and counts[1].share == 0.0
    with pytest.raises(ValueError, match="1 drafts for 2"):
        support_counts(["x"], [["a"], ["b"]], owner)


def test_copying_finds_the_longest_shared_span_of_at_least_eight_words():
    training = ["Boring technology wins because it fails in ways you already understand well.",
                "Short note."]
    index = SpanIndex(training)
    copied = "As I said, boring technology WINS because it fails in ways you already know."
    assert index.longest_span(copied) == 10  # boring ... already
    assert index.longest_span("Boring technology wins because it fails in ways.") == 8
    assert index.longest_span("Boring technology wins because it fails in.") == 0  # 7 words
    assert index.longest_span("") == 0
    assert SpanIndex(training).longest_span(training[0]) == 12
    assert SpanIndex([]).longest_span(training[0]) == 0
    with pytest.raises(ValueError, match="at least 1"):
        SpanIndex(training, min_span=0)
    assert MIN_SPAN == 8


def test_copying_of_a_long_repeated_text_is_exact_and_fast():
    text = " ".join(f"word{i}" for i in range(3000))
    assert SpanIndex([text]).longest_span(text) == 3000
    assert SpanIndex([text]).longest_span("x " + " ".join(text.split()[500:2500])) == 2000


def test_bootstrap_interval_contains_the_estimate_and_shrinks_with_more_data():
    rng = np.random.default_rng(3)
    small = list(rng.random(20))
    large = list(rng.random(400))
    a, b = (bootstrap(mean_statistic(v), len(v), seed=0) for v in (small, large))
    for estimate in (a, b):
        assert estimate.low <= estimate.value <= estimate.high
    assert (b.high - b.low) < (a.high - a.low) / 2
    assert bootstrap(mean_statistic(small), len(small), seed=0) == a  # fixed seed: repeatable


def test_bootstrap_edge_cases():
    assert bootstrap(mean_statistic([]), 0) == Estimate(None)
    assert bootstrap(mean_statistic([None, None]), 2) == Estimate(None)
    one = bootstrap(mean_statistic([0.7]), 1)
    assert one.value == one.low == one.high == pytest.approx(0.7)
    ratio = bootstrap(ratio_statistic([1, 0, 2], [1, 0, 4]), 3)
    assert ratio.value == pytest.approx(3 / 5) and ratio.low <= ratio.value <= ratio.high
    assert bootstrap(max_statistic([3, 9, 1]), 3).value == 9
    assert bootstrap(max_statistic([3, 9, 1]), 3).high == 9
    with pytest.raises(ValueError, match="confidence"):
        bootstrap(mean_statistic([1.0]), 1, confidence=1.5)


def test_distortion_keeps_function_words_and_punctuation_and_masks_the_topic():
    assert distort("I moved our queue to Postgres in 2019!\nIt's done.") == \
        "I x our x to Xx in d!\nIt's x."
    assert word_shape("HTTP2") == "Xd" and word_shape("iPhone") == "xXx"
    assert distort("") == ""
    assert distort("Kafka queues") == distort("Redis caches")  # topics vanish


def test_classifier_reports_both_error_rates():
    owner = ["Honestly? I think so. But we never know, do we? Ha.",
             "Well, I tried it. It broke. I laughed. Then I fixed it, mostly.",
             "So here's the thing: I don't know. Nobody does. That's fine!",
             "I mean, why not? We shipped it. It works. Mostly. Ha."]
    impostor = ["The function returns a list of integers sorted in ascending order.",
                "This command installs the package and configures the default settings.",
                "The configuration file contains the database connection parameters.",
                "The method accepts an optional argument specifying the output format."]
    classifier = AttributionClassifier.fit(owner, impostor).calibrate(impostor)
    assert classifier.calibration_fpr <= 0.05
    assert 0.0 <= classifier.false_negative_rate(owner) <= 1.0
    with pytest.raises(DatasetError, match="No held-out owner texts"):
        classifier.false_negative_rate(["", "  "])
    with pytest.raises(ValueError, match="Unknown attribution features"):
        attribution_pipeline("topics")
    assert {"words", "masked-words", "masked-chars"} <= set(FEATURE_SETS)
