"""Telegram Desktop JSON importer, on the synthetic exports in tests/fixtures/telegram."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.ingest.formats.telegram import TelegramImporter
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

FIXTURES = Path(__file__).parents[1] / "fixtures"
FULL_EXPORT = FIXTURES / "telegram" / "full_export"
CHAT_EXPORT = FIXTURES / "telegram" / "chat_export" / "result.json"
BIG_ID = "9007199254740993"  # 2^53 + 1: a float would read it as ...992


def importer(*me: str, **extras: object) -> TelegramImporter:
    return TelegramImporter(ImportOptions(me=me), **extras)


def by_id(result) -> dict[str, object]:
    return {doc.metadata["message_id"]: doc for doc in result.documents}


def chat_export(tmp_path: Path, messages: list[dict], chat_type: str = "personal_chat",
                **root: object) -> Path:
    target = tmp_path / "ChatExport_2024-03-12" / "result.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {"name": "Sam Keller", "type": chat_type, "id": 4242, "messages": messages, **root}
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return target


def message(message_id: int, text: object = "hello", **fields: object) -> dict:
    return {"id": message_id, "type": "message", "date": "2024-03-12T14:05:33",
            "date_unixtime": "1710252333", "from": "Dana Writes", "from_id": "user90011",
            "text": text, **fields}


# -- detection ---------------------------------------------------------------------------------

def test_detects_full_export_folder_file_and_zip(tmp_path: Path) -> None:
    zipped = tmp_path / "DataExport_2024-03-12.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(FULL_EXPORT / "result.json", "DataExport_2024-03-12/result.json")
        archive.writestr("DataExport_2024-03-12/photos/photo_1.jpg", b"\xff\xd8 fake")
    assert importer().detect(FULL_EXPORT)
    assert importer().detect(FULL_EXPORT / "result.json")
    assert importer().detect(zipped)


def test_detects_single_chat_export() -> None:
    assert importer().detect(CHAT_EXPORT)
    assert importer().detect(CHAT_EXPORT.parent)


def test_detect_is_false_on_other_formats_fixtures() -> None:
    others = [path for path in FIXTURES.iterdir() if path.name != "telegram"]
    candidates = others + [file for folder in others if folder.is_dir()
                           for file in folder.rglob("*") if file.is_file()]
    assert candidates
    assert [path for path in candidates if importer().detect(path)] == []


def test_detect_is_false_on_foreign_json_and_never_raises(tmp_path: Path) -> None:
    messenger_like = tmp_path / "result.json"
    messenger_like.write_text('{"participants": [{"name": "Sam"}], "messages": []}')
    corrupt = tmp_path / "export.zip"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    assert not importer().detect(messenger_like)
    assert not importer().detect(corrupt)
    assert not importer().detect(tmp_path / "missing.json")


# -- full export --------------------------------------------------------------------------------

def test_full_export_owner_is_personal_information_user_id() -> None:
    result = importer().read(FULL_EXPORT)
    assert result.owner == "Dana Writes"
    owned = [doc for doc in result.documents if doc.is_owner]
    assert {doc.author for doc in owned} == {"Dana Writes"}
    assert [doc.raw_text for doc in owned] == [
        "see https://example.org today 🙂\nsecond line", "my desk this morning ☕",
        "ok, talk soon", "idea: write about slow mornings", "thanks all, signing off here 👋"]


def test_personal_data_of_the_export_is_never_kept() -> None:
    stored = json.dumps([(doc.raw_text, doc.author, doc.metadata)
                         for doc in importer().read(FULL_EXPORT).documents], ensure_ascii=False)
    assert "202 555 01" not in stored and "writes things" not in stored


def test_text_array_with_entities_is_joined_and_links_kept() -> None:
    doc = by_id(importer().read(FULL_EXPORT))["512"]
    assert doc.raw_text == "see https://example.org today 🙂\nsecond line"
    assert doc.metadata["links"] == ["https://example.org"]
    assert doc.metadata["reply_to"] == "510" and doc.metadata["edited"] is True


def test_text_entities_are_used_when_text_is_empty(tmp_path: Path) -> None:
    entities = [{"type": "plain", "text": "read "},
                {"type": "text_link", "text": "this", "href": "https://example.org/a"}]
    path = chat_export(tmp_path, [message(1, "", text_entities=entities)])
    doc = importer("Dana Writes").read(path).documents[0]
    assert doc.raw_text == "read this"
    assert doc.metadata["links"] == ["https://example.org/a"]


def test_service_messages_and_media_without_text_are_skipped_and_counted() -> None:
    result = importer().read(FULL_EXPORT)
    assert result.skipped == {"service": 2, "media": 1}
    assert "513" not in by_id(result)


def test_media_with_a_caption_is_kept_and_flagged() -> None:
    doc = by_id(importer().read(FULL_EXPORT))["514"]
    assert doc.raw_text == "my desk this morning ☕" and doc.metadata["media"] is True


def test_ids_above_2_53_stay_exact_strings() -> None:
    result = importer().read(FULL_EXPORT)
    doc = by_id(result)[BIG_ID]
    assert doc.external_id == f"telegram-4242:{BIG_ID}"
    left = [d for d in result.documents if d.metadata["chat_type"] == "private_supergroup"]
    assert left[0].metadata["conversation"] == "telegram-1500000000000000123"


def test_dates_come_from_date_unixtime_in_utc() -> None:
    doc = by_id(importer().read(FULL_EXPORT))["512"]
    assert doc.created_at == datetime(2024, 3, 12, 14, 5, 33, tzinfo=timezone.utc)


def test_local_date_is_the_fallback_and_read_in_the_given_zone(tmp_path: Path) -> None:
    plain = message(1)
    del plain["date_unixtime"]
    path = chat_export(tmp_path, [plain])
    berlin = importer("Dana Writes", local_timezone=ZoneInfo("Europe/Berlin")).read(path)
    assert berlin.documents[0].created_at == datetime(2024, 3, 12, 13, 5, 33, tzinfo=timezone.utc)


def test_forwarded_messages_are_never_owner_text() -> None:
    doc = by_id(importer().read(FULL_EXPORT))["515"]
    assert doc.is_owner is False
    assert doc.author.startswith("Contact ")
    assert doc.metadata["forwarded"] is True and doc.metadata["forwarded_by_owner"] is True


def test_other_people_are_pseudonymised_and_redacted() -> None:
    result = importer().read(FULL_EXPORT)
    sam = by_id(result)["510"]
    assert sam.is_owner is False and sam.author == "Contact 1"
    assert sam.raw_text == "hey Dana, it's Contact 1 — call me at [phone] or [email]"
    deleted_account = by_id(result)["517"]
    assert deleted_account.author.startswith("Contact ") and not deleted_account.is_owner


def test_conversation_position_and_provenance() -> None:
    doc = by_id(importer().read(FULL_EXPORT))["512"]
    assert doc.platform == "telegram" and doc.kind == "message"
    assert doc.metadata["conversation"] == "telegram-4242"
    assert doc.metadata["position"] == 2 and doc.metadata["file"] == "result.json"


def test_saved_messages_and_left_chats_are_read() -> None:
    types = {doc.metadata["chat_type"] for doc in importer().read(FULL_EXPORT).documents
             if doc.is_owner}
    assert {"saved_messages", "private_supergroup"} <= types


def test_channel_posts_are_posts_and_owned_only_through_me() -> None:
    def channel_docs(result):
        return [doc for doc in result.documents if doc.metadata["chat_type"] == "public_channel"]

    anonymous = channel_docs(importer().read(FULL_EXPORT))
    assert [doc.kind for doc in anonymous] == ["post"] and not anonymous[0].is_owner
    owned = channel_docs(importer("Dana's Notes").read(FULL_EXPORT))
    assert owned[0].is_owner and owned[0].author == "Dana's Notes"
    assert owned[0].raw_text.startswith("Week 1 of writing in public.\n\n")


# -- single-chat export -------------------------------------------------------------------------

def test_single_chat_export_needs_me_and_lists_the_senders() -> None:
    with pytest.raises(ImportFormatError) as error:
        importer().read(CHAT_EXPORT)
    message_text = str(error.value)
    assert str(CHAT_EXPORT) in message_text
    assert "--me 'Your Name as shown in the chat'" in message_text
    assert "Dana Writes" in message_text and "Sam Keller" in message_text


def test_single_chat_export_with_me_by_name_or_from_id() -> None:
    by_name = importer("dana writes").read(CHAT_EXPORT)
    by_from_id = importer("user90011").read(CHAT_EXPORT)
    assert by_name.owner == "Dana Writes"
    assert [d.raw_text for d in by_name.documents if d.is_owner] == [
        d.raw_text for d in by_from_id.documents if d.is_owner]
    assert len([d for d in by_name.documents if d.is_owner]) == 3


def test_me_matching_no_sender_is_an_error() -> None:
    with pytest.raises(ImportFormatError, match="no sender matches --me 'Robin'"):
        importer("Robin").read(CHAT_EXPORT)


def test_saved_messages_export_needs_no_me(tmp_path: Path) -> None:
    path = chat_export(tmp_path, [message(1, "note to self")], chat_type="saved_messages")
    result = importer().read(path)
    assert result.owner == "Dana Writes" and result.documents[0].is_owner


def test_folder_of_chat_exports_is_one_import(tmp_path: Path) -> None:
    first = tmp_path / "exports" / "ChatExport_a"
    second = tmp_path / "exports" / "ChatExport_b"
    shutil.copytree(CHAT_EXPORT.parent, first)
    path = chat_export(second, [message(9, "another chat")], id=777)
    assert path.exists()
    result = importer("Dana Writes").read(tmp_path / "exports")
    assert {doc.metadata["conversation"] for doc in result.documents} == {"telegram-4242",
                                                                          "telegram-777"}


# -- hostile input ------------------------------------------------------------------------------

def test_broken_json_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "result.json"
    broken.write_text('{"name": "Sam",\n "type": "personal_chat",\n "messages": [\n {"id": 1,,}]}')
    with pytest.raises(ImportFormatError, match=r"result.json, line 4: invalid JSON"):
        importer("Dana").read(broken)


def test_root_that_is_not_an_export_is_an_error(tmp_path: Path) -> None:
    wrong = tmp_path / "result.json"
    wrong.write_text('{"hello": "world"}')
    with pytest.raises(ImportFormatError, match="neither a full Telegram export"):
        importer().read(wrong)
    wrong.write_text("[1, 2, 3]")
    with pytest.raises(ImportFormatError, match="expected a JSON object"):
        importer().read(wrong)


def test_messages_that_are_not_a_list_are_an_error(tmp_path: Path) -> None:
    path = chat_export(tmp_path, [])
    path.write_text('{"name": "Sam", "type": "personal_chat", "id": 1, "messages": {}}')
    with pytest.raises(ImportFormatError, match="field 'messages'"):
        importer("Dana").read(path)


def test_message_without_id_takes_its_position(tmp_path: Path) -> None:
    without = message(1)
    del without["id"]
    result = importer("Dana Writes").read(chat_export(tmp_path, [message(7, "first"), without]))
    assert [doc.metadata["message_id"] for doc in result.documents] == ["7", "pos1"]


def test_text_of_unknown_shape_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="field 'text'"):
        importer("Dana Writes").read(chat_export(tmp_path, [message(1, {"odd": True})]))


def test_unreadable_date_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="field 'date_unixtime'"):
        importer("Dana Writes").read(chat_export(tmp_path, [message(1, date_unixtime="soon")]))


def test_full_export_without_user_id_is_an_error(tmp_path: Path) -> None:
    root = json.loads((FULL_EXPORT / "result.json").read_text(encoding="utf-8"))
    del root["personal_information"]["user_id"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(root), encoding="utf-8")
    with pytest.raises(ImportFormatError, match="personal_information.user_id"):
        importer().read(path)


def test_utf16_export_is_decoded_by_charset_detection(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(CHAT_EXPORT.read_text(encoding="utf-8").encode("utf-16"))
    result = importer("Dana Writes").read(path)
    assert by_id(result)["512"].raw_text.endswith("🙂\nsecond line")


def test_truncated_zip_is_an_error(tmp_path: Path) -> None:
    zipped = tmp_path / "DataExport.zip"
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(FULL_EXPORT / "result.json", "result.json")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(zipped.read_bytes()[:300])
    with pytest.raises(ImportFormatError, match="cut.zip: not a zip archive, or a corrupt one"):
        importer().read(cut)


def test_zip_without_result_json_is_an_error(tmp_path: Path) -> None:
    zipped = tmp_path / "DataExport.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("export_results.html", "<html></html>")
    with pytest.raises(ImportFormatError, match="no Telegram result.json"):
        importer().read(zipped)


# -- progress and the pipeline ------------------------------------------------------------------

def test_progress_is_reported() -> None:
    calls: list[tuple[int, int | None]] = []
    options = ImportOptions(progress=lambda done, total: calls.append((done, total)))
    TelegramImporter(options).read(FULL_EXPORT)
    assert calls == [(0, 12), (12, 12)]


def test_ingest_stores_the_export_in_the_warehouse(tmp_path: Path) -> None:
    sessions = session_factory(create_warehouse_engine(f"sqlite:///{tmp_path / 'twin.db'}"))
    report = ingest_path(FULL_EXPORT, importer(), sessions)
    assert report.new_documents == 9 and report.owner == "Dana Writes"
    assert ingest_path(FULL_EXPORT, importer(), sessions).already_imported


# -- minimal export: messages with date_unixtime only ------------------------------------------

MINIMAL_EXPORT = FIXTURES / "telegram" / "minimal_chat" / "result.json"


def test_minimal_export_without_ids_dates_or_type_is_detected(tmp_path: Path) -> None:
    assert importer().detect(MINIMAL_EXPORT)
    assert importer().detect(MINIMAL_EXPORT.parent)
    bare = tmp_path / "result.json"  # not even a name: messages alone
    bare.write_text(json.dumps({"messages": [{"date_unixtime": "1710252333", "from": "Dana",
                                              "text": "hi"}]}), encoding="utf-8")
    assert importer().detect(bare)
    # Another product's "messages" list (Messenger) is not Telegram.
    other = tmp_path / "message_1.json"
    other.write_text(json.dumps({"messages": [{"sender_name": "Dana", "timestamp_ms": 1,
                                               "content": "hi"}]}), encoding="utf-8")
    assert not importer().detect(other)


def test_minimal_export_ids_come_from_positions_and_dates_from_unixtime() -> None:
    result = importer("Dana Writes").read(MINIMAL_EXPORT)
    documents = by_id(result)
    assert set(documents) == {"pos0", "pos1", "pos2", "pos4"}  # pos3: a photo without text
    assert result.skipped == {"media": 1}
    owned = [doc for doc in result.documents if doc.is_owner]
    assert [doc.metadata["position"] for doc in owned] == [1, 2]
    assert owned[1].raw_text == "Here is the outline: https://example.org/slow-mornings"
    assert owned[0].created_at == datetime(2024, 3, 12, 14, 6, 41, tzinfo=timezone.utc)
    assert owned[0].external_id == "telegram-chat0:pos1"
    again = importer("Dana Writes").read(MINIMAL_EXPORT)
    assert [doc.external_id for doc in again.documents] == [
        doc.external_id for doc in result.documents]


def test_minimal_export_without_me_says_how_to_name_the_owner() -> None:
    with pytest.raises(ImportFormatError) as error:
        importer().read(MINIMAL_EXPORT)
    text = str(error.value)
    assert "--me" in text and "Dana Writes" in text and "Saved Messages" in text
