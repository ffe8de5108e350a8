"""The failures a user can act on.

The CLI and the server show a `TwinError` as one line (the CLI exits with code 2, the server
answers 4xx). Any other exception is a bug: it keeps its traceback. Each class also derives from
the built-in exception it replaced, so `except ValueError` or `except LookupError` in callers
still matches it.
"""

from __future__ import annotations

import errno


class TwinError(Exception):
    """A failure the user can act on; the message says what went wrong and what to do."""


class InputError(TwinError, ValueError):
    """A bad option, argument, request field or file content (the message names it)."""


class NotFoundError(TwinError, LookupError):
    """A file, source, run, dataset build or model the user named does not exist."""


class WorkspaceError(TwinError, RuntimeError):
    """The workspace is missing, unreadable, or set up for something else."""


class StoreError(TwinError, RuntimeError):
    """The warehouse or vector store is busy, unreachable, or built with another model."""


class ModelError(TwinError, RuntimeError):
    """A model cannot be found, loaded, converted or served."""


class DatasetError(TwinError, ValueError):
    """A dataset build is missing, malformed, or cannot be made from what is stored."""


class TrainingError(TwinError, RuntimeError):
    """Training or evaluation cannot run as asked."""


class ExportError(TwinError, ValueError):
    """A model or dataset cannot be exported as asked."""


class DiskFullError(TwinError, OSError):
    """The disk (or the user's quota) is full: a file, the warehouse or the vector store could not
    be written. What was stored stays consistent; free space and rerun the same command."""


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# How SQLite ("database or disk is full", SQLITE_FULL) and the Rust engines (Qdrant Edge) word it.
DISK_FULL_MESSAGES = ("database or disk is full", "no space left on device",
                      "disk quota exceeded", "file too large")


def disk_full(error: BaseException, *, database: str = "the workspace database",
              writing: str = "a file") -> DiskFullError | None:
    """The `DiskFullError` for an error caused, anywhere in its chain, by a full disk; else None.

    Looks through `__cause__`, `__context__` and the DB-API error a SQLAlchemy error wraps
    (`.orig`), so an OSError with errno ENOSPC, EDQUOT or EFBIG, sqlite3's OperationalError
    "database or disk is full" and the SQLAlchemy OperationalError carrying it all match.
    `database` names what SQLite could not write (it does not say which file), `writing` what an
    OSError without a file name could not write."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return current
        if isinstance(current, OSError) and (current.errno in DISK_FULL_ERRNOS
                                             or _copy_target(current)):
            what = current.filename or current.filename2 or _copy_target(current)
            where = f"could not write {what or writing}"
            return DiskFullError(f"Disk full: {where} ({current.strerror or 'no space left'}); "
                                 "free some space and rerun the same command.")
        text = str(current).lower()
        if "database or disk is full" in text:
            return DiskFullError(f"Disk full: could not write to {database} (database or disk "
                                 "is full); free some space and rerun the same command.")
        if any(message in text for message in DISK_FULL_MESSAGES):
            return DiskFullError(f"Disk full: could not write {writing} ({str(current).strip()[:200]}); "
                                 "free some space and rerun the same command.")
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return None


def _copy_target(error: OSError) -> str | None:
    """The file `shutil.copytree` could not write: its shutil.Error lists (source, target, why)."""
    listed = error.args[0] if error.args and isinstance(error.args[0], list) else []
    for entry in listed:
        if isinstance(entry, tuple) and len(entry) == 3 and any(
                message in str(entry[2]).lower() for message in DISK_FULL_MESSAGES):
            return str(entry[1])
    return None


# What the CLI and the server show as one line (and the server's jobs report as their error).
USER_ERRORS: tuple[type[BaseException], ...] = (TwinError,)
