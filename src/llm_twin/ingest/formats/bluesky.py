"""Bluesky repository export (`repo.car`, FORMATS.md section 7).

The file is a CAR v1 archive of DAG-CBOR blocks, decoded with `libipld`. The header's root is
the signed commit (it names the owner's DID); the commit points at a Merkle search tree whose
entries map `collection/rkey` keys to record blocks. Walking the tree recovers each post's rkey,
hence its `at://` URI and web address; records the tree does not reach are still read, by
their `$type`, with the block CID as their id. Only `app.bsky.feed.post` records become
documents: likes, reposts, follows and the rest are counted as skipped. A repository holds only
the owner's own records, so no like, repost or reply counts (others' likes of a post live in
their repositories): Bluesky documents carry no `engagement` (features.engagement).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

import libipld

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.safe_zip import ExportTree

POST_TYPE = "app.bsky.feed.post"
PROFILE_TYPE = "app.bsky.actor.profile"
FALLBACK_AUTHOR = "owner"
SKIP_REASONS = {"app.bsky.feed.like": "like", "app.bsky.feed.repost": "repost",
                "app.bsky.graph.follow": "follow", PROFILE_TYPE: "profile"}
_LINK_FEATURE = "app.bsky.richtext.facet#link"
_TAG_FEATURE = "app.bsky.richtext.facet#tag"
_QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
_DETECT_HEAD = 1024
_PROGRESS_EVERY = 1000
# rkeys are TIDs: 13 characters of this alphabet, 53 bits of microseconds then a 10-bit clock id.
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Record:
    cid: bytes
    value: dict[str, Any]
    key: str | None  # "collection/rkey" when the search tree reached it

    @property
    def rkey(self) -> str | None:
        return self.key.split("/", 1)[1] if self.key and "/" in self.key else None


@dataclass(frozen=True)
class _Repo:
    did: str | None
    records: list[_Record]


class BlueskyImporter(ArchiveImporter):
    format_name = "bluesky"

    def _detect(self, path: Path) -> bool:
        return _is_car_header(self._car_bytes(path, head=_DETECT_HEAD)[1])

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        where, data = self._car_bytes(Path(path))
        repo = _read_repo(data, where)
        profile = next((record.value for record in repo.records
                        if record.value.get("$type") == PROFILE_TYPE), {})
        display_name = _text(profile.get("displayName"))
        result = ImportResult(self.format_name, [], owner=display_name)
        author = display_name or repo.did or FALLBACK_AUTHOR
        for done, record in enumerate(repo.records, start=1):
            self._add(record, repo.did, author, where, result)
            if done % _PROGRESS_EVERY == 0:
                self.options.report(done, len(repo.records))
        self.options.report(len(repo.records), len(repo.records))
        return result

    def _add(self, record: _Record, did: str | None, author: str, where: str,
             result: ImportResult) -> None:
        record_type = record.value.get("$type")
        if record_type != POST_TYPE:
            result.skip(SKIP_REASONS.get(str(record_type), "other_record"))
            return
        document = _document(record, did, author, where)
        if document is None:
            result.skip("empty")
        else:
            result.documents.append(document)

    def _car_bytes(self, path: Path, head: int | None = None) -> tuple[str, bytes]:
        """(name for messages, bytes) of the CAR: the file itself, or the one in a zip/folder."""
        if path.is_file() and not zipfile.is_zipfile(path):
            return str(path), _read_file(path, head, self.max_total_bytes)
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            name = _only_car_file(tree)
            if name is None:
                raise ImportFormatError(path, "no .car repository file in this export")
            data = tree.read_head(name, head) if head else tree.read_bytes(name)
            return tree.display_name(name), data


def _only_car_file(tree: ExportTree) -> str | None:
    """The repository in a zip or folder that holds nothing else.

    A folder that also holds other files is a folder of several exports: the registry splits
    it and asks about the .car file on its own.
    """
    names = [name for name in tree.list() if not Path(name).name.startswith(".")]
    if len(names) == 1 and names[0].casefold().endswith(".car"):
        return names[0]
    return None


def _read_file(path: Path, head: int | None, limit: int) -> bytes:
    with path.open("rb") as stream:
        if head:
            return stream.read(head)
        if path.stat().st_size > limit:
            raise ImportFormatError(path, f"larger than the limit of {limit} bytes")
        return stream.read()


def _is_car_header(head: bytes) -> bool:
    """A CAR v1 file starts with a varint length and a DAG-CBOR map {version: 1, roots: [...]}."""
    try:
        length, start = _varint(head)
        header = libipld.decode_dag_cbor(head[start:start + length])
    except (ValueError, IndexError, RecursionError):
        return False
    return isinstance(header, dict) and header.get("version") == 1 and bool(header.get("roots"))


def _varint(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    raise ValueError("no varint")


def _read_repo(data: bytes, where: str) -> _Repo:
    try:
        header, blocks = libipld.decode_car(data)
    except (ValueError, RecursionError) as error:
        raise ImportFormatError(where, f"not a readable CAR v1 repository: {error}") from error
    commit = _commit(header, blocks, where)
    keys = _tree_keys(blocks, commit.get("data"))
    records = [_Record(cid, block, keys.get(cid)) for cid, block in blocks.items()
               if isinstance(block, dict) and isinstance(block.get("$type"), str)]
    records.sort(key=lambda record: (record.key is None, record.key or ""))
    return _Repo(_text(commit.get("did")), records)


def _commit(header: dict[str, Any], blocks: dict[bytes, Any], where: str) -> dict[str, Any]:
    roots = _list(header.get("roots"))
    commit = blocks.get(roots[0]) if roots and isinstance(roots[0], bytes) else None
    if not isinstance(commit, dict) or not isinstance(commit.get("did"), str):
        raise ImportFormatError(where, "the root block is not a repository commit with a DID; "
                                       "not an atproto repository export", field_name="roots")
    return commit


def _tree_keys(blocks: dict[bytes, Any], root: Any) -> dict[bytes, str]:
    """Record CID -> "collection/rkey", read from the Merkle search tree.

    Each node holds an optional left subtree `l` and entries `e` of {p: prefix length shared
    with the previous key in this node, k: key suffix, v: record CID, t: right subtree}.
    """
    keys: dict[bytes, str] = {}
    pending, seen = [root], set()
    while pending:
        cid = pending.pop()
        node = blocks.get(cid) if isinstance(cid, bytes) and cid not in seen else None
        if not isinstance(node, dict):
            continue  # absent from a partial export, or a loop in a hostile one
        seen.add(cid)
        pending.append(node.get("l"))
        previous = b""
        for entry in _list(node.get("e")):
            if not isinstance(entry, dict) or not isinstance(entry.get("k"), bytes):
                continue
            previous = previous[:max(_int(entry.get("p"), 0), 0)] + entry["k"]
            if isinstance(entry.get("v"), bytes):
                keys[entry["v"]] = previous.decode("utf-8", errors="replace")
            pending.append(entry.get("t"))
    return keys


def _document(record: _Record, did: str | None, author: str,
              where: str) -> ImportedDocument | None:
    post = record.value
    if not isinstance(post.get("text"), str):
        raise ImportFormatError(where, f"post {_record_name(record)} has no text",
                                field_name="text")
    text = _expand_links(post["text"], post.get("facets"))
    if not text.strip():
        return None
    langs = [lang for lang in _list(post.get("langs")) if isinstance(lang, str)]
    created_at, date_source = _created_at(post.get("createdAt"), record.rkey)
    metadata = {"file": Path(where).name, "cid": libipld.encode_cid(record.cid),
                **_flags(post, did)}
    if date_source != "createdAt":
        metadata["date_source"] = date_source
    return ImportedDocument(
        platform="bluesky", kind="post", author=author, is_owner=True, raw_text=text,
        created_at=created_at, url=_web_url(did, record.rkey),
        language=langs[0] if langs else None, external_id=_record_id(record, did),
        metadata=metadata,
    )


def _expand_links(text: str, facets: Any) -> str:
    """Put each link facet's full URI where the post shows a shortened form.

    Facet offsets count UTF-8 bytes, so the edit happens on bytes, last facet first.
    """
    data = text.encode("utf-8")
    for start, end, uri in sorted(_link_facets(facets, len(data)), reverse=True):
        shown = data[start:end].decode("utf-8", errors="replace")
        if shown != uri and _is_shortened_form(shown, uri):
            data = data[:start] + uri.encode("utf-8") + data[end:]
    return data.decode("utf-8", errors="replace")


def _link_facets(facets: Any, size: int) -> list[tuple[int, int, str]]:
    links = []
    for facet in _list(facets):
        index = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(index, dict):
            continue
        start, end = _int(index.get("byteStart")), _int(index.get("byteEnd"))
        if not 0 <= start < end <= size:
            continue
        for feature in _list(facet.get("features")):
            if isinstance(feature, dict) and feature.get("$type") == _LINK_FEATURE \
                    and isinstance(feature.get("uri"), str):
                links.append((start, end, feature["uri"]))
    return links


def _is_shortened_form(shown: str, uri: str) -> bool:
    """The app shows a link without its scheme and cut with '...'; link text may also be words."""
    bare = shown.removesuffix("...").removesuffix("…")
    full = uri.split("://", 1)[-1]
    return bool(bare) and (full.startswith(bare) or uri.startswith(bare))


def _flags(post: dict[str, Any], did: str | None) -> dict[str, Any]:
    flags: dict[str, Any] = {"is_reply": isinstance(post.get("reply"), dict)}
    if flags["is_reply"]:
        parent = _uri(post["reply"].get("parent"))
        flags["reply_parent"] = parent
        flags["reply_root"] = _uri(post["reply"].get("root"))
        flags["self_reply"] = bool(did and parent and parent.startswith(f"at://{did}/"))
    flags.update(_embed_flags(post.get("embed")))
    hashtags = _hashtags(post)
    if hashtags:
        flags["hashtags"] = hashtags
    return flags


def _embed_flags(embed: Any) -> dict[str, Any]:
    """What a post embeds. A quoted post is someone's words: only its URI is kept."""
    if not isinstance(embed, dict):
        return {}
    embed_type = embed.get("$type")
    flags: dict[str, Any] = {"embed": embed_type} if isinstance(embed_type, str) else {}
    if embed_type in _QUOTE_EMBEDS:
        record = embed.get("record")
        if embed_type == _QUOTE_EMBEDS[1] and isinstance(record, dict):
            record = record.get("record")
        flags["quote_of"] = _uri(record)
    external = embed.get("external")
    if isinstance(external, dict) and isinstance(external.get("uri"), str):
        flags["external_url"] = external["uri"]
    return flags


def _hashtags(post: dict[str, Any]) -> list[str]:
    tags = [feature["tag"] for facet in _list(post.get("facets")) if isinstance(facet, dict)
            for feature in _list(facet.get("features"))
            if isinstance(feature, dict) and feature.get("$type") == _TAG_FEATURE
            and isinstance(feature.get("tag"), str)]
    tags += [tag for tag in _list(post.get("tags")) if isinstance(tag, str)]
    return list(dict.fromkeys(tags))


def _created_at(value: Any, rkey: str | None) -> tuple[datetime | None, str | None]:
    """createdAt, else the time inside the rkey (some clients wrote bad dates)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC), "createdAt"
    tid_time = _tid_time(rkey)
    return (tid_time, "rkey") if tid_time else (None, None)


def _tid_time(rkey: str | None) -> datetime | None:
    if not rkey or len(rkey) != 13 or any(char not in _TID_ALPHABET for char in rkey):
        return None
    number = 0
    for char in rkey:
        number = number * 32 + _TID_ALPHABET.index(char)
    try:
        return datetime.fromtimestamp((number >> 10) / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _record_id(record: _Record, did: str | None) -> str:
    if record.key and did:
        return f"at://{did}/{record.key}"
    return libipld.encode_cid(record.cid)


def _record_name(record: _Record) -> str:
    return record.key or libipld.encode_cid(record.cid)


def _web_url(did: str | None, rkey: str | None) -> str | None:
    return f"https://bsky.app/profile/{did}/post/{rkey}" if did and rkey else None


def _uri(reference: Any) -> str | None:
    return _text(reference.get("uri")) if isinstance(reference, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int = -1) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
