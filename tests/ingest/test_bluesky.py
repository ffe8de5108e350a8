"""Bluesky importer, on a repo.car built in tmp_path from tests/fixtures/bluesky (FORMATS.md §7).

libipld encodes DAG-CBOR but not CAR files or CID links, so the helpers below write the CAR
themselves: each block is `varint(len) + CID + DAG-CBOR`, CIDs are v1 dag-cbor sha2-256, and a
link is CBOR tag 42 over the CID bytes (patched in after libipld encodes the CID as plain bytes).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import libipld
import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.bluesky import BlueskyImporter

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPO = json.loads((FIXTURES / "bluesky" / "repo-records.json").read_text(encoding="utf-8"))
DID = REPO["did"]
POST_KEYS = [record["key"] for record in REPO["records"]
             if record["key"].startswith("app.bsky.feed.post/")]
ROOT, SELF_REPLY, LINKS, QUOTE, QUOTE_MEDIA, REPLY, EXTERNAL, IMAGES_ONLY, GERMAN = POST_KEYS
SAM_POST = next(record["value"]["subject"]["uri"] for record in REPO["records"]
                if record["key"].startswith("app.bsky.feed.like/"))


def varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def cid_from_text(text: str) -> bytes:
    info = libipld.decode_cid(text)
    return bytes([1, info["codec"], 0x12, 0x20]) + info["hash"]["digest"]


class CarWriter:
    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}
        self.links: set[bytes] = set()

    def link(self, cid: bytes | None) -> bytes | None:
        if cid is not None:
            self.links.add(cid)
        return cid

    def from_json(self, value: Any) -> Any:
        """DAG-JSON style {"$link": cid} becomes a link; everything else is kept."""
        if isinstance(value, dict):
            if set(value) == {"$link"}:
                return self.link(cid_from_text(value["$link"]))
            return {key: self.from_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.from_json(item) for item in value]
        return value

    def encode(self, value: Any) -> bytes:
        data = libipld.encode_dag_cbor(value)
        for cid in self.links:  # bytes(36) -> tag 42 over (0x00 + CID)
            data = data.replace(b"\x58\x24" + cid, b"\xd8\x2a\x58\x25\x00" + cid)
        return data

    def put(self, value: Any) -> bytes:
        data = self.encode(value)
        cid = b"\x01\x71\x12\x20" + hashlib.sha256(data).digest()
        self.blocks[cid] = data
        return self.link(cid)

    def car(self, root: bytes) -> bytes:
        header = self.encode({"version": 1, "roots": [root]})
        body = b"".join(varint(len(cid) + len(data)) + cid + data
                        for cid, data in self.blocks.items())
        return varint(len(header)) + header + body


def tree_node(writer: CarWriter, entries: list[tuple[str, bytes, bytes | None]],
              left: bytes | None) -> bytes:
    encoded, previous = [], b""
    for key, value, right in entries:
        key_bytes = key.encode()
        shared = next((i for i, (a, b) in enumerate(zip(previous, key_bytes)) if a != b),
                      min(len(previous), len(key_bytes)))
        encoded.append({"p": shared, "k": key_bytes[shared:], "v": value, "t": right})
        previous = key_bytes
    return writer.put({"l": left, "e": encoded})


def build_car(records: list[dict], *, in_tree: bool = True, commit: dict | None = None) -> bytes:
    """A repo: record blocks, a two-level search tree over them, and the commit as root."""
    writer = CarWriter()
    cids = {record["key"]: writer.put(writer.from_json(record["value"])) for record in records}
    keys = sorted(cids) if in_tree else []
    first, second = len(keys) // 3, 2 * len(keys) // 3
    root = None
    if keys:
        left = tree_node(writer, [(key, cids[key], None) for key in keys[:first]], None)
        right = tree_node(writer, [(key, cids[key], None) for key in keys[first + 1:second]],
                          None)
        root = tree_node(writer, [(keys[first], cids[keys[first]], right),
                                  *[(key, cids[key], None) for key in keys[second:]]], left)
    commit = commit if commit is not None else {
        "did": DID, "version": 3, "data": writer.link(root), "rev": REPO["rev"], "prev": None,
        "sig": bytes(64)}
    return writer.car(writer.put(commit))


def write_car(path: Path, records: list[dict] | None = None, **options: Any) -> Path:
    path.write_bytes(build_car(REPO["records"] if records is None else records, **options))
    return path


@pytest.fixture(scope="module")
def car_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_car(tmp_path_factory.mktemp("bluesky") / "repo.car")


@pytest.fixture(scope="module")
def result(car_file: Path):
    return BlueskyImporter().read(car_file)


@pytest.fixture(scope="module")
def docs(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def uri(key: str) -> str:
    return f"at://{DID}/{key}"


def test_only_posts_become_documents_the_rest_is_counted(result) -> None:
    assert result.skipped == {"profile": 1, "like": 2, "repost": 1, "follow": 2,
                              "other_record": 1, "empty": 1}
    assert [doc.external_id for doc in result.documents] == [
        uri(key) for key in POST_KEYS if key != IMAGES_ONLY]


def test_text_keeps_emoji_and_line_breaks(docs) -> None:
    doc = docs[uri(ROOT)]
    assert doc.raw_text == ("Shipping notes, part 1 🧵\n\nWrote 400 words before coffee. "
                            "Slept on it. Cut 200. #amwriting")
    assert doc.metadata["hashtags"] == ["amwriting"]


def test_shortened_link_is_expanded_using_byte_offsets(docs) -> None:
    # The 👀 before the link is 4 UTF-8 bytes: character offsets would cut the wrong span.
    assert docs[uri(LINKS)].raw_text == ("Long read, worth it 👀 "
                                         "https://example.org/essays/on-slow-writing-2024 "
                                         "and my notes are here")


def test_ids_urls_owner_and_provenance(result, docs) -> None:
    assert result.owner == "Dana Writes"
    doc = docs[uri(ROOT)]
    rkey = ROOT.split("/")[1]
    assert (doc.platform, doc.kind, doc.author, doc.is_owner) == (
        "bluesky", "post", "Dana Writes", True)
    assert doc.url == f"https://bsky.app/profile/{DID}/post/{rkey}"
    assert doc.metadata["file"] == "repo.car"
    assert doc.metadata["cid"].startswith("bafyrei")
    assert doc.language == "en"
    json.dumps([doc.metadata for doc in result.documents])  # JSON-safe: no CID bytes leak


def test_created_at_is_utc(docs) -> None:
    assert docs[uri(ROOT)].created_at == datetime(2024, 3, 4, 8, 0, 0, 123000,
                                                  tzinfo=timezone.utc)


def test_unreadable_created_at_falls_back_to_the_rkey_time(docs) -> None:
    doc = docs[uri(GERMAN)]
    assert doc.created_at == datetime(2024, 3, 11, 6, 30, tzinfo=timezone.utc)
    assert doc.metadata["date_source"] == "rkey"
    assert doc.language == "de"
    assert doc.raw_text == "Guten Morgen!\nHeute wird geschrieben."


def test_self_reply_and_reply_to_others_are_flagged(docs) -> None:
    own = docs[uri(SELF_REPLY)].metadata
    assert (own["is_reply"], own["self_reply"], own["reply_parent"]) == (True, True, uri(ROOT))
    other = docs[uri(REPLY)].metadata
    assert (other["is_reply"], other["self_reply"], other["reply_root"]) == (True, False, SAM_POST)
    assert docs[uri(ROOT)].metadata["is_reply"] is False


@pytest.mark.parametrize("key", [QUOTE, QUOTE_MEDIA])
def test_quote_keeps_only_the_quoted_uri(docs, key: str) -> None:
    doc = docs[uri(key)]
    assert doc.metadata["quote_of"] == SAM_POST
    assert doc.raw_text in ("This, exactly.", "Same energy 😂")


def test_external_link_card_is_noted(docs) -> None:
    meta = docs[uri(EXTERNAL)].metadata
    assert meta["external_url"] == "https://example.org/essays/on-slow-writing-2024"
    assert meta["embed"] == "app.bsky.embed.external"


def test_records_outside_the_tree_use_their_cid(tmp_path: Path) -> None:
    result = BlueskyImporter().read(write_car(tmp_path / "repo.car", in_tree=False))
    assert len(result.documents) == 8
    doc = result.documents[0]
    assert doc.external_id == doc.metadata["cid"] and doc.external_id.startswith("bafyrei")
    assert doc.url is None
    german = next(doc for doc in result.documents if doc.language == "de")
    assert german.created_at is None  # no rkey to fall back on


def test_zip_and_folder_holding_repo_car(car_file: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "bluesky-export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(car_file, "export/repo.car")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "REPO.CAR").write_bytes(car_file.read_bytes())
    importer = BlueskyImporter()
    expected = importer.read(car_file).documents
    for export in (zipped, folder):
        assert importer.detect(export)
        assert [doc.raw_text for doc in importer.read(export).documents] == [
            doc.raw_text for doc in expected]


def test_progress_is_reported(car_file: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    BlueskyImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))
                    ).read(car_file)
    assert calls[-1] == (16, 16)


def test_truncated_car_is_an_error_naming_the_file(car_file: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "repo.car"
    truncated.write_bytes(car_file.read_bytes()[:-40])
    with pytest.raises(ImportFormatError, match="not a readable CAR") as caught:
        BlueskyImporter().read(truncated)
    assert caught.value.file == str(truncated)


def test_garbage_named_car_is_rejected(tmp_path: Path) -> None:
    garbage = tmp_path / "repo.car"
    garbage.write_bytes(b"\x0bnot a car file at all")
    assert not BlueskyImporter().detect(garbage)
    with pytest.raises(ImportFormatError, match=r"repo\.car"):
        BlueskyImporter().read(garbage)


def test_car_whose_root_is_not_a_commit_is_an_error(tmp_path: Path) -> None:
    car = write_car(tmp_path / "repo.car", commit={"hello": "world"})
    with pytest.raises(ImportFormatError, match="commit") as caught:
        BlueskyImporter().read(car)
    assert caught.value.field_name == "roots"


def test_post_without_text_names_file_and_field(tmp_path: Path) -> None:
    records = [{"key": "app.bsky.feed.post/3kmu6ig3k5s2c",
                "value": {"$type": "app.bsky.feed.post", "createdAt": "2024-03-04T08:00:00Z"}}]
    with pytest.raises(ImportFormatError, match=r"repo\.car.*3kmu6ig3k5s2c") as caught:
        BlueskyImporter().read(write_car(tmp_path / "repo.car", records))
    assert caught.value.field_name == "text"


def test_hostile_facets_are_ignored(tmp_path: Path) -> None:
    records = [{"key": "app.bsky.feed.post/3kmu6ig3k5s2c", "value": {
        "$type": "app.bsky.feed.post", "text": "short", "createdAt": "2024-03-04T08:00:00Z",
        "facets": [{"index": {"byteStart": 3, "byteEnd": 999}, "features": [
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example"}]},
            "not a facet", {"index": "nope"}], "langs": "en"}}]
    doc = BlueskyImporter().read(write_car(tmp_path / "repo.car", records)).documents[0]
    assert doc.raw_text == "short"
    assert doc.language is None


def test_zip_without_car_is_not_bluesky(tmp_path: Path) -> None:
    zipped = tmp_path / "other.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert not BlueskyImporter().detect(zipped)
    with pytest.raises(ImportFormatError, match=r"no \.car"):
        BlueskyImporter().read(zipped)


@pytest.mark.parametrize("other", sorted(path.name for path in FIXTURES.iterdir()
                                         if path.is_dir() and path.name != "bluesky"))
def test_detect_rejects_other_formats(other: str) -> None:
    folder = FIXTURES / other
    assert not BlueskyImporter().detect(folder)
    for file in folder.iterdir():
        assert not BlueskyImporter().detect(file)
    assert not BlueskyImporter().detect(folder / "missing")


def test_folder_holding_other_files_too_is_not_claimed(car_file: Path, tmp_path: Path) -> None:
    (tmp_path / "repo.car").write_bytes(car_file.read_bytes())
    assert BlueskyImporter().detect(tmp_path)
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = []", encoding="utf-8")
    assert not BlueskyImporter().detect(tmp_path)
    assert BlueskyImporter().detect(tmp_path / "repo.car")


def test_no_engagement_counts_are_made_up(result) -> None:
    # A repository holds only the owner's own records: others' likes are in their repositories.
    assert result.documents and all("engagement" not in d.metadata for d in result.documents)
