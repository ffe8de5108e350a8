"""`twin eval` over a workspace: the evaluation harness (evaluation.harness) given the
workspace's models, index, voice model and registry runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from llm_twin.app.progress import SILENT, Progress
from llm_twin.app.voice import fit_voice, fit_voice_on_answers
from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend
from llm_twin.evaluation.harness import (EvalConfig, EvalParts, EvalResult, Say, TunedChoice,
                                         run_evaluation)
from llm_twin.evaluation.heldout import EvalData
from llm_twin.inference.writer import DraftWriter

GENERATING = "Generating"  # the stage counted over every (arm, prompt); other stages are steps


def evaluate(ws: Workspace, config: EvalConfig, progress: Progress = SILENT) -> EvalResult:
    """Every requested system answers the held-out prompts of the dataset build, then each is
    measured. Progress: GENERATING counts the answers; every other stage is reported once."""
    done = 0
    total: int | None = None

    def on_total(count: int) -> None:
        nonlocal total
        total = count
        progress.report(GENERATING, done, total)

    def advance(count: int) -> None:
        nonlocal done
        done += count
        progress.report(GENERATING, done, total)

    return run_evaluation(eval_parts(ws, config), config, on_total=on_total, advance=advance,
                          say=lambda message: progress.report(message, 0, None))


def eval_parts(ws: Workspace, config: EvalConfig) -> EvalParts:
    @contextmanager
    def rag_writer(backend: Backend, scorer, max_new_tokens: int) -> Iterator[DraftWriter]:
        with ws.vector_store() as store:
            yield ws.writer(store, backend, voice=scorer, rank=scorer is not None,
                            max_new_tokens=max_new_tokens)

    return EvalParts(
        settings=ws.settings, tuned=lambda: tuned_choice(ws, config.model),
        indexed=lambda: ws.built_embedding_model() is not None, backend=ws.backend,
        generation_params=ws.generation_params, embed=lambda texts: ws.embedder.embed(texts),
        ranking_weights=ws.ranking_weights(), rag_writer=rag_writer,
        voice_scorer=lambda data, say: ranking_voice(ws, data, say))


def tuned_choice(ws: Workspace, model: str | None) -> TunedChoice:
    """--model, else the run in use, else the newest finished run."""
    from llm_twin.training.registry import list_runs

    run = ws.tuned_run(model) if model else ws.tuned_run()
    if run is not None or model:
        return TunedChoice(run)
    with ws.sessions() as session:
        finished = [r for r in list_runs(session) if r.status == "finished"]
        if finished:
            session.expunge(finished[0])
    if finished:
        return TunedChoice(finished[0], f"no model in use: evaluated the newest finished run "
                                        f"{finished[0].id}")
    return TunedChoice(None)


def ranking_voice(ws: Workspace, data: EvalData, say: Say):
    """The ranker `twin write -n N` uses: the workspace's voice model (`twin voice fit`). When
    there is none, one is fitted and saved as `twin voice fit` does, from the base-model answers
    this evaluation already has (no second round of generation)."""
    scorer = ws.voice_scorer()
    if scorer is not None:
        return scorer
    if not data.generated_train:
        say("No voice model yet: fitting one for ranking (as `twin voice fit` does)…")
        return fit_voice(ws, ws.backend("base"), dataset_id=data.dataset_id)[0]
    say("No voice model yet: fitting one for ranking from the base-model answers…")
    return fit_voice_on_answers(ws, data.generated_train, dataset_id=data.dataset_id)[0]
