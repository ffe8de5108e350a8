"""How a use case reports progress to whoever runs it: the CLI draws bars and spinners, the
server's jobs record it for `GET /api/jobs/{id}`."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def report(self, stage: str, done: int, total: int | None) -> None:
        """`done` of `total` steps of `stage`; `total` None when the count is not known (or the
        stage is one step)."""


class Silent:
    """Progress nobody watches."""

    def report(self, stage: str, done: int, total: int | None) -> None:
        pass


SILENT = Silent()
