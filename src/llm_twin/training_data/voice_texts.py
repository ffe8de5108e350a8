"""The texts a voice model is fitted on (`inference.voice`): the owner's, and other ones.

The owner's prose; the base model's answers to the owner's own prompts (a dataset build's rejected
answers, or generated now from the training prompt); other-author texts: a small generic corpus
shipped in `reference_texts/` and the folders in the `voice_reference_dirs` setting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from llm_twin.errors import DatasetError, InputError, NotFoundError, WorkspaceError
from llm_twin.inference.voice import VoiceTrainingTexts
from llm_twin.storage.models import PUBLIC_AUDIENCES, Document
from llm_twin.training_data.instructions import ExtractiveInstructionWriter, instruction_messages
from llm_twin.training_data.owner_texts import load_owner_documents, owner_texts
from llm_twin.training_data.store import DatasetNotFound, latest_id, resolve_build

FIT_PROMPTS = 24
FIT_TOKENS = 96
MIN_DATASET_TEXTS = 8
REFERENCE_DIR = Path(__file__).with_name("reference_texts")
REFERENCE_SUFFIXES = (".md", ".txt")

Progress = Callable[[int, int], None]  # (done, total) base-model generations


def owner_prose(session, limit: int = 3000) -> list[str]:
    """The owner's own writing (no chat messages, no code), spread evenly when there is a lot."""
    query = (select(Document.raw_text).where(Document.is_owner.is_(True),
                                             Document.kind.not_in(("message", "code")),
                                             Document.audience.in_(PUBLIC_AUDIENCES))
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
            raise DatasetError(f"{path}, line {number}: not a preference pair with a 'rejected' "
                               f"answer ({error})") from error
    return [t.strip() for t in texts if t and t.strip()]


def reference_texts(folders: Sequence[Path]) -> tuple[list[str], list[str]]:
    """Other-author texts: every .md/.txt file under the shipped corpus and the given folders.
    Returns the texts and the folders they came from."""
    texts, sources = [], []
    for folder in [REFERENCE_DIR, *map(Path, folders)]:
        folder = folder.expanduser()
        if not folder.is_dir():
            raise NotFoundError(f"voice_reference_dirs: {folder} is not a folder")
        files = sorted(p for p in folder.rglob("*")
                       if p.is_file() and p.suffix.lower() in REFERENCE_SUFFIXES)
        for path in files:
            try:
                text = path.read_text(encoding="utf-8").strip()
            except UnicodeDecodeError as error:
                raise InputError(f"{path}: not UTF-8 text ({error})") from error
            if text:
                texts.append(text)
        sources.append(str(folder))
    return texts, sources


def generate_base_texts(session, backend, params, owner: str, *, prompts: int = FIT_PROMPTS,
                        batch_size: int = 8, progress: Progress | None = None) -> list[str]:
    """The base model's answers to `prompts` requests built from the owner's texts (the
    extractive instruction writer, the training prompt), short and in batches."""
    units = [u for d in load_owner_documents(session) for u in owner_texts(d)[0]
             if u.kind != "code" and not u.draft and u.audience in PUBLIC_AUDIENCES]
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


def collect_training_texts(session, workspace: Path, *, owner: str, backend=None, params=None,
                           reference_dirs: Sequence[Path] = (), dataset_id: str | None = None,
                           prompts: int = FIT_PROMPTS,
                           progress: Progress | None = None) -> VoiceTrainingTexts:
    """The owner's prose; the base model's answers from the dataset build (`dataset_id`, else
    the newest) or, without a build, generated now with `backend`; the reference texts."""
    owner_texts_ = owner_prose(session)
    if not owner_texts_:
        raise WorkspaceError("the warehouse holds none of your own writing yet: run `twin ingest` "
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
            raise DatasetError("no dataset build with base-model answers: a generation backend is "
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
