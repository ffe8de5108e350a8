"""An evaluation's outputs: the terminal table, and `<workspace>/eval/<timestamp>/` with
`results.json`, the plots as PNG files and `report.html` (plots embedded, every text escaped)."""

from __future__ import annotations

import base64
import html
import json
import math
import shutil
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from llm_twin.evaluation.harness import EvalResult, SystemResult

EVAL_DIR = "eval"
SAMPLE_PROMPTS = 8  # prompts shown with every system's answer in the HTML report
SAMPLE_CHARS = 700


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def table_rows(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows, shared by the terminal table, the README and the HTML report."""
    judged = any(s.judge_accuracy is not None or s.judge_unparsable for s in result.systems)
    header = ["system", "model", "attributed", "detector AUC", "ROUGE-L", "chrF", "perplexity"]
    if judged:
        header += ["judge accuracy", "judge style", "unparsable"]
    rows = []
    for s in result.systems:
        row = [s.name, s.model_id, fmt(s.attribution_share), fmt(s.detector_auc), fmt(s.rouge_l, 3),
               fmt(s.chrf, 1), fmt(s.perplexity, 1)]
        if judged:
            row += [fmt(s.judge_accuracy), fmt(s.judge_style),
                    "–" if s.judge_unparsable is None else str(s.judge_unparsable)]
        rows.append(row)
    reference = ["real held-out posts", "–", fmt(result.reference["attribution_share"]), "0.50",
                 "1.000", "100.0", "–"] + (["–", "–", "–"] if judged else [])
    rows.append(reference)
    return header, rows


def print_table(result: EvalResult, console) -> None:
    from rich.table import Table

    header, rows = table_rows(result)
    table = Table(title=f"twin eval · dataset {result.dataset_id} · {len(result.prompts)} held-out "
                        "prompts", title_justify="left")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*row, style="dim" if row[0] == "real held-out posts" else None)
    console.print(table)
    a = result.attribution
    console.print(f"[dim]attributed: share the attribution classifier assigns to the owner at a "
                  f"threshold of {a['threshold']:.3f}, which {a['heldout_false_positive_rate']:.0%} of "
                  f"{a['heldout_impostors']} held-out impostor texts pass (target 5%). detector AUC: "
                  "0.5 = indistinguishable from the real posts.[/]", highlight=False)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def markdown_table(result: EvalResult) -> str:
    header, rows = table_rows(result)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def save_report(result: EvalResult, workspace: Path) -> Path:
    """Write results.json, the plots and report.html into a new eval/<timestamp>/ folder."""
    root = Path(workspace) / EVAL_DIR
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    final, n = root / stamp, 1
    while final.exists():
        n += 1
        final = root / f"{stamp}-{n}"
    partial = root / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    (partial / "results.json").write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False,
                                                     default=str) + "\n", encoding="utf-8")
    plots = write_plots(result, partial)
    (partial / "report.html").write_text(render_html(result, plots), encoding="utf-8")
    partial.rename(final)
    return final


def write_plots(result: EvalResult, folder: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s.name for s in result.systems]
    plots = {}
    specs = [("attribution", "Attributed to the owner (share)", [s.attribution_share for s in result.systems],
              [(result.reference["attribution_share"], "real held-out posts")], (0, 1)),
             ("detector", "Detector AUC (0.5 = indistinguishable)", [s.detector_auc for s in result.systems],
              [(0.5, "indistinguishable"), (0.7, "goal ≤ 0.70")], (0, 1)),
             ("overlap", "chrF against the real post", [s.chrf for s in result.systems], [], None)]
    for key, title, values, lines, limits in specs:
        figure, axis = plt.subplots(figsize=(max(5, 1.1 * len(names)), 3.2))
        heights = [0 if v is None or math.isnan(v) else v for v in values]
        axis.bar(names, heights, color="#4c78a8")
        for level, label in lines:
            axis.axhline(level, linestyle="--", color="#e45756", linewidth=1)
            axis.annotate(label, (len(names) - 0.5, level), ha="right", va="bottom", fontsize=8,
                          color="#e45756")
        if limits:
            axis.set_ylim(*limits)
        axis.set_title(title, fontsize=10)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
        figure.tight_layout()
        path = folder / f"{key}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        plots[key] = path
    return plots


def render_html(result: EvalResult, plots: dict[str, Path]) -> str:
    e = html.escape
    header, rows = table_rows(result)
    table = ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
             + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
             + "</table>")
    images = "".join(
        f'<img alt="{e(key)}" src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'
        for key, path in plots.items())
    a = result.attribution
    calibration = (f"Threshold {a['threshold']:.3f}: {a['heldout_false_positive_rate']:.1%} of "
                   f"{a['heldout_impostors']} held-out impostor texts ({a['heldout_base_generations']} "
                   f"base-model answers to held-out prompts, the rest another author's texts) pass it. "
                   f"Trained on {a['train_owner']} owner texts against {a['train_impostors']} "
                   "impostor texts.")
    notes = "".join(f"<li>{e(n)}</li>" for n in result.notes)
    config = "".join(f"<li>{e(str(k))}: {e(str(v))}</li>" for k, v in result.config.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>twin eval {e(result.dataset_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child,td:nth-child(2){{text-align:left}}img{{max-width:100%;margin:.5em 0}}
pre{{white-space:pre-wrap;background:#f6f6f6;padding:.5em;margin:.2em 0}}</style></head><body>
<h1>twin eval</h1>
<p>Dataset {e(result.dataset_id)}, {len(result.prompts)} held-out prompts, {e(result.created_at)}.</p>
{table}
<p>{e(calibration)}</p>
<h2>How to read it</h2>
<ul><li><b>attributed</b>: share of the system's answers an attribution classifier (word n-grams and
function-word/punctuation rates, not the ranker's features) gives to the owner, at a threshold only
5% of held-out impostor texts pass. The real held-out posts' row is the ceiling.</li>
<li><b>detector AUC</b>: a cross-validated classifier telling the real held-out posts from the
system's answers; 0.5 means it cannot tell them apart, 1.0 that it always can.</li>
<li><b>ROUGE-L, chrF</b>: word and character overlap with the real post for the same prompt.</li>
<li><b>perplexity</b>: the model's perplexity on the real held-out answers (lower = the owner's
texts are less surprising to it); RAG and ranking do not change it.</li></ul>
{images}
<h2>Notes</h2><ul>{notes or "<li>none</li>"}</ul>
<h2>Settings</h2><ul>{config}</ul>
<h2>Samples</h2>
{_samples_html(result)}
</body></html>
"""


def _samples_html(result: EvalResult) -> str:
    e = html.escape
    parts = []
    for i, prompt in enumerate(result.prompts[:SAMPLE_PROMPTS]):
        parts.append(f"<h3>{i + 1}. {e(prompt['idea'])}</h3>"
                     f"<p><b>real post</b> ({e(str(prompt['created_at']))})</p>"
                     f"<pre>{e(_short(prompt['answer']))}</pre>")
        for system in result.systems:
            parts.append(f"<p><b>{e(system.name)}</b></p><pre>{e(_short(_output(system, i)))}</pre>")
    return "\n".join(parts)


def _output(system: SystemResult, index: int) -> str:
    return system.outputs[index] if index < len(system.outputs) else ""


def _short(text: str) -> str:
    return text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS] + " …"
