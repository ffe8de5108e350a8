"""The evaluation's measuring parts on real texts: attribution classifier and its 5% threshold,
the real-vs-generated detector, ROUGE-L / chrF, judge answer parsing, the held-out filter."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from llm_twin.errors import DatasetError
from llm_twin.evaluation.classifiers import AttributionClassifier, detector_auc, style_features
from llm_twin.evaluation.heldout import impostor_texts, write_platform
from llm_twin.evaluation.judge import parse_grade, summarize
from llm_twin.evaluation.overlap import chrf, mean_overlap, rouge_l
from llm_twin.evaluation.systems import SYSTEMS, System, parse_systems

CORPORA = Path(os.environ.get("TWIN_CORPORA") or Path(__file__).parents[2].parent / "shared" / "corpora")
OWNER, OTHER = CORPORA / "brandur_fragments", CORPORA / "jbranchaud_til"
SHORT_OWNER = CORPORA / "brandur_atoms"
needs_corpora = pytest.mark.skipif(not (OWNER.is_dir() and OTHER.is_dir() and SHORT_OWNER.is_dir()),
                                   reason=f"corpora not found under {CORPORA} (set TWIN_CORPORA)")


def corpus(folder: Path, files: int) -> list[str]:
    """The folder's newest `files` posts, oldest first (names start with the date), no front matter."""
    import frontmatter

    texts = [frontmatter.load(p).content.strip() for p in sorted(folder.glob("*.md"))[-files:]]
    return [t for t in texts if t]


@needs_corpora
def test_attribution_threshold_holds_five_percent_on_heldout_impostors_and_finds_the_owner():
    owner = corpus(OWNER, 160)
    owner_train, owner_test = owner[:120], owner[120:]  # older posts train, newer ones test
    impostor_train, impostor_test = impostor_texts(OTHER, files=240)
    classifier = AttributionClassifier.fit(owner_train, impostor_train)
    classifier.calibrate(impostor_test)

    assert classifier.calibration_size == len(impostor_test) == 120
    assert classifier.calibration_fpr <= 0.05
    assert classifier.share(impostor_test) == pytest.approx(classifier.calibration_fpr)
    assert classifier.share(owner_test) >= 0.6  # another author's newer posts: clearly the owner's


@needs_corpora
def test_detector_auc_is_high_across_authors_and_near_half_within_one():
    owner = corpus(SHORT_OWNER, 80)
    other = impostor_texts(OTHER, files=80)[0]
    assert detector_auc(owner[:40], other) >= 0.85
    shuffled = random.Random(1).sample(owner, len(owner))
    assert 0.25 <= detector_auc(shuffled[:40], shuffled[40:]) <= 0.75


def test_detector_needs_two_texts_per_side_and_classifier_two_per_class():
    assert detector_auc(["one text"], ["a", "b", "c"]) is None
    with pytest.raises(DatasetError, match="at least 2 owner texts"):
        AttributionClassifier.fit(["only one"], ["x y", "z w"])


def test_style_features_see_punctuation_and_function_words():
    plain, marked = style_features(["the cat and the dog", "Wait -- what?! (really)"])
    assert plain.shape == marked.shape
    assert plain.sum() != marked.sum()


def test_overlap_is_perfect_for_the_same_text_and_low_for_another():
    post = "Keep the queue in Postgres. Boring technology wins, every time."
    assert rouge_l(post, post) == pytest.approx(1.0)
    assert chrf(post, post) == pytest.approx(100.0)
    assert rouge_l("Bananas are yellow fruit.", post) < 0.2
    assert chrf("Bananas are yellow fruit.", post) < 30
    means = mean_overlap([post, "Bananas are yellow fruit."], [post, post])
    assert means["rouge_l"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="1 outputs for 2"):
        mean_overlap([post], [post, post])


@pytest.mark.parametrize("answer, expected", [
    ('{"accuracy": 3, "style": 2}', (3, 2)),
    ('Sure! Here you go: {"Accuracy": "2", "style": 1} hope it helps', (2, 1)),
    ("Accuracy: 2/3\nStyle - 3", (2, 3)),
    ('{"accuracy": 5, "style": 2}', (None, 2)),  # out of range: not a grade
    ("The draft is pretty good overall.", (None, None)),
    ('{"accuracy": true, "style": 2}', (None, 2)),
])
def test_judge_answers_are_parsed_leniently_and_junk_is_counted(answer, expected):
    grade = parse_grade(answer)
    assert (grade.accuracy, grade.style) == expected
    summary = summarize([grade, parse_grade('{"accuracy": 1, "style": 1}')])
    assert summary.unparsable == (0 if grade.parsed else 1)
    assert summary.graded == (2 if grade.parsed else 1)


def test_systems_parse_and_reject_unknown_names():
    assert [s.name for s in parse_systems(None)] == list(SYSTEMS)
    assert parse_systems("base, tuned+rag+rank,base") == [System("base", False, False),
                                                          System("tuned", True, True)]
    with pytest.raises(ValueError, match="Unknown system 'rag'"):
        parse_systems("rag")


def test_held_out_samples_map_to_write_platforms():
    assert write_platform("linkedin", "post", "") == "linkedin"
    assert write_platform("blog", "article", "") == "blog"
    assert write_platform("paper", "paper", "") == "paper"
    assert write_platform("web", "article", "") == "medium"
    assert write_platform("blog", "post", "Write a short blog post, about 140 characters long") == "x"
    assert write_platform("blog", "post", "Write a short blog post, about 900 characters long") == "linkedin"
