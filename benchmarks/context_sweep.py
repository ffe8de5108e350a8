"""How many notes and style examples a post prompt should carry: `twin eval` of the retrieval
systems for a grid of (notes, examples) settings, one table with the differences against a
baseline setting measured in the same sweep.

Each setting runs the real CLI (`twin --workspace WS eval --systems base+rag,tuned+rag ...`) with
TWIN_RETRIEVAL_K and TWIN_STYLE_EXAMPLES set (and TWIN_PROMPT_TOKENS for a setting written
NOTES/EXAMPLES@TOKENS), in a workspace that already holds a dataset build,
an index and (for the tuned systems) a fine-tuned model. Every setting sees the same held-out
prompts and seeds, so rows differ only by the prompt's context. Per setting and system the table
gives the owner's documents the prompts carried (mean), relevance, support (with the claims it
counts), detector AUC ("passes as you", lower is better), attributed and copying, each with its
bootstrap interval and its difference from the baseline row of the same system; "*" marks a
difference whose intervals do not overlap.

    flock /tmp/twin-cpu.lock .venv/bin/python benchmarks/context_sweep.py \\
        --workspace /tmp/voice-eval2/brandur_fragments/ws --out /tmp/context-sweep/fragments

A model trained on prompts of one shape (served-prompt training uses the settings of its dataset
build) is measured here on the served side only: other counts are prompts it never saw.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from voice_eval import cell, escape, fmt, is_number, table_rows_of, twin_command  # noqa: E402

TABLE_FILE = "context_sweep.md"
SWEEP_FILE = "context_sweep.json"
DEFAULT_GRID = "4/3,0/0,0/3,2/1,6/3"
DEFAULT_SYSTEMS = "base+rag,tuned+rag"
REAL_POSTS = "real held-out posts"
# (results.json key, column title); the claims count is added to the support cell
METRICS = (("relevance", "relevance"), ("support", "support (claims)"),
           ("detector_auc", "passes as you (AUC ↓)"), ("attribution_share", "attributed"),
           ("copying", "copying"))


@dataclass(frozen=True)
class Setting:
    notes: int
    examples: int
    prompt_tokens: int | None = None  # None: the workspace's setting

    @property
    def label(self) -> str:
        budget = f"@{self.prompt_tokens}" if self.prompt_tokens is not None else ""
        return f"{self.notes}/{self.examples}{budget}"

    @property
    def log_name(self) -> str:
        budget = f"-tokens{self.prompt_tokens}" if self.prompt_tokens is not None else ""
        return f"notes{self.notes}-examples{self.examples}{budget}.log"

    def env(self) -> dict[str, str]:
        env = {"TWIN_RETRIEVAL_K": str(self.notes), "TWIN_STYLE_EXAMPLES": str(self.examples)}
        if self.prompt_tokens is not None:
            env["TWIN_PROMPT_TOKENS"] = str(self.prompt_tokens)
        return env


@dataclass
class SettingRun:
    notes: int
    examples: int
    prompt_tokens: int | None = None
    folder: str | None = None  # the eval folder holding results.json
    error: str | None = None
    seconds: float = 0.0
    results: dict = field(default_factory=dict, repr=False)

    @property
    def setting(self) -> Setting:
        return Setting(self.notes, self.examples, self.prompt_tokens)


def parse_setting(text: str) -> Setting:
    """"4/3" → 4 notes, 3 style examples; "4/3@768" → and a prompt budget of 768 tokens."""
    counts, at, budget = text.strip().partition("@")
    parts = counts.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{text!r} is not NOTES/EXAMPLES[@PROMPT_TOKENS] (whole numbers, e.g. 4/3)")
    if at and not budget.strip().isdigit():
        raise ValueError(f"{text!r}: the prompt budget after @ is not a whole number")
    return Setting(int(parts[0]), int(parts[1]), int(budget) if at else None)


def parse_grid(text: str) -> list[Setting]:
    settings = [parse_setting(part) for part in text.split(",") if part.strip()]
    if not settings:
        raise ValueError("the grid names no setting")
    if len(set(settings)) != len(settings):
        raise ValueError(f"the grid {text!r} repeats a setting")
    return settings


# -- running the CLI ---------------------------------------------------------------------------

def eval_folders(workspace: Path) -> set[Path]:
    return {p.parent for p in (workspace / "eval").glob("*/results.json")}


def run_setting(setting: Setting, workspace: Path, eval_args: list[str], logs: Path,
                timeout: float | None) -> SettingRun:
    """One `twin eval` with the setting's environment; its output goes to logs/<n>-<e>.log."""
    run = SettingRun(setting.notes, setting.examples, setting.prompt_tokens)
    command = [*twin_command(), "--workspace", str(workspace), "eval", *eval_args]
    log = logs / setting.log_name
    env = {**os.environ, "COLUMNS": "200", **setting.env()}
    before = eval_folders(workspace)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ {' '.join(f'{k}={v}' for k, v in setting.env().items())} {shlex.join(command)}\n")
        out.flush()
        try:
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = None
    run.seconds = time.monotonic() - started
    new = sorted(eval_folders(workspace) - before)
    if code != 0 or not new:
        reason = "timed out" if code is None else f"exit {code}" if code else "no new results.json"
        run.error = f"{reason}; see {log}"
        return run
    run.folder = str(new[-1])
    return run


def load_results(run: SettingRun) -> SettingRun:
    """The run's results.json, or the run marked failed when it cannot be read."""
    if run.folder is None or run.error:
        return run
    path = Path(run.folder) / "results.json"
    try:
        run.results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        run.error = f"cannot read {path}: {error}"
    return run


# -- the table ---------------------------------------------------------------------------------

def mean_sources(results: dict, system: str) -> float | None:
    """Mean count of the owner's documents (notes and examples) the system's prompts carried."""
    counts = [len(p["rag_sources"][system]) for p in results.get("prompts") or []
              if isinstance(p, dict) and isinstance(p.get("rag_sources"), dict)
              and isinstance(p["rag_sources"].get(system), list)]
    return sum(counts) / len(counts) if counts else None


def rows_by_name(results: dict) -> dict[str, dict]:
    rows = {row["name"]: row for row in table_rows_of(results)}
    for row in results.get("systems") or []:  # the claims count sits outside the intervals
        if isinstance(row, dict) and is_number(row.get("support_claims")) and row.get("name") in rows:
            rows[row["name"]]["figures"]["support_claims"] = row["support_claims"]
    return rows


def system_names(runs: list[SettingRun]) -> list[str]:
    names: list[str] = []
    for run in runs:
        for row in run.results.get("systems") or []:
            if isinstance(row, dict) and row.get("name") not in names:
                names.append(row.get("name"))
    return [n for n in names if isinstance(n, str)]


def difference(row: dict, baseline: dict | None, key: str) -> str:
    """"+0.031" against the baseline row; "*" when the two intervals do not overlap."""
    if baseline is None:
        return ""
    value, base = row["figures"].get(key), baseline["figures"].get(key)
    if not (is_number(value) and is_number(base)):
        return ""
    mark = ""
    mine, theirs = row["intervals"].get(key), baseline["intervals"].get(key)
    if mine and theirs and (mine[1] < theirs[0] or theirs[1] < mine[0]):
        mark = "*"
    return f" ({value - base:+.3f}{mark})"


def metric_cell(row: dict, baseline: dict | None, key: str) -> str:
    text = cell(row, key) + difference(row, baseline, key)
    claims = row["figures"].get("support_claims")
    if key == "support" and is_number(claims):
        text += f" n={int(claims)}"
    return text


def render_table(runs: list[SettingRun], baseline: Setting) -> str:
    """One row per setting and system, the baseline setting first, then the real posts."""
    base_run = next((r for r in runs if r.setting == baseline and not r.error), None)
    base_rows = rows_by_name(base_run.results) if base_run else {}
    ordered = sorted(runs, key=lambda r: r.setting != baseline)
    columns = ["notes/examples", "system", "documents in prompt", *(t for _, t in METRICS), "eval folder"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    systems = system_names(runs)
    for run in ordered:
        label = run.setting.label + (" (baseline)" if run.setting == baseline else "")
        if run.error:
            cells = [label, f"**failed**: {escape(run.error)}", *[""] * (len(columns) - 2)]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        rows = rows_by_name(run.results)
        compared = {} if run.setting == baseline else base_rows
        for system in systems:
            if system not in rows:
                continue
            row = rows[system]
            cells = [label, system, fmt(mean_sources(run.results, system), 1),
                     *(metric_cell(row, compared.get(system), key) for key, _ in METRICS),
                     f"`{run.folder}`"]
            lines.append("| " + " | ".join(cells) + " |")
    if REAL_POSTS in base_rows:
        row = base_rows[REAL_POSTS]
        cells = ["–", REAL_POSTS, "–", *(metric_cell(row, None, key) for key, _ in METRICS),
                 f"`{base_run.folder}`"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the command -------------------------------------------------------------------------------

def eval_arguments(options: argparse.Namespace) -> list[str]:
    args = ["--systems", options.systems, "--limit", str(options.limit), "--k", "1",
            "--max-new-tokens", str(options.max_new_tokens), "--seed", str(options.seed),
            "--no-perplexity"]
    if options.impostor is not None:
        args += ["--impostor", str(options.impostor)]
    return args


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True,
                        help="a workspace with a dataset build, an index and a fine-tuned model")
    parser.add_argument("--out", type=Path, default=Path("context-sweep"),
                        help="logs and the table (context_sweep.md, context_sweep.json)")
    parser.add_argument("--grid", default=DEFAULT_GRID,
                        help="NOTES/EXAMPLES[@PROMPT_TOKENS] settings, comma-separated")
    parser.add_argument("--baseline", default="4/3", help="the setting every row is compared with")
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS, help="twin eval --systems (retrieval ones)")
    parser.add_argument("--limit", type=int, default=40, help="twin eval --limit (held-out prompts)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--impostor", type=Path, default=None, help="twin eval --impostor")
    parser.add_argument("--step-timeout", type=float, default=None, help="seconds per eval")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: the table again from <out>/context_sweep.json")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the settings <out>/context_sweep.json already measured")
    options = parser.parse_args(argv)
    try:
        options.settings = parse_grid(options.grid)
        options.baseline = parse_setting(options.baseline)
    except ValueError as error:
        parser.error(str(error))
    if options.baseline not in options.settings:
        parser.error(f"the baseline {options.baseline.label} is not in the grid {options.grid}")
    if "+rag" not in options.systems:
        parser.error("--systems names no retrieval system (+rag): the settings would change nothing")
    return options


def sweep(options: argparse.Namespace) -> list[SettingRun]:
    """The baseline first, so a cut-short sweep still has it. With --resume, a setting an earlier
    sweep into the same --out measured is read again, not rerun."""
    logs = options.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    args = eval_arguments(options)
    done = {run.setting: run for run in (collected_runs(options.out) if options.resume else [])
            if not run.error}
    ordered = sorted(options.settings, key=lambda s: s != options.baseline)
    runs = []
    for index, setting in enumerate(ordered, 1):
        print(f"[{index}/{len(ordered)}] {setting.label} (notes/examples[@prompt tokens])", flush=True)
        run = done.get(setting)
        if run is None:
            run = load_results(run_setting(setting, options.workspace, args, logs, options.step_timeout))
        print(f"    {run.error or run.folder} ({run.seconds:.0f} s)", flush=True)
        runs.append(run)
        save_runs(runs, options.out)
    return runs


def save_runs(runs: list[SettingRun], out: Path) -> None:
    saved = [{k: v for k, v in asdict(run).items() if k != "results"} for run in runs]
    (out / SWEEP_FILE).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")


def collected_runs(out: Path) -> list[SettingRun]:
    path = out / SWEEP_FILE
    if not path.exists():
        return []
    saved = json.loads(path.read_text(encoding="utf-8"))
    return [load_results(SettingRun(**entry)) for entry in saved]


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    command = "benchmarks/context_sweep.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    runs = collected_runs(options.out) if options.collect else sweep(options)
    if not runs:
        print(f"No sweep recorded in {options.out / SWEEP_FILE}", file=sys.stderr)
        return 1
    report = (f"Produced by `{command}` on {datetime.now():%Y-%m-%d %H:%M} (workspace "
              f"{options.workspace}; `twin eval {shlex.join(eval_arguments(options))}`).\n\n"
              f"{render_table(runs, options.baseline)}\n")
    (options.out / TABLE_FILE).write_text(report, encoding="utf-8")
    print("\n" + report)
    print(f"Written to {options.out / TABLE_FILE}", flush=True)
    return 1 if any(run.error for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
