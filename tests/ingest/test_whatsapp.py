"""WhatsApp chat importer, on the synthetic chats in tests/fixtures/whatsapp (FORMATS.md §6)."""

from __future__ import annotations

import shutil
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.chat_common import OtherPeople
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.features.redaction import Pseudonyms, redact_personal_data
from llm_twin.ingest.formats.whatsapp import WhatsAppImporter
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

FIXTURES = Path(__file__).parents[1] / "fixtures"
CHATS = FIXTURES / "whatsapp"
ANDROID_24H = CHATS / "WhatsApp Chat with Sam.txt"
ANDROID_12H = CHATS / "WhatsApp Chat with Alex.txt"
US_GROUP = CHATS / "WhatsApp Chat with Book Club.txt"
GERMAN = CHATS / "WhatsApp-Chat mit Jonas.txt"
IOS_CHAT = CHATS / "ios" / "_chat.txt"


def importer(*me: str, **extras: object) -> WhatsAppImporter:
    return WhatsAppImporter(ImportOptions(me=me or ("Dana",)), **extras)


def texts(result) -> list[str]:
    return [doc.raw_text for doc in result.documents]


def ios_zip(tmp_path: Path) -> Path:
    target = tmp_path / "WhatsApp Chat - Sam.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(IOS_CHAT, "_chat.txt")
        archive.writestr("00000012-PHOTO-2024-03-12-14-06-10.jpg", b"\xff\xd8\xff\xe0 fake jpeg")
    return target


def write_chat(tmp_path: Path, text: str, name: str = "WhatsApp Chat with Lee.txt") -> Path:
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


# -- detection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("chat", [ANDROID_24H, ANDROID_12H, US_GROUP, GERMAN, IOS_CHAT],
                         ids=lambda path: path.name)
def test_detects_every_fixture_chat_file(chat: Path) -> None:
    assert importer().detect(chat)


def test_detects_ios_zip_and_folders(tmp_path: Path) -> None:
    assert importer().detect(ios_zip(tmp_path))
    assert importer().detect(CHATS)
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.move(ios_zip(tmp_path), folder / "WhatsApp Chat - Sam.zip")
    assert importer().detect(folder)  # a folder holding only iOS zips


def test_detect_is_false_on_other_formats_fixtures() -> None:
    others = [path for path in FIXTURES.iterdir() if path.name != "whatsapp"]
    candidates = others + [file for folder in others if folder.is_dir()
                           for file in folder.rglob("*") if file.is_file()]
    assert candidates
    assert [path for path in candidates if importer().detect(path)] == []


@pytest.mark.parametrize("content", [
    "Just some notes\n12/03/2024, 14:05 - Dana: looks like a chat line, but only later\n",
    "2024-03-12 14:05:09 INFO: service started\n",
    "{\"messages\": []}\n",
    "",
], ids=["prose-first", "log-file", "json", "empty"])
def test_detect_is_false_on_other_text(tmp_path: Path, content: str) -> None:
    assert not importer().detect(write_chat(tmp_path, content, "notes.txt"))


def test_detect_never_raises_on_missing_binary_or_corrupt_input(tmp_path: Path) -> None:
    corrupt = tmp_path / "WhatsApp Chat - Sam.zip"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    binary = tmp_path / "chat.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    assert not importer().detect(tmp_path / "missing.txt")
    assert not importer().detect(corrupt)
    assert not importer().detect(binary)


# -- Android 24h ---------------------------------------------------------------------------------

def test_android_24h_owner_messages_and_multiline_text() -> None:
    result = importer().read(ANDROID_24H)
    owned = [doc for doc in result.documents if doc.is_owner]
    assert result.owner == "Dana"
    assert {doc.author for doc in owned} == {"Dana"}
    assert owned[0].raw_text == ("first line of a long thought\ncontinuation line without "
                                 "timestamp\n\nand one more after a blank line 🙂")
    assert owned[0].created_at == datetime(2024, 3, 12, 14, 5, tzinfo=timezone.utc)
    assert owned[-1].raw_text == "ok… noted: calling you later 📞"  # a colon in the text


def test_system_lines_are_skipped_and_counted() -> None:
    result = importer().read(ANDROID_24H)
    assert result.skipped["system"] == 2  # encryption notice, changed phone number
    assert not any("encrypted" in text or "phone number" in text for text in texts(result))


def test_media_placeholders_and_deleted_messages_are_skipped_and_counted() -> None:
    result = importer().read(ANDROID_24H)
    assert result.skipped["media"] == 2
    assert result.skipped["deleted"] == 2  # "This message was deleted", "You deleted this message"
    assert not any("omitted" in text or "deleted" in text for text in texts(result))


def test_media_with_a_caption_keeps_the_caption() -> None:
    captioned = [doc for doc in importer().read(ANDROID_24H).documents
                 if doc.metadata.get("media")]
    assert [doc.raw_text for doc in captioned] == ["the view from the office!!"]


def test_edited_suffix_is_removed_and_flagged() -> None:
    edited = [doc for doc in importer().read(ANDROID_24H).documents
              if doc.metadata.get("edited")]
    assert [doc.raw_text for doc in edited] == ["fixed the typo"]


def test_other_people_are_pseudonymised_and_redacted() -> None:
    result = importer().read(ANDROID_24H)
    other = [doc for doc in result.documents if not doc.is_owner]
    assert [doc.author for doc in other] == ["Contact 1"]
    assert other[0].raw_text == "it's Contact 1 btw, new number [phone] or mail [email]"
    assert other[0].kind == "message" and other[0].platform == "whatsapp"


def test_conversation_position_line_and_external_id() -> None:
    result = importer().read(ANDROID_24H)
    first, second = result.documents[:2]
    conversation = first.metadata["conversation"]
    assert conversation.startswith("whatsapp-") and "sam" not in conversation.casefold()
    assert first.metadata == {"conversation": conversation, "position": 0,
                              "file": "WhatsApp Chat with Sam.txt", "line": 2}
    assert second.metadata["position"] == 1 and second.metadata["line"] == 6
    # Skipped media and deleted messages keep their place, so positions stay stable.
    assert [doc.metadata["position"] for doc in result.documents] == [0, 1, 4, 7, 8]
    assert [doc.external_id for doc in result.documents] == [
        f"{conversation}:{doc.metadata['position']}" for doc in result.documents]


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + ANDROID_24H.read_bytes().replace(b"\n", b"\r\n")
    crlf = tmp_path / "WhatsApp Chat with Sam.txt"
    crlf.write_bytes(data)
    assert importer().detect(crlf)
    assert texts(importer().read(crlf)) == texts(importer().read(ANDROID_24H))


def test_old_mac_line_ends_are_tolerated(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Sam.txt"
    chat.write_bytes(ANDROID_24H.read_bytes().replace(b"\n", b"\r"))
    assert texts(importer().read(chat)) == texts(importer().read(ANDROID_24H))


# -- Android 12h, US, German, iOS ---------------------------------------------------------------

def test_android_12h_with_narrow_no_break_space_before_pm() -> None:
    result = importer().read(ANDROID_12H)
    dates = [doc.created_at for doc in result.documents]
    assert dates == [datetime(2024, 3, 5, 14, 5, tzinfo=timezone.utc),
                     datetime(2024, 3, 5, 14, 6, tzinfo=timezone.utc),
                     datetime(2024, 3, 9, 12, 30, tzinfo=timezone.utc),   # 12:30 PM
                     datetime(2024, 3, 11, 0, 5, tzinfo=timezone.utc),    # 12:05 AM
                     datetime(2024, 4, 2, 9, 15, tzinfo=timezone.utc)]
    assert result.documents[-1].raw_text == "morning.\nShort one today."


def test_month_first_inferred_when_no_field_exceeds_12() -> None:
    # 3/5, 3/9, 3/11, 4/2: the second field goes down within a year, so it is the day.
    assert importer().read(ANDROID_12H).documents[-1].created_at.date().isoformat() == "2024-04-02"


def test_us_month_first_group_with_plain_space_before_am_pm() -> None:
    result = importer().read(US_GROUP)
    assert [doc.created_at for doc in result.documents][:1] == [
        datetime(2023, 12, 13, 8, 2, tzinfo=timezone.utc)]
    assert result.documents[-1].created_at == datetime(2023, 12, 14, 19, 0, tzinfo=timezone.utc)
    assert all(doc.metadata["group"] for doc in result.documents)


def test_group_system_lines_with_quotes_and_colons_are_not_messages() -> None:
    result = importer().read(US_GROUP)
    assert result.skipped == {"system": 4}  # created, added, subject change, joined via link
    assert not any("subject" in text or "Book Club" in text for text in texts(result))


def test_non_contacts_and_phone_number_senders_become_pseudonyms() -> None:
    result = importer().read(US_GROUP)
    authors = [doc.author for doc in result.documents]
    assert authors == ["Dana", "Contact 1", "Contact 2", "Dana"]
    others = [doc.raw_text for doc in result.documents if not doc.is_owner]
    assert others == ["Contact 1 here 👋 I vote for the short one",
                      "agree with Contact 1, and Dana can host?"]
    assert not any("555" in doc.author or "~" in doc.author for doc in result.documents)


def test_german_dotted_dates_two_digit_years_and_localized_markers() -> None:
    result = importer().read(GERMAN)
    assert [(doc.created_at.date().isoformat(), doc.raw_text) for doc in result.documents] == [
        ("2024-03-12", "Hallo Jonas, wie geht's?"),
        ("2024-03-12", "Super – bis später!"),
        ("2024-04-05", "Frohe Ostern nachträglich 🐣"),  # 05.04: day first, from "28.03" later
    ]
    assert result.documents[1].metadata["edited"] is True
    assert result.skipped == {"system": 1, "media": 1, "deleted": 1}


def test_day_first_is_decided_by_the_whole_file(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, "01/02/2024, 09:00 - Dana: early in the file\n"
                                "01/02/2024, 09:01 - Lee: hi\n"
                                "25/02/2024, 10:00 - Dana: only this line says day first\n")
    first = importer().read(chat).documents[0]
    assert first.created_at == datetime(2024, 2, 1, 9, 0, tzinfo=timezone.utc)


def test_a_message_line_starting_with_a_date_stays_in_its_message(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, "12/03/2024, 14:05 - Dana: my week:\n"
                                "13/03/2024 9:00 dentist\n"
                                "14/03/2024, 10:00 - Lee: busy!\n")
    result = importer().read(chat)
    assert texts(result) == ["my week:\n13/03/2024 9:00 dentist", "busy!"]
    assert result.skipped == {}


def test_empty_message_is_skipped_and_counted(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, "12/03/2024, 14:05 - Dana: \n12/03/2024, 14:06 - Dana: hi\n")
    result = importer().read(chat)
    assert texts(result) == ["hi"] and result.skipped == {"empty": 1}


def test_year_first_dates(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, "2024-03-12, 14:05 - Dana: ISO dates on some phones\n")
    assert importer().read(chat).documents[0].created_at == datetime(2024, 3, 12, 14, 5,
                                                                     tzinfo=timezone.utc)


def test_ios_zip_with_seconds_marks_attachments_and_system_lines(tmp_path: Path) -> None:
    result = importer().read(ios_zip(tmp_path))
    assert [(doc.author, doc.raw_text) for doc in result.documents] == [
        ("Dana", "hi Sam"), ("Dana", "two lines\nsecond line"), ("Dana", "fixed typo"),
        ("Contact 1", "see you at 8")]
    assert result.documents[0].created_at == datetime(2024, 3, 12, 14, 5, 33, tzinfo=timezone.utc)
    assert result.documents[2].metadata["edited"] is True
    assert result.documents[0].metadata["file"] == "_chat.txt"
    # Encryption notice and missed call are written as Sam's lines, led by U+200E.
    assert result.skipped == {"system": 2, "media": 2, "deleted": 1}
    assert not any("\u200e" in text for text in texts(result))


def test_ios_and_android_chats_with_one_person_share_a_conversation(tmp_path: Path) -> None:
    ios = importer().read(ios_zip(tmp_path)).documents[0].metadata["conversation"]
    android = importer().read(ANDROID_24H).documents[0].metadata["conversation"]
    assert ios == android


def test_folder_of_chats_is_one_import_with_stable_pseudonyms(tmp_path: Path) -> None:
    folder = tmp_path / "chats"
    shutil.copytree(CHATS, folder, ignore=shutil.ignore_patterns("ios", "timezone"))
    shutil.move(ios_zip(tmp_path), folder / "WhatsApp Chat - Sam.zip")
    result = importer().read(folder)
    conversations = {doc.metadata["conversation"] for doc in result.documents}
    assert len(conversations) == 4  # Sam's Android and iOS exports are one conversation
    sam = {doc.author for doc in result.documents
           if not doc.is_owner and doc.metadata["file"] in ("_chat.txt",
                                                             "WhatsApp Chat with Sam.txt")}
    assert len(sam) == 1


def test_local_timezone_option_converts_to_utc() -> None:
    berlin = importer(local_timezone=ZoneInfo("Europe/Berlin")).read(ANDROID_24H)
    assert berlin.documents[0].created_at == datetime(2024, 3, 12, 13, 5, tzinfo=timezone.utc)


# -- the owner ---------------------------------------------------------------------------------

def test_without_me_the_error_names_the_file_and_the_senders() -> None:
    with pytest.raises(ImportFormatError) as error:
        WhatsAppImporter().read(US_GROUP)
    message = str(error.value)
    assert str(US_GROUP) in message
    assert "--me 'Your Name as shown in the chat'" in message
    assert "Dana" in message and "Riley" in message and "+1 (555) 010-4477" in message


def test_me_that_matches_no_sender_is_an_error() -> None:
    with pytest.raises(ImportFormatError, match="no sender matches --me 'Robin'"):
        importer("Robin").read(ANDROID_24H)


def test_me_is_case_insensitive_and_phone_numbers_match_by_digits() -> None:
    assert importer("DANA").read(ANDROID_24H).owner == "Dana"
    result = importer("+1 555 010 4477").read(US_GROUP)
    assert [doc.raw_text for doc in result.documents if doc.is_owner] == [
        "agree with Riley, and Dana can host?"]


# -- hostile input ------------------------------------------------------------------------------

def test_corrupt_zip_is_an_error_naming_the_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "WhatsApp Chat - Sam.zip"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(ImportFormatError, match="WhatsApp Chat - Sam.zip: not a zip archive, or "
                                                "a corrupt one"):
        importer().read(corrupt)


def test_truncated_zip_is_an_error(tmp_path: Path) -> None:
    whole = ios_zip(tmp_path).read_bytes()
    truncated = tmp_path / "WhatsApp Chat - Sam (cut)"  # no .zip suffix: known by its bytes
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImportFormatError, match="corrupt"):
        importer().read(truncated)


def test_zip_slip_member_is_rejected(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../_chat.txt", IOS_CHAT.read_text(encoding="utf-8"))
    with pytest.raises(ImportFormatError, match="escapes the archive"):
        importer().read(evil)


def test_zip_without_a_chat_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "photos.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("readme.txt", "holiday photos")
    with pytest.raises(ImportFormatError, match="no WhatsApp chat found"):
        importer().read(target)


def test_text_that_is_not_a_chat_is_an_error_naming_the_file(tmp_path: Path) -> None:
    notes = write_chat(tmp_path, "Shopping list\n- milk\n", "notes.txt")
    with pytest.raises(ImportFormatError, match="notes.txt, line 1: no WhatsApp message line"):
        importer().read(notes)


def test_impossible_date_is_an_error_with_the_line(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, "25/01/2024, 10:00 - Dana: fine\n31/02/2024, 10:00 - Dana: no\n")
    with pytest.raises(ImportFormatError, match=r"line 2: unreadable date"):
        importer().read(chat)


def test_legacy_encoding_falls_back_through_charset_detection(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp-Chat mit Jonas.txt"
    chat.write_bytes(GERMAN.read_text(encoding="utf-8").replace("🐣", "").encode("cp1252"))
    result = importer().read(chat)
    assert result.documents[1].raw_text == "Super – bis später!"


# -- shared chat helpers and the pipeline ------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Sam said call +44 7700 900123 tonight", "mail sam.k@example.net",
    "IBAN DE89 3704 0044 0532 0130 00",
    "card 4111 1111 1111 1111", "https://sam:hunter2@example.org/x", "see you at 8, Sam", "ok 👍",
    "meet at 15:30 on 12/03",
])
def test_other_people_redaction_matches_the_shared_functions(text: str) -> None:
    others = OtherPeople()
    others.alias("Sam")
    reference = Pseudonyms()
    reference("Sam")
    assert others.redact(text) == reference.redact_names(redact_personal_data(text))


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int | None]] = []
    options = ImportOptions(me=("Dana",), progress=lambda done, total: calls.append((done, total)))
    WhatsAppImporter(options).read(ANDROID_24H)
    assert calls == [(0, 11), (11, 11)]  # 11 timestamped lines: every 1,000, and at the end


def test_ingest_stores_the_chat_in_the_warehouse(tmp_path: Path) -> None:
    sessions = session_factory(create_warehouse_engine(f"sqlite:///{tmp_path / 'twin.db'}"))
    report = ingest_path(ANDROID_24H, importer(), sessions)
    assert report.new_documents == 5 and report.owner == "Dana"
    assert report.skipped == {"system": 2, "media": 2, "deleted": 2}
    again = ingest_path(ANDROID_24H, importer(), sessions)
    assert again.already_imported


def test_a_long_chat_parses_quickly(tmp_path: Path) -> None:
    start = datetime(2022, 1, 1, 8, 0)
    lines = []
    for index in range(30_000):
        moment = start + timedelta(minutes=7 * index)
        sender = "Dana" if index % 2 else "Lee"
        lines.append(f"{moment:%d/%m/%Y, %H:%M} - {sender}: message {index % 97}")
        if index % 10 == 0:
            lines.append("a second line")
    chat = write_chat(tmp_path, "\n".join(lines) + "\n")
    started = time.perf_counter()
    result = importer().read(chat)
    elapsed = time.perf_counter() - started
    assert len(result.documents) == 30_000
    assert elapsed < 10, f"{len(lines)} lines took {elapsed:.1f}s"  # ~0.5s idle; shared CI
