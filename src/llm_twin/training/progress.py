"""The Trainer's progress (steps done, the latest train and eval loss) handed to a callback: the
CLI draws it, a server job records it."""

from __future__ import annotations

from collections.abc import Callable

from transformers import TrainerCallback


class ReportingCallback(TrainerCallback):
    """Steps done and the latest losses, handed to `report(done, total, message)` (a server job)."""

    def __init__(self, report: Callable[[int, int, str], None]) -> None:
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
