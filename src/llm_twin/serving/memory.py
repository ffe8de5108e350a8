"""Keeping a long-running server's memory flat on glibc.

glibc gives each thread that allocates its own malloc arena (up to 8 per core), and memory freed
in an arena returns to the system only from the top of its heap. The server allocates model
tensors and request buffers from many threads (uvicorn's pool, the batcher, jobs), so its RSS
climbed with every new thread's arena and every fragmented heap (2.3 → 4.5 GiB over a 10-minute
soak). Fewer arenas, and a trim when the server goes idle, keep it level. Both are no-ops where
the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import lru_cache

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
SERVER_ARENAS = 2


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 (glibc has both; musl and others may not)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads started from now on. True when it took effect."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def trim_freed_memory() -> bool:
    """Hand memory freed in every arena back to the system (glibc's malloc_trim). True when
    some was released."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0) == 1)


class TrimmingLock:
    """A lock that trims freed memory (`trim_freed_memory`) each time it is released: the server's
    model lock, released after every draft, chat batch or generating job, when the tensors of that
    work have just been freed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()
        trim_freed_memory()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
