"""The two classifiers of an evaluation, both scikit-learn pipelines.

- The **attribution classifier** says whether the owner wrote a text. It is deliberately built on
  other features than the ranker's VoiceScorer (character n-grams): word uni/bigrams plus
  function-word and punctuation rates, so best-of-K ranking cannot grade its own homework. It is
  trained on the train split's answers against impostors (base-model answers to train prompts,
  another author's texts), and its threshold is fixed so that 5% of *held-out* impostor texts
  (base-model answers to test prompts, the other author's held-out texts) are falsely attributed.
- The **detector** tells the owner's real held-out posts from a system's outputs, cross-validated;
  its ROC AUC is 0.5 when the two cannot be told apart and 1.0 when they always can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from llm_twin.errors import DatasetError
from llm_twin.evaluation.distortion import distort_all

FALSE_POSITIVE_RATE = 0.05
DETECTOR_MAX_CHARS = 2000  # the detector reads each text's start: long articles cost, not help
# Frequent English function words: their rates are a classic topic-independent style signal.
FUNCTION_WORDS = tuple("""a about after all also an and any are as at be because been but by can
could did do does for from had has have he her his how i if in into is it its just like more most
my no not now of on one only or our out over really so some such than that the their them then
there these they this those to too up very was we well were what when which while who will with
would you your""".split())
PUNCTUATION = tuple(".,;:!?-—–()[]\"'`*#/&%$@_…")
_WORD = re.compile(r"[\w']+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def style_features(texts: list[str]) -> np.ndarray:
    """Per text: function-word rates, punctuation rates per character, and shape (word and
    sentence length, line breaks, capitals, digits, links)."""
    rows = []
    for text in texts:
        words = [w.lower() for w in _WORD.findall(text)]
        n_words, n_chars = max(len(words), 1), max(len(text), 1)
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
        row = [counts.get(w, 0) / n_words for w in FUNCTION_WORDS]
        row += [text.count(p) / n_chars for p in PUNCTUATION]
        row += [sum(map(len, words)) / n_words, n_words / max(len(sentences), 1),
                text.count("\n") / n_chars, sum(c.isupper() for c in text) / n_chars,
                sum(c.isdigit() for c in text) / n_chars, text.count("http") / n_words,
                np.log1p(len(text))]
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _style_union(text_features):
    """The text features (None: none) joined with the scaled style rates."""
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    style = make_pipeline(FunctionTransformer(style_features),
                          StandardScaler())
    if text_features is None:
        return style
    return FeatureUnion([("text", text_features), ("style", style)])


def _tfidf(analyzer: str, ngram_range: tuple[int, int], max_features: int | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = {"token_pattern": r"(?u)\b\w+\b|[^\w\s]"} if analyzer == "word" else {}
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True,
                           max_features=max_features, **words)


def _distorted(vectorizer):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(distort_all), vectorizer)


# The attribution classifier's candidate text features (each joined with the style rates).
# "masked-*" read the text after distortion (content words -> their shapes), so topics the owner
# wrote about in the training era cannot carry the decision; benchmarks/attribution_calibration.py
# compares them.
FEATURE_SETS = {
    "words": lambda: _tfidf("word", (1, 2)),
    "masked-words": lambda: _distorted(_tfidf("word", (1, 3))),
    "masked-chars": lambda: _distorted(_tfidf("char", (2, 5), max_features=50_000)),
    "chars": lambda: _tfidf("char", (1, 4), max_features=50_000),
    "style": lambda: None,
}
ATTRIBUTION_FEATURES = "masked-chars"


def attribution_pipeline(features: str = ATTRIBUTION_FEATURES):
    """One of FEATURE_SETS + style features -> logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if features not in FEATURE_SETS:
        raise ValueError(f"Unknown attribution features {features!r}; choose from "
                         f"{', '.join(FEATURE_SETS)}.")
    return make_pipeline(_style_union(FEATURE_SETS[features]()),
                         LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0))


def text_only_pipeline(features: str):
    """One of FEATURE_SETS alone -> logistic regression (for comparing the text features)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    text = FEATURE_SETS[features]() if features in FEATURE_SETS else None
    if text is None:
        raise ValueError(f"No text features named {features!r}.")
    return make_pipeline(text, LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0))


def detector_pipeline():
    """Character 1-4-grams (tf-idf) + style features -> logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True,
                            max_features=50_000)
    return make_pipeline(_style_union(chars),
                         LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0,
                                            solver="liblinear"))


@dataclass
class AttributionClassifier:
    """Fit on owner vs impostor texts, calibrate on held-out impostors, then count attributions."""

    pipeline: Any  # a fitted scikit-learn Pipeline (scikit-learn is untyped)
    features: str = ATTRIBUTION_FEATURES
    threshold: float = 0.5
    calibration_size: int = 0
    calibration_fpr: float = 0.0  # the realised share of held-out impostors above the threshold

    @classmethod
    def fit(cls, owner_texts: list[str], impostor_texts: list[str], *,
            features: str = ATTRIBUTION_FEATURES) -> AttributionClassifier:
        owner, impostor = _nonempty(owner_texts), _nonempty(impostor_texts)
        if len(owner) < 2 or len(impostor) < 2:
            raise DatasetError(f"The attribution classifier needs at least 2 owner texts and 2 "
                               f"impostor texts to train on (got {len(owner)} and {len(impostor)}): "
                               "build the dataset with preferences, or pass --impostor DIR.")
        pipeline = attribution_pipeline(features)
        pipeline.fit(owner + impostor, [1] * len(owner) + [0] * len(impostor))
        return cls(pipeline, features)

    def scores(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        return [float(p) for p in self.pipeline.predict_proba(list(texts))[:, 1]]

    def calibrate(self, heldout_impostors: list[str],
                  false_positive_rate: float = FALSE_POSITIVE_RATE) -> AttributionClassifier:
        """Threshold = the score that only `false_positive_rate` of held-out impostors exceed."""
        texts = _nonempty(heldout_impostors)
        if not texts:
            raise DatasetError("No held-out impostor texts to set the attribution threshold on.")
        values = np.asarray(self.scores(texts))
        self.threshold = float(np.quantile(values, 1 - false_positive_rate, method="higher"))
        self.calibration_size = len(values)
        self.calibration_fpr = float(np.mean(values > self.threshold))
        return self

    def false_negative_rate(self, heldout_owner: list[str]) -> float:
        """The share of the owner's own held-out texts the threshold rejects (the other side of
        the calibration: a classifier that rejects the person measures an era, not a voice)."""
        texts = _nonempty(heldout_owner)
        if not texts:
            raise DatasetError("No held-out owner texts to measure the false-negative rate on.")
        return 1.0 - self.share(texts)

    def attributed(self, texts: list[str]) -> list[bool]:
        return [score > self.threshold for score in self.scores(texts)]

    def share(self, texts: list[str]) -> float:
        flags = self.attributed(texts)
        return sum(flags) / len(flags) if flags else float("nan")


def detector_scores(real: list[str], generated: list[str], *, folds: int = 5,
                    seed: int = 0) -> np.ndarray | None:
    """Out-of-fold probabilities of "real" for the real texts, then the generated ones
    (cross-validated); None with fewer than 2 per side."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    real = [t[:DETECTOR_MAX_CHARS] for t in real]
    generated = [t[:DETECTOR_MAX_CHARS] for t in generated]
    smallest = min(len(real), len(generated))
    if smallest < 2:
        return None
    labels = np.asarray([1] * len(real) + [0] * len(generated))
    splitter = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
    return cross_val_predict(detector_pipeline(), real + generated, labels, cv=splitter,
                             method="predict_proba")[:, 1]


def detector_auc(real: list[str], generated: list[str], *, folds: int = 5, seed: int = 0) -> float | None:
    """Cross-validated ROC AUC of telling real from generated; None with fewer than 2 per side."""
    from sklearn.metrics import roc_auc_score

    scores = detector_scores(real, generated, folds=folds, seed=seed)
    if scores is None:
        return None
    return float(roc_auc_score([1] * len(real) + [0] * len(generated), scores))


def _nonempty(texts: list[str]) -> list[str]:
    return [t for t in texts if t and t.strip()]
