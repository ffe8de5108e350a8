"""`twin ingest`'s import report: per export found, imported, skipped by reason, repaired; the
notes under the table; `--json` with the same figures in a stable shape."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_twin.cli.app import app

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
LENIENT = FIXTURES / "wordpress" / "lenient" / "danawrites.WordPress.2024-06-01.xml"
ENV = {"COLUMNS": "250"}

ROW_KEYS = {"name", "location", "export", "format", "status", "source_id", "found", "imported",
            "duplicates", "skipped", "repaired", "crossposts", "owner", "notes", "error",
            "seconds"}
TOTAL_KEYS = {"exports", "failed", "already_imported", "found", "imported", "duplicates",
              "skipped", "repaired", "crossposts"}
# A Medium page in posts/ that lists other people's writing: skipped as "not_a_post".
HIGHLIGHTS_PAGE = ("<html><body><ul class='h-feed'><li class='h-entry'><blockquote class='graf'>"
                   "Not mine</blockquote></li></ul></body></html>")


def _downloads(root: Path, *, broken_x: bool = True) -> Path:
    """A WordPress WXR that is not well-formed, an unzipped Medium export with a non-post page,
    and (when `broken_x`) an X archive whose tweets.js is cut off."""
    downloads = root / "Downloads"
    downloads.mkdir()
    shutil.copy(LENIENT, downloads)
    medium = downloads / "medium-export"
    shutil.copytree(FIXTURES / "medium", medium)
    (medium / "posts" / "highlights.html").write_text(HIGHLIGHTS_PAGE, encoding="utf-8")
    if broken_x:
        shutil.copytree(REPO / "demo" / "x_archive", downloads / "twitter-2024-05-14")
        (downloads / "twitter-2024-05-14" / "data" / "tweets.js").write_text(
            "window.YTD.tweets.part0 = [ {", encoding="utf-8")
    return downloads


def _ingest(workspace: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(workspace), "ingest", *args], env=ENV)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_json_report_has_one_row_per_export_and_the_total(tmp_path):
    downloads = _downloads(tmp_path)
    result = _ingest(tmp_path / "ws", str(downloads), "--json")
    assert result.exit_code == 2, result.output  # one export failed
    report = json.loads(result.output)
    assert set(report) == {"exports", "total"}
    rows = {row["name"]: row for row in report["exports"]}
    assert list(rows) == ["danawrites.WordPress.2024-06-01.xml", "medium-export",
                          "twitter-2024-05-14"]
    assert all(set(row) == ROW_KEYS for row in rows.values())
    assert set(report["total"]) == TOTAL_KEYS

    wordpress = rows["danawrites.WordPress.2024-06-01.xml"]
    assert (wordpress["format"], wordpress["status"], wordpress["found"], wordpress["imported"],
            wordpress["duplicates"], wordpress["skipped"], wordpress["repaired"]) == \
        ("wordpress", "imported", 2, 2, 0, {}, 4)
    assert len(wordpress["notes"]) == 1 and "2 of 2 items recovered" in wordpress["notes"][0]
    assert wordpress["error"] is None and isinstance(wordpress["source_id"], int)

    medium = rows["medium-export"]
    assert (medium["format"], medium["status"], medium["found"], medium["imported"],
            medium["skipped"], medium["repaired"], medium["notes"]) == \
        ("medium", "imported", 5, 4, {"not_a_post": 1}, 0, [])

    failed = rows["twitter-2024-05-14"]
    assert (failed["format"], failed["status"], failed["source_id"], failed["found"],
            failed["imported"]) == ("x-archive", "failed", None, 0, 0)
    assert "tweets.js" in failed["error"] and "invalid JSON" in failed["error"]

    assert report["total"] == {"exports": 3, "failed": 1, "already_imported": 0, "found": 7,
                               "imported": 6, "duplicates": 0, "skipped": {"not_a_post": 1},
                               "repaired": 4, "crossposts": 0}
    for row in report["exports"]:  # everything found is imported, already stored or skipped
        assert row["found"] == row["imported"] + row["duplicates"] + sum(row["skipped"].values())


def test_table_shows_each_export_the_total_and_the_notes_under_it(tmp_path):
    downloads = _downloads(tmp_path)
    result = _ingest(tmp_path / "ws", str(downloads))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert next(line.strip() for line in lines if line.strip()) == "Import report"
    header = next(line for line in lines if "export" in line and "found" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == \
        ["export", "format", "found", "imported", "skipped", "repaired", "result"]

    def row(name: str) -> list[str]:
        line = next(line for line in lines if line.startswith(f"│ {name} "))
        return [cell.strip() for cell in line.strip("│ ").split("│")]

    assert row("danawrites.WordPress.2024-06-01.xml")[1:6] == ["wordpress", "2", "2", "", "4"]
    assert row("medium-export")[1:6] == ["medium", "5", "4", "1 not a post", ""]
    assert row("medium-export")[6].startswith("new source #")
    broken = row("twitter-2024-05-14")
    assert broken[1:4] == ["x-archive", "-", "-"]
    # The failed row names the file and the problem, relative to the folder given.
    assert broken[6].startswith("failed: twitter-2024-05-14/data/tweets.js, line 1: invalid JSON")
    assert row("total (3 exports)")[1:] == ["", "7", "6", "1 not a post", "4",
                                            "2 imported, 1 failed"]

    output = _flat(result.output)
    assert ("note: danawrites.WordPress.2024-06-01.xml was not well-formed XML and was read "
            "leniently: 2 of 2 items recovered; repaired line 18") in output
    assert "Nothing from a failed export was stored; the others were." in output
    assert "Next: twin index" not in output  # the run failed: exit code 2


def test_a_second_run_reports_already_imported_and_a_copy_its_duplicates(tmp_path):
    downloads = _downloads(tmp_path, broken_x=False)
    workspace = tmp_path / "ws"
    assert _ingest(workspace, str(downloads)).exit_code == 0

    again = _ingest(workspace, str(downloads), "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert [row["status"] for row in report["exports"]] == ["already_imported"] * 2
    assert report["total"]["already_imported"] == 2 and report["total"]["imported"] == 0
    table = _ingest(workspace, str(downloads))
    assert _flat(table.output).count("already imported as source #") == 2
    assert "Next: twin index" in _flat(table.output)

    # The same Medium export zipped is a new export whose posts are all stored already.
    archive = tmp_path / "medium-export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted((downloads / "medium-export").rglob("*")):
            zipped.write(file, "medium-export/" + file.relative_to(downloads).as_posix()
                         .removeprefix("medium-export/"))
    copy = _ingest(workspace, str(archive), "--json")
    assert copy.exit_code == 0, copy.output
    (row,) = json.loads(copy.output)["exports"]
    assert (row["status"], row["found"], row["imported"], row["duplicates"], row["skipped"]) == \
        ("imported", 5, 0, 4, {"not_a_post": 1})
    line = next(line for line in _ingest(workspace, str(archive), "--format", "medium",
                                         "--json").output.splitlines() if '"status"' in line)
    assert "already_imported" in line


@pytest.mark.parametrize("as_json", [False, True])
def test_a_location_that_cannot_be_planned_is_a_failed_row(tmp_path, as_json):
    missing = tmp_path / "nowhere.zip"
    result = _ingest(tmp_path / "ws", str(missing), *(["--json"] if as_json else []))
    assert result.exit_code == 2
    if as_json:
        (row,) = json.loads(result.output)["exports"]
        assert (row["status"], row["format"], row["name"]) == ("failed", None, "nowhere.zip")
        assert row["error"]
    else:
        assert "nowhere.zip" in result.output and "failed:" in result.output
        assert "total (" not in result.output  # one export: no total row
