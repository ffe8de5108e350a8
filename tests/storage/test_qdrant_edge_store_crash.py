"""The embedded store's own files under a kill -9: its model record is replaced atomically, and a
killed holder's lock does not block the next open (real shards in tmp_path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from llm_twin.storage import qdrant_edge_store
from llm_twin.storage.qdrant_edge_store import META_FILE, QdrantEdgeStore


class Killed(BaseException):
    """Stands for SIGKILL at that instant."""


def test_a_kill_while_recording_the_model_leaves_no_half_written_record(tmp_path, monkeypatch):
    """The record was written in place: a kill mid-write left an empty or truncated JSON file
    that made every later open fail. Now it is written beside and renamed over."""
    def killed(*args):
        raise Killed

    monkeypatch.setattr(qdrant_edge_store.os, "replace", killed)
    with pytest.raises(Killed):
        QdrantEdgeStore(tmp_path / "vectors", embedding_model="m", dimension=4)
    assert not (tmp_path / "vectors" / META_FILE).exists()
    monkeypatch.undo()
    with QdrantEdgeStore(tmp_path / "vectors", embedding_model="m", dimension=4) as store:
        assert store.count() == 0
    record = json.loads((tmp_path / "vectors" / META_FILE).read_text(encoding="utf-8"))
    assert record == {"embedding_model": "m", "dimension": 4}


def test_the_lock_of_a_killed_process_does_not_block_the_next_open(tmp_path):
    path = tmp_path / "vectors"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\n"
         "from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore\n"
         f"QdrantEdgeStore(Path({str(path)!r}), embedding_model='m', dimension=4)\n"
         "print('open', flush=True)\ntime.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    finally:
        os.kill(holder.pid, 9)
        holder.wait()
    with QdrantEdgeStore(path, embedding_model="m", dimension=4) as store:
        assert store.count() == 0
