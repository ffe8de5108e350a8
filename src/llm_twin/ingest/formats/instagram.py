"""Instagram "Download your information" in JSON, zipped or unzipped.

See docs/FORMATS.md section 5. Captions of posts, reels, archived posts and IGTV videos become
"post" documents; stories are counted and left out. DMs are Messenger-format threads and are read
by `messenger.read_meta_chats`. The HTML version of the download is refused with instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.formats.messenger import (bare_chats_look_like_instagram, has_meta_chats,
                                               read_meta_chats)
from llm_twin.ingest.meta_json import (
    HTML_DOWNLOAD_HINT,
    dicts,
    load_meta_json,
    looks_like_instagram,
    open_export,
    read_head_text,
    text_of,
    utc_from_timestamp,
)
from llm_twin.ingest.safe_zip import ExportTree

FALLBACK_AUTHOR = "owner"
# 2023-24: your_instagram_activity/content/; 2025: .../media/; 2021-22: content/ at the top.
_CONTENT_FILE = re.compile(
    r"^(?:your_instagram_activity/)?(?:content|media)/"
    r"(posts_(\d+)|reels|archived_posts|igtv_videos|stories)\.(json|html)$", re.IGNORECASE)
_PERSONAL_INFORMATION = re.compile(r"(?:^|/)personal_information\.json$", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")


@dataclass(frozen=True)
class _Section:
    source: str  # metadata["source"]
    rank: int  # reading order: posts, reels, archived posts, IGTV
    # Reels and IGTV list one video per media item; a post's media items are one carousel.
    per_media: bool = False


_POSTS = _Section("post", 0)
_SECTIONS = {"reels": _Section("reel", 1, per_media=True),
             "archived_posts": _Section("archived_post", 2),
             "igtv_videos": _Section("igtv", 3, per_media=True),
             "stories": _Section("story", 4)}


@dataclass(frozen=True)
class _ContentFile:
    name: str
    section: _Section
    number: int
    is_html: bool


@dataclass(frozen=True)
class _Account:
    name: str | None = None
    username: str | None = None

    @property
    def names(self) -> list[str]:
        return [value for value in (self.name, self.username) if value]


@dataclass(frozen=True)
class _Post:
    caption: str | None
    timestamp: Any
    media: list[dict[str, Any]]
    cross_post_source: str | None


class InstagramImporter(ArchiveImporter):
    format_name = "instagram"

    def _detect(self, path: Path) -> bool:
        with open_export(path, self.max_total_bytes) as tree:
            return _is_instagram(tree)

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        with open_export(path, self.max_total_bytes) as tree:
            files = _content_files(tree)
            _refuse_html_download(tree, files)
            account = _read_account(tree)
            result = ImportResult(self.format_name, [], owner=account.name or account.username,
                                  timezone=self.options.timezone)  # shown in; times are UTC
            for content in files:
                if not content.is_html:
                    _read_content_file(tree, content, account, result)
            read_meta_chats(tree, result, platform="instagram", options=self.options,
                            account_names=account.names)
        return result


def _is_instagram(tree: ExportTree) -> bool:
    if not looks_like_instagram(tree):
        # DMs saved without the download's folders: a bare message_1.json or thread folder.
        return bare_chats_look_like_instagram(tree)
    heads = (read_head_text(tree, content.name, 256)[:1] for content in _content_files(tree)[:3])
    if any(head in ("[", "{", "<") for head in heads):
        return True
    return _account_file(tree) is not None or has_meta_chats(tree)


def _content_files(tree: ExportTree) -> list[_ContentFile]:
    files = []
    for name in tree.list():
        match = _CONTENT_FILE.match(name)
        if match is None:
            continue
        stem = match.group(1).casefold()
        section = _POSTS if stem.startswith("posts_") else _SECTIONS[stem]
        files.append(_ContentFile(name, section, int(match.group(2) or 0),
                                  match.group(3).casefold() == "html"))
    return sorted(files, key=lambda f: (f.section.rank, f.number, f.name))


def _refuse_html_download(tree: ExportTree, files: list[_ContentFile]) -> None:
    """The HTML download has the same layout with .html files; say how to get the JSON one."""
    if files and all(content.is_html for content in files):
        raise ImportFormatError(tree.display_name(files[0].name), HTML_DOWNLOAD_HINT)


def _account_file(tree: ExportTree) -> str | None:
    return next((name for name in tree.list() if _PERSONAL_INFORMATION.search(name)
                 and "profile_user" in read_head_text(tree, name)), None)


def _read_account(tree: ExportTree) -> _Account:
    """Name and username from personal_information.json; nothing else in it is kept."""
    name = _account_file(tree)
    if name is None:
        return _Account()
    data = load_meta_json(tree, name)
    users = dicts(data.get("profile_user")) if isinstance(data, dict) else []
    fields = users[0].get("string_map_data") if users else None
    if not isinstance(fields, dict):
        raise ImportFormatError(tree.display_name(name), "expected profile_user[0].string_map_data",
                                field_name="profile_user")
    by_key = {str(key).casefold(): value for key, value in fields.items()}
    return _Account(_field_value(by_key, "name"), _field_value(by_key, "username"))


def _field_value(fields: dict[str, Any], key: str) -> str | None:
    entry = fields.get(key)
    value = text_of(entry.get("value")) if isinstance(entry, dict) else None
    return value.strip() if value else None


def _read_content_file(tree: ExportTree, content: _ContentFile, account: _Account,
                       result: ImportResult) -> None:
    where = tree.display_name(content.name)
    entries = _entries(load_meta_json(tree, content.name), where)
    if content.section.source == "story":
        result.skip("story", len(entries))
        return
    posts = [post for index, entry in enumerate(entries)
             for post in _posts_of(entry, content.section, where, index)]
    for position, post in enumerate(posts):
        if post.caption is None:
            result.skip("no_caption")
            continue
        result.documents.append(_document(post, content, position, account, where))


def _entries(data: Any, where: str) -> list[Any]:
    """posts_N.json is a bare list; the other files wrap theirs: {"ig_reels_media": [...]}."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [item for value in data.values() if isinstance(value, list) for item in value]
    raise ImportFormatError(where, "expected a list of posts, or an object holding one")


def _posts_of(entry: Any, section: _Section, where: str, index: int) -> list[_Post]:
    if not isinstance(entry, dict):
        raise ImportFormatError(where, f"entry {index} is not an object")
    # Some entries are a single media item themselves, without the "media" wrapper.
    media = dicts(entry.get("media")) or ([entry] if "uri" in entry else [])
    if section.per_media and len(media) > 1:
        return [_post({**entry, "media": [item]}, [item]) for item in media]
    return [_post(entry, media)]


def _post(entry: dict[str, Any], media: list[dict[str, Any]]) -> _Post:
    """The carousel rule: the top-level title, else the first non-empty media title."""
    captioned = next((item for item in media if text_of(item.get("title"))), None)
    caption = text_of(entry.get("title")) or (captioned["title"] if captioned else None)
    dated = (item.get("creation_timestamp") for item in (entry, captioned or {}, *media))
    timestamp = next((value for value in dated if value is not None), None)
    return _Post(caption, timestamp, media, _cross_post_source(entry, media))


def _cross_post_source(entry: dict[str, Any], media: list[dict[str, Any]]) -> str | None:
    for item in (entry, *media):
        source = item.get("cross_post_source")
        if isinstance(source, dict) and text_of(source.get("source_app")):
            return source["source_app"]
    return None


def _document(post: _Post, content: _ContentFile, position: int, account: _Account,
              where: str) -> ImportedDocument:
    if post.timestamp is None:
        raise ImportFormatError(where, f"post {position} has no creation_timestamp",
                                field_name="creation_timestamp")
    created_at = utc_from_timestamp(post.timestamp, where, "creation_timestamp",
                                    milliseconds=False)
    caption = (post.caption or "").strip()
    uris = [item["uri"] for item in post.media if text_of(item.get("uri"))]
    metadata: dict[str, Any] = {"file": content.name, "position": position,
                                "source": content.section.source, "media": uris,
                                "hashtags": _HASHTAG.findall(caption)}
    if content.section.source == "archived_post":
        metadata["archived"] = True
    if post.cross_post_source:
        metadata["cross_post_source"] = post.cross_post_source
    return ImportedDocument(
        platform="instagram", kind="post",
        author=account.username or account.name or FALLBACK_AUTHOR, is_owner=True,
        raw_text=caption, created_at=created_at,
        # The download has no post ids; media files are named by Instagram's media id.
        external_id=PurePosixPath(uris[0]).stem if uris
        else f"{content.section.source}:{int(created_at.timestamp())}",
        metadata=metadata,
    )
