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
    return sum(allocated for _, _, allocated in _files(folder))


def _files(folder: Path):
    """(path, apparent size, allocated bytes) of each file under `folder`."""
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            yield path, info.st_size, info.st_blocks * 512


PAGE = 4096
_ZERO_PAGE = bytes(PAGE)


def content_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` that hold data: 4 KiB pages not all zero. The engine
    preallocates its files and maps them; on tmpfs a page merely read through a map is allocated
    too, so `allocated_bytes` counts zero pages a rewrite would never copy (read() allocates
    nothing, on any file system)."""
    total = 0
    for path, _, allocated in _files(folder):
        if not allocated:
            continue
        try:
            with open(path, "rb") as handle:
                while block := handle.read(256 * PAGE):
                    total += sum(PAGE for start in range(0, len(block), PAGE)
                                 if block[start:start + PAGE] != _ZERO_PAGE[:len(block) - start])
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
        """Merging segments (or building a segment's HNSW index) writes a new segment holding
        their data: room for a copy of the data pages the segments hold is needed (the margin
        covers the new segment's own files). Counted from the store's pages, not its allocated
        bytes: on tmpfs those include zero pages the engine only mapped (a 40-point store: 44 MiB
        allocated, 0.3 MiB of data), and the check refused a rerun with 50 MiB free."""
        self._ensure(content_bytes(self.path / "segments"))
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
