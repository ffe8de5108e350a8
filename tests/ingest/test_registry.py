"""Choosing an importer by looking at an export's content."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from llm_twin.ingest.base import Importer, ImportFormatError
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.registry import as_location, default_importers, detect_importer, plan_imports
from llm_twin.ingest.formats.x_archive import XArchiveImporter

TWEETS = [{"tweet": {"id_str": "1790000000000000001", "full_text": "Hello from a fixture",
                     "created_at": "Tue May 14 08:00:02 +0000 2024"}}]


def x_archive(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "tweets.js").write_text(
        "window.YTD.tweets.part0 = " + json.dumps(TWEETS), encoding="utf-8")
    return root


def markdown_blog(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_posts" / "2024-01-01-hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-01-01\n---\nHello, blog.\n", encoding="utf-8")
    return root


def test_default_importers_order_and_owner() -> None:
    importers = default_importers(owner="Dana")
    names = [importer.format_name for importer in importers]
    # Git first (it claims clone URLs the web importer would also take); loose matches last.
    assert names[0] == "git" and names[-2:] == ["markdown-folder", "web"]
    assert len(names) == len(set(names))
    assert all(isinstance(importer, Importer) for importer in importers)
    markdown = next(i for i in importers if i.format_name == "markdown-folder")
    assert markdown.owner == "Dana"


def test_detects_an_x_archive_folder_and_zip(tmp_path: Path) -> None:
    folder = x_archive(tmp_path / "twitter")
    zipped = tmp_path / "twitter-2024-05-14-abc.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(folder / "data" / "tweets.js", "data/tweets.js")
    assert isinstance(detect_importer(folder, default_importers()), XArchiveImporter)
    assert isinstance(detect_importer(zipped, default_importers()), XArchiveImporter)
    assert detect_importer(folder).read(folder).documents[0].raw_text == "Hello from a fixture"


def test_detects_a_markdown_folder(tmp_path: Path) -> None:
    blog = markdown_blog(tmp_path / "blog")
    assert isinstance(detect_importer(blog, default_importers()), MarkdownFolderImporter)


def test_unknown_export_lists_the_supported_formats(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just some text", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="no importer recognises this export; "
                                                "supported: git, x-archive, .*markdown-folder"):
        detect_importer(tmp_path, default_importers())
    with pytest.raises(ImportFormatError, match="no importer recognises"):
        detect_importer(tmp_path / "notes.txt", default_importers())


def test_missing_path_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"missing\.zip: does not exist"):
        detect_importer(tmp_path / "missing.zip", default_importers())


def test_corrupt_zip_is_reported_as_corrupt(tmp_path: Path) -> None:
    broken = tmp_path / "export.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ImportFormatError, match=r"export\.zip: not a zip archive, or a corrupt"):
        detect_importer(broken, default_importers())


def test_a_folder_of_several_exports_imports_each_with_its_own_importer(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    x_archive(downloads / "twitter-2024")
    markdown_blog(downloads / "blog")
    (downloads / ".DS_Store").write_bytes(b"\0")
    plan = plan_imports(downloads, default_importers())
    assert [(location.name, importer.format_name) for location, importer in plan] == [
        ("blog", "markdown-folder"), ("twitter-2024", "x-archive")]


def test_a_blog_with_section_folders_stays_one_export(tmp_path: Path) -> None:
    markdown_blog(tmp_path / "site" / "posts")
    markdown_blog(tmp_path / "site" / "notes")
    plan = plan_imports(tmp_path / "site", default_importers())
    assert [(location.name, importer.format_name) for location, importer in plan] == [
        ("site", "markdown-folder")]


def test_urls_stay_strings_and_paths_become_paths() -> None:
    assert as_location("https://example.org/feed.xml") == "https://example.org/feed.xml"
    assert as_location("git@github.com:me/repo.git") == "git@github.com:me/repo.git"
    assert as_location("exports/blog") == Path("exports/blog")
