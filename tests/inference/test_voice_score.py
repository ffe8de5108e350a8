"""The voice score: a char n-gram + logistic regression authorship classifier and its storage
(the texts it learns from: tests/training_data/test_voice_texts.py)."""

from __future__ import annotations

import random

import pytest

from llm_twin.inference.voice import (PIECE_CHARS, VoiceModelError, VoiceScorer,
                                      VoiceTrainingTexts, fit_voice_model, load_card, model_path,
                                      save_voice_model, training_pieces)

# The owner writes lowercase, clipped, with "tbh", "ngl" and em dashes; the others write like a
# brochure. A classifier that learns the person tells them apart on unseen sentences.
OWNER_BITS = ["tbh the queue just lives in postgres now —", "ngl i was wrong about kafka.",
              "shipped it friday. nobody noticed. good.", "runbooks > heroics, every time —",
              "we measured first, then indexed. boring wins.", "three pagers in a week? nope.",
              "cycled in, coffee, then the migration —", "small team, one database, zero drama."]
OTHER_BITS = ["In today's fast-paced world, it is important to stay ahead of the curve.",
              "Our team is excited to announce a new chapter in our journey.",
              "Here are five key takeaways that every leader should know.",
              "Unlock the power of data to drive meaningful business outcomes.",
              "Let's dive into the best practices that help organizations grow.",
              "Collaboration and communication are the foundation of success.",
              "This experience taught me valuable lessons about resilience.",
              "Thank you to everyone who made this achievement possible!"]


def texts_from(bits: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(bits, 4)) for _ in range(count)]


OWNER = texts_from(OWNER_BITS, 24, seed=1)
OTHER = texts_from(OTHER_BITS, 24, seed=2)


@pytest.fixture(scope="module")
def scorer() -> VoiceScorer:
    return VoiceScorer().fit(OWNER, OTHER)


def test_scores_are_probabilities_and_separate_the_author(scorer):
    unseen_owner = "ngl boring wins — runbooks > heroics, every time. shipped it friday."
    unseen_other = "Here are key takeaways to unlock the power of collaboration in our journey."
    owner_score, other_score = scorer.score([unseen_owner, unseen_other])
    assert 0.0 <= other_score < 0.5 < owner_score <= 1.0
    assert scorer.score([]) == []


def test_save_and_load_give_the_same_scores(scorer, tmp_path):
    scorer.cliches.phrases = ["let's dive into"]
    path = tmp_path / "voice" / "model.joblib"
    scorer.save(path)
    loaded = VoiceScorer.load(path)
    probe = ["tbh the queue lives in postgres", "Thank you to everyone!"]
    assert loaded.score(probe) == pytest.approx(scorer.score(probe))
    assert loaded.cliches.phrases == ["let's dive into"]
    assert not list(path.parent.glob("*.partial"))


def test_unusable_models_are_clear_errors(tmp_path):
    with pytest.raises(VoiceModelError, match="not fitted"):
        VoiceScorer().score(["text"])
    with pytest.raises(VoiceModelError, match=r"no voice model at .*missing\.joblib.*twin voice fit"):
        VoiceScorer.load(tmp_path / "missing.joblib")
    broken = tmp_path / "model.joblib"
    broken.write_bytes(b"not a pickle at all")
    with pytest.raises(VoiceModelError, match="model.joblib is not a readable voice model"):
        VoiceScorer.load(broken)
    import joblib
    joblib.dump({"format": 99}, broken)
    with pytest.raises(VoiceModelError, match="not a voice model of format"):
        VoiceScorer.load(broken)


def test_fitting_needs_texts_on_both_sides():
    with pytest.raises(ValueError, match="at least 2 texts on each side.*got 24 .* and 0 other"):
        VoiceScorer().fit(OWNER, ["too short"])


def test_training_pieces_are_bounded_and_keep_every_word():
    long_text = "\n\n".join(" ".join(["word"] * 60) + f" end{i}." for i in range(12))
    pieces = training_pieces([long_text, "tiny"])
    assert len(pieces) > 1 and all(40 <= len(p) <= PIECE_CHARS for p in pieces)
    assert sum(p.count("word") for p in pieces) == 12 * 60
    one_paragraph = "x" * 30 + " " + "y" * 2000
    assert all(len(p) <= PIECE_CHARS for p in training_pieces([one_paragraph]))


def test_fit_voice_model_reports_held_out_figures_and_cliches():
    base = [t + " Let's dive into it." for t in OTHER[:12]]
    texts = VoiceTrainingTexts(OWNER, base, OTHER[12:], dataset_id="abc123")
    scorer, card = fit_voice_model(texts)
    assert card["owner_texts"] == 24 and card["base_model_texts"] == 12
    assert card["reference_texts"] == 12 and card["dataset_id"] == "abc123"
    assert card["held_out_accuracy"] >= 0.9 and card["held_out_auc"] >= 0.9
    assert card["held_out_owner_mean_score"] > card["held_out_base_model_mean_score"]
    assert "let's dive into it" in scorer.cliches.phrases and card["cliches"] >= 1
    assert not any(p.startswith("possible this") for p in scorer.cliches.phrases)  # one sentence


def test_few_texts_fit_without_a_held_out_figure():
    scorer, card = fit_voice_model(VoiceTrainingTexts(OWNER[:3], OTHER[:3], []))
    assert "held_out_accuracy" not in card
    assert len(scorer.score(OWNER[:1])) == 1


def test_stored_model_replaces_the_previous_one_whole(tmp_path):
    first, card = fit_voice_model(VoiceTrainingTexts(OWNER[:4], OTHER[:4], []))
    save_voice_model(tmp_path, first, card)
    second, card2 = fit_voice_model(VoiceTrainingTexts(OWNER, OTHER, []))
    save_voice_model(tmp_path, second, card2)
    assert load_card(tmp_path)["owner_texts"] == 24
    assert VoiceScorer.load(model_path(tmp_path)).score(["x y z"]) == second.score(["x y z"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice"]
