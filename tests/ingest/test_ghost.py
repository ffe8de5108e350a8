"""Ghost JSON importer, on the synthetic export in tests/fixtures/ghost (FORMATS.md section 8)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.ghost import GhostImporter, post_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXPORT = FIXTURES / "ghost" / "danawrites.ghost.2024-03-12-09-00-00.json"
DATA = json.loads(EXPORT.read_text(encoding="utf-8"))


def post_id(number: int) -> str:
    return f"65e5f0a1b2c3d4e5f6a7c{number:03d}"


HTML_POST, LEXICAL_DRAFT, MOBILEDOC, PAGE, CO_AUTHORED, GUEST, SENT, SCHEDULED, EMPTY, PLAIN = (
    post_id(number) for number in range(1, 11))


@pytest.fixture(scope="module")
def result():
    return GhostImporter().read(EXPORT)


@pytest.fixture(scope="module")
def docs(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def write_export(path: Path, export: dict) -> Path:
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    return path


def edited(change) -> dict:
    export = json.loads(json.dumps(DATA))
    change(export["db"][0]["data"])
    return export


def test_html_is_preferred_and_keeps_its_layout(docs) -> None:
    assert docs[HTML_POST].raw_text == (
        "I stopped shipping daily. It felt productive; it wasn’t.\n\n"
        "## What changed\n\n"
        "Morning pages.\nFriday publishing.\n\n"
        "- Small\n- Boring\n\n"
        "> Slow is smooth.\n\n"
        "My desk, the morning I stopped.\n\n"
        "More in my notes 🍵")


def test_lexical_is_rendered_when_html_is_missing(docs) -> None:
    assert docs[LEXICAL_DRAFT].raw_text == ("Deadlines are a kindness.\nMaybe.\n\n"
                                            "## Why\n\n1. one\n2. two")  # h3 -> "## ", as in HTML


def test_mobiledoc_with_markdown_card_is_rendered(docs) -> None:
    assert docs[MOBILEDOC].raw_text == (
        "## Old days\n\nLine one\nline two\n\n"
        "Written in *Markdown*,\nback when Ghost was young.\n\n- tea\n- quiet\n\n"
        "1. first\n2. second")


def test_plaintext_is_the_fallback_before_documents(docs) -> None:
    assert docs[PLAIN].raw_text == "Just text.\n\nTwo paragraphs."


def test_published_post_fields(result, docs) -> None:
    assert result.owner == "Dana Writes"
    doc = docs[HTML_POST]
    assert (doc.platform, doc.kind, doc.author, doc.is_owner) == (
        "blog", "article", "Dana Writes", True)
    assert doc.title == "On slow writing"
    assert doc.created_at == datetime(2024, 3, 2, 8, 0, tzinfo=timezone.utc)
    assert doc.metadata == {"file": EXPORT.name, "position": 0, "status": "published",
                            "post_type": "post", "slug": "on-slow-writing",
                            "custom_excerpt": "Why I stopped shipping daily.",
                            "tags": ["Writing", "habits"]}
    assert "dana@danawrites.example" not in repr(result)
    json.dumps([doc.metadata for doc in result.documents])


def test_draft_and_scheduled_are_flagged_and_dated(docs) -> None:
    draft = docs[LEXICAL_DRAFT]
    assert draft.metadata["draft"] is True and draft.metadata["status"] == "draft"
    assert draft.created_at == datetime(2024, 3, 5, 21, 14, 9, tzinfo=timezone.utc)
    assert draft.metadata["date_source"] == "created_at"
    assert docs[SCHEDULED].metadata["draft"] is True


def test_newsletter_only_post_counts_as_published(docs) -> None:
    meta = docs[SENT].metadata
    assert "draft" not in meta
    assert meta["email_only"] is True and meta["visibility"] == "members"


def test_page_is_tagged(docs) -> None:
    assert docs[PAGE].metadata["post_type"] == "page"


def test_co_authored_post_is_low_weight(docs) -> None:
    doc = docs[CO_AUTHORED]
    assert doc.is_owner is True
    assert doc.author == "Dana Writes"  # sort_order 0, though listed second
    assert doc.metadata["authors"] == ["Dana Writes", "Sam Guest"]
    assert (doc.metadata["weight"], doc.metadata["tag"]) == (0.3, "co_authored")


def test_guest_post_is_not_the_owner(docs) -> None:
    assert (docs[GUEST].author, docs[GUEST].is_owner) == ("Sam Guest", False)
    assert "weight" not in docs[GUEST].metadata


def test_owner_name_option_picks_the_owner() -> None:
    result = GhostImporter(ImportOptions(owner_name="sam")).read(EXPORT)
    by_id = {doc.external_id: doc for doc in result.documents}
    assert result.owner == "Sam Guest"
    assert by_id[GUEST].is_owner is True and by_id[HTML_POST].is_owner is False


def test_empty_post_is_skipped(result, docs) -> None:
    assert result.skipped == {"empty": 1}
    assert EMPTY not in docs
    assert len(result.documents) == 9


def test_old_export_with_ms_dates_page_flag_and_author_id(tmp_path: Path) -> None:
    old = {"meta": {"exported_on": 1420070400000, "version": "003"}, "data": {
        "posts": [{"id": 7, "title": "Hello", "slug": "hello", "html": "<p>Old <b>times</b>.</p>",
                   "markdown": "Old **times**.", "page": 1, "status": "published",
                   "language": "en_US", "author_id": 1, "published_at": 1420070400000}],
        "users": [{"id": 1, "name": "Dana Writes", "slug": "dana"}]}}
    path = write_export(tmp_path / "ghost.2015-01-01.json", old)
    assert GhostImporter().detect(path)
    doc = GhostImporter().read(path).documents[0]
    assert (doc.external_id, doc.raw_text, doc.author, doc.language) == (
        "7", "Old times.", "Dana Writes", "en")
    assert doc.metadata["post_type"] == "page"
    assert doc.created_at == datetime(2015, 1, 1, tzinfo=timezone.utc)


def test_zip_holding_the_export(tmp_path: Path) -> None:
    zipped = tmp_path / "ghost-export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(EXPORT, "export/" + EXPORT.name)
        archive.writestr("export/content/images/desk.jpg", b"\xff\xd8 not really")
    assert GhostImporter().detect(zipped)
    assert GhostImporter().read(zipped).documents == GhostImporter().read(EXPORT).documents


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int | None]] = []
    GhostImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))
                  ).read(EXPORT)
    assert calls[-1] == (10, 10)


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8").splitlines()
    lines[12] = lines[12].rstrip(",")
    broken = tmp_path / "broken.json"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"broken\.json, line 1[34]") as caught:
        GhostImporter().read(broken)
    assert caught.value.file == str(broken)


def test_missing_posts_names_the_field(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.json", edited(lambda data: data.pop("posts")))
    with pytest.raises(ImportFormatError, match=r"x\.json.*'db\[0\]\.data\.posts'"):
        GhostImporter().read(path)


def test_post_without_id_names_the_field(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.json", edited(lambda data: data["posts"][3].pop("id")))
    with pytest.raises(ImportFormatError, match=r"x\.json.*post 3 has no id") as caught:
        GhostImporter().read(path)
    assert caught.value.field_name == "posts[3].id"


def test_unreadable_date_names_the_field(tmp_path: Path) -> None:
    def break_date(data: dict) -> None:
        data["posts"][0]["published_at"] = "soon"
    with pytest.raises(ImportFormatError, match=r"x\.json.*'published_at'"):
        GhostImporter().read(write_export(tmp_path / "x.json", edited(break_date)))


def test_non_utf8_export_is_decoded_by_its_detected_encoding(tmp_path: Path) -> None:
    def french(data: dict) -> None:
        data["posts"][0]["html"] = "<p>Café crème, déjà vu.</p>"
    path = tmp_path / "latin.json"
    path.write_bytes(json.dumps(edited(french), ensure_ascii=False).encode("cp1252"))
    docs = GhostImporter().read(path).documents
    assert docs[0].raw_text == "Café crème, déjà vu."


def test_malformed_lexical_is_treated_as_absent() -> None:
    assert post_text({"html": None, "plaintext": None, "lexical": "{not json",
                      "mobiledoc": '{"sections": [[1, "p", [[0, [], 0, "kept"]]]]}'}) == "kept"


def test_detect_rejects_other_json(tmp_path: Path) -> None:
    other = write_export(tmp_path / "posts.json", {"posts": [{"id": 1}]})
    assert not GhostImporter().detect(other)
    assert not GhostImporter().detect(tmp_path / "missing.json")
    folder = tmp_path / "folder"
    folder.mkdir()
    write_export(folder / EXPORT.name, DATA)
    assert GhostImporter().detect(folder)
    (folder / "notes.txt").write_text("other export", encoding="utf-8")
    assert not GhostImporter().detect(folder)


@pytest.mark.parametrize("other", sorted(path.name for path in FIXTURES.iterdir()
                                         if path.is_dir() and path.name != "ghost"))
def test_detect_rejects_other_formats(other: str) -> None:
    folder = FIXTURES / other
    assert not GhostImporter().detect(folder)
    for file in folder.rglob("*"):
        assert not GhostImporter().detect(file)
