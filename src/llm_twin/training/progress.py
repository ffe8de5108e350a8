"""A Rich progress bar for the Trainer: steps done, the latest train and eval loss, time left."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from transformers import TrainerCallback


class RichProgressCallback(TrainerCallback):
    def __init__(self, console: Console, title: str):
        self.console = console
        self.title = title
        self.progress: Progress | None = None
        self.task = None
        self.losses: dict[str, str] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[losses]}"),
                                 TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                 console=self.console, transient=False)
        self.progress.start()
        self.task = self.progress.add_task(self.title, total=state.max_steps,
                                           completed=state.global_step, losses="")

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is None or not logs:
            return
        if "loss" in logs:
            self.losses["loss"] = f"loss {logs['loss']:.3f}"
        if "eval_loss" in logs:
            self.losses["eval"] = f"eval {logs['eval_loss']:.3f}"
        self.progress.update(self.task, losses=" · ".join(self.losses.values()))

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)
        self.close()

    def close(self) -> None:
        """Stop the live display (also after a failure, so the terminal is left clean)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class ReportingCallback(TrainerCallback):
    """Steps done and the latest losses, handed to `report(done, total, message)` (a server job)."""

    def __init__(self, report):
        self.report = report
        self.losses: dict[str, str] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        self.report(state.global_step, state.max_steps, "starting")

    def on_step_end(self, args, state, control, **kwargs):
        self.report(state.global_step, state.max_steps, " · ".join(self.losses.values()))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses["loss"] = f"loss {logs['loss']:.3f}"
        if logs and "eval_loss" in logs:
            self.losses["eval"] = f"eval loss {logs['eval_loss']:.3f}"
        self.report(state.global_step, state.max_steps, " · ".join(self.losses.values()))
