"""Voice evaluation across owners: the real CLI, end to end, for several authors; one table.

For each owner folder (a Markdown blog folder such as ../shared/corpora/brandur_atoms) a fresh
workspace runs `twin init`, `twin ingest --format markdown-folder`, `twin index`,
`twin dataset build`, `twin train sft` (optionally `twin train dpo`) and `twin eval`, each with the
same impostor author. Every system row of each eval's results.json becomes a row of one Markdown
table (owner x system), with every numeric per-system figure it holds and its bootstrap interval
where one is recorded. An owner whose step fails gets a row naming the step and its error; the
next owner runs anyway. Logs of every command are kept under --out.

    .venv/bin/python benchmarks/voice_eval.py --owners ../shared/corpora/brandur_atoms \\
        ../shared/corpora/skeeto_nullprogram --out /tmp/voice-eval      # defaults: CPU-sized

Defaults are sized for a 2-core CPU; raise --steps, --limit and --max-new-tokens on a GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPORA  # noqa: E402

DEFAULT_OWNERS = ("brandur_atoms", "brandur_fragments", "skeeto_nullprogram")
PREFERRED_IMPOSTOR = "jbranchaud_til"
INTERVAL_KEYS = ("intervals", "interval", "ci")
ROW_GROUPS = ("systems", "sanity")  # results.json lists of table rows
TABLE_FILE = "voice_eval.md"
RESULTS_FILE = "voice_eval.json"


class StepFailed(Exception):
    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}")
        self.step, self.message = step, message


@dataclass
class OwnerResult:
    owner: str
    folder: str
    rows: list[dict] = field(default_factory=list)  # results.json system and sanity rows
    attribution: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)  # the run in use: its held-out perplexities
    failed_step: str | None = None
    error: str | None = None
    seconds: float = 0.0


# -- running the CLI ---------------------------------------------------------------------------

def twin_command() -> list[str]:
    """The `twin` script of this environment, else the CLI module through this interpreter."""
    script = Path(sys.executable).with_name("twin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "llm_twin.cli.app"]


def run_step(name: str, args: list[str], workspace: Path, logs: Path, timeout: float | None) -> None:
    """One CLI command in the owner's workspace; its output goes to logs/<name>.log."""
    command = [*twin_command(), "--workspace", str(workspace), *args]
    log = logs / f"{name.replace(' ', '_')}.log"
    env = {**os.environ, "COLUMNS": "200", "TWIN_WORKSPACE": str(workspace)}
    started = time.monotonic()
    print(f"    $ twin {shlex.join(args)}", flush=True)
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(command)}\n")
        out.flush()
        try:
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise StepFailed(name, f"timed out after {timeout:.0f} s (log: {log})") from None
    if code != 0:
        raise StepFailed(name, f"{last_error_line(log)} (exit {code}; log: {log})")
    print(f"      done in {time.monotonic() - started:.0f} s", flush=True)


def last_error_line(log: Path) -> str:
    """The line that says what went wrong: the CLI's "Error:" line, else the last non-empty one."""
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
             if line.strip()]
    errors = [line for line in lines if line.startswith("Error:") or "Error" in line.split(":")[0]]
    return (errors or lines or ["no output"])[-1][:300]


def owner_steps(folder: Path, impostor: Path, options: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The CLI commands for one owner, in order, as (step name, arguments)."""
    dataset = ["dataset", "build", "--instructions", options.instructions]
    dataset += ["--max-pairs", str(options.max_pairs)] if options.max_pairs else ["--no-preferences"]
    if "--sample-tokens" not in options.dataset_args:  # served prompts sized for the training length
        dataset += ["--sample-tokens", str(options.max_length)]
    training = ["--max-length", str(options.max_length), "--batch-size", str(options.batch_size),
                "--impostor", str(impostor), "--report-to", "none"]
    steps = [("init", ["init"]),
             ("ingest", ["ingest", str(folder), "--format", "markdown-folder"]),
             ("index", ["index"]),
             ("dataset build", dataset + shlex.split(options.dataset_args)),
             ("train sft", ["train", "sft", "--steps", str(options.steps), *training,
                            *shlex.split(options.sft_args)])]
    if options.dpo_steps:
        steps.append(("train dpo", ["train", "dpo", "--steps", str(options.dpo_steps), *training]))
    evaluation = ["eval", "--limit", str(options.limit), "--k", str(options.k),
                  "--max-new-tokens", str(options.max_new_tokens), "--impostor", str(impostor)]
    if options.systems:
        evaluation += ["--systems", options.systems]
    steps.append(("eval", evaluation + shlex.split(options.eval_args)))
    return steps


def evaluate_owner(name: str, folder: Path, impostor: Path, options: argparse.Namespace) -> OwnerResult:
    result = OwnerResult(owner=name, folder=str(folder))
    started = time.monotonic()
    try:
        workspace, logs = fresh_workspace(options.out / name)
        for step, args in owner_steps(folder, impostor, options):
            run_step(step, args, workspace, logs, options.step_timeout)
        results = read_results(workspace)
        result.rows = table_rows_of(results)
        result.attribution = numeric_items(results.get("attribution"))
        result.training = training_perplexities(workspace)
    except StepFailed as failure:
        result.failed_step, result.error = failure.step, failure.message
        print(f"    FAILED at {failure.step}: {failure.message}", flush=True)
    result.seconds = time.monotonic() - started
    return result


def collect_owner(folder: Path) -> OwnerResult:
    """An earlier run's owner folder (<out>/<owner>) read back: its latest eval and run."""
    result = OwnerResult(owner=folder.resolve().name, folder=str(folder))
    try:
        results = read_results(folder / "ws")
        result.rows = table_rows_of(results)
        result.attribution = numeric_items(results.get("attribution"))
        result.training = training_perplexities(folder / "ws")
    except StepFailed as failure:
        result.failed_step, result.error = failure.step, failure.message
    return result


def fresh_workspace(root: Path) -> tuple[Path, Path]:
    """<out>/<owner>/ws and .../logs, emptied when a previous run of this script made them."""
    workspace, logs = root / "ws", root / "logs"
    if workspace.exists():
        if not (workspace / "twin.toml").exists():
            raise StepFailed("workspace", f"{workspace} exists and is not a twin workspace; choose "
                                          "another --out")
        shutil.rmtree(workspace)
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    return workspace, logs


def read_results(workspace: Path) -> dict:
    found = sorted((workspace / "eval").glob("*/results.json"))
    if not found:
        raise StepFailed("read results", f"no results.json under {workspace / 'eval'}")
    try:
        return json.loads(found[-1].read_text(encoding="utf-8"))
    except ValueError as error:
        raise StepFailed("read results", f"{found[-1]}: {error}") from None


def training_perplexities(workspace: Path) -> dict:
    """Held-out perplexities recorded by the run in use (author and impostor, base and tuned)."""
    from llm_twin.config import load_settings
    from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
    from llm_twin.training import registry

    engine = create_warehouse_engine(load_settings(workspace).resolved_database_url)
    try:
        with session_factory(engine)() as session:
            run = registry.active_run(session) or registry.latest_run(session, "sft", status="finished")
            metrics = dict(run.metrics or {}) if run is not None else {}
    finally:
        engine.dispose()
    return {k: v for k, v in numeric_items(metrics).items() if k.startswith("perplexity_")}


# -- reading results.json defensively ----------------------------------------------------------

def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_items(mapping) -> dict:
    return {k: v for k, v in mapping.items() if is_number(v)} if isinstance(mapping, dict) else {}


def table_rows_of(results: dict) -> list[dict]:
    """Every row of results.json's row lists (systems, then sanity rows), as name, figures and
    intervals; an older file without sanity rows gets its real held-out posts from `reference`."""
    rows = [parse_row(row) for group in ROW_GROUPS for row in results.get(group) or []
            if isinstance(row, dict)]
    reference = numeric_items(results.get("reference"))
    if not results.get("sanity") and "attribution_share" in reference:
        rows.append({"name": "real held-out posts",
                     "figures": {"attribution_share": reference["attribution_share"]}, "intervals": {}})
    return rows


def parse_row(row: dict) -> dict:
    figures = numeric_items(row)
    spans = next((row[key] for key in INTERVAL_KEYS if isinstance(row.get(key), dict)), {})
    intervals = {}
    for key, spec in spans.items():
        value, bounds = interval_of(spec)
        if bounds is not None:
            intervals[key] = bounds
            if key not in figures and value is not None:
                figures[key] = value
    return {"name": str(row.get("name", "?")), "figures": figures, "intervals": intervals}


def interval_of(spec) -> tuple[float | None, tuple[float, float] | None]:
    """(value, (low, high)) from [value, low, high], [low, high] or {"low": .., "high": ..}."""
    if isinstance(spec, dict):
        low, high = spec.get("low", spec.get("lo")), spec.get("high", spec.get("hi"))
        value = spec.get("value")
    elif isinstance(spec, (list, tuple)) and len(spec) in (2, 3):
        value = spec[0] if len(spec) == 3 else None
        low, high = spec[-2], spec[-1]
    else:
        return None, None
    value = value if is_number(value) else None
    if not (is_number(low) and is_number(high)) or math.isnan(low) or math.isnan(high):
        return value, None
    return value, (low, high)


# -- the table ---------------------------------------------------------------------------------

def digits_for(value) -> int:
    size = abs(value) if is_number(value) and not math.isnan(value) else 0
    return 0 if size >= 100 else 1 if size >= 10 else 3


def fmt(value, digits: int | None = None) -> str:
    if not is_number(value) or math.isnan(value):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits_for(value) if digits is None else digits}f}"


def cell(row: dict, key: str) -> str:
    """"0.620 [0.480–0.750]": the bounds with the value's digits."""
    value, bounds = row["figures"].get(key), row["intervals"].get(key)
    text = fmt(value)
    if not bounds or text == "–":
        return text
    digits = digits_for(value)
    return f"{text} [{fmt(float(bounds[0]), digits)}–{fmt(float(bounds[1]), digits)}]"


def metric_columns(results: list[OwnerResult]) -> list[str]:
    """Every figure any row holds: the report's own columns first (headline first), then the
    rest in the order they first appear."""
    columns: dict[str, None] = {}
    for result in results:
        for row in result.rows:
            columns.update(dict.fromkeys(row["figures"]))
    preferred = [key for key in report_columns() if key in columns]
    return preferred + [key for key in columns if key not in preferred]


def report_columns() -> list[str]:
    """The column order of `twin eval`'s own table, when this version of the report has one."""
    try:
        from llm_twin.evaluation.report import COLUMNS
    except ImportError:
        return []
    return [column[0] for column in COLUMNS if isinstance(column, (tuple, list)) and column]


def render_table(results: list[OwnerResult]) -> str:
    columns = metric_columns(results)
    lines = ["| owner | system | " + " | ".join(columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    for result in results:
        if result.failed_step is not None:
            failure = f"**failed** at `{result.failed_step}`: {escape(result.error or '')}"
            lines.append(f"| {result.owner} | {failure} |" + " – |" * len(columns))
            continue
        if not result.rows:
            lines.append(f"| {result.owner} | (no rows in results.json) |" + " – |" * len(columns))
        for row in result.rows:
            cells = " | ".join(cell(row, key) for key in columns)
            lines.append(f"| {result.owner} | {escape(row['name'])} | {cells} |")
    return "\n".join(lines)


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def owner_notes(results: list[OwnerResult]) -> str:
    """Per owner: held-out perplexity change (owner vs impostor) and the attribution calibration."""
    notes = []
    for result in results:
        parts = [f"{result.seconds / 60:.0f} min"]
        for corpus in ("author", "impostor"):
            change = perplexity_change(result.training, corpus)
            if change:
                parts.append(f"perplexity {'owner' if corpus == 'author' else 'impostor'} {change}")
        parts += [f"{key} {fmt(value)}" for key, value in result.attribution.items()]
        notes.append(f"- {result.owner}: " + "; ".join(parts))
    return "\n".join(notes)


def perplexity_change(metrics: dict, corpus: str) -> str | None:
    base, tuned = metrics.get(f"perplexity_{corpus}_base"), metrics.get(f"perplexity_{corpus}_tuned")
    if not is_number(base) or not is_number(tuned) or not base:
        return None
    return f"{fmt(base)} → {fmt(tuned)} ({(tuned - base) / base:+.0%})"


# -- command line ------------------------------------------------------------------------------

def owner_names(folders: list[Path]) -> list[str]:
    names: list[str] = []
    for folder in folders:
        name = folder.resolve().name or "owner"
        names.append(name if name not in names else f"{name}-{len(names) + 1}")
    return names


def default_impostor(owners: list[Path], corpora: Path) -> Path | None:
    """jbranchaud_til when it is not an owner, else the first other corpus folder."""
    taken = {folder.resolve() for folder in owners}
    candidates = [corpora / PREFERRED_IMPOSTOR] + sorted(p for p in corpora.glob("*") if p.is_dir())
    return next((p for p in candidates if p.is_dir() and p.resolve() not in taken), None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--owners", type=Path, nargs="+", default=None,
                        help=f"owner folders (default: {', '.join(DEFAULT_OWNERS)} under --corpora)")
    parser.add_argument("--impostor", type=Path, default=None,
                        help="another author's folder (default: a corpus that is not an owner)")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--out", type=Path, default=Path("voice-eval"),
                        help="workspaces, logs and the table (voice_eval.md, voice_eval.json)")
    parser.add_argument("--instructions", default="extractive", help="twin dataset build --instructions")
    parser.add_argument("--max-pairs", type=int, default=24, help="DPO pairs per build (0: none)")
    parser.add_argument("--steps", type=int, default=30, help="twin train sft --steps")
    parser.add_argument("--dpo-steps", type=int, default=0, help="twin train dpo --steps (0: no DPO)")
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--limit", type=int, default=40, help="twin eval --limit (held-out prompts)")
    parser.add_argument("--k", type=int, default=4, help="twin eval --k (drafts per ranked prompt)")
    parser.add_argument("--max-new-tokens", type=int, default=80)
    parser.add_argument("--systems", default=None, help="twin eval --systems (default: all)")
    parser.add_argument("--dataset-args", default="", help="more `twin dataset build` options")
    parser.add_argument("--sft-args", default="", help="more `twin train sft` options")
    parser.add_argument("--eval-args", default="", help="more `twin eval` options")
    parser.add_argument("--step-timeout", type=float, default=None, help="seconds per command")
    parser.add_argument("--collect", type=Path, nargs="+", default=None,
                        help="run nothing: one table from owner folders of earlier runs "
                             "(<out>/<owner>, each holding ws/), e.g. runs split across machines")
    options = parser.parse_args(argv)
    options.owners = options.owners or [options.corpora / name for name in DEFAULT_OWNERS]
    if options.impostor is None:
        options.impostor = default_impostor(options.owners, options.corpora)
        if options.impostor is None:
            parser.error(f"no impostor corpus under {options.corpora} besides the owners; pass --impostor DIR")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    command = "benchmarks/voice_eval.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    if not options.collect:
        print(f"voice evaluation of {len(options.owners)} owner(s), impostor {options.impostor}",
              flush=True)
    results = []
    if options.collect:
        results = [collect_owner(folder) for folder in options.collect]
    for index, (name, folder) in enumerate(zip(owner_names(options.owners), options.owners), 1):
        if options.collect:
            break
        print(f"[{index}/{len(options.owners)}] {name} ({folder})", flush=True)
        results.append(evaluate_owner(name, folder, options.impostor, options))
    report = (f"Produced by `{command}` on {datetime.now():%Y-%m-%d %H:%M} "
              f"(impostor: {options.impostor}).\n\n{render_table(results)}\n\n{owner_notes(results)}\n")
    (options.out / TABLE_FILE).write_text(report, encoding="utf-8")
    (options.out / RESULTS_FILE).write_text(
        json.dumps([vars(r) for r in results], indent=2, default=str) + "\n", encoding="utf-8")
    print("\n" + report)
    print(f"Written to {options.out / TABLE_FILE}", flush=True)
    return 1 if any(r.failed_step for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
