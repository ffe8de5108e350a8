"""Substack importer, on the synthetic export in tests/fixtures/substack (FORMATS.md section 4)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportOptions
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.ingest.formats.substack import SubstackImporter

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXPORT = FIXTURES / "substack"
HEADER = ("post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,"
          "subtitle,podcast_url")
SUBSCRIBER_EMAILS = ("reader.one@example.com", "reader.two@example.net")

FIRST_LETTER = """Hi friends,

This is the first letter. I’m writing it at 5 a.m. with cold coffee ☕
and a warm cat.

## Why a letter

Because feeds are loud, and letters wait for you.

The desk where these letters happen.

## Three promises

- One letter a week.
- No growth hacks.
  - Really, none.

> Begin anywhere.

```
git commit -m "first letter"
git push  # and breathe
```

See you next Sunday,
Dana

[1] Yes, decaf counts.

[2] Mostly. Some letters are bills."""


def write(root: Path, name: str, data: str | bytes) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def export_with(root: Path, csv_text: str, bodies: dict[str, str]) -> Path:
    write(root, "posts.csv", csv_text)
    for post_id, html in bodies.items():
        write(root, f"posts/{post_id}.html", html)
    return root


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


def by_id(documents: list[ImportedDocument]) -> dict[str, ImportedDocument]:
    return {document.external_id: document for document in documents}


def read_error(root: Path) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as raised:
        SubstackImporter().read(root)
    return raised.value


@pytest.fixture(scope="module")
def fixture_result():
    return SubstackImporter().read(EXPORT)


@pytest.fixture(scope="module")
def documents(fixture_result) -> dict[str, ImportedDocument]:
    return by_id(fixture_result.documents)


# Detection


def test_detects_the_export_folder_and_a_zip_of_it(tmp_path: Path) -> None:
    importer = SubstackImporter()
    assert importer.detect(EXPORT)
    assert importer.detect(zip_folder(EXPORT, tmp_path / "export.zip", "dana-letters/"))


def test_does_not_detect_the_medium_fixture_or_foreign_input(tmp_path: Path) -> None:
    importer = SubstackImporter()
    write(tmp_path / "other-csv", "posts.csv", "id,text\n1,hello\n")
    write(tmp_path / "x", "data/tweets.js", "window.YTD.tweets.part0 = [ ]")
    write(tmp_path / "binary", "posts.csv", bytes(range(256)))
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    for path in [FIXTURES / "medium", tmp_path / "other-csv", tmp_path / "x",
                 tmp_path / "binary", tmp_path / "empty", tmp_path / "broken.zip",
                 tmp_path / "missing"]:
        assert not importer.detect(path), path


def test_does_not_detect_other_importers_fixtures() -> None:
    for path in FIXTURES.iterdir():
        if path.name != "substack":
            assert not SubstackImporter().detect(path), path


# What is read


def test_every_post_with_a_body_becomes_an_article(fixture_result) -> None:
    assert fixture_result.format_name == "substack"
    assert sorted(by_id(fixture_result.documents)) == [
        "140001.first-letter", "140002.rough-idea", "140003.episode-one", "140004.open-thread",
        "140005.about", "140007.scheduled"]
    for document in fixture_result.documents:
        assert (document.platform, document.kind, document.is_owner) == \
            ("substack", "article", True)
        assert document.author == "owner"
    assert fixture_result.owner is None  # the export does not name its writer


def test_a_row_without_its_html_file_is_skipped_and_counted(fixture_result) -> None:
    assert fixture_result.skipped == {"missing_body": 1}
    assert "140006.lost-post" not in by_id(fixture_result.documents)


def test_published_post_fields_come_from_the_csv(documents) -> None:
    letter = documents["140001.first-letter"]
    assert letter.title == "First, a letter"
    assert letter.created_at == datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
    assert letter.metadata == {
        "file": "posts/140001.first-letter.html", "csv_line": 2, "type": "newsletter",
        "audience": "everyone", "subtitle": "On beginnings",
        "email_sent_at": "2024-03-10T12:00:03.000Z"}


def test_body_becomes_markdown_ish_text_with_footnotes_at_the_end(documents) -> None:
    assert documents["140001.first-letter"].raw_text == FIRST_LETTER


@pytest.mark.parametrize("boilerplate", [
    "Thanks for reading", "Subscribe", "Type your email",  # .subscription-widget-wrap
    "Share Dana’s Letters",  # p.button-wrapper
    "SOMEONE ELSE", "@someone", "Mar 9, 2024",  # div.tweet
    "EMBEDDED DIGEST CARD",  # .digest-post-embed
    "GALLERY CAPTION",  # .image-gallery-embed
    "LATEX FALLBACK",  # div.latex-rendered
    "ALT TEXT OF THE IMAGE", "substackcdn",  # .captioned-image-container, caption kept
])
def test_boilerplate_and_embeds_are_stripped(documents, boilerplate: str) -> None:
    assert boilerplate not in documents["140001.first-letter"].raw_text


def test_footnote_markers_are_removed_from_the_running_text(documents) -> None:
    text = documents["140001.first-letter"].raw_text
    assert "coffee ☕" in text and "coffee1" not in text
    assert "wait for you." in text and "you.2" not in text


def test_unpublished_or_undated_posts_are_drafts(documents) -> None:
    assert documents["140002.rough-idea"].metadata["draft"] is True  # false, no date
    assert documents["140002.rough-idea"].created_at is None
    assert documents["140007.scheduled"].metadata["draft"] is True  # false, dated
    assert documents["140007.scheduled"].metadata["audience"] == "founding"
    for post_id in ("140001.first-letter", "140003.episode-one", "140004.open-thread"):
        assert "draft" not in documents[post_id].metadata  # true, True and TRUE


def test_post_type_audience_and_podcast_link_are_kept(documents) -> None:
    episode = documents["140003.episode-one"]
    assert episode.metadata["type"] == "podcast"
    assert episode.metadata["audience"] == "only_paid"
    assert episode.metadata["subtitle"] == 'Show notes, and a "thank you"'
    assert episode.metadata["podcast_url"].endswith("/episode-one.mp3")
    assert "Subscribe now" not in episode.raw_text
    assert documents["140004.open-thread"].metadata["type"] == "thread"
    assert documents["140005.about"].metadata["type"] == "page"


def test_subscriber_and_analytics_files_are_never_opened(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    export = shutil.copytree(EXPORT, tmp_path / "export")
    garbage = b"\xff\xfe\x00 not utf-8 \x81\x8d " + ",".join(SUBSCRIBER_EMAILS).encode()
    for name in ("email_list.dana-letters.csv", "posts/140001.first-letter.opens.csv",
                 "posts/140001.first-letter.delivers.csv"):
        (export / name).write_bytes(garbage)
    opened: list[str] = []
    for method in ("read_bytes", "read_head", "read_text"):
        original = getattr(ExportTree, method)

        def spy(self, name, *args, _original=original):
            opened.append(name)
            return _original(self, name, *args)
        monkeypatch.setattr(ExportTree, method, spy)

    importer = SubstackImporter()
    assert importer.detect(export)
    result = importer.read(export)
    assert len(result.documents) == 6
    assert opened and all(name == "posts.csv" or name.endswith(".html") for name in opened)
    everything = json.dumps([document.__dict__ for document in result.documents], default=str)
    for email in SUBSCRIBER_EMAILS:
        assert email not in everything


def test_older_exports_without_inbox_sent_at_are_mapped_by_header_name(tmp_path: Path) -> None:
    csv_text = ("post_id,post_date,is_published,email_sent_at,type,audience,title,subtitle,"
                "podcast_url\n"
                "9.old-post,2019-05-01T08:00:00.000Z,true,,newsletter,only_paid,Old post,Sub,\n")
    export_with(tmp_path, csv_text, {"9.old-post": "<p>From 2019.</p>"})
    [document] = SubstackImporter().read(tmp_path).documents
    assert document.title == "Old post"
    assert document.metadata["audience"] == "only_paid"
    assert document.metadata["type"] == "newsletter"
    assert document.metadata["subtitle"] == "Sub"


def test_zip_with_a_wrapping_folder_reads_like_the_folder(tmp_path: Path, documents) -> None:
    archive = zip_folder(EXPORT, tmp_path / "export.zip", "dana-letters/")
    from_zip = by_id(SubstackImporter().read(archive).documents)
    assert from_zip.keys() == documents.keys()
    for post_id, document in from_zip.items():
        assert document.raw_text == documents[post_id].raw_text


def test_the_configured_owner_name_is_the_author(tmp_path: Path) -> None:
    export_with(tmp_path, f"{HEADER}\n1.a,2024-01-01T00:00:00Z,true,,,newsletter,everyone,A,,\n",
                {"1.a": "<p>Hello.</p>"})
    [document] = SubstackImporter(ImportOptions(owner_name="Dana")).read(tmp_path).documents
    assert document.author == "Dana"


def test_embedded_posts_from_other_publications_are_dropped(tmp_path: Path) -> None:
    html = ('<p>Read this:</p><div class="embedded-post-wrap" data-attrs="{}"><div '
            'class="embedded-post"><div class="embedded-post-title">OTHER WRITER\'S POST</div>'
            '</div></div><p>Agreed.</p>')
    export_with(tmp_path, f"{HEADER}\n1.a,2024-01-01T00:00:00Z,true,,,newsletter,everyone,A,,\n",
                {"1.a": html})
    [document] = SubstackImporter().read(tmp_path).documents
    assert document.raw_text == "Read this:\n\nAgreed."


def test_an_empty_body_is_skipped_and_counted(tmp_path: Path) -> None:
    export_with(tmp_path, f"{HEADER}\n1.a,2024-01-01T00:00:00Z,true,,,podcast,everyone,A,,\n",
                {"1.a": '<div class="paywall-jump"></div>'})
    result = SubstackImporter().read(tmp_path)
    assert result.documents == []
    assert result.skipped == {"empty": 1}


def test_a_windows_1252_csv_is_decoded(tmp_path: Path) -> None:
    csv_text = (f"{HEADER}\n1.cafe,2024-01-01T00:00:00Z,true,,,newsletter,everyone,"
                "Café notes,Où l’on parle de crème brûlée — déjà vu,\n")
    write(tmp_path, "posts.csv", csv_text.encode("cp1252"))
    write(tmp_path, "posts/1.cafe.html", "<p>Hello.</p>")
    [document] = SubstackImporter().read(tmp_path).documents
    assert document.title == "Café notes"
    assert document.metadata["subtitle"] == "Où l’on parle de crème brûlée — déjà vu"


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int | None]] = []
    SubstackImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))) \
        .read(EXPORT)
    assert calls[-1] == (7, 7)


# Hostile input


def test_unterminated_quote_is_an_error_naming_posts_csv(tmp_path: Path) -> None:
    export_with(tmp_path, f'{HEADER}\n1.a,,false,,,newsletter,everyone,"Never closed,,\n', {})
    error = read_error(tmp_path)
    assert error.file.endswith("posts.csv")
    assert "malformed CSV" in error.problem
    assert error.line is not None


def test_a_row_with_the_wrong_number_of_fields_is_an_error_with_its_line(tmp_path: Path) -> None:
    export_with(tmp_path, f"{HEADER}\n1.a,,false,,,newsletter,everyone,A,,\n2.b,,false\n", {})
    error = read_error(tmp_path)
    assert error.file.endswith("posts.csv")
    assert error.line == 3


def test_a_missing_required_column_is_an_error_naming_it(tmp_path: Path) -> None:
    export_with(tmp_path, "post_id,is_published,title\n1.a,true,A\n", {"1.a": "<p>x</p>"})
    error = read_error(tmp_path)
    assert error.file.endswith("posts.csv")
    assert error.field_name == "post_date"


def test_an_empty_posts_csv_is_an_error(tmp_path: Path) -> None:
    export_with(tmp_path, "", {})
    assert read_error(tmp_path).file.endswith("posts.csv")


@pytest.mark.parametrize(("row", "field_name"), [
    (",2024-01-01T00:00:00Z,true,,,newsletter,everyone,A,,", "post_id"),
    ("1.a,yesterday,true,,,newsletter,everyone,A,,", "post_date"),
    ("1.a,2024-01-01T00:00:00Z,maybe,,,newsletter,everyone,A,,", "is_published"),
])
def test_bad_values_are_errors_naming_line_and_field(tmp_path: Path, row: str,
                                                     field_name: str) -> None:
    export_with(tmp_path, f"{HEADER}\n{row}\n", {"1.a": "<p>x</p>"})
    error = read_error(tmp_path)
    assert error.file.endswith("posts.csv")
    assert (error.line, error.field_name) == (2, field_name)


def test_a_binary_body_file_is_an_error_naming_it(tmp_path: Path) -> None:
    export_with(tmp_path, f"{HEADER}\n1.a,2024-01-01T00:00:00Z,true,,,newsletter,everyone,A,,\n",
                {})
    write(tmp_path, "posts/1.a.html", bytes(range(256)) * 4)
    assert read_error(tmp_path).file.endswith("posts/1.a.html")


def test_an_export_without_posts_csv_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "posts/1.a.html", "<p>x</p>")
    assert "posts.csv" in read_error(tmp_path).problem


def test_corrupt_zip_is_an_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "export.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert read_error(broken).file == str(broken)


def test_entities_in_titles_and_subtitles_are_decoded(tmp_path: Path) -> None:
    csv_text = (f"{HEADER}\n140010.quotes,2024-03-10T12:00:00.000Z,true,,,newsletter,everyone,"
                "&#x201C;Slow&#x201D; mornings &amp; fast coffee,Why I&#8217;m up at 5 &mdash; "
                "still,\n")
    root = export_with(tmp_path, csv_text, {"140010.quotes": "<p>Body text.</p>"})
    document = SubstackImporter().read(root).documents[0]
    assert document.title == "“Slow” mornings & fast coffee"
    assert document.metadata["subtitle"] == "Why I’m up at 5 — still"
