"""Mastodon importer, on the synthetic archive in tests/fixtures/mastodon (FORMATS.md section 7)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.mastodon import MastodonImporter, note_html_to_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
ARCHIVE = FIXTURES / "mastodon"
STATUS = "https://social.example/users/dana/statuses/"
ROOT, SECOND, THIRD = STATUS + "110000000000000001", STATUS + "110000000000000002", \
    STATUS + "110000000000000003"
DIRECT, CW, POLL, BREAKS = (STATUS + "110000000000000004", STATUS + "110000000000000005",
                            STATUS + "110000000000000007", STATUS + "110000000000000008")


@pytest.fixture(scope="module")
def result():
    return MastodonImporter().read(ARCHIVE)


@pytest.fixture(scope="module")
def docs(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def copy_archive(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ARCHIVE, tmp_path / "archive"))


def edit_outbox(archive: Path, change) -> Path:
    outbox = json.loads((archive / "outbox.json").read_text(encoding="utf-8"))
    change(outbox)
    (archive / "outbox.json").write_text(json.dumps(outbox, indent=1), encoding="utf-8")
    return archive


def test_paragraphs_line_breaks_hashtags_and_full_links(docs) -> None:
    assert docs[ROOT].raw_text == (
        "Three things I learned shipping a tiny app 🧵 #BuildInPublic\n\n"
        "First: write it down.\nThen cut it in half!\n\n"
        "Notes here: https://notes.example.org/2023/06/shipping-a-tiny-app-lessons")
    assert docs[ROOT].metadata["hashtags"] == ["BuildInPublic"]


def test_repeated_line_breaks_are_kept(docs) -> None:
    assert docs[BREAKS].raw_text == "Line one\nline two\n\nafter an empty line"


def test_entities_unescaped_and_custom_emoji_kept(docs) -> None:
    assert docs[THIRD].raw_text == "3/ Rest. Seriously <3 :blobcat:"
    assert docs[SECOND].raw_text == "2/ Ship the ugly version & listen."


def test_mention_is_kept_as_typed_text(docs) -> None:
    assert docs[DIRECT].raw_text == "@sam sure, Thursday works. Bring the draft?"


def test_boost_is_skipped_and_counted(result) -> None:
    assert result.skipped == {"boost": 1, "empty": 1}
    assert not any("other.example/users/sam/statuses" in (doc.external_id or "")
                   for doc in result.documents)


def test_media_only_post_is_skipped_as_empty(docs) -> None:
    assert STATUS + "110000000000000006" not in docs


@pytest.mark.parametrize(("status", "visibility"), [
    (ROOT, "public"), (SECOND, "unlisted"), (CW, "followers-only"), (DIRECT, "direct")])
def test_visibility_from_to_and_cc(docs, status: str, visibility: str) -> None:
    assert docs[status].metadata["visibility"] == visibility


def test_self_replies_are_flagged_with_their_thread_root(docs) -> None:
    assert docs[ROOT].metadata["is_reply"] is False
    for status in (SECOND, THIRD):
        meta = docs[status].metadata
        assert (meta["is_reply"], meta["self_reply"], meta["thread_root"]) == (True, True, ROOT)
    assert docs[THIRD].metadata["in_reply_to"] == SECOND


def test_reply_to_someone_else_is_flagged_not_self(docs) -> None:
    meta = docs[DIRECT].metadata
    assert meta["is_reply"] is True and meta["self_reply"] is False
    assert meta["in_reply_to"] == "https://other.example/users/sam/statuses/109999999999999998"
    assert "thread_root" not in meta


def test_content_warning_sensitive_and_language(docs) -> None:
    doc = docs[CW]
    assert doc.metadata["content_warning"] == "Spoiler: Ende des Buches"
    assert doc.metadata["sensitive"] is True
    assert doc.language == "de"
    assert doc.raw_text == "Ich hab's geahnt. Der Gärtner war's."
    assert docs[ROOT].metadata["sensitive"] is False
    assert "content_warning" not in docs[ROOT].metadata


def test_poll_is_a_post_with_its_options(docs) -> None:
    assert docs[POLL].raw_text == "Morning writing or evening writing?"
    assert docs[POLL].metadata["poll_options"] == ["Morning ☀️", "Evening 🌙"]


def test_owner_author_ids_urls_dates_and_provenance(result, docs) -> None:
    assert result.owner == "Dana Writes"
    doc = docs[ROOT]
    assert (doc.platform, doc.kind, doc.author, doc.is_owner) == (
        "mastodon", "post", "@dana@social.example", True)
    assert doc.url == "https://social.example/@dana/110000000000000001"
    assert doc.created_at == datetime(2023, 6, 1, 9, 15, tzinfo=timezone.utc)
    assert doc.language == "en"
    assert doc.metadata["file"] == "outbox.json" and doc.metadata["position"] == 0
    assert docs[BREAKS].language is None  # no contentMap
    assert [doc.external_id for doc in result.documents] == [
        ROOT, SECOND, THIRD, DIRECT, CW, POLL, BREAKS]
    json.dumps([doc.metadata for doc in result.documents])  # JSON-safe


def test_zip_with_wrapping_folder_reads_like_the_folder(tmp_path: Path) -> None:
    zipped = tmp_path / "archive-20230608-abc.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for file in ARCHIVE.iterdir():
            archive.write(file, f"archive-20230608/{file.name}")
    importer = MastodonImporter()
    assert importer.detect(zipped)
    assert importer.read(zipped).documents == importer.read(ARCHIVE).documents


def test_upper_case_file_names_are_found(tmp_path: Path) -> None:
    archive = copy_archive(tmp_path)
    (archive / "outbox.json").rename(archive / "OUTBOX.JSON")
    importer = MastodonImporter()
    assert importer.detect(archive)
    assert len(importer.read(archive).documents) == 7


def test_without_actor_json_posts_still_import(tmp_path: Path) -> None:
    archive = copy_archive(tmp_path)
    (archive / "actor.json").unlink()
    result = MastodonImporter().read(archive)
    assert result.owner is None
    by_id = {doc.external_id: doc for doc in result.documents}
    assert by_id[CW].metadata["visibility"] == "followers-only"
    assert by_id[CW].author == "owner"
    assert by_id[THIRD].metadata["thread_root"] == ROOT


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    MastodonImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))
                     ).read(ARCHIVE)
    assert calls[-1] == (9, 9)


def test_broken_json_names_outbox_and_line(tmp_path: Path) -> None:
    archive = copy_archive(tmp_path)
    lines = (archive / "outbox.json").read_text(encoding="utf-8").splitlines()
    lines[9] = lines[9].rstrip(",")
    (archive / "outbox.json").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"outbox\.json, line 1[01]") as caught:
        MastodonImporter().read(archive)
    assert caught.value.file == str(archive / "outbox.json")


def test_outbox_without_ordered_items_is_an_error(tmp_path: Path) -> None:
    archive = edit_outbox(copy_archive(tmp_path), lambda outbox: outbox.pop("orderedItems"))
    with pytest.raises(ImportFormatError, match=r"outbox\.json.*'orderedItems'"):
        MastodonImporter().read(archive)


def test_note_without_id_names_file_and_field(tmp_path: Path) -> None:
    archive = edit_outbox(copy_archive(tmp_path),
                          lambda outbox: outbox["orderedItems"][1]["object"].pop("id"))
    with pytest.raises(ImportFormatError, match=r"outbox\.json.*orderedItems\[1\]") as caught:
        MastodonImporter().read(archive)
    assert caught.value.field_name == "object.id"


def test_unreadable_date_names_field(tmp_path: Path) -> None:
    def break_date(outbox: dict) -> None:
        outbox["orderedItems"][0]["object"]["published"] = "yesterday"
    with pytest.raises(ImportFormatError, match=r"outbox\.json.*'object\.published'"):
        MastodonImporter().read(edit_outbox(copy_archive(tmp_path), break_date))


def test_wrong_encoding_is_an_error_naming_the_file(tmp_path: Path) -> None:
    archive = copy_archive(tmp_path)
    text = (archive / "outbox.json").read_text(encoding="utf-8")
    (archive / "outbox.json").write_bytes(text.encode("utf-16"))
    with pytest.raises(ImportFormatError, match=r"outbox\.json.*UTF-8"):
        MastodonImporter().read(archive)


def test_corrupt_zip_is_an_error_naming_the_zip(tmp_path: Path) -> None:
    broken = tmp_path / "archive-20230608.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert not MastodonImporter().detect(broken)
    with pytest.raises(ImportFormatError) as caught:
        MastodonImporter().read(broken)
    assert caught.value.file == str(broken)


def test_detect_rejects_an_outbox_that_is_not_activitystreams(tmp_path: Path) -> None:
    (tmp_path / "outbox.json").write_text('{"items": []}', encoding="utf-8")
    assert not MastodonImporter().detect(tmp_path)
    assert not MastodonImporter().detect(tmp_path / "missing")


@pytest.mark.parametrize("other", sorted(path.name for path in FIXTURES.iterdir()
                                         if path.is_dir() and path.name != "mastodon"))
def test_detect_rejects_other_formats(other: str) -> None:
    folder = FIXTURES / other
    assert not MastodonImporter().detect(folder)
    for file in folder.iterdir():
        assert not MastodonImporter().detect(file)


def test_html_without_paragraphs_and_plain_links() -> None:
    html = 'plain <a href="https://example.org/x">example.org/x</a><br>next'
    assert note_html_to_text(html) == "plain https://example.org/x\nnext"


def test_engagement_from_the_collections_total_items(docs) -> None:
    # Mastodon 4.3+ writes likes and shares totals; its replies collection is a first page
    # without a total, so no reply count is made up from it.
    assert docs[ROOT].metadata["engagement"] == {"likes": 18, "reposts": 4}
    assert docs[THIRD].metadata["engagement"] == {"likes": 0, "reposts": 0, "replies": 2}
    assert "engagement" not in docs[SECOND].metadata  # older servers write no collections


def test_a_malformed_total_is_left_out(tmp_path: Path) -> None:
    def change(outbox):
        outbox["orderedItems"][0]["object"]["likes"]["totalItems"] = "many"
    archive = edit_outbox(copy_archive(tmp_path), change)
    docs = {doc.external_id: doc for doc in MastodonImporter().read(archive).documents}
    assert docs[ROOT].metadata["engagement"] == {"reposts": 4}
