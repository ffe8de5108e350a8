"""The ingest pipeline on the real SQLite warehouse: counts, idempotence, atomicity, cascades."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from conftest import StaticImporter, make_doc, make_result
from llm_twin.ingest.base import ImportFormatError, file_fingerprint
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.ingest.registry import detect_importer
from llm_twin.storage.models import Chunk, Document, Source
from llm_twin.storage.warehouse import most_common_owner, summarize

POSTS = {
    "2023/slow-work.md": """---
title: "On Slow Work"
date: 2023-02-05 09:30:00 +0100
author: Dana
tags: [writing]
---

Shipping less,   but better.
I stopped posting daily ☕️

Here is why.
""",
    "2023/notes.md": """---
title: Notes on tooling
date: 2023-03-01
author: Dana
platform: linkedin
kind: post
---
Small tools, sharp edges.
""",
    "guest.md": """---
title: A guest post
author: Sam
---
Written by someone else.
""",
}


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    return root


def count(sessions: sessionmaker[Session], model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def ingest_folder(folder: Path, sessions: sessionmaker[Session]):
    importer = detect_importer(folder)
    assert isinstance(importer, MarkdownFolderImporter)
    return ingest_path(folder, importer, sessions)


def test_markdown_folder_ingest_counts_and_fields(tmp_path: Path, sessions) -> None:
    folder = write_folder(tmp_path / "blog", POSTS)
    report = ingest_folder(folder, sessions)
    assert report.format_name == "markdown-folder"
    assert (report.new_documents, report.duplicates, report.read_documents) == (3, 0, 3)
    assert report.already_imported is False
    assert report.owner == "Dana"
    assert report.source_id is not None

    with sessions() as session:
        source = session.get(Source, report.source_id)
        assert source.document_count == 3
        assert source.path == str(folder.resolve())
        assert source.file_hash == file_fingerprint(folder)
        assert source.owner == "Dana"
        docs = {d.title: d for d in session.scalars(select(Document))}
        summary = summarize(session)
    assert set(docs) == {"On Slow Work", "Notes on tooling", "A guest post"}
    assert (docs["Notes on tooling"].platform, docs["Notes on tooling"].kind) == ("linkedin", "post")
    assert (docs["On Slow Work"].platform, docs["On Slow Work"].kind) == ("blog", "article")
    assert docs["A guest post"].author == "Sam"
    assert all(d.source_id == report.source_id for d in docs.values())
    assert summary.sources == 1 and summary.documents == 3 and summary.chunks == 0
    assert summary.by_platform_kind == {("blog", "article"): 2, ("linkedin", "post"): 1}


def test_reingesting_the_same_folder_is_a_no_op(tmp_path: Path, sessions) -> None:
    folder = write_folder(tmp_path / "blog", POSTS)
    first = ingest_folder(folder, sessions)

    class CountingImporter(MarkdownFolderImporter):
        reads = 0

        def read(self, path):
            CountingImporter.reads += 1
            return super().read(path)

    again = ingest_path(folder, CountingImporter(), sessions)
    assert again.already_imported is True
    assert (again.new_documents, again.duplicates) == (0, 0)
    assert again.source_id == first.source_id
    assert again.owner == "Dana"
    assert CountingImporter.reads == 0  # recognised by fingerprint, not even parsed
    assert count(sessions, Source) == 1
    assert count(sessions, Document) == 3


def test_a_copy_elsewhere_is_the_same_export(tmp_path: Path, sessions) -> None:
    folder = write_folder(tmp_path / "blog", POSTS)
    ingest_folder(folder, sessions)
    copy = shutil.copytree(folder, tmp_path / "blog-copy")
    assert ingest_folder(copy, sessions).already_imported is True
    assert count(sessions, Source) == 1


def test_overlapping_export_adds_only_new_documents(tmp_path: Path, sessions) -> None:
    ingest_folder(write_folder(tmp_path / "v1", POSTS), sessions)
    newer = dict(POSTS)
    newer["2024/fresh.md"] = "---\ntitle: Fresh\nauthor: Dana\n---\nA brand new post.\n"
    # The same words with other line endings and spacing are still the same document.
    newer["2023/notes.md"] = POSTS["2023/notes.md"].replace("\n", "\r\n").replace(
        "Small tools, sharp edges.", "Small tools,   sharp\nedges.  ")
    report = ingest_folder(write_folder(tmp_path / "v2", newer), sessions)
    assert report.already_imported is False
    assert (report.new_documents, report.duplicates, report.read_documents) == (1, 3, 4)
    assert count(sessions, Source) == 2
    assert count(sessions, Document) == 4
    with sessions() as session:
        source = session.get(Source, report.source_id)
        assert source.document_count == 1
        assert [d.title for d in source.documents] == ["Fresh"]


def test_duplicates_inside_one_export_are_stored_once(ingest, sessions) -> None:
    report = ingest("Same words.", "Same   words.", "Other words.", make_doc("Same words.", platform="x"))
    assert (report.new_documents, report.duplicates, report.read_documents) == (3, 1, 4)
    assert count(sessions, Document) == 3


def test_skipped_counts_are_recorded(ingest, sessions) -> None:
    report = ingest("One.", skipped={"retweet": 4})
    assert report.skipped == {"retweet": 4}
    with sessions() as session:
        assert session.get(Source, report.source_id).skipped == {"retweet": 4}


def test_invalid_front_matter_stores_nothing(tmp_path: Path, sessions) -> None:
    earlier = ingest_folder(write_folder(tmp_path / "v1", POSTS), sessions)
    broken = {
        "a-good.md": "---\ntitle: Good one\n---\nThis one parses fine.\n",
        "b-bad.md": "---\ntitle: [unclosed\nauthor: Dana\n---\nBody.\n",
        "c-good.md": "---\ntitle: Another good one\n---\nAlso fine.\n",
    }
    folder = write_folder(tmp_path / "broken", broken)
    with pytest.raises(ImportFormatError) as caught:
        ingest_path(folder, MarkdownFolderImporter(), sessions)
    assert "b-bad.md" in str(caught.value)
    with sessions() as session:
        assert session.scalars(select(Source.id)).all() == [earlier.source_id]
        titles = set(session.scalars(select(Document.title)))
    assert titles == {"On Slow Work", "Notes on tooling", "A guest post"}

    # Once fixed, the export imports completely.
    (folder / "b-bad.md").write_text("---\ntitle: Fixed\n---\nBody.\n", encoding="utf-8")
    assert ingest_path(folder, MarkdownFolderImporter(), sessions).new_documents == 3


def test_a_failed_write_rolls_back_the_whole_export(ingest, sessions, tmp_path: Path) -> None:
    """A database error part-way through the writes leaves no source and no document behind."""
    ingest("Already here.")

    # object() is not JSON-serialisable: the flush fails after the source row was added.
    bad = make_doc("Third, with broken metadata.", metadata={"x": object()})
    result = make_result("First new.", "Second new.", bad)
    export = tmp_path / "exports" / "broken.json"
    export.write_text("broken", encoding="utf-8")
    with pytest.raises(Exception, match="not JSON serializable"):
        ingest_path(export, StaticImporter(result), sessions)
    assert count(sessions, Source) == 1
    with sessions() as session:
        assert session.scalars(select(Document.raw_text)).all() == ["Already here."]


def test_raw_text_keeps_line_breaks_normalized_is_single_spaced(ingest, sessions) -> None:
    raw = "Line one,  with   spaces\r\n\r\n\r\n\r\nLine\u200b two 🚀\x07\n  indented\t\n"
    ingest(make_doc(raw, title="𝗕𝗼𝗹𝗱 title"))
    with sessions() as session:
        doc = session.scalars(select(Document)).one()
    assert doc.raw_text == "Line one,  with   spaces\n\nLine two 🚀\n  indented"
    assert doc.normalized_text == "Line one, with spaces Line two 🚀 indented"
    assert doc.title == "𝗕𝗼𝗹𝗱 title"  # the title is stored as written


def test_created_at_comes_back_timezone_aware_utc(ingest, sessions) -> None:
    plus_two = timezone(timedelta(hours=2))
    ingest(make_doc("Aware.", created_at=datetime(2024, 5, 1, 12, 0, tzinfo=plus_two)),
           make_doc("Naive.", created_at=datetime(2024, 5, 1, 12, 0)),
           make_doc("Undated."))
    with sessions() as session:
        dates = {d.raw_text: d.created_at for d in session.scalars(select(Document))}
        imported_at = session.scalars(select(Source.imported_at)).one()
    assert dates["Aware."] == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert dates["Aware."].utcoffset() == timedelta(0)
    assert dates["Naive."] == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)  # naive means UTC
    assert dates["Naive."].tzinfo is not None
    assert dates["Undated."] is None
    assert imported_at.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - imported_at) < timedelta(minutes=5)


def test_markdown_dates_round_trip_as_utc(tmp_path: Path, sessions) -> None:
    ingest_folder(write_folder(tmp_path / "blog", POSTS), sessions)
    with sessions() as session:
        when = session.scalars(select(Document.created_at)
                               .where(Document.title == "On Slow Work")).one()
    assert when == datetime(2023, 2, 5, 8, 30, tzinfo=timezone.utc)
    assert when.utcoffset() == timedelta(0)


def test_sqlite_foreign_keys_are_enforced(sessions) -> None:
    with sessions() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        session.add(Document(source_id=999, platform="x", kind="post", author="a", is_owner=True,
                             raw_text="t", normalized_text="t", content_hash="h" * 64))
        with pytest.raises(Exception, match="FOREIGN KEY"):
            session.commit()


def test_forgetting_a_source_cascades_documents_and_chunks(ingest, sessions, settings) -> None:
    keep = ingest("Keep me.", "Keep me too.")
    forget = ingest("Forget me.", "Forget me too.", "And me.")
    with sessions.begin() as session:
        for doc in session.scalars(select(Document)):
            session.add(Chunk(id=f"chunk-{doc.id}", document_id=doc.id, position=0,
                              text=doc.raw_text, document_hash=doc.content_hash,
                              embedding_model="m"))
    assert count(sessions, Chunk) == 5

    with sessions.begin() as session:
        session.delete(session.get(Source, forget.source_id))
    with sessions() as session:
        assert session.scalars(select(Source.id)).all() == [keep.source_id]
        assert sorted(session.scalars(select(Document.raw_text))) == ["Keep me too.", "Keep me."]
        assert count(sessions, Chunk) == 2
        assert {c.document.source_id for c in session.scalars(select(Chunk))} == {keep.source_id}

    # The cascade is in the database itself, not only in the ORM: a plain SQL delete works too.
    db_path = settings.resolved_database_url.removeprefix("sqlite:///")
    raw = sqlite3.connect(db_path)
    try:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("DELETE FROM sources WHERE id = ?", (keep.source_id,))
        raw.commit()
    finally:
        raw.close()
    assert (count(sessions, Document), count(sessions, Chunk)) == (0, 0)


def test_forgotten_documents_can_be_imported_again(ingest, sessions) -> None:
    first = ingest("Come back later.")
    with sessions.begin() as session:
        session.delete(session.get(Source, first.source_id))
    again = ingest("Come back later.")
    assert (again.new_documents, again.duplicates) == (1, 0)


def test_most_common_owner(ingest, sessions) -> None:
    ingest("a", owner="Dana")
    ingest("b", owner="Sam")
    ingest("c", owner="Dana")
    ingest("d", owner=None)
    with sessions() as session:
        assert most_common_owner(session) == "Dana"


def test_fingerprint_depends_on_names_and_contents(tmp_path: Path) -> None:
    a = write_folder(tmp_path / "a", {"x.md": "one", "sub/y.md": "two"})
    b = write_folder(tmp_path / "b", {"x.md": "one", "sub/y.md": "two"})
    assert file_fingerprint(a) == file_fingerprint(b)
    (b / "sub" / "y.md").rename(b / "sub" / "z.md")
    assert file_fingerprint(a) != file_fingerprint(b)
    c = write_folder(tmp_path / "c", {"x.md": "one", "sub/y.md": "two!"})
    assert file_fingerprint(a) != file_fingerprint(c)
    single = tmp_path / "single.json"
    single.write_text("one", encoding="utf-8")
    assert file_fingerprint(single) == file_fingerprint(single) != file_fingerprint(a)


class FixedIdentityImporter(StaticImporter):
    """An importer with an identity of its own (as a git HEAD is): asked before reading."""

    def __init__(self, result, identity: str | None):
        super().__init__(result)
        self.identity = identity
        self.asked: list[Path | str] = []

    def fingerprint(self, location):
        self.asked.append(location)
        return self.identity


def test_the_importers_own_fingerprint_decides_a_reimport(tmp_path: Path, sessions) -> None:
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    first.write_text("first bytes", encoding="utf-8")
    second.write_text("other bytes", encoding="utf-8")
    importer = FixedIdentityImporter(make_result("A post of mine."), "same-head")
    stored = ingest_path(first, importer, sessions)
    again = ingest_path(second, importer, sessions)  # different bytes, same identity
    assert stored.new_documents == 1 and again.already_imported is True
    assert importer.reads == 1 and importer.asked == [first, second]
    with sessions() as session:
        assert session.scalar(select(Source.file_hash)) == "same-head"


def test_without_an_identity_before_reading_the_read_result_decides(tmp_path: Path,
                                                                     sessions) -> None:
    result = make_result("Fetched words.")
    result.fingerprint = "digest-of-fetched-pages"
    importer = FixedIdentityImporter(result, None)
    stored = ingest_path("https://example.org/blog", importer, sessions)
    again = ingest_path("https://example.org/blog", importer, sessions)
    assert stored.new_documents == 1 and again.already_imported is True
    assert importer.reads == 2  # a URL can only be recognised after fetching it again
    with sessions() as session:
        assert session.scalar(select(Source.file_hash)) == "digest-of-fetched-pages"


def test_the_default_fingerprint_hashes_local_exports_only(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "blog", POSTS)
    importer = MarkdownFolderImporter()
    assert importer.fingerprint(folder) == file_fingerprint(folder)
    assert importer.fingerprint("https://example.org/feed.xml") is None
