"""An evaluation's outputs: the terminal table, and `<workspace>/eval/<timestamp>/` with
`results.json`, the plots as PNG files and `report.html` (plots embedded, every text escaped).

results.json (read by benchmarks and runners; new keys are added, none renamed):
- `dataset_id`, `created_at`, `config` (the `twin eval` options, `backends`), `notes`.
- `prompts[]`: `idea`, `platform`, `document_id`, `created_at`, `answer` (the real post),
  `rag_sources` ({"base+rag": [document ids], ...}).
- `systems[]` and `sanity[]` (rows "real held-out posts" and "a random training post", measured
  like the systems), each with: `name`, `model_id`, `outputs`, `detector_auc` (the headline
  "passes as you": real held-out posts vs the row's texts, cross-validated ROC AUC, 0.5 =
  indistinguishable, lower is better), `attribution_share`, `relevance` (0.5 = chance, 1 = each
  text closest to its own post), `support` (share of claims backed; None without claims),
  `support_claims`, `copying` (share of texts holding a >= 8-word span of a training text),
  `longest_copy` (words), `rouge_l`, `chrf`, `perplexity` (systems only), `judge_accuracy`,
  `judge_style`, `judge_unparsable`, `voice_scores`, and `intervals`: {figure: [value, low, high]}
  (percentile bootstrap over prompts, 95 %, 1000 resamples, seed = --seed) for detector_auc,
  attribution_share, relevance, support, copying, longest_copy, rouge_l, chrf.
- `reference`: `attribution_share` of the real held-out posts, `count`.
- `attribution`: `threshold`, `features`, `target_false_positive_rate`, `heldout_impostors`,
  `heldout_false_positive_rate`, `heldout_owner_posts`, `owner_false_negative_rate`,
  `train_owner`, `train_impostors`, `heldout_base_generations`, `impostor_author_texts`.
- `prompt_overlap`: how much of its answer each held-out idea gives away: `ideas`,
  `mean_trigram_share`, `mean_longest_run`, `max_longest_run`, `copied_runs` (ideas with 4+
  answer words in a row).
"""

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


# (results.json key, table column, digits); the headline first
COLUMNS = (("detector_auc", "passes as you", 2), ("attribution_share", "attributed", 2),
           ("relevance", "relevance", 2), ("support", "support", 2), ("copying", "copying", 2),
           ("longest_copy", "longest", 0), ("rouge_l", "ROUGE-L", 3), ("chrf", "chrF", 1))
LEGEND = ("passes as you: detector AUC, real held-out posts vs the row's texts (0.5 = cannot be "
          "told apart, 1 = always; lower is better; the real posts' own row compares two halves of "
          "them). attributed: share the attribution classifier gives to the owner. relevance: share "
          "of the other held-out posts that a text's own post beats in embedding similarity (0.5 = "
          "chance). support: share of first-person factual claims found in the prompt or the "
          "owner's training texts. copying: share of texts holding an 8-word span of a training "
          "text; longest: the longest such span in words. ROUGE-L, chrF: overlap with the real "
          "post. ppl: held-out perplexity. Under each value (or in brackets): its bootstrap 95 % interval "
          "over prompts.")


def cell(row: SystemResult, key: str, digits: int, *, interval: str = "inline") -> str:
    """"0.62 [0.48–0.75]" (inline) or "0.62" over "0.48–0.75" (below, for narrow terminals)."""
    value, low, high = (row.intervals.get(key) or [getattr(row, key), None, None])
    text = fmt(value, digits)
    if low is None or high is None or text == "–":
        return text
    if interval == "below":  # ".48–.75": narrow enough for an 80-100 column terminal
        return f"{text}\n{_short_number(fmt(low, digits))}–{_short_number(fmt(high, digits))}"
    return f"{text} [{fmt(low, digits)}–{fmt(high, digits)}]"


def _short_number(text: str) -> str:
    """"0.48" -> ".48", "23.4" -> "23": an interval's bounds need no more precision than that."""
    if text.startswith("0."):
        return text[1:]
    return f"{float(text):.0f}" if abs(float(text)) >= 10 else text


def table_rows(result: EvalResult, *, interval: str = "inline") -> tuple[list[str], list[list[str]]]:
    """Header and rows (systems, then the sanity rows), shared by the terminal table, the README
    and the HTML report."""
    judged = any(s.judge_accuracy is not None or s.judge_unparsable for s in result.systems)
    header = ["system"] + [name for _, name, _ in COLUMNS] + ["ppl"]
    if judged:
        header += ["judge accuracy", "judge style", "unparsable"]
    rows = []
    for s in list(result.systems) + list(result.sanity):
        row = [s.name] + [cell(s, key, digits, interval=interval) for key, _, digits in COLUMNS]
        row.append(fmt(s.perplexity, 1))
        if judged:
            row += [fmt(s.judge_accuracy), fmt(s.judge_style),
                    "–" if s.judge_unparsable is None else str(s.judge_unparsable)]
        rows.append(row)
    return header, rows


def _model_legend(result: EvalResult) -> str:
    models: dict[str, str] = {}
    for s in result.systems:
        models.setdefault(s.name.split("+")[0], s.model_id)
    return ", ".join(f"{name} = {model}" for name, model in models.items())


def calibration_line(result: EvalResult) -> str:
    a = result.attribution
    line = (f"attribution threshold {a['threshold']:.3f}: {a['heldout_false_positive_rate']:.0%} of "
            f"{a['heldout_impostors']} held-out impostor texts pass (target 5%)")
    if "owner_false_negative_rate" in a:
        line += (f"; {a['owner_false_negative_rate']:.0%} of the owner's {a['heldout_owner_posts']} "
                 f"held-out posts fail (false negatives; features: {a.get('features', '?')})")
    return line + "."


TERMINAL_HIDDEN = ("ROUGE-L",)  # secondary, in results.json, the README table and report.html


def print_table(result: EvalResult, console) -> None:
    from rich.table import Table

    header, rows = table_rows(result, interval="below")
    shown = [i for i, name in enumerate(header) if name not in TERMINAL_HIDDEN]
    table = Table(title=f"twin eval · dataset {result.dataset_id} · {len(result.prompts)} held-out "
                        "prompts", title_justify="left")
    for i in shown:
        if i == 0:
            table.add_column(header[i], overflow="fold", min_width=12)
        else:  # values never wrap; a long header goes on two lines
            table.add_column(header[i].replace("passes as", "passes\nas"), justify="right",
                             no_wrap=True, min_width=4)
    sanity = {s.name for s in result.sanity}
    for row in rows:
        table.add_row(*[row[i] for i in shown], style="dim" if row[0] in sanity else None,
                      end_section=True)
    console.print(table)
    console.print(f"[dim]{_model_legend(result)}. {calibration_line(result)} {LEGEND}[/]",
                  highlight=False)
    overlap = result.prompt_overlap
    if overlap.get("ideas"):
        console.print(f"[dim]held-out ideas vs their answers: mean word 3-gram share "
                      f"{overlap['mean_trigram_share']:.3f}, "
                      f"longest shared run {overlap['mean_longest_run']:.1f} "
                      f"words on average, {overlap['max_longest_run']} at most; "
                      f"{overlap['copied_runs']} of {overlap['ideas']} hold 4+ answer words in a row.[/]",
                      highlight=False)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def markdown_table(result: EvalResult) -> str:
    header, rows = table_rows(result)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
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

    rows = list(result.systems) + list(result.sanity)
    names = [s.name for s in rows]
    plots = {}
    specs: list[tuple[str, str, list[float | None], list[tuple[float, str]], tuple[float, float]]]
    specs = [("detector", "Passes as you: detector AUC (0.5 = indistinguishable, lower is better)",
              [s.detector_auc for s in rows], [(0.5, "indistinguishable"), (0.75, "goal ≤ 0.75")], (0, 1)),
             ("attribution", "Attributed to the owner (share)", [s.attribution_share for s in rows],
              [], (0, 1)),
             ("relevance", "Relevance to its own post (0.5 = chance)", [s.relevance for s in rows],
              [(0.5, "chance")], (0, 1))]
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
    calibration = (f"{_model_legend(result)}. {calibration_line(result)} Held-out impostors: "
                   f"{a['heldout_base_generations']} base-model answers to the held-out prompts, the "
                   f"rest another author's texts. Trained on {a['train_owner']} owner texts against "
                   f"{a['train_impostors']} impostor texts.")
    notes = "".join(f"<li>{e(n)}</li>" for n in result.notes)
    config = "".join(f"<li>{e(str(k))}: {e(str(v))}</li>" for k, v in result.config.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>twin eval {e(result.dataset_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%;margin:.5em 0}}
pre{{white-space:pre-wrap;background:#f6f6f6;padding:.5em;margin:.2em 0}}</style></head><body>
<h1>twin eval</h1>
<p>Dataset {e(result.dataset_id)}, {len(result.prompts)} held-out prompts, {e(result.created_at)}.</p>
{table}
<p>{e(calibration)}</p>
<h2>How to read it</h2>
<p>{e(LEGEND)}</p>
<p>The sanity rows are measured like the systems: the real held-out posts must win on every metric,
a random training post (pure copying) must lose on relevance and copying.</p>
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
