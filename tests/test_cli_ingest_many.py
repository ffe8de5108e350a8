"""`twin ingest` on a downloads folder holding several exports: each gets its own importer."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from llm_twin.cli.app import app

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def _downloads(root: Path) -> Path:
    downloads = root / "Downloads"
    shutil.copytree(REPO / "demo" / "x_archive", downloads / "twitter-2024-05-14")
    shutil.copytree(FIXTURES / "linkedin" / "export", downloads / "Complete_LinkedInDataExport")
    shutil.copytree(FIXTURES / "mastodon", downloads / "mastodon-archive")
    shutil.copy(FIXTURES / "wordpress" / "danawrites.WordPress.2024-03-12.xml", downloads)
    shutil.copy(FIXTURES / "whatsapp" / "WhatsApp Chat with Sam.txt", downloads)
    shutil.copytree(FIXTURES / "telegram" / "full_export", downloads / "telegram")
    return downloads


def test_a_folder_of_exports_imports_each_with_the_right_importer(tmp_path):
    runner = CliRunner()
    downloads = _downloads(tmp_path)
    args = ["--workspace", str(tmp_path / "ws"), "ingest", str(downloads), "--me", "Dana"]
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in result.output.splitlines()
            if line.count("│") == 8 and line.split("│")[1].strip()}  # not a wrapped cell's line
    assert rows == {"twitter-2024-05-14": "x-archive", "Complete_LinkedInDataExport": "linkedin",
                    "mastodon-archive": "mastodon", "telegram": "telegram",
                    "danawrites.WordPress.2024-03-12.xml": "wordpress",
                    "WhatsApp Chat with Sam.txt": "whatsapp", "total (6 exports)": ""}
    assert result.output.count("new source #") == 6

    again = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert again.exit_code == 0 and again.output.count("already imported as source #") == 6

    sources = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "sources"],
                            env={"COLUMNS": "250"}).output
    assert "whatsapp message" in sources and "x thread" in sources


def test_a_bad_export_in_the_folder_stores_nothing_of_it_but_keeps_the_others(tmp_path):
    downloads = _downloads(tmp_path)
    (downloads / "twitter-2024-05-14" / "data" / "tweets.js").write_text(
        "window.YTD.tweets.part0 = [ {", encoding="utf-8")
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", str(downloads),
                                      "--me", "Dana"], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    failed = next(line for line in result.output.splitlines() if "twitter-2024-05-14 " in line)
    assert "failed: twitter-2024-05-14/data/tweets.js, line 1" in failed
    assert "Nothing from a failed export was stored; the others were." in result.output
    assert "5 imported, 1 failed" in result.output
