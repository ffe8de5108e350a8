"""Tiny dataset builds in the layout `twin dataset build` writes (contract 1), for training tests."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"
SYSTEM = "You are Dana's writing twin."  # short: every token costs training time on 2 cores
POSTS = {
    "Write about queues.": "Keep the queue in Postgres. Boring wins.",
    "Write about shipping.": "Ship small. Ship daily. Sleep well.",
    "Write about on-call.": "Runbooks first, pager second.",
    "Write about tea.": "Tea, then code, then more tea.",
}
TEST_POSTS = {"Write about deploys.": "Deploy on Tuesdays. Never on Fridays."}


def sft_row(user: str, answer: str, system: str = SYSTEM) -> dict:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                         {"role": "assistant", "content": answer}],
            "source": "instruction", "platform": "blog", "kind": "post", "document_id": 1,
            "created_at": "2024-01-02T03:04:05+00:00"}


def preference_row(user: str, chosen: str, rejected: str, system: str = SYSTEM) -> dict:
    return {"prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "source": "instruction", "platform": "blog"}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def write_build(workspace: Path, dataset_id: str = "d0000000001", *, train: list[dict] | None = None,
                test: list[dict] | None = None, preference_train: list[dict] | None = None,
                preference_test: list[dict] | None = None, latest: bool = True) -> Path:
    folder = workspace / "datasets" / dataset_id
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", [sft_row(u, a) for u, a in POSTS.items()] if train is None else train)
    write_jsonl(folder / "test.jsonl", [sft_row(u, a) for u, a in TEST_POSTS.items()] if test is None else test)
    rejected = "As an AI, I think technology is very important in today's world."
    pairs = [preference_row(u, a, rejected) for u, a in POSTS.items()]
    write_jsonl(folder / "preference_train.jsonl", pairs if preference_train is None else preference_train)
    write_jsonl(folder / "preference_test.jsonl", pairs[:1] if preference_test is None else preference_test)
    (folder / "card.json").write_text(json.dumps({"id": dataset_id, "created_at": "2024-01-02T03:04:05"}))
    if latest:
        (workspace / "datasets" / "LATEST").write_text(dataset_id + "\n")
    return folder


def write_impostor(folder: Path) -> Path:
    """Two Markdown posts by someone else, front matter included (each long enough to be an answer)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, title, body in (("a.md", "Vim splits", "Use :vsplit to open a vertical split in Vim."),
                              ("b.md", "Git add -N", "Intent to add keeps a new file in git diff.")):
        (folder / name).write_text(f"---\ntitle: {title}\ndate: 2020-01-01\n---\n\n{body}\n")
    return folder
