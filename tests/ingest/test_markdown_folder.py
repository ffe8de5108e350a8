"""Markdown-folder importer: synthetic blogs in tmp_path, plus one real corpus when present."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
import os
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter

CORPORA = Path(os.environ.get("TWIN_CORPORA") or Path(__file__).parents[2].parent / "shared" / "corpora")
CORPUS = CORPORA / "skeeto_nullprogram"

FIRST_POST = """---
title: "On Slow Work"
date: 2023-02-05
source: "https://blog.example.org/slow-work"
license: "MIT"
author: "Dana"
tags: [writing, habits]
hook: "Why I stopped shipping daily."
---

First paragraph, with a deliberate
line break. ☕️🧵

  - an indented list item, kept as is
"""


def write(root: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode(encoding))
    return target


def one_doc(root: Path, text: str, **importer_args: object):
    write(root, "post.md", text)
    result = MarkdownFolderImporter(**importer_args).read(root)
    assert len(result.documents) == 1
    return result.documents[0]


def test_front_matter_maps_to_document_fields(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, FIRST_POST)
    assert (doc.platform, doc.kind, doc.author, doc.is_owner) == ("blog", "article", "Dana", True)
    assert doc.title == "On Slow Work"
    assert doc.created_at == datetime(2023, 2, 5, tzinfo=timezone.utc)
    assert doc.url == "https://blog.example.org/slow-work"
    assert doc.external_id == "post.md"
    assert doc.metadata == {"license": "MIT", "tags": ["writing", "habits"],
                            "hook": "Why I stopped shipping daily.", "path": "post.md"}


def test_body_is_kept_verbatim_apart_from_surrounding_blank_lines(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, FIRST_POST + "\n\n")
    assert doc.raw_text == ("First paragraph, with a deliberate\nline break. ☕️🧵\n\n"
                            "  - an indented list item, kept as is")


def test_first_body_line_keeps_its_indentation(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, "---\ntitle: Code\n---\n\n    indented code first\ntext\n")
    assert doc.raw_text == "    indented code first\ntext"


@pytest.mark.parametrize(("front_matter", "expected"), [
    ('date: "2022-12-25"', datetime(2022, 12, 25, tzinfo=timezone.utc)),
    ("date: 2022-12-25 10:30:00", datetime(2022, 12, 25, 10, 30, tzinfo=timezone.utc)),
    ('date: "2019-03-04 10:00:00 +0100"', datetime(2019, 3, 4, 9, 0, tzinfo=timezone.utc)),
    ('date: "2022-12-25"\npublished_at: "2022-12-25 23:55:16-07:00"',
     datetime(2022, 12, 26, 6, 55, 16, tzinfo=timezone.utc)),
    ('published_at: "2024-01-02T03:04:05Z"', datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("title: no date", None),
])
def test_dates_become_utc(tmp_path: Path, front_matter: str, expected: datetime | None) -> None:
    doc = one_doc(tmp_path, f"---\n{front_matter}\n---\nBody.\n")
    assert doc.created_at == expected
    assert doc.created_at is None or doc.created_at.utcoffset().total_seconds() == 0


def test_metadata_is_json_safe(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, "---\ntitle: T\ndate: 2020-01-01\nupdated: 2021-05-06\n"
                            "series: {part: 2, since: 2020-02-02}\n---\nBody\n")
    assert doc.metadata["updated"] == "2021-05-06"
    assert doc.metadata["series"] == {"part": 2, "since": "2020-02-02"}
    json.dumps(doc.metadata)


def test_url_language_platform_and_kind_overrides(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, "---\ntitle: T\nsource: 'owner/repo:_posts/t.md'\n"
                            "permalink: https://example.org/t\nlang: fr\nplatform: substack\n"
                            "kind: post\n---\nBonjour\n")
    assert (doc.url, doc.language, doc.platform, doc.kind) == (
        "https://example.org/t", "fr", "substack", "post")
    assert doc.metadata["source"] == "owner/repo:_posts/t.md"  # not a link, so kept as metadata


def test_unknown_kind_is_ignored_but_kept_in_metadata(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, "---\nkind: essay\n---\nBody\n")
    assert doc.kind == "article"
    assert doc.metadata["kind"] == "essay"


def test_drafts_are_kept_and_marked(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: A\ndraft: true\n---\nDraft text\n")
    write(tmp_path, "b.md", "---\ntitle: B\npublished: false\n---\nUnpublished text\n")
    docs = MarkdownFolderImporter().read(tmp_path).documents
    assert [doc.metadata["draft"] for doc in docs] == [True, True]


def test_empty_bodies_are_skipped_and_counted(tmp_path: Path) -> None:
    write(tmp_path, "empty.md", "---\ntitle: Nothing yet\n---\n\n   \n")
    write(tmp_path, "full.md", "---\ntitle: Something\n---\nText\n")
    result = MarkdownFolderImporter().read(tmp_path)
    assert [doc.title for doc in result.documents] == ["Something"]
    assert result.skipped == {"empty": 1}


def test_files_are_found_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "posts/2024/b.markdown", "---\ntitle: B\n---\nB\n")
    write(tmp_path, "posts/2023/a.MD", "---\ntitle: A\n---\nA\n")
    write(tmp_path, "notes/c.md", "---\ntitle: C\n---\nC\n")
    write(tmp_path, ".git/x.md", "---\ntitle: hidden\n---\nX\n")
    write(tmp_path, "posts/image.png", "not text")
    docs = MarkdownFolderImporter().read(tmp_path).documents
    assert [doc.external_id for doc in docs] == ["notes/c.md", "posts/2023/a.MD",
                                                 "posts/2024/b.markdown"]
    assert docs[0].metadata["path"] == "notes/c.md"


def test_most_common_author_is_the_owner_when_none_is_given(tmp_path: Path) -> None:
    write(tmp_path, "1.md", "---\nauthor: Dana\n---\nOne\n")
    write(tmp_path, "2.md", "---\nauthor: Dana\n---\nTwo\n")
    write(tmp_path, "3.md", "---\nauthor: Guest Writer\n---\nThree\n")
    write(tmp_path, "4.md", "---\ntitle: No author\n---\nFour\n")
    result = MarkdownFolderImporter().read(tmp_path)
    assert result.owner == "Dana"
    assert [doc.author for doc in result.documents] == ["Dana", "Dana", "Guest Writer", "Dana"]
    assert all(doc.is_owner for doc in result.documents)


def test_other_authors_are_not_the_owner_when_owner_is_given(tmp_path: Path) -> None:
    write(tmp_path, "1.md", "---\nauthor: dana\n---\nOne\n")
    write(tmp_path, "2.md", "---\nauthor: Guest Writer\n---\nTwo\n")
    write(tmp_path, "3.md", "---\ntitle: No author\n---\nThree\n")
    result = MarkdownFolderImporter(owner="Dana").read(tmp_path)
    assert result.owner == "Dana"
    assert [doc.is_owner for doc in result.documents] == [True, False, True]
    assert [doc.author for doc in result.documents] == ["dana", "Guest Writer", "Dana"]


def test_invalid_front_matter_names_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "good.md", "---\ntitle: Fine\n---\nFine\n")
    bad = write(tmp_path, "drafts/bad.md", "---\ntitle: Fine\nhook: a: b\n---\nBody\n")
    with pytest.raises(ImportFormatError, match=r"bad\.md, line 3: invalid YAML") as caught:
        MarkdownFolderImporter().read(tmp_path)
    assert caught.value.file == str(bad)


def test_unclosed_front_matter_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "open.md", "---\ntitle: Never closed\n\nBody\n")
    with pytest.raises(ImportFormatError, match=r"open\.md.*never closed"):
        MarkdownFolderImporter().read(tmp_path)


def test_front_matter_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "list.md", "---\n- just\n- a list\n---\nBody\n")
    with pytest.raises(ImportFormatError, match=r"list\.md.*mapping"):
        MarkdownFolderImporter().read(tmp_path)


def test_undecodable_file_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "ok.md", "---\ntitle: Fine\n---\nFine\n")
    write(tmp_path, "latin.md", "---\ntitle: Café\n---\nCafé\n", encoding="latin-1")
    with pytest.raises(ImportFormatError, match=r"latin\.md.*UTF-8"):
        MarkdownFolderImporter().read(tmp_path)


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    doc = one_doc(tmp_path, "\ufeff---\r\ntitle: Windows\r\n---\r\nLine one\r\nLine two 😀\r\n")
    assert doc.title == "Windows"
    assert doc.raw_text == "Line one\nLine two 😀"


def test_file_without_front_matter_is_imported_whole(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: With\n---\nWith\n")
    write(tmp_path, "b.md", "# Plain note\n\nNo header here.\n")
    plain = MarkdownFolderImporter().read(tmp_path).documents[1]
    assert plain.title is None
    assert plain.raw_text == "# Plain note\n\nNo header here."


def test_zipped_blog_is_read_like_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "blog"
    write(folder, "posts/one.md", FIRST_POST)
    zipped = tmp_path / "blog.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(folder / "posts/one.md", "my-blog/posts/one.md")
    importer = MarkdownFolderImporter()
    assert importer.detect(zipped)
    assert importer.read(zipped).documents == importer.read(folder).documents


def test_detect(tmp_path: Path) -> None:
    importer = MarkdownFolderImporter()
    assert not importer.detect(tmp_path)  # empty
    write(tmp_path, "plain.md", "# No front matter\n")
    assert not importer.detect(tmp_path)
    write(tmp_path, "sub/post.md", "---\ntitle: Yes\n---\nBody\n")
    assert importer.detect(tmp_path)
    assert not importer.detect(tmp_path / "sub" / "post.md")  # a file, not a folder
    assert not importer.detect(tmp_path / "missing")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not present at {CORPUS}")
def test_real_blog_corpus() -> None:
    importer = MarkdownFolderImporter()
    assert importer.detect(CORPUS)
    result = importer.read(CORPUS)
    assert len(result.documents) == 461
    assert result.owner == "Chris Wellons"
    assert all(doc.title and doc.created_at is not None for doc in result.documents)
    assert all(doc.created_at.tzinfo is not None for doc in result.documents)
