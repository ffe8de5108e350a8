"""A use case's progress (app.progress.Progress) drawn as one Rich progress bar: the stage as its
description, a pulsing bar while the count is unknown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from llm_twin.cli.common import console


class RichProgress:
    def __init__(self, bars: Progress):
        self.bars = bars
        self.task = bars.add_task("", total=None, visible=False)

    def report(self, stage: str, done: int, total: int | None) -> None:
        self.bars.update(self.task, description=stage, completed=done, total=total, visible=True)


@contextmanager
def progress_bar(*, transient: bool = True) -> Iterator[RichProgress]:
    """A bar that follows the reports; `transient`: it disappears when the block ends."""
    bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=transient)
    with bars:
        yield RichProgress(bars)
