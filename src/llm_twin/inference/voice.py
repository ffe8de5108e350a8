"""The voice score: how likely it is that the owner wrote a text (an authorship classifier).

Character n-grams (char_wb 2-5, tf-idf) and logistic regression, in one scikit-learn Pipeline,
trained on the owner's texts against "other" texts. Other-author blogs alone are not enough: the
untouched base model already passes as the author then, because the classifier learns genre. So
the other side is mostly the base model's own generations for the owner's own prompts (the
dataset build's rejected answers, or generations `twin voice fit` makes itself), plus other-author
text: a small generic corpus shipped in `training_data/reference_texts/` and the folders in the
`voice_reference_dirs` setting. The classifier has to learn the person. Those texts are collected
by `training_data.voice_texts`; this module fits and stores the classifier on them.

Texts are cut into pieces of at most PIECE_CHARS before training, so a long article and a short
generation weigh alike and length is not what the classifier learns.

    <workspace>/voice/model.joblib   the pipeline and the cliché lexicon
    <workspace>/voice/card.json      training counts, held-out accuracy, the dataset it came from
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path

from llm_twin.errors import DatasetError, ModelError
from llm_twin.inference.cliches import ClicheLexicon

VOICE_DIR = "voice"
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
MODEL_FORMAT = 1
PIECE_CHARS = 800
MIN_PIECE_CHARS = 40
HELD_OUT_SHARE = 0.2
MIN_HELD_OUT_TEXTS = 5  # per side; fewer and there is no held-out figure
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


class VoiceModelError(ModelError, ValueError):
    """A voice model file is missing, unreadable or not a voice model."""


class VoiceScorer:
    """fit(owner_texts, other_texts) -> score(texts): the probability the owner wrote each."""

    def __init__(self, pipeline=None, cliches: ClicheLexicon | None = None):
        self.pipeline = pipeline
        self.cliches = cliches or ClicheLexicon()

    def fit(self, owner_texts: list[str], other_texts: list[str]) -> VoiceScorer:
        owner, other = training_pieces(owner_texts), training_pieces(other_texts)
        if len(owner) < 2 or len(other) < 2:
            raise DatasetError(f"the voice score needs at least 2 texts on each side (of at least "
                               f"{MIN_PIECE_CHARS} characters); got {len(owner)} of the owner's and "
                               f"{len(other)} other")
        self.pipeline = _new_pipeline()
        self.pipeline.fit(owner + other, [1] * len(owner) + [0] * len(other))
        return self

    def score(self, texts: list[str]) -> list[float]:
        if self.pipeline is None:
            raise VoiceModelError("the voice scorer is not fitted; run `twin voice fit`")
        if not texts:
            return []
        owner_column = list(self.pipeline.classes_).index(1)
        return [float(row[owner_column]) for row in self.pipeline.predict_proba(list(texts))]

    def save(self, path: Path | str) -> None:
        import joblib
        import sklearn

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        joblib.dump({"format": MODEL_FORMAT, "pipeline": self.pipeline,
                     "cliches": self.cliches.to_json(), "sklearn": sklearn.__version__}, partial)
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path | str) -> VoiceScorer:
        import joblib

        path = Path(path)
        if not path.is_file():
            raise VoiceModelError(f"no voice model at {path}; run `twin voice fit`")
        try:
            data = joblib.load(path)
        except Exception as error:  # pickle raises many types on a damaged file
            raise VoiceModelError(f"{path} is not a readable voice model ({error}); run "
                                  "`twin voice fit` again") from error
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise VoiceModelError(f"{path} is not a voice model of format {MODEL_FORMAT}; run "
                                  "`twin voice fit` again")
        return cls(data["pipeline"], ClicheLexicon.from_json(data.get("cliches", [])))


def _new_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                   min_df=2, max_features=200_000, lowercase=False)),
        ("classifier", LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)),
    ])


def training_pieces(texts: Sequence[str]) -> list[str]:
    """Texts cut into pieces of at most PIECE_CHARS at paragraph breaks (long paragraphs at the
    last space); pieces under MIN_PIECE_CHARS are dropped."""
    pieces = []
    for text in texts:
        current = ""
        for paragraph in _PARAGRAPH_BREAK.split(text.strip()):
            for part in _cut(paragraph.strip(), PIECE_CHARS):
                if current and len(current) + 2 + len(part) > PIECE_CHARS:
                    pieces.append(current)
                    current = ""
                current = f"{current}\n\n{part}" if current else part
        if current:
            pieces.append(current)
    return [p for p in pieces if len(p) >= MIN_PIECE_CHARS]


def _cut(text: str, limit: int) -> list[str]:
    parts = []
    while len(text) > limit:
        space = text.rfind(" ", limit // 2, limit)
        end = space if space > 0 else limit
        parts.append(text[:end].strip())
        text = text[end:].strip()
    return parts + ([text] if text else [])


# -- fitting ------------------------------------------------------------------------------------

@dataclass
class VoiceTrainingTexts:
    """What a voice model is fitted on (collected by `training_data.voice_texts`)."""

    owner: list[str]
    base_model: list[str]
    reference: list[str]
    dataset_id: str | None = None  # where the base-model texts came from; None: generated now
    generation_model: str | None = None
    reference_sources: list[str] = field(default_factory=list)

    @property
    def other(self) -> list[str]:
        return self.base_model + self.reference


# -- training with a held-out figure, and storage ---------------------------------------------

def fit_voice_model(texts: VoiceTrainingTexts, *, seed: int = 0) -> tuple[VoiceScorer, dict]:
    """The scorer fitted on everything, its cliché lexicon, and the card (with the held-out
    accuracy of a fit on the other 80 %, split by text so no text's pieces straddle it)."""
    held_out = _held_out_metrics(texts, seed) if _enough_for_held_out(texts) else {}
    scorer = VoiceScorer().fit(texts.owner, texts.other)
    scorer.cliches = ClicheLexicon.fit(texts.owner, texts.base_model)
    card = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "features": "char_wb 2-5 tf-idf", "classifier": "logistic regression (balanced)",
        "owner_texts": len(texts.owner), "base_model_texts": len(texts.base_model),
        "reference_texts": len(texts.reference),
        "training_pieces": {"owner": len(training_pieces(texts.owner)),
                            "other": len(training_pieces(texts.other))},
        "dataset_id": texts.dataset_id, "generation_model": texts.generation_model,
        "reference_sources": texts.reference_sources,
        "cliches": len(scorer.cliches.phrases),
        **held_out,
    }
    return scorer, card


def _enough_for_held_out(texts: VoiceTrainingTexts) -> bool:
    return min(len(texts.owner), len(texts.other)) >= MIN_HELD_OUT_TEXTS


def _held_out_metrics(texts: VoiceTrainingTexts, seed: int) -> dict:
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    owner_train, owner_test = train_test_split(texts.owner, test_size=HELD_OUT_SHARE,
                                               random_state=seed)
    other_train, other_test = train_test_split(texts.other, test_size=HELD_OUT_SHARE,
                                               random_state=seed)
    scorer = VoiceScorer().fit(owner_train, other_train)
    owner_pieces, other_pieces = training_pieces(owner_test), training_pieces(other_test)
    if not owner_pieces or not other_pieces:
        return {}
    labels = [1] * len(owner_pieces) + [0] * len(other_pieces)
    scores = scorer.score(owner_pieces + other_pieces)
    metrics = {"held_out_accuracy": round(accuracy_score(labels, [s >= 0.5 for s in scores]), 4),
               "held_out_auc": round(roc_auc_score(labels, scores), 4),
               "held_out_pieces": len(labels),
               "held_out_owner_mean_score": _mean(scores[:len(owner_pieces)])}
    generated = set(texts.base_model)
    base_pieces = training_pieces([t for t in other_test if t in generated])
    if base_pieces:
        metrics["held_out_base_model_mean_score"] = _mean(scorer.score(base_pieces))
    return metrics


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4)


def voice_dir(workspace: Path) -> Path:
    return Path(workspace) / VOICE_DIR


def model_path(workspace: Path) -> Path:
    return voice_dir(workspace) / MODEL_FILE


def save_voice_model(workspace: Path, scorer: VoiceScorer, card: dict) -> Path:
    """Write model and card into a fresh folder, then swap it in: never half a voice model."""
    final = voice_dir(workspace)
    partial = final.with_name(VOICE_DIR + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    scorer.save(partial / MODEL_FILE)
    (partial / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    previous = final.with_name(VOICE_DIR + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if final.exists():
        final.rename(previous)
    partial.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
    return final


def load_card(workspace: Path) -> dict | None:
    path = voice_dir(workspace) / CARD_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise VoiceModelError(f"{path} is not valid JSON ({error})") from error
