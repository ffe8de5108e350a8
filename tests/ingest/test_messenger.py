"""Messenger importer, on synthetic Facebook downloads built from tests/fixtures/messenger/
(FORMATS.md section 6)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.messenger import MessengerImporter, conversation_id

FIXTURES = Path(__file__).parent.parent / "fixtures"
MESSENGER = FIXTURES / "messenger"
OWNER = "Noor Álvarez"
SAM_THREAD = "samrivera_10158912345678901"
GROUP_THREAD = "bookclub_7212345678901234"
REQUEST_THREAD = "julesmoreau_5550001234567890"
# Conversation ids are hashes: the thread folder names hold other people's names.
SAM_ID = conversation_id("inbox", SAM_THREAD)
GROUP_ID = conversation_id("archived_threads", GROUP_THREAD)
REQUEST_ID = conversation_id("message_requests", REQUEST_THREAD)
MESSAGES = "your_facebook_activity/messages"
STANDARD = {
    f"{MESSAGES}/inbox/{SAM_THREAD}/message_1.json": "sam_message_1.json",
    f"{MESSAGES}/inbox/{SAM_THREAD}/message_2.json": "sam_message_2.json",
    f"{MESSAGES}/archived_threads/{GROUP_THREAD}/message_1.json": "bookclub_message_1.json",
    f"{MESSAGES}/message_requests/{REQUEST_THREAD}/message_1.json": "jules_message_1.json",
    "personal_information/profile_information/profile_information.json":
        "profile_information.json",
    "your_facebook_activity/messages/autofill_information.json": None,
    "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json": None,
}
E2EE = "e2ee_Sam Rivera_7.json"


def build(root: Path, layout: dict[str, str | None]) -> Path:
    """Copy fixtures into an export layout; None writes a small unrelated JSON file."""
    for name, fixture in layout.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if fixture is None:
            target.write_text('{"label_values": []}', encoding="utf-8")
        else:
            shutil.copyfile(MESSENGER / fixture, target)
    return root


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


def without(*names: str) -> dict[str, str | None]:
    return {key: value for key, value in STANDARD.items() if value not in names}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return build(tmp_path / "facebook-noor-2024", STANDARD)


def conversation(result, name: str) -> list:
    ids = {SAM_THREAD: SAM_ID, GROUP_THREAD: GROUP_ID, REQUEST_THREAD: REQUEST_ID}
    return sorted((doc for doc in result.documents if doc.metadata["conversation"] == ids[name]),
                  key=lambda doc: doc.metadata["position"])


def test_thread_files_are_merged_and_sorted_oldest_first(export: Path) -> None:
    docs = conversation(MessengerImporter().read(export), SAM_THREAD)
    assert [doc.raw_text for doc in docs] == [
        "Hey Sam!! long time 😄\nhow's the new place?",
        "mail me at [email] or text [phone], Contact 2 has the keys",
        "look https://example.org/bakery",
        "Café at 9? ☕️ I'll grab the corner table",
        "and a second line sent right after",  # same millisecond, kept in sent order
    ]
    assert [doc.metadata["position"] for doc in docs] == [0, 1, 2, 3, 4]
    assert [doc.external_id for doc in docs][:2] == [f"{SAM_ID}:0", f"{SAM_ID}:1"]
    assert docs[0].metadata["file"] == f"{MESSAGES}/inbox/{SAM_THREAD}/message_2.json"
    assert docs[0].created_at == datetime(2023, 11, 14, 22, 13, 30, tzinfo=timezone.utc)


def test_owner_comes_from_profile_information_with_mojibake_fixed(export: Path) -> None:
    result = MessengerImporter().read(export)
    assert result.owner == OWNER
    own = [doc for doc in result.documents if doc.is_owner]
    assert {doc.author for doc in own} == {OWNER}
    assert {doc.platform for doc in result.documents} == {"messenger"}
    assert {doc.kind for doc in result.documents} == {"message"}


def test_owner_is_whoever_is_in_every_thread_without_account_data(tmp_path: Path) -> None:
    export = build(tmp_path, without("profile_information.json"))
    result = MessengerImporter().read(export)
    assert result.owner == OWNER
    assert any(doc.is_owner and doc.raw_text.startswith("Chapter 3") for doc in result.documents)


def test_one_thread_is_ambiguous_without_me(tmp_path: Path) -> None:
    export = build(tmp_path, {f"messages/inbox/{SAM_THREAD}/message_1.json": "sam_message_1.json"})
    with pytest.raises(ImportFormatError, match=r"--me NAME") as caught:
        MessengerImporter().read(export)
    assert "Sam Rivera" in str(caught.value) and OWNER in str(caught.value)
    result = MessengerImporter(ImportOptions(me=("someone else", "noor álvarez"))).read(export)
    assert result.owner == OWNER
    assert [doc.is_owner for doc in conversation(result, SAM_THREAD)] == [False, True, True]


def test_settings_owner_name_resolves_a_tie(tmp_path: Path) -> None:
    export = build(tmp_path, {f"messages/inbox/{SAM_THREAD}/message_1.json": "sam_message_1.json"})
    result = MessengerImporter(ImportOptions(owner_name=OWNER)).read(export)
    assert result.owner == OWNER


def test_auto_generated_calls_unsent_and_media_are_skipped_and_counted(export: Path) -> None:
    result = MessengerImporter().read(export)
    assert result.skipped == {
        "auto_generated": 6,  # attachment, reaction, missed call, named, added, left the group
        "call": 1, "unsent": 1, "media": 2,  # sticker, video
    }
    texts = " ".join(doc.raw_text for doc in result.documents)
    for generated in ("sent an attachment", "reacted", "missed your call", "video chat ended",
                      "named the group", "to the group", "left the group", "ok the second one"):
        assert generated not in texts


def test_lines_that_only_resemble_notices_are_kept(tmp_path: Path) -> None:
    texts = ["I missed your call. Sorry!!", "I missed your call.",
             "wait, Sam reacted 😂 to your message?\nthat was a serious one",
             "You sent an attachment. Which one??"]
    thread = {"participants": [{"name": OWNER}, {"name": "Sam Rivera"}],
              "messages": [{"sender_name": OWNER, "timestamp_ms": 1700000000000 - i,
                            "content": text} for i, text in enumerate(texts)]}
    folder = tmp_path / f"messages/inbox/{SAM_THREAD}"
    folder.mkdir(parents=True)
    (folder / "message_1.json").write_text(json.dumps(thread), encoding="utf-8")
    result = MessengerImporter(ImportOptions(me=(OWNER,))).read(tmp_path)
    assert [doc.raw_text for doc in result.documents] == list(reversed(texts))
    assert result.skipped == {}


def test_share_link_is_kept_in_metadata(export: Path) -> None:
    share = next(doc for doc in MessengerImporter().read(export).documents
                 if "bakery" in doc.raw_text)
    assert share.metadata["share_link"] == "https://example.org/bakery"


def test_other_people_are_pseudonymised_and_redacted(export: Path) -> None:
    result = MessengerImporter().read(export)
    others = [doc for doc in result.documents if not doc.is_owner]
    assert {doc.author for doc in others} == {"Contact 1", "Contact 2", "Contact 3"}
    text = " ".join(doc.raw_text for doc in others)
    for personal in ("sam.rivera@example.net", "415-555-0134", "Priya Anand", "Sam Rivera",
                     "Jules Moreau"):
        assert personal not in text
        assert personal not in repr([doc.author for doc in result.documents])
    assert "who's hosting? Contact 1 offered last time" in text


def test_owner_text_is_verbatim(export: Path) -> None:
    own = [doc.raw_text for doc in MessengerImporter().read(export).documents if doc.is_owner]
    assert "Hey Sam!! long time 😄\nhow's the new place?" in own  # a name, an emoji, a newline


def test_conversation_ids_boxes_and_groups(export: Path) -> None:
    result = MessengerImporter().read(export)
    by_conversation = {doc.metadata["conversation"]: doc for doc in result.documents}
    assert set(by_conversation) == {SAM_ID, GROUP_ID, REQUEST_ID}
    assert by_conversation[GROUP_ID].metadata["box"] == "archived_threads"
    assert by_conversation[GROUP_ID].metadata["group"] is True
    assert by_conversation[REQUEST_ID].metadata["box"] == "message_requests"
    assert by_conversation[SAM_ID].metadata["group"] is False
    ids = [doc.external_id for doc in result.documents]
    assert len(ids) == len(set(ids)) == 8


def test_older_layout_and_e2ee_cutover_folder(tmp_path: Path) -> None:
    export = build(tmp_path, {
        f"messages/inbox/{SAM_THREAD}/message_1.json": "sam_message_1.json",
        f"messages/e2ee_cutover/{REQUEST_THREAD}/message_1.json": "jules_message_1.json",
        f"messages/inbox/{GROUP_THREAD}/message_1.json": "bookclub_message_1.json"})
    importer = MessengerImporter()
    assert importer.detect(export)
    result = importer.read(export)
    boxes = {doc.metadata["box"] for doc in result.documents}
    assert boxes == {"inbox", "e2ee_cutover"}
    assert result.owner == OWNER


def test_encrypted_chat_download_camel_case_schema(tmp_path: Path) -> None:
    export = build(tmp_path / "download", {f"messages/{E2EE}": E2EE})
    shutil.copyfile(MESSENGER / "profile_information.json", tmp_path / "download/other.json")
    importer = MessengerImporter(ImportOptions(me=(OWNER,)))
    assert importer.detect(export)
    result = importer.read(export)
    assert [(doc.is_owner, doc.raw_text) for doc in result.documents] == [
        (False, "still on for Friday? 🍕"),
        (True, "Always. I'm bringing the café playlist"),
        (False, "https://example.org/menu"),
    ]
    assert result.skipped == {"media": 1, "unsent": 1}
    conversation = result.documents[0].metadata["conversation"]
    assert conversation == conversation_id("e2ee_download", "e2ee_Sam Rivera_7")
    assert "sam" not in conversation.casefold()
    assert result.documents[0].created_at == datetime(2024, 10, 27, 3, 33, 20, tzinfo=timezone.utc)


def test_zip_reads_like_the_folder(export: Path, tmp_path: Path) -> None:
    zipped = zip_folder(export, tmp_path / "facebook-noor-2024.zip", wrapper="facebook-noor/")
    importer = MessengerImporter()
    assert importer.detect(zipped)
    assert importer.read(zipped).documents == importer.read(export).documents


def test_html_download_asks_for_the_json_format(tmp_path: Path) -> None:
    thread = tmp_path / f"{MESSAGES}/inbox/{SAM_THREAD}"
    thread.mkdir(parents=True)
    (thread / "message_1.html").write_text("<html><body>Sam Rivera</body></html>", "utf-8")
    importer = MessengerImporter()
    assert importer.detect(tmp_path)
    with pytest.raises(ImportFormatError, match=r"message_1\.html: .*Format: JSON"):
        importer.read(tmp_path)


def test_broken_json_names_the_file_and_line(tmp_path: Path) -> None:
    export = build(tmp_path, STANDARD)
    target = export / f"{MESSAGES}/inbox/{SAM_THREAD}/message_2.json"
    lines = target.read_text(encoding="utf-8").splitlines()
    lines[11] = lines[11].rstrip(",")
    target.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"message_2\.json, line 13: invalid JSON"):
        MessengerImporter().read(export)


@pytest.mark.parametrize("field", ["sender_name", "timestamp_ms"])
def test_message_missing_a_required_field_names_file_and_field(tmp_path: Path,
                                                               field: str) -> None:
    export = build(tmp_path, STANDARD)
    target = export / f"{MESSAGES}/message_requests/{REQUEST_THREAD}/message_1.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    del data["messages"][0][field]
    target.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=rf"{REQUEST_THREAD}/message_1\.json") as caught:
        MessengerImporter().read(export)
    assert caught.value.field_name == field


def test_thread_without_a_messages_list_is_an_error(tmp_path: Path) -> None:
    export = build(tmp_path, STANDARD)
    target = export / f"{MESSAGES}/inbox/{SAM_THREAD}/message_1.json"
    target.write_text('{"participants": [], "messages": {"oops": 1}}', encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"message_1\.json, field 'messages'"):
        MessengerImporter().read(export)


def test_wrong_encoding_names_the_file(tmp_path: Path) -> None:
    export = build(tmp_path, STANDARD)
    target = export / f"{MESSAGES}/inbox/{SAM_THREAD}/message_2.json"
    target.write_bytes('{"participants": [], "messages": [{"content": "Caf\xe9"}]}'
                       .encode("latin-1"))
    with pytest.raises(ImportFormatError, match=r"message_2\.json, line 1: not valid UTF-8"):
        MessengerImporter().read(export)


def test_corrupt_and_truncated_zips_are_errors(export: Path, tmp_path: Path) -> None:
    broken = tmp_path / "facebook.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(zip_folder(export, tmp_path / "whole.zip").read_bytes()[:900])
    for path in (broken, truncated):
        assert not MessengerImporter().detect(path)
        with pytest.raises(ImportFormatError, match=path.name):
            MessengerImporter().read(path)


def test_export_without_conversations_is_an_error(tmp_path: Path) -> None:
    export = build(tmp_path, {"personal_information/profile_information/profile_information.json":
                              "profile_information.json"})
    assert not MessengerImporter().detect(export)
    with pytest.raises(ImportFormatError, match="no Messenger conversations"):
        MessengerImporter().read(export)


def test_progress_is_reported(export: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    MessengerImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))
                      ).read(export)
    assert calls[-1] == (18, 18)  # 9 + 3 + 5 + 1 messages


def test_instagram_downloads_are_left_to_the_instagram_importer(tmp_path: Path) -> None:
    export = build(tmp_path, {
        f"your_instagram_activity/messages/inbox/{SAM_THREAD}/message_1.json":
            "sam_message_1.json"})
    assert not MessengerImporter().detect(export)


def other_fixtures() -> list[Path]:
    return sorted(path for path in FIXTURES.iterdir() if path.name != "messenger")


@pytest.mark.parametrize("path", other_fixtures(), ids=lambda path: path.name)
def test_detect_rejects_other_formats(path: Path) -> None:
    assert not MessengerImporter().detect(path)
    for file in sorted(path.rglob("*"))[:20]:
        assert not MessengerImporter().detect(file)
