"""Medium importer, on the synthetic export in tests/fixtures/medium (see FORMATS.md section 3)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportOptions
from llm_twin.ingest.formats.medium import MediumImporter

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXPORT = FIXTURES / "medium"
MAIN_POST = "posts/2023-02-05_On-Slow-Work-0a1b2c3d4e5f.html"
DRAFT = "posts/draft_Notes-On-Gardening-1f2e3d4c5b6a.html"
RESPONSE = "posts/2023-03-01_Great-point--I-d-add-one-more-thing--9a8b7c6d5e4f.html"
PHOTO_POST = "posts/2023-05-20_Window-light-5e4d3c2b1a09.html"

MAIN_TEXT = """For three years I shipped something every day.
Then I stopped.

It wasn’t burnout — it was noise. Here’s what changed 🐢

## What slow means

- One thing a week.
- A walk before writing.

### The loop

1. Draft.
2. Wait.
3. Cut.

> Fast is a feeling;
> slow is a result.

```
while True:
    write()
    wait(days=7)
```

My desk, on a slow Tuesday

Thanks for reading.
— Dana"""


def medium_post(body: str, *, title: str | None = "A title", title_block: bool = True,
                footer: str | None = None) -> str:
    """A post in Medium's export template; `body` goes inside one div.section-inner."""
    heading = f'<h3 class="graf graf--h3 graf--leading graf--title">{title}</h3>' \
        if title_block and title else ""
    if footer is None:
        footer = ('<p>By <a href="https://medium.com/@dana" class="p-author h-card">Dana</a> on '
                  '<a href="https://medium.com/p/abcdefabcdef"><time class="dt-published" '
                  'datetime="2024-01-02T03:04:05.000Z">January 2, 2024</time></a>.</p>'
                  '<p><a href="https://medium.com/@dana/a-title-abcdefabcdef" '
                  'class="p-canonical">Canonical link</a></p>'
                  '<p>Exported from <a href="https://medium.com">Medium</a> on April 5, 2025.</p>')
    return ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
            f'charset=utf-8"><title>{title or ""}</title><style>* {{ margin: 0; }}</style></head>'
            f'<body><article class="h-entry"><header><h1 class="p-name">{title or ""}</h1>'
            '</header><section data-field="body" class="e-content"><section name="s1" '
            'class="section section--body section--first section--last"><div class="section-'
            'content"><div class="section-inner sectionLayout--insetColumn">'
            f'{heading}{body}</div></div></section></section><footer>{footer}</footer>'
            '</article></body></html>')


def write(root: Path, name: str, data: str | bytes) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


def by_file(documents: list[ImportedDocument]) -> dict[str, ImportedDocument]:
    return {document.metadata["file"]: document for document in documents}


@pytest.fixture(scope="module")
def fixture_result():
    return MediumImporter().read(EXPORT)


@pytest.fixture(scope="module")
def documents(fixture_result) -> dict[str, ImportedDocument]:
    return by_file(fixture_result.documents)


# Detection


def test_detects_the_export_folder_and_a_zip_of_it(tmp_path: Path) -> None:
    importer = MediumImporter()
    assert importer.detect(EXPORT)
    assert importer.detect(zip_folder(EXPORT, tmp_path / "medium-export.zip", "medium-export/"))


def test_does_not_detect_the_substack_fixture_or_foreign_input(tmp_path: Path) -> None:
    importer = MediumImporter()
    write(tmp_path / "x", "data/tweets.js", 'window.YTD.tweets.part0 = [ ]')
    write(tmp_path / "notes", "posts/hello.md", "---\ntitle: Hi\n---\nHello")
    write(tmp_path / "blog", "posts/index.html", "<html><body><article class='post'><p>Hi</p>"
                                                 "</article></body></html>")
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "note.txt").write_text("hello", encoding="utf-8")
    for path in [FIXTURES / "substack", tmp_path / "x", tmp_path / "notes", tmp_path / "blog",
                 tmp_path / "empty", tmp_path / "broken.zip", tmp_path / "note.txt",
                 tmp_path / "missing"]:
        assert not importer.detect(path), path


def test_does_not_detect_other_importers_fixtures() -> None:
    others = [path for path in FIXTURES.iterdir() if path.name not in ("medium",)]
    for path in others:
        assert not MediumImporter().detect(path), path


# What is read


def test_only_post_files_become_documents(fixture_result) -> None:
    files = sorted(document.metadata["file"] for document in fixture_result.documents)
    assert files == sorted([MAIN_POST, DRAFT, RESPONSE, PHOTO_POST])
    everything = json.dumps([document.__dict__ for document in fixture_result.documents],
                            default=str, ensure_ascii=False)
    for foreign in ("SOMEONE ELSE", "HIGHLIGHTED", "dana@example.org", "clapped"):
        assert foreign not in everything
    assert fixture_result.format_name == "medium"
    assert fixture_result.owner == "Dana"
    assert fixture_result.skipped == {}


def test_published_article_fields(documents) -> None:
    post = documents[MAIN_POST]
    assert (post.platform, post.kind, post.author, post.is_owner) == \
        ("medium", "article", "Dana", True)
    assert post.title == "On Slow Work"
    assert post.created_at == datetime(2023, 2, 5, 2, 56, 45, 739000, tzinfo=timezone.utc)
    assert post.url == "https://medium.com/@dana/on-slow-work-0a1b2c3d4e5f"
    assert post.external_id == "0a1b2c3d4e5f"
    assert post.metadata == {"file": MAIN_POST, "subtitle": "Why I stopped shipping daily"}


def test_body_is_markdown_ish_text_without_title_subtitle_or_boilerplate(documents) -> None:
    assert documents[MAIN_POST].raw_text == MAIN_TEXT


def test_title_and_subtitle_blocks_are_not_repeated_in_the_text(documents) -> None:
    text = documents[MAIN_POST].raw_text
    assert "On Slow Work" not in text
    assert "Why I stopped shipping daily" not in text


def test_link_cards_images_and_embeds_are_dropped(documents) -> None:
    text = documents[MAIN_POST].raw_text
    for boilerplate in ("On Fast Work", "The post before this one", "medium.com", "cdn-images",
                        "youtube"):
        assert boilerplate not in text
    assert "My desk, on a slow Tuesday" in text  # the figure's caption stays


def test_footer_boilerplate_is_not_in_the_text(documents) -> None:
    for document in documents.values():
        for boilerplate in ("Exported from", "Canonical link", "By Dana on", "__exported"):
            assert boilerplate not in document.raw_text


def test_draft_is_kept_and_flagged(documents) -> None:
    draft = documents[DRAFT]
    assert draft.metadata["draft"] is True
    assert draft.kind == "article"
    assert draft.created_at is None
    assert draft.external_id == "1f2e3d4c5b6a"
    assert draft.raw_text.endswith("Maybe a haiku?\ngreen fruit, patient vine\n"
                                   "the sun does the shipping now")
    assert "draft" not in documents[MAIN_POST].metadata


def test_description_stands_in_for_a_missing_subtitle(documents) -> None:
    assert documents[DRAFT].metadata["subtitle"] == "What tomatoes taught me about deadlines"


def test_response_is_a_low_weight_tagged_post(documents) -> None:
    response = documents[RESPONSE]
    assert response.kind == "post"
    assert response.metadata["tag"] == "medium_response"
    assert response.metadata["weight"] == 0.3
    assert response.title is None  # Medium's generated title only repeats the first words
    assert response.raw_text == (
        "Great point! I’d add one more thing:\n\n"
        "slow work needs a deadline, too. Otherwise it’s just drift 😅")
    assert response.external_id == "9a8b7c6d5e4f"
    for document in (documents[MAIN_POST], documents[DRAFT]):
        assert "tag" not in document.metadata and "weight" not in document.metadata


def test_a_short_untitled_post_with_a_figure_is_not_a_response(documents) -> None:
    photo = documents[PHOTO_POST]
    assert photo.kind == "article"
    assert "tag" not in photo.metadata
    assert photo.raw_text == "Six a.m., kitchen window\n\nOne photo a day, no filter. Day 12."


def test_canonical_link_on_a_custom_domain_with_a_query_still_gives_the_id(documents) -> None:
    assert documents[PHOTO_POST].external_id == "5e4d3c2b1a09"


@pytest.mark.parametrize(("words", "title_block", "is_response"), [
    (20, False, True), (20, True, False), (149, False, True), (150, False, False),
])
def test_response_heuristic_uses_title_block_and_length(tmp_path: Path, words: int,
                                                        title_block: bool,
                                                        is_response: bool) -> None:
    body = "<p class='graf graf--p'>" + " ".join(["word"] * words) + "</p>"
    write(tmp_path, "posts/2024-01-02_A-title-abcdefabcdef.html",
          medium_post(body, title="word word word", title_block=title_block))
    [document] = MediumImporter().read(tmp_path).documents
    assert (document.kind == "post") is is_response
    assert (document.metadata.get("tag") == "medium_response") is is_response


def renamed(name: str, body: str, **options) -> str:
    return name, medium_post(body, **options)


NO_DATE = ('<p><a href="https://medium.com/p/0f0e0d0c0b0a" class="p-canonical">Canonical link</a>'
           '</p><p>Exported from <a href="https://medium.com">Medium</a> on April 5, 2025.</p>')
RESPONSE_FOOTER = ('<p>By <a href="https://medium.com/@dana" class="p-author h-card">Dana</a> on '
                   '<a href="https://medium.com/p/9a9a9a9a9a9a"><time class="dt-published" '
                   'datetime="2024-01-05T03:04:05.000Z">January 5, 2024</time></a>.</p>'
                   '<p><a href="https://medium.com/@dana/9a9a9a9a9a9a" class="p-canonical">'
                   'Canonical link</a></p>')


def test_renamed_files_status_comes_from_the_page(tmp_path: Path) -> None:
    """Re-zipped exports with renamed files: no YYYY-MM-DD_ or draft_ prefix, no title block."""
    write(tmp_path, "posts/morning-walks.html", medium_post(
        "<p class='graf graf--p'>I walk every morning before I write.</p>", title="Morning walks",
        title_block=False))
    write(tmp_path, "posts/unfinished.html", medium_post(
        "<p class='graf graf--p'>Half a thought.</p>", title="Unfinished", title_block=False,
        footer=NO_DATE))
    write(tmp_path, "posts/reply.html", medium_post(
        "<p class='graf graf--p'>Agreed, and one more thing: deadlines help.</p>",
        title="Agreed, and one more thing…", title_block=False, footer=RESPONSE_FOOTER))
    write(tmp_path, "posts/highlights.html", "<html><body><ul class='h-feed'><li class='h-entry'>"
                                              "<blockquote class='graf'>Not mine</blockquote>"
                                              "</li></ul></body></html>")
    result = MediumImporter().read(tmp_path)
    by_file = {doc.metadata["file"].removeprefix("posts/"): doc for doc in result.documents}
    walk = by_file["morning-walks.html"]
    assert (walk.kind, walk.title, "draft" in walk.metadata) == ("article", "Morning walks", False)
    draft = by_file["unfinished.html"]
    assert (draft.kind, draft.title, draft.metadata["draft"]) == ("article", "Unfinished", True)
    reply = by_file["reply.html"]
    assert (reply.kind, reply.title, reply.metadata["tag"]) == ("post", None, "medium_response")
    assert result.skipped == {"not_a_post": 1}


def test_unzipped_folder_imports_like_its_zip_without_errors(tmp_path: Path) -> None:
    from llm_twin.ingest.registry import default_importers, plan_imports
    planned = plan_imports(EXPORT, default_importers())
    assert [(location, importer.format_name) for location, importer in planned] == [
        (EXPORT, "medium")]
    archive = zip_folder(EXPORT, tmp_path / "medium-export.zip", "medium-export/")
    folder, zipped = MediumImporter().read(EXPORT), MediumImporter().read(archive)
    assert [d.raw_text for d in folder.documents] == [d.raw_text for d in zipped.documents]
    for other in ("highlights", "claps", "bookmarks", "profile"):
        assert not MediumImporter().detect(EXPORT / other)


def test_zip_with_a_wrapping_folder_reads_like_the_folder(tmp_path: Path, documents) -> None:
    archive = zip_folder(EXPORT, tmp_path / "medium-export.zip", "medium-export/")
    from_zip = by_file(MediumImporter().read(archive).documents)
    assert from_zip.keys() == documents.keys()
    for name, document in from_zip.items():
        assert document.raw_text == documents[name].raw_text
        assert document.metadata == documents[name].metadata


def test_a_zip_of_only_the_posts_folder_is_read(tmp_path: Path) -> None:
    archive = zip_folder(EXPORT / "posts", tmp_path / "posts.zip", "posts/")
    assert MediumImporter().detect(archive)
    assert len(MediumImporter().read(archive).documents) == 4


def test_date_falls_back_to_the_file_name_and_id_to_the_file_stem(tmp_path: Path) -> None:
    write(tmp_path, "posts/2021-07-09_Summer-notes.html",
          medium_post("<p>Summer.</p>", title="Summer notes", footer=""))
    [document] = MediumImporter().read(tmp_path).documents
    assert document.created_at == datetime(2021, 7, 9, tzinfo=timezone.utc)
    assert document.external_id == "2021-07-09_Summer-notes"
    assert document.url is None


def test_author_falls_back_to_the_configured_owner_name(tmp_path: Path) -> None:
    write(tmp_path, "posts/2021-07-09_Summer-notes-abcdefabcdef.html",
          medium_post("<p>Summer.</p>", footer=""))
    result = MediumImporter(ImportOptions(owner_name="Dana D.")).read(tmp_path)
    assert result.owner is None
    assert result.documents[0].author == "Dana D."


def test_title_falls_back_to_the_html_title(tmp_path: Path) -> None:
    html = medium_post("<p>Text.</p>", title="Head title").replace(
        '<h1 class="p-name">Head title</h1>', "")
    write(tmp_path, "posts/2024-01-02_Head-title-abcdefabcdef.html", html)
    [document] = MediumImporter().read(tmp_path).documents
    assert document.title == "Head title"


def test_a_post_with_an_empty_body_is_skipped_and_counted(tmp_path: Path) -> None:
    write(tmp_path, "posts/2024-01-02_A-title-abcdefabcdef.html",
          medium_post("<figure><img src='x.jpg'></figure>"))
    result = MediumImporter().read(tmp_path)
    assert result.documents == []
    assert result.skipped == {"empty": 1}


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    MediumImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))) \
        .read(EXPORT)
    assert calls[-1] == (4, 4)


def test_a_windows_1252_post_is_decoded(tmp_path: Path) -> None:
    text = "Café notes. Où l’on parle de crème brûlée — a naïve résumé, déjà vu."
    write(tmp_path, "posts/2024-01-02_Cafe-abcdefabcdef.html",
          medium_post(f"<p>{text}</p>").encode("cp1252"))
    [document] = MediumImporter().read(tmp_path).documents
    assert document.raw_text == text


# Hostile input


def test_binary_post_file_is_an_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "posts/2024-01-02_Bad-abcdefabcdef.html", bytes(range(256)) * 4)
    with pytest.raises(ImportFormatError) as raised:
        MediumImporter().read(tmp_path)
    assert raised.value.file.endswith("posts/2024-01-02_Bad-abcdefabcdef.html")


def test_html_without_a_body_section_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path, "posts/2024-01-02_Broken-abcdefabcdef.html",
          "<html><body><article class='h-entry'><h1 class='p-name'>Broken</h1><p>cut off")
    with pytest.raises(ImportFormatError) as raised:
        MediumImporter().read(tmp_path)
    assert raised.value.file.endswith("posts/2024-01-02_Broken-abcdefabcdef.html")
    assert raised.value.field_name == "body"


def test_unreadable_publication_date_is_an_error_naming_file_and_field(tmp_path: Path) -> None:
    footer = '<p><time class="dt-published" datetime="last Tuesday">?</time></p>'
    write(tmp_path, "posts/2024-01-02_A-title-abcdefabcdef.html",
          medium_post("<p>Text.</p>", footer=footer))
    with pytest.raises(ImportFormatError) as raised:
        MediumImporter().read(tmp_path)
    assert raised.value.file.endswith("posts/2024-01-02_A-title-abcdefabcdef.html")
    assert raised.value.field_name == "time.dt-published@datetime"
    assert "last Tuesday" in str(raised.value)


def test_corrupt_zip_is_an_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "medium-export.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ImportFormatError) as raised:
        MediumImporter().read(broken)
    assert raised.value.file == str(broken)


def test_truncated_zip_is_an_error(tmp_path: Path) -> None:
    archive = zip_folder(EXPORT, tmp_path / "full.zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert not MediumImporter().detect(truncated)
    with pytest.raises(ImportFormatError):
        MediumImporter().read(truncated)


def test_an_export_without_posts_is_an_error(tmp_path: Path) -> None:
    shutil.copytree(EXPORT / "profile", tmp_path / "profile")
    shutil.copytree(EXPORT / "claps", tmp_path / "claps")
    with pytest.raises(ImportFormatError) as raised:
        MediumImporter().read(tmp_path)
    assert "posts" in raised.value.problem


def test_hostile_nesting_is_read_without_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "posts/2024-01-02_Deep-abcdefabcdef.html",
          medium_post("<div>" * 15000 + "deep text" + "</div>" * 15000))
    [document] = MediumImporter().read(tmp_path).documents
    assert document.raw_text == "deep text"
