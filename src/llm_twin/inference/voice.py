"""The voice score: how likely it is that the owner wrote a text (an authorship classifier).

Character n-grams (char_wb 2-5, tf-idf) and logistic regression, in one scikit-learn Pipeline,
trained on the owner's texts against "other" texts. Other-author blogs alone are not enough: the
untouched base model already passes as the author then, because the classifier learns genre. So
the other side is mostly the base model's own generations for the owner's own prompts (the
dataset build's rejected answers, or generations `twin voice fit` makes itself), plus other-author
text: a small generic corpus shipped in `reference_texts/` and the folders in the
`voice_reference_dirs` setting. The classifier has to learn the person.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from llm_twin.errors import ModelError
from llm_twin.inference.cliches import ClicheLexicon

VOICE_DIR = "voice"
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
MODEL_FORMAT = 1
PIECE_CHARS = 800
MIN_PIECE_CHARS = 40
HELD_OUT_SHARE = 0.2
MIN_HELD_OUT_TEXTS = 5  # per side; fewer and there is no held-out figure
FIT_PROMPTS = 24
FIT_TOKENS = 96
REFERENCE_DIR = Path(__file__).with_name("reference_texts")
REFERENCE_SUFFIXES = (".md", ".txt")
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
            raise ValueError(f"the voice score needs at least 2 texts on each side (of at least "
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


# -- fitting from a workspace -----------------------------------------------------------------

Progress = Callable[[int, int], None]  # (done, total) base-model generations


@dataclass
class VoiceTrainingTexts:
    owner: list[str]
    base_model: list[str]
    reference: list[str]
    dataset_id: str | None = None  # where the base-model texts came from; None: generated now
    generation_model: str | None = None
    reference_sources: list[str] = field(default_factory=list)

    @property
    def other(self) -> list[str]:
        return self.base_model + self.reference


def owner_prose(session, limit: int = 3000) -> list[str]:
    """The owner's own writing (no chat messages, no code), spread evenly when there is a lot."""
    from sqlalchemy import select

    from llm_twin.storage.models import Document

    query = (select(Document.raw_text).where(Document.is_owner.is_(True),
                                             Document.kind.not_in(("message", "code")))
             .order_by(Document.created_at, Document.id))
    texts = [t.strip() for t in session.scalars(query) if t and t.strip()]
    return _spread(texts, limit)


def rejected_texts(dataset_path: Path) -> list[str]:
    """The base model's answers in a dataset build's preference_train.jsonl."""
    path = Path(dataset_path) / "preference_train.jsonl"
    if not path.is_file():
        return []
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record.get("origin", "base_model") != "base_model":
                continue
            texts.append(record["rejected"][-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: not a preference pair with a 'rejected' "
                             f"answer ({error})") from error
    return [t.strip() for t in texts if t and t.strip()]


def reference_texts(folders: Sequence[Path]) -> tuple[list[str], list[str]]:
    """Other-author texts: every .md/.txt file under the shipped corpus and the given folders.
    Returns the texts and the folders they came from."""
    texts, sources = [], []
    for folder in [REFERENCE_DIR, *map(Path, folders)]:
        folder = folder.expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"voice_reference_dirs: {folder} is not a folder")
        files = sorted(p for p in folder.rglob("*")
                       if p.is_file() and p.suffix.lower() in REFERENCE_SUFFIXES)
        for path in files:
            try:
                text = path.read_text(encoding="utf-8").strip()
            except UnicodeDecodeError as error:
                raise ValueError(f"{path}: not UTF-8 text ({error})") from error
            if text:
                texts.append(text)
        sources.append(str(folder))
    return texts, sources


def generate_base_texts(session, backend, params, owner: str, *, prompts: int = FIT_PROMPTS,
                        batch_size: int = 8, progress: Progress | None = None) -> list[str]:
    """The base model's answers to `prompts` requests built from the owner's texts (the
    extractive instruction writer, the training prompt), short and in batches."""
    from dataclasses import replace

    from llm_twin.training_data.instructions import (ExtractiveInstructionWriter,
                                                     instruction_messages)
    from llm_twin.training_data.owner_texts import load_owner_documents, owner_texts

    units = [u for d in load_owner_documents(session) for u in owner_texts(d)[0]
             if u.kind != "code" and not u.draft]
    chosen = _spread(units, prompts)
    if not chosen:
        return []
    ideas = ExtractiveInstructionWriter().fit(units).ideas(chosen)
    conversations = [instruction_messages(u, idea, owner) for u, idea in zip(chosen, ideas)]
    params = replace(params, max_new_tokens=min(params.max_new_tokens, FIT_TOKENS))
    texts: list[str] = []
    for start in range(0, len(conversations), batch_size):
        batch = conversations[start:start + batch_size]
        texts += [g.text.strip() for g in backend.generate(batch, params) if g.text.strip()]
        if progress:
            progress(min(start + batch_size, len(conversations)), len(conversations))
    return texts


MIN_DATASET_TEXTS = 8


def collect_training_texts(session, workspace: Path, *, owner: str, backend=None, params=None,
                           reference_dirs: Sequence[Path] = (), dataset_id: str | None = None,
                           prompts: int = FIT_PROMPTS,
                           progress: Progress | None = None) -> VoiceTrainingTexts:
    """The owner's prose; the base model's answers from the dataset build (`dataset_id`, else
    the newest) or, without a build, generated now with `backend`; the reference texts."""
    from llm_twin.training_data.store import DatasetNotFound, latest_id, resolve_build

    owner_texts_ = owner_prose(session)
    if not owner_texts_:
        raise ValueError("the warehouse holds none of your own writing yet: run `twin ingest` "
                         "first")
    reference, sources = reference_texts(reference_dirs)
    base, used_dataset, model_id = [], None, None
    if dataset_id is not None or latest_id(workspace) is not None:
        try:
            build = resolve_build(workspace, dataset_id)
        except DatasetNotFound:
            if dataset_id is not None:
                raise
        else:
            base, used_dataset = rejected_texts(build.path), build.id
    if len(base) < MIN_DATASET_TEXTS:
        if backend is None or params is None:
            raise ValueError("no dataset build with base-model answers: a generation backend is "
                             "needed to write some")
        base = generate_base_texts(session, backend, params, owner, prompts=prompts,
                                   progress=progress)
        used_dataset, model_id = None, backend.model_id
    return VoiceTrainingTexts(owner_texts_, base, reference, used_dataset, model_id, sources)


def _spread(items: list, limit: int) -> list:
    if len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# -- training with a held-out figure, and storage ---------------------------------------------

def fit_voice_model(texts: VoiceTrainingTexts, *, seed: int = 0) -> tuple[VoiceScorer, dict]:
    """The scorer fitted on everything, its cliché lexicon, and the card (with the held-out
    accuracy of a fit on the other 80 %, split by text so no text's pieces straddle it)."""
    held_out = _held_out_metrics(texts, seed) if _enough_for_held_out(texts) else {}
    scorer = VoiceScorer().fit(texts.owner, texts.other)
    scorer.cliches = ClicheLexicon.fit(texts.owner, texts.base_model)
    card = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
