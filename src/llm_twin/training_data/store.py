"""Dataset builds on disk, versioned by content hash, each with a dataset card.

    <workspace>/datasets/LATEST            id of the newest build
    <workspace>/datasets/<id>/train.jsonl  SFT samples ({"messages": [...], ...}), TRL/Axolotl/LLaMA-Factory
    <workspace>/datasets/<id>/test.jsonl
    <workspace>/datasets/<id>/preference_{train,test}.jsonl   {"prompt", "chosen", "rejected"}
    <workspace>/datasets/<id>/card.json, README.md            the dataset card
    <workspace>/datasets/<id>/hf/          datasets.DatasetDict.save_to_disk

A build is written into a temporary folder and renamed into place, so a crash never leaves half a
dataset; the same content gives the same id, so rebuilding unchanged data changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from llm_twin.errors import DatasetError, ExportError, NotFoundError
from llm_twin.storage.models import PUBLIC_AUDIENCES
from llm_twin.training_data.builder import DatasetBuild
from llm_twin.training_data.instructions import MAX_SHARED_RUN
from llm_twin.training_data.samples import PreferencePair, SftSample

DATASETS_DIR = "datasets"
LATEST_FILE = "LATEST"
CARD_FILE = "card.json"
SFT_FILES = {"train": "train.jsonl", "test": "test.jsonl"}
PREFERENCE_FILES = {"train": "preference_train.jsonl", "test": "preference_test.jsonl"}
HF_DIR = "hf"
EXPORT_FORMATS = ("jsonl", "hf")
COPIED_RUN = MAX_SHARED_RUN + 1  # answer words in a row that make an instruction a copy


class DatasetNotFound(NotFoundError, ValueError):
    pass


@dataclass(frozen=True)
class StoredDataset:
    id: str
    path: Path
    card: dict[str, Any]

    def file(self, name: str) -> Path:
        return self.path / name


def datasets_root(workspace: Path) -> Path:
    return Path(workspace) / DATASETS_DIR


# -- writing ---------------------------------------------------------------------------------

def save_build(build: DatasetBuild, workspace: Path, *, tokenizer_name: str,
               count_tokens: Callable[[str], int]) -> tuple[StoredDataset, bool]:
    """Write the build (unless identical content is already stored); returns it and whether new."""
    files = _jsonl_files(build)
    dataset_id = content_id(files)
    root = datasets_root(workspace)
    final = root / dataset_id
    created = not (final / CARD_FILE).exists()
    if created:
        card = dataset_card(build, dataset_id, tokenizer_name, count_tokens)
        partial = root / f".{dataset_id}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        try:  # a full disk or Ctrl-C leaves no half-written folder taking space
            partial.mkdir(parents=True)
            for name, text in files.items():
                (partial / name).write_text(text, encoding="utf-8")
            _save_hf(build, partial / HF_DIR)
            (partial / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
            (partial / "README.md").write_text(card_markdown(card), encoding="utf-8")
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    _write_latest(root, dataset_id)
    return load_build(workspace, dataset_id), created


def _jsonl_files(build: DatasetBuild) -> dict[str, str]:
    files = {}
    for split, name in SFT_FILES.items():
        files[name] = _jsonl(s.to_json() for s in build.split(split))
    for split, name in PREFERENCE_FILES.items():
        files[name] = _jsonl(p.to_json() for p in build.preference_split(split))
    return files


def _jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


def content_id(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode("utf-8"))
    return digest.hexdigest()[:12]


def _save_hf(build: DatasetBuild, folder: Path) -> None:
    from datasets import Dataset, DatasetDict, disable_progress_bars

    disable_progress_bars()
    splits = {}
    for split in SFT_FILES:
        rows = [_hf_row(s.to_json()) for s in build.split(split)]
        if rows:
            splits[split] = Dataset.from_list(rows)
    for split in PREFERENCE_FILES:
        rows = [_hf_row(p.to_json()) for p in build.preference_split(split)]
        if rows:
            splits[f"preference_{split}"] = Dataset.from_list(rows)
    DatasetDict(splits).save_to_disk(str(folder))


def _hf_row(record: dict) -> dict:
    # Arrow needs one type per column: the optional article section becomes -1 when absent.
    return {**record, "section": record.get("section", -1)} if "messages" in record else record


def _write_latest(root: Path, dataset_id: str) -> None:
    temporary = root / f".{LATEST_FILE}.partial"
    try:
        temporary.write_text(dataset_id + "\n", encoding="utf-8")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(root / LATEST_FILE)


# -- the card --------------------------------------------------------------------------------

def dataset_card(build: DatasetBuild, dataset_id: str, tokenizer_name: str,
                 count_tokens: Callable[[str], int]) -> dict[str, Any]:
    stats = build.instruction_stats
    return {
        "id": dataset_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "owner": build.options.owner,
        "owner_documents": build.owner_documents,
        "source_ids": sorted(build.source_ids),
        "languages": build.languages,
        "counts": {
            "sft": {split: len(build.split(split)) for split in SFT_FILES},
            "preference": {split: len(build.preference_split(split)) for split in PREFERENCE_FILES},
            "by_source": _by(build.sft, lambda s: s.source),
            "by_platform_kind": _by(build.sft, lambda s: f"{s.platform}/{s.kind}"),
        },
        "tokens": {"tokenizer": tokenizer_name,
                   **{split: _token_stats(build.split(split), count_tokens) for split in SFT_FILES}},
        "filters": {"instruction": build.instruction_report.as_dict(),
                    "conversation": build.conversation_report.as_dict()},
        # training_data.quality.keep_public: what the model may learn to say to everyone
        "audiences": {"post_answers": list(PUBLIC_AUDIENCES)},
        "splits": {"method": "newest share of each platform's dated documents is test",
                   "test_share": build.options.test_share,
                   "platforms": build.split_info.platforms},
        "instructions": {
            "writer": build.instruction_writer,
            "generated": stats.generated if stats else 0,
            "rejected_overlap": stats.rejected_overlap if stats else 0,
            "rejected_shape": stats.rejected_shape if stats else 0,
            "rejected_off_topic": stats.rejected_off_topic if stats else 0,
            "rejected_share": round(stats.rejected_share, 4) if stats else 0.0,
            "idea_overlap": {split: summary.as_dict()
                             for split, summary in build.idea_overlap.items()}},
        "preferences": {"sources": build.preference_sources,
                        "by_origin": _by_origin(build.preferences)},
        "prompts": _prompt_context(build),
        "weighting": build.weighting,
        "era_tags": build.era_tags,
        "near_duplicate_threshold": build.options.near_duplicate_threshold,
        "build_seconds": build.seconds,
        "files": {**SFT_FILES, **{f"preference_{k}": v for k, v in PREFERENCE_FILES.items()},
                  "hf": HF_DIR + "/"},
    }


def _prompt_context(build: DatasetBuild) -> dict[str, Any]:
    """How the train split's prompts were shaped (training_data.served_prompts)."""
    report = build.context_report
    if report is None:
        return {"served": False}
    shaped = sum(report.shapes.values())
    return {"served": True, **report.to_json(shaped)}


def _by(samples: list[SftSample], key: Callable[[SftSample], str]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = {}
    for sample in samples:
        table.setdefault(key(sample), Counter())[sample.split] += 1
    return {name: {"train": c["train"], "test": c["test"]} for name, c in sorted(table.items())}


def _by_origin(pairs: list[PreferencePair]) -> dict[str, int]:
    return dict(Counter(pair.origin for pair in pairs))


def _token_stats(samples: list[SftSample], count_tokens: Callable[[str], int]) -> dict[str, Any]:
    if not samples:
        return {"samples": 0}
    totals = [sum(count_tokens(m["content"]) for m in s.messages) for s in samples]
    answers = [count_tokens(s.answer) for s in samples]
    return {"samples": len(samples), "total": sum(totals),
            "per_sample": _summary(totals), "answer": _summary(answers)}


def _summary(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {"mean": round(statistics.fmean(ordered), 1), "median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max": ordered[-1]}


def card_markdown(card: dict[str, Any]) -> str:
    counts = card["counts"]
    lines = [f"# Dataset {card['id']}", "",
             f"Owner: {card['owner']}. Built {card['created_at']} from {card['owner_documents']} "
             f"owner documents. Languages kept: {', '.join(card['languages']) or 'all'}.", "",
             "Answers are the owner's own text, verbatim; instructions were written by "
             f"`{card['instructions']['writer']}`.", "",
             "## Samples", "", "| | train | test |", "|---|---:|---:|",
             f"| SFT | {counts['sft']['train']} | {counts['sft']['test']} |",
             f"| preference pairs | {counts['preference']['train']} | {counts['preference']['test']} |"]
    for name, row in counts["by_platform_kind"].items():
        lines.append(f"| {name} | {row['train']} | {row['test']} |")
    lines += ["", "## Tokens", "", f"Tokenizer: {card['tokens']['tokenizer']}.", ""]
    for split in SFT_FILES:
        stats = card["tokens"][split]
        if stats.get("samples"):
            lines.append(f"- {split}: {stats['total']} tokens; per sample mean "
                         f"{stats['per_sample']['mean']}, p95 {stats['per_sample']['p95']}, max "
                         f"{stats['per_sample']['max']}")
    lines += ["", "## Filters (what each dropped)", ""]
    for part, report in card["filters"].items():
        dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) or "nothing"
        lines.append(f"- {part}: {dropped}")
        if report["trimmed"]:
            lines.append(f"  (trimmed: {', '.join(f'{k} {v}' for k, v in report['trimmed'].items())})")
    lines += ["", "## Split by time", "", f"Test share {card['splits']['test_share']}.", "",
              "| platform | documents | test | train until | test from |", "|---|---:|---:|---|---|"]
    for platform, row in card["splits"]["platforms"].items():
        lines.append(f"| {platform} | {row['documents']} | {row['test_documents']} | "
                     f"{row['train_until'] or '-'} | {row['test_from'] or '-'} |")
    prompts = card.get("prompts", {})
    if prompts.get("served"):
        shapes = ", ".join(f"{name} {count}" for name, count in prompts["shapes"].items())
        lines += ["", "## Prompts", "",
                  "Train samples carry the prompt `twin write` serves, with examples and notes "
                  "retrieved for their idea from earlier texts (never the answer's own document or a "
                  f"held-out post): {shapes}; mean {prompts['mean_examples']} examples and "
                  f"{prompts['mean_notes']} notes per shaped prompt."
                  + ("" if prompts["index"] else " No index: every sample is bare.")]
    lines += _weighting_lines(card)
    instructions = card["instructions"]
    lines += _idea_overlap_lines(instructions.get("idea_overlap", {}))
    if instructions["generated"]:
        lines += ["", f"Generated instructions: {instructions['generated']}, rejected "
                      f"{instructions['rejected_overlap']} for overlap with the answer, "
                      f"{instructions['rejected_shape']} for shape and "
                      f"{instructions['rejected_off_topic']} as off topic "
                      f"({instructions['rejected_share']:.1%}); rejected ones use the extractive "
                      "fallback."]
    return "\n".join(lines) + "\n"


def _weighting_lines(card: dict[str, Any]) -> list[str]:
    weighting, era = card.get("weighting", {}), card.get("era_tags", {})
    lines = []
    if weighting.get("method", "none") != "none":
        lines += ["", "## Weighting", "", f"{weighting['method']}: {weighting['rule']} "
                  f"({weighting['repeated_samples']} train samples repeated, "
                  f"{weighting['added_samples']} copies added)."]
    if era.get("enabled"):
        lines += ["", "## Era tags", "", f"{era['tagged']} post samples' prompts end with the year "
                  f"their answer was written: \"{era['wording']}\"."]
    return lines


def _idea_overlap_lines(overlap: dict[str, dict[str, Any]]) -> list[str]:
    if not overlap.get("all", {}).get("ideas"):
        return []
    lines = ["", "## Instructions vs answers", "",
             "How much of its answer each instruction gives away (word 3-grams found in the "
             f"answer; the longest run of answer words in a row). An idea holding {COPIED_RUN}+ "
             "answer words in a row copies the answer.", "",
             "| split | ideas | mean 3-gram share | longest run: mean | max | "
             f"with {COPIED_RUN}+ in a row |",
             "|---|---:|---:|---:|---:|---:|"]
    for split, row in overlap.items():
        if row["ideas"]:
            lines.append(f"| {split} | {row['ideas']} | {row['mean_trigram_share']:.3f} | "
                         f"{row['mean_longest_run']:.1f} | {row['max_longest_run']} | "
                         f"{row['copied_runs']} |")
    return lines


# -- reading ---------------------------------------------------------------------------------

def list_builds(workspace: Path) -> list[StoredDataset]:
    root = datasets_root(workspace)
    if not root.is_dir():
        return []
    builds = [load_build(workspace, p.name) for p in root.iterdir()
              if p.is_dir() and not p.name.startswith(".") and (p / CARD_FILE).exists()]
    return sorted(builds, key=lambda b: b.card.get("created_at", ""), reverse=True)


def latest_id(workspace: Path) -> str | None:
    latest = datasets_root(workspace) / LATEST_FILE
    return latest.read_text(encoding="utf-8").strip() if latest.exists() else None


def resolve_build(workspace: Path, dataset_id: str | None = None) -> StoredDataset:
    """A build by id (or unique id prefix); the newest when no id is given."""
    if dataset_id is None:
        dataset_id = latest_id(workspace)
        if dataset_id is None:
            raise DatasetNotFound("No dataset has been built yet; run `twin dataset build` first.")
    matches = [b for b in list_builds(workspace) if b.id.startswith(dataset_id)]
    if len(matches) != 1:
        known = ", ".join(b.id for b in list_builds(workspace)) or "none"
        problem = "matches several builds" if matches else "is not a dataset build"
        raise DatasetNotFound(f"{dataset_id!r} {problem} (builds: {known}).")
    return matches[0]


def load_build(workspace: Path, dataset_id: str) -> StoredDataset:
    path = datasets_root(workspace) / dataset_id
    card_path = path / CARD_FILE
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DatasetNotFound(f"{path} has no {CARD_FILE}; rebuild with `twin dataset build`.") \
            from error
    except json.JSONDecodeError as error:
        raise DatasetNotFound(f"{card_path}, line {error.lineno}: not valid JSON ({error.msg}).") \
            from error
    return StoredDataset(dataset_id, path, card)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}, line {number}: not valid JSON ({error.msg})") from error
    return records


# -- export and forgetting -------------------------------------------------------------------

def export_build(build: StoredDataset, out: Path, formats: Iterable[str] = EXPORT_FORMATS, *,
                 force: bool = False) -> list[Path]:
    """Copy a build's JSONL files and/or its `datasets` folder (plus the card) to `out`."""
    formats = list(formats)
    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown:
        raise ExportError(f"unknown export format {', '.join(unknown)}; expected: "
                          f"{', '.join(EXPORT_FORMATS)}")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise ExportError(f"{out} exists and is not empty; pass --force to replace it.")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    names = [CARD_FILE, "README.md"]
    if "jsonl" in formats:
        names += [*SFT_FILES.values(), *PREFERENCE_FILES.values()]
    try:  # a full disk or Ctrl-C leaves no half-written copy beside `out`
        partial.mkdir(parents=True)
        for name in names:
            shutil.copy2(build.path / name, partial / name)
        if "hf" in formats:
            shutil.copytree(build.path / HF_DIR, partial / HF_DIR)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return sorted(p for p in out.rglob("*") if p.is_file())


def forget_sources(workspace: Path, source_ids: Iterable[int]) -> list[str]:
    """Delete every build holding text from these sources (forgetting a source is complete)."""
    doomed = set(source_ids)
    removed = []
    for build in list_builds(workspace):
        if doomed & set(build.card.get("source_ids", [])):
            shutil.rmtree(build.path)
            removed.append(build.id)
    root = datasets_root(workspace)
    if latest_id(workspace) in removed:
        remaining = list_builds(workspace)
        if remaining:
            _write_latest(root, remaining[0].id)
        else:
            (root / LATEST_FILE).unlink(missing_ok=True)
    return removed
