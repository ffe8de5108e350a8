"""Free-space checks before the embedded vector store writes.

Qdrant Edge writes its WAL and segments through memory maps of preallocated sparse files. When
the disk fills, a write through such a map cannot fail with an error: the kernel sends SIGBUS and
the process dies on the spot (measured on a full tmpfs during `twin index`). So the space is
checked before each write instead, and a shortfall is a `DiskFullError` the user can act on;
nothing has been written to the store for that batch, and the warehouse's chunk rows are only
stored after their vectors.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from llm_twin.errors import DiskFullError
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters, SearchHit, VectorStore

MIB = 1024 * 1024
# Room kept free for the store's own bookkeeping: a new WAL segment, a new segment's files and
# their headers (measured: ~2 MiB touched when a shard is created); generous on purpose.
STORE_MARGIN = 16 * MIB
# Bytes touched per stored point (the WAL entry, the dense vector, the payload with the text and
# the sparse vector, the payload indexes; measured ~6 KiB), with room to spare.
BYTES_PER_POINT = 16 * 1024


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding `path` (or its nearest existing parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def allocated_bytes(folder: Path) -> int:
    """Bytes the files under `folder` actually occupy (sparse files count what is written)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def ensure_free_space(path: Path, needed: int, what: str) -> None:
    """Raise DiskFullError when fewer than `needed` bytes are free where `path` lives."""
    free = free_bytes(path)
    if free < needed:
        raise DiskFullError(
            f"Disk full: could not write {what} at {path}: {free / MIB:.1f} MiB free, "
            f"{needed / MIB:.1f} MiB needed; free some space and rerun the same command.")


class SpaceCheckedStore:
    """A vector store whose writes first check that the disk has room for them."""

    def __init__(self, store: VectorStore, path: Path):
        self.store, self.path = store, Path(path)

    def _ensure(self, needed: int) -> None:
        ensure_free_space(self.path, STORE_MARGIN + needed, "the vector store")

    def upsert(self, chunks: list[IndexedChunk]) -> None:
        self._ensure(len(chunks) * BYTES_PER_POINT)
        self.store.upsert(chunks)

    def delete(self, chunk_ids: list[str]) -> None:
        self._ensure(len(chunk_ids) * 1024)
        self.store.delete(chunk_ids)

    def delete_source(self, source_id: int) -> None:
        self._ensure(0)
        self.store.delete_source(source_id)

    def optimize(self) -> None:
        """Merging segments rewrites them: room for a copy of the store is needed."""
        self._ensure(allocated_bytes(self.path / "segments"))
        self.store.optimize()

    def search(self, dense: list[float], sparse_text: str, *, limit: int,
               filters: SearchFilters | None = None) -> list[SearchHit]:
        return self.store.search(dense, sparse_text, limit=limit, filters=filters)

    def search_each(self, dense: list[float], sparse_text: str, *, limit: int,
                    filters: SearchFilters | None = None) -> dict[str, list[SearchHit]]:
        return self.store.search_each(dense, sparse_text, limit=limit, filters=filters)

    def vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]:
        return self.store.vectors(chunk_ids)

    def all_ids(self) -> set[str]:
        return self.store.all_ids()

    def count(self) -> int:
        return self.store.count()

    def close(self) -> None:
        self.store.close()
