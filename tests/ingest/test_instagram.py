"""Instagram importer, on synthetic downloads built from tests/fixtures/instagram/
(FORMATS.md section 5; DMs: section 6)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.instagram import InstagramImporter
from llm_twin.ingest.formats.messenger import MessengerImporter, conversation_id

FIXTURES = Path(__file__).parent.parent / "fixtures"
INSTAGRAM = FIXTURES / "instagram"
CONTENT = "your_instagram_activity/content"
DM_THREAD = "samrivera_17841400000000000"
PERSONAL = "personal_information/personal_information/personal_information.json"
STANDARD = {  # the 2023-24 layout
    f"{CONTENT}/posts_1.json": "posts_1.json",
    f"{CONTENT}/posts_2.json": "posts_2.json",
    f"{CONTENT}/reels.json": "reels.json",
    f"{CONTENT}/archived_posts.json": "archived_posts.json",
    f"{CONTENT}/igtv_videos.json": "igtv_videos.json",
    f"{CONTENT}/stories.json": "stories.json",
    PERSONAL: "personal_information.json",
    f"your_instagram_activity/messages/inbox/{DM_THREAD}/message_1.json": "dm_message_1.json",
    "connections/followers_and_following/following.json": None,
}
MORNING = "Morning pages ☕️ #writing\nthree pages, no editing."
CAFE = "Café notes, part 2 🥐\n\nSlide 2 has the recipe. #baking #café"
SECOND_SLIDE = "Second slide carries the caption — odd, but it happens."


def build(root: Path, layout: dict[str, str | None]) -> Path:
    """Copy fixtures into a download layout; None writes a small unrelated JSON file."""
    for name, fixture in layout.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if fixture is None:
            target.write_text('{"relationships_following": []}', encoding="utf-8")
        else:
            shutil.copyfile(INSTAGRAM / fixture, target)
    return root


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return build(tmp_path / "instagram-noor.makes-2024-06-01-AbCd", STANDARD)


def posts(result) -> list:
    return [doc for doc in result.documents if doc.kind == "post"]


def messages(result) -> list:
    return [doc for doc in result.documents if doc.kind == "message"]


def test_posts_from_every_file_in_order(export: Path) -> None:
    texts = [doc.raw_text for doc in posts(InstagramImporter().read(export))]
    assert texts == [
        MORNING, CAFE, SECOND_SLIDE,  # posts_1.json
        "From the archive: my first pottery bowl. Wonky & proud. #throwback",  # posts_2.json
        "30 seconds of sourdough 🍞 (sound on)",  # reels.json
        "Hot take I archived: deadlines are a feature.",  # archived_posts.json
        "Studio tour, long version 🎬",  # igtv_videos.json
    ]


def test_carousel_caption_is_the_top_level_title(export: Path) -> None:
    carousel = posts(InstagramImporter().read(export))[1]
    assert carousel.raw_text == CAFE  # mojibake fixed, blank line kept
    assert carousel.metadata["media"] == ["media/posts/202404/17920000000000001.jpg",
                                          "media/posts/202404/17920000000000002.jpg"]
    assert carousel.created_at == datetime(2024, 4, 1, 19, 33, 20, tzinfo=timezone.utc)


def test_caption_falls_back_to_the_first_non_empty_media_title(export: Path) -> None:
    post = posts(InstagramImporter().read(export))[2]
    assert post.raw_text == SECOND_SLIDE
    # No top-level timestamp: the captioned item's, not the first item's, is used.
    assert post.created_at == datetime(2024, 5, 1, 21, 46, 41, tzinfo=timezone.utc)


def test_single_photo_post_fields(export: Path) -> None:
    post = posts(InstagramImporter().read(export))[0]
    assert (post.platform, post.kind, post.author, post.is_owner) == (
        "instagram", "post", "noor.makes", True)
    assert post.raw_text == MORNING
    assert post.created_at == datetime(2024, 3, 1, 10, 46, 40, tzinfo=timezone.utc)
    assert post.external_id == "17912345678901234"
    assert post.metadata == {"file": f"{CONTENT}/posts_1.json", "position": 0, "source": "post",
                             "media": ["media/posts/202403/17912345678901234.jpg"],
                             "hashtags": ["writing"], "cross_post_source": "FB"}


def test_hashtags_stay_in_the_text(export: Path) -> None:
    carousel = posts(InstagramImporter().read(export))[1]
    assert "#baking #café" in carousel.raw_text
    assert carousel.metadata["hashtags"] == ["baking", "café"]


def test_reels_archived_posts_and_igtv_are_marked(export: Path) -> None:
    by_source = {doc.metadata["source"]: doc for doc in posts(InstagramImporter().read(export))}
    assert by_source["reel"].external_id == "18000000000000001"
    assert by_source["reel"].metadata["file"] == f"{CONTENT}/reels.json"
    assert by_source["archived_post"].metadata["archived"] is True
    assert by_source["igtv"].created_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=timezone.utc)
    assert "archived" not in by_source["post"].metadata


def test_posts_without_caption_and_stories_are_skipped_and_counted(export: Path) -> None:
    result = InstagramImporter().read(export)
    assert result.skipped["no_caption"] == 2  # a photo post and a reel
    assert result.skipped["story"] == 2
    assert "behind the scenes" not in " ".join(doc.raw_text for doc in result.documents)


def test_owner_from_personal_information(export: Path) -> None:
    result = InstagramImporter().read(export)
    assert result.owner == "Noor Álvarez"
    assert "noor@example.org" not in repr(result)


def test_direct_messages_use_the_messenger_rules(export: Path) -> None:
    result = InstagramImporter().read(export)
    dms = messages(result)
    assert [(doc.is_owner, doc.author, doc.raw_text) for doc in dms] == [
        (False, "Contact 1", "Noor, call me on [phone] when you're free? Contact 1 says hi"),
        (True, "Noor Álvarez", "Yes!! Saturday works 🙌\nbring the good flour"),
    ]
    assert {doc.platform for doc in dms} == {"instagram"}
    dm_id = conversation_id("inbox", DM_THREAD)
    assert [doc.external_id for doc in dms] == [f"{dm_id}:0", f"{dm_id}:1"]
    assert dms[1].created_at == datetime(2024, 5, 18, 2, 40, 5, tzinfo=timezone.utc)
    # "Liked a message", "Reacted 😂 to your message", a photo, an unsent message:
    assert result.skipped["auto_generated"] == 2
    assert result.skipped["media"] == 1 and result.skipped["unsent"] == 1


def test_2025_layout_reads_media_posts(tmp_path: Path) -> None:
    export = build(tmp_path, {"your_instagram_activity/media/posts_1.json": "posts_1.json",
                              "your_instagram_activity/media/reels.json": "reels.json",
                              PERSONAL: "personal_information.json"})
    importer = InstagramImporter()
    assert importer.detect(export)
    result = importer.read(export)
    assert [doc.raw_text for doc in result.documents] == [
        MORNING, CAFE, SECOND_SLIDE, "30 seconds of sourdough 🍞 (sound on)"]


def test_2021_layout_with_old_personal_information_and_inbox(tmp_path: Path) -> None:
    export = build(tmp_path, {"content/posts_1.json": "posts_1.json",
                              "personal_information/personal_information.json":
                                  "personal_information.json",
                              f"messages/inbox/{DM_THREAD}/message_1.json": "dm_message_1.json"})
    importer = InstagramImporter()
    assert importer.detect(export)
    assert not MessengerImporter().detect(export)
    result = importer.read(export)
    assert result.owner == "Noor Álvarez"
    assert len(posts(result)) == 3 and len(messages(result)) == 2


def test_without_personal_information(tmp_path: Path) -> None:
    export = build(tmp_path, {f"{CONTENT}/posts_1.json": "posts_1.json"})
    result = InstagramImporter().read(export)
    assert result.owner is None
    assert {doc.author for doc in result.documents} == {"owner"}


def test_direct_messages_need_me_when_the_owner_is_unknown(tmp_path: Path) -> None:
    layout = {f"your_instagram_activity/messages/inbox/{DM_THREAD}/message_1.json":
              "dm_message_1.json", f"{CONTENT}/posts_1.json": "posts_1.json"}
    export = build(tmp_path, layout)
    with pytest.raises(ImportFormatError, match="--me NAME"):
        InstagramImporter().read(export)
    result = InstagramImporter(ImportOptions(me=("Noor Álvarez",))).read(export)
    assert result.owner == "Noor Álvarez"
    assert [doc.is_owner for doc in messages(result)] == [False, True]


def test_zip_reads_like_the_folder(export: Path, tmp_path: Path) -> None:
    zipped = zip_folder(export, tmp_path / "instagram-noor.makes-2024-06-01-AbCd.zip")
    wrapped = zip_folder(export, tmp_path / "wrapped.zip", wrapper="instagram-noor.makes/")
    importer = InstagramImporter()
    expected = importer.read(export).documents
    for path in (zipped, wrapped):
        assert importer.detect(path)
        assert importer.read(path).documents == expected


def test_html_download_asks_for_the_json_format(tmp_path: Path) -> None:
    target = tmp_path / CONTENT / "posts_1.html"
    target.parent.mkdir(parents=True)
    shutil.copyfile(INSTAGRAM / "posts_1.html", target)
    importer = InstagramImporter()
    assert importer.detect(tmp_path)  # recognised, so the user gets the advice below
    with pytest.raises(ImportFormatError, match=r"posts_1\.html: .*Format: JSON") as caught:
        importer.read(tmp_path)
    assert caught.value.file.endswith("posts_1.html")


def test_broken_json_names_the_file_and_line(export: Path) -> None:
    target = export / CONTENT / "posts_2.json"
    lines = target.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].rstrip(",")
    target.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"posts_2\.json, line 6: invalid JSON"):
        InstagramImporter().read(export)


def test_post_without_any_timestamp_names_file_and_field(export: Path) -> None:
    target = export / CONTENT / "posts_2.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    del data[0]["media"][0]["creation_timestamp"]
    target.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"posts_2\.json.*'creation_timestamp'") as caught:
        InstagramImporter().read(export)
    assert caught.value.field_name == "creation_timestamp"


@pytest.mark.parametrize("content", ['[1, 2]', '"posts"'])
def test_unexpected_shapes_are_errors(export: Path, content: str) -> None:
    (export / CONTENT / "posts_2.json").write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"posts_2\.json"):
        InstagramImporter().read(export)


def test_wrong_encoding_names_the_file(export: Path) -> None:
    (export / CONTENT / "posts_2.json").write_bytes('[{"title": "Caf\xe9"}]'.encode("cp1252"))
    with pytest.raises(ImportFormatError, match=r"posts_2\.json, line 1: not valid UTF-8"):
        InstagramImporter().read(export)


def test_corrupt_and_truncated_zips_are_errors(export: Path, tmp_path: Path) -> None:
    broken = tmp_path / "instagram.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(zip_folder(export, tmp_path / "whole.zip").read_bytes()[:1500])
    for path in (broken, truncated):
        assert not InstagramImporter().detect(path)
        with pytest.raises(ImportFormatError, match=path.name):
            InstagramImporter().read(path)


def test_facebook_messenger_download_is_not_instagram(tmp_path: Path) -> None:
    thread = tmp_path / "your_facebook_activity/messages/inbox/samrivera_1"
    thread.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "messenger" / "sam_message_1.json", thread / "message_1.json")
    (tmp_path / "your_facebook_activity/other.txt").write_text("-", encoding="utf-8")
    assert not InstagramImporter().detect(tmp_path)


def other_fixtures() -> list[Path]:
    return sorted(path for path in FIXTURES.iterdir() if path.name != "instagram")


@pytest.mark.parametrize("path", other_fixtures(), ids=lambda path: path.name)
def test_detect_rejects_other_formats(path: Path) -> None:
    assert not InstagramImporter().detect(path)
    for file in sorted(path.rglob("*"))[:20]:
        assert not InstagramImporter().detect(file)


# -- a DM thread saved on its own: no participants, no download folders around it ----------------

BARE_INBOX = INSTAGRAM / "bare_inbox"
BARE_THREAD = "noorcooks_17841400000000001"


@pytest.mark.parametrize("where", ["file", "thread folder", "inbox folder"])
def test_bare_dm_thread_without_participants_imports(where: str, tmp_path: Path) -> None:
    path = {"file": BARE_INBOX / BARE_THREAD / "message_1.json",
            "thread folder": BARE_INBOX / BARE_THREAD, "inbox folder": BARE_INBOX}[where]
    assert InstagramImporter().detect(path)
    assert not MessengerImporter().detect(path)
    result = InstagramImporter(ImportOptions(me=("Noor Álvarez",))).read(path)
    dms = messages(result)
    assert [(doc.is_owner, doc.raw_text) for doc in dms] == [
        (False, "Baking day this weekend? The café flour finally arrived."),
        (True, "Saturday is full, Sunday?"),
        (False, "Then Sunday it is. I will bake the rye and you judge the crumb."),
        (True, "Deal. Bring the starter 😂"),
    ]
    assert {doc.platform for doc in dms} == {"instagram"}
    # The same conversation id as inside a full download, so a later full import adds nothing.
    assert {doc.metadata["conversation"] for doc in dms} == {conversation_id("inbox", BARE_THREAD)}
    assert result.skipped == {"media": 1}


def test_bare_dm_thread_needs_me(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="--me"):
        InstagramImporter().read(BARE_INBOX / BARE_THREAD / "message_1.json")


def test_bare_messenger_thread_is_messenger_not_instagram(tmp_path: Path) -> None:
    thread = tmp_path / "samrivera_10158912345678901"
    thread.mkdir()
    data = json.loads((FIXTURES / "messenger" / "sam_message_1.json").read_text(encoding="utf-8"))
    for item in data["messages"]:  # no Instagram marks left: media paths point nowhere
        item.pop("photos", None)
    (thread / "message_1.json").write_text(json.dumps(data), encoding="utf-8")
    assert MessengerImporter().detect(thread / "message_1.json")
    assert not InstagramImporter().detect(thread / "message_1.json")
    read = MessengerImporter(ImportOptions(me=("Sam Rivera",))).read(thread)
    assert messages(read) and {doc.platform for doc in read.documents} == {"messenger"}
