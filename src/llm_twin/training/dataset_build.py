"""Reading a dataset build from `<workspace>/datasets/<id>/` (written by `twin dataset build`;
located through `llm_twin.training_data.store`).

SFT splits hold `{"messages": [system, user, assistant, ...]}` per line; preference splits hold
`{"prompt": [...], "chosen": [...], "rejected": [...]}` (TRL's conversational format). Rows are
checked here so a bad file is reported by name and line, not deep inside a trainer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from llm_twin import errors
from llm_twin.backends.base import Message

SFT_SPLITS = ("train.jsonl", "test.jsonl")
PREFERENCE_SPLITS = ("preference_train.jsonl", "preference_test.jsonl")
ROLES = ("system", "user", "assistant")


class DatasetError(errors.DatasetError):
    """A missing or malformed dataset build."""


@dataclass(frozen=True)
class DatasetBuild:
    id: str
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    def sha256(self, names: tuple[str, ...] = SFT_SPLITS) -> str:
        """Hash of the split files: which exact data a run saw, even if the id is reused."""
        digest = hashlib.sha256()
        for name in names:
            file = self.path(name)
            digest.update(name.encode())
            if file.exists():
                with file.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
        return digest.hexdigest()


def resolve_build(workspace: Path, dataset_id: str | None = None) -> DatasetBuild:
    """The build `dataset_id` (or a unique prefix of it), or the newest one (datasets/LATEST)."""
    from llm_twin.training_data.store import resolve_build as resolve_stored

    stored = resolve_stored(Path(workspace), dataset_id)
    missing = [name for name in SFT_SPLITS if not stored.file(name).exists()]
    if missing:
        raise DatasetError(f"The dataset build {stored.path} lacks {', '.join(missing)}; rebuild it "
                           "with `twin dataset build`.")
    return DatasetBuild(stored.id, stored.path)


def _load_rows(file: Path, columns: list[str]) -> list[dict]:
    """Rows of a JSONL split through `datasets`, keeping only `columns`; [] for an empty file."""
    if not file.exists() or file.stat().st_size == 0:
        return []
    import datasets

    try:
        loaded = datasets.load_dataset("json", data_files=str(file), split="train")
    except Exception as error:  # datasets wraps JSON errors in several types
        raise DatasetError(f"{file}: not valid JSON lines ({error}).") from error
    absent = [c for c in columns if c not in loaded.column_names]
    if absent:
        raise DatasetError(f"{file}: every line needs the field(s) {', '.join(absent)}.")
    return loaded.select_columns(columns).to_list()


def _check_messages(messages, file: Path, line: int, field: str) -> list[Message]:
    if not isinstance(messages, list) or not messages:
        raise DatasetError(f"{file}, line {line}: field {field!r} must be a non-empty list of messages.")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES \
                or not isinstance(message.get("content"), str):
            raise DatasetError(f"{file}, line {line}: each message in {field!r} needs a role "
                               f"({'/'.join(ROLES)}) and a text content.")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def load_conversations(file: Path) -> list[list[Message]]:
    """SFT samples: system first, an assistant turn (the owner's real text) last."""
    conversations = []
    for line, row in enumerate(_load_rows(file, ["messages"]), 1):
        messages = _check_messages(row["messages"], file, line, "messages")
        if messages[0]["role"] != "system":
            raise DatasetError(f"{file}, line {line}: the first message must be the system message "
                               "(the one serving sends).")
        if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
            raise DatasetError(f"{file}, line {line}: the last message must be a non-empty assistant "
                               "answer.")
        conversations.append(messages)
    return conversations


def load_preferences(file: Path) -> list[dict[str, list[Message]]]:
    """Preference pairs as {"prompt", "chosen", "rejected"} message lists."""
    pairs = []
    for line, row in enumerate(_load_rows(file, ["prompt", "chosen", "rejected"]), 1):
        pair = {name: _check_messages(row[name], file, line, name)
                for name in ("prompt", "chosen", "rejected")}
        for name in ("chosen", "rejected"):
            if [m["role"] for m in pair[name]] != ["assistant"]:
                raise DatasetError(f"{file}, line {line}: {name!r} must be one assistant message.")
        pairs.append(pair)
    return pairs
