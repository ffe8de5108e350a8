"""What an evaluation reads: the held-out prompts of a dataset build, the texts that train and
calibrate the attribution classifier, and another author's texts as impostors.

A held-out prompt is an instruction sample of the build's test split (system + user message as
trained, the owner's real answer). Its idea and platform are recovered from the user message so
the same request can go through `twin write` (the RAG systems).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from llm_twin.backends.base import Message
from llm_twin.errors import DatasetError
from llm_twin.platforms import DRAFT_PLATFORMS, is_long_form
from llm_twin.training.dataset_build import DatasetBuild, load_conversations
from llm_twin.training_data.impostors import load_impostor_texts
from llm_twin.training_data.store import read_jsonl

_IDEA = re.compile(r"on this idea:\s*(?P<idea>.+)\Z", re.S)
_TARGET = re.compile(r"about (?P<chars>\d+) characters long")
IMPOSTOR_FILES = 200  # per evaluation; half train the classifier, half set its threshold


@dataclass
class HeldOutPrompt:
    messages: list[Message]  # system + user, exactly as trained
    answer: str  # the owner's real text
    idea: str
    platform: str  # a `twin write` platform for the RAG systems
    document_id: int | None
    created_at: datetime | None


@dataclass
class EvalData:
    dataset_id: str
    prompts: list[HeldOutPrompt]
    owner_train: list[str]  # the train split's answers
    generated_train: list[str]  # base-model answers to train prompts (preference_train rejected)
    generated_test: list[str]  # base-model answers to test prompts (preference_test rejected)
    impostor_train: list[str] = field(default_factory=list)  # another author, classifier training
    impostor_test: list[str] = field(default_factory=list)  # another author, threshold only
    train_prompts: list[list[Message]] = field(default_factory=list)
    test_conversations: list[list[Message]] = field(default_factory=list)  # for perplexity
    notes: list[str] = field(default_factory=list)

    @property
    def test_document_ids(self) -> set[int]:
        return {p.document_id for p in self.prompts if p.document_id is not None}

    @property
    def retrieval_until(self) -> datetime | None:
        """Retrieval for a held-out prompt sees nothing dated at or after the first held-out post."""
        dates = [p.created_at for p in self.prompts if p.created_at is not None]
        return min(dates) - timedelta(microseconds=1) if dates else None


def load_eval_data(build: DatasetBuild, *, limit: int, impostor_folder: Path | None) -> EvalData:
    test_rows = read_jsonl(build.path("test.jsonl"))
    load_conversations(build.path("test.jsonl"))  # validates every line (file and line in errors)
    prompts = [p for p in (_held_out_prompt(row) for row in test_rows) if p is not None]
    if not prompts:
        raise DatasetError(f"{build.path('test.jsonl')}: no held-out post samples to evaluate (the "
                           "test split has no instruction samples); add more dated posts and rebuild "
                           "with `twin dataset build`.")
    prompts = _newest_first(prompts)[:limit]
    train_rows = [r for r in read_jsonl(build.path("train.jsonl")) if _is_post_sample(r)]
    data = EvalData(
        dataset_id=build.id, prompts=prompts,
        owner_train=[r["messages"][-1]["content"] for r in train_rows],
        generated_train=_rejected(build.path("preference_train.jsonl")),
        generated_test=_rejected(build.path("preference_test.jsonl")),
        train_prompts=[r["messages"][:-1] for r in train_rows],
        test_conversations=[[*p.messages, {"role": "assistant", "content": p.answer}]
                            for p in prompts])
    if impostor_folder is not None:
        data.impostor_train, data.impostor_test = impostor_texts(impostor_folder)
    else:
        data.notes.append("no impostor author corpus (--impostor DIR): the classifier's impostors "
                          "are base-model generations only")
    return data


def _held_out_prompt(row: dict) -> HeldOutPrompt | None:
    if not _is_post_sample(row):
        return None
    messages = row["messages"]
    user = messages[-2]["content"]
    idea = _IDEA.search(user)
    if idea is None:  # code and commit-message requests have other shapes
        return None
    created = row.get("created_at")
    return HeldOutPrompt(messages=messages[:-1], answer=messages[-1]["content"],
                         idea=idea.group("idea").strip(),
                         platform=write_platform(row.get("platform", ""), row.get("kind", ""), user),
                         document_id=row.get("document_id"),
                         created_at=datetime.fromisoformat(created) if created else None)


def _is_post_sample(row: dict) -> bool:
    messages = row.get("messages") or []
    return (row.get("source") == "instruction" and row.get("kind") not in ("code", "commit")
            and len(messages) == 3 and messages[-1]["role"] == "assistant")


def write_platform(platform: str, kind: str, user_message: str) -> str:
    """The `twin write` platform for a held-out sample: its own when it is one, an article
    platform for long-form, else X for short posts and LinkedIn for longer ones."""
    if platform in DRAFT_PLATFORMS and (kind in ("article", "paper")
                                        or not is_long_form(platform)):
        return platform  # a blog's short posts are drafted below, not as blog articles
    if kind in ("article", "paper"):
        return "medium"
    target = _TARGET.search(user_message)
    return "x" if target is None or int(target.group("chars")) <= 280 else "linkedin"


def _newest_first(prompts: list[HeldOutPrompt]) -> list[HeldOutPrompt]:
    floor = datetime.min
    return sorted(prompts, key=lambda p: (p.created_at.replace(tzinfo=None) if p.created_at
                                          else floor), reverse=True)


def _rejected(file: Path) -> list[str]:
    if not file.exists():
        return []
    texts = []
    for row in read_jsonl(file):
        rejected = row.get("rejected") or []
        if rejected and isinstance(rejected[-1], dict) and str(rejected[-1].get("content", "")).strip():
            texts.append(rejected[-1]["content"])
    return texts


def impostor_texts(folder: Path, *, files: int = IMPOSTOR_FILES,
                   seed: int = 0) -> tuple[list[str], list[str]]:
    """Another author's texts (`training_data.impostors`: .md/.markdown/.txt, front matter removed),
    split in two halves: one trains the attribution classifier, the other only sets its threshold.
    An unusable folder raises `ImpostorFolderError` naming what it holds."""
    texts = [t.text for t in load_impostor_texts(folder, limit=files, seed=seed)]
    half = len(texts) // 2
    return texts[:half], texts[half:]
