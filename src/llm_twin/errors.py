"""The failures a user can act on.

The CLI and the server show a `TwinError` as one line (the CLI exits with code 2, the server
answers 4xx). Any other exception is a bug: it keeps its traceback. Each class also derives from
the built-in exception it replaced, so `except ValueError` or `except LookupError` in callers
still matches it.
"""

from __future__ import annotations


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


# What the CLI and the server show as one line (and the server's jobs report as their error).
USER_ERRORS: tuple[type[BaseException], ...] = (TwinError,)
