"""Mastodon "Request your archive" export, zipped or unzipped (FORMATS.md section 7).

`outbox.json` is an ActivityStreams OrderedCollection: `Create` activities carry the owner's own
notes, `Announce` activities are boosts of other people's posts and are left out. Note content
is HTML; it becomes plain text with Mastodon's paragraphs and line breaks kept, links written as
their full address and hashtags/mentions as the text the owner typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from llm_twin.features.engagement import engagement_counts
from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import (ImportedDocument, ImportFormatError, ImportResult,
                                  json_problem)
from llm_twin.ingest.safe_zip import ExportTree

FALLBACK_AUTHOR = "owner"
PUBLIC_AUDIENCE = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public",
                             "Public"})
# Poll statuses are "Question" objects; their text is the owner's like a Note's.
_OWN_OBJECT_TYPES = frozenset({"Note", "Question", "Article"})
_DETECT_HEAD = 4096
_PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class _Actor:
    id: str | None = None
    username: str | None = None
    name: str | None = None
    followers: str | None = None

    @property
    def handle(self) -> str | None:
        host = urlsplit(self.id).hostname if self.id else None
        if self.username and host:
            return f"@{self.username}@{host}"
        return self.username


class MastodonImporter(ArchiveImporter):
    format_name = "mastodon"

    def _detect(self, path: Path) -> bool:
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            name = tree.find("outbox.json")
            if name is None:
                return False
            head = tree.read_head(name, _DETECT_HEAD).decode("utf-8-sig", errors="ignore")
            return "OrderedCollection" in head and "activitystreams" in head

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            outbox_name = tree.find("outbox.json")
            if outbox_name is None:
                raise ImportFormatError(path, "no outbox.json in this export")
            where = tree.display_name(outbox_name)
            items = _ordered_items(_load_json(tree, outbox_name), where)
            actor_name = tree.find("actor.json")
            actor = _read_actor(tree, actor_name) if actor_name else _Actor()
        result = ImportResult(self.format_name, [], owner=actor.name or actor.username)
        notes = self._own_notes(items, where, result)
        parents = {note["id"]: _text(note.get("inReplyTo")) for note, _position in notes}
        for note, position in notes:
            document = _document(note, position, outbox_name, actor, parents)
            if document is None:
                result.skip("empty")
            else:
                result.documents.append(document)
        return result

    def _own_notes(self, items: list[Any], where: str,
                   result: ImportResult) -> list[tuple[dict[str, Any], int]]:
        """The owner's notes with their position in orderedItems; boosts and the rest counted."""
        notes = []
        for position, item in enumerate(items):
            if position and position % _PROGRESS_EVERY == 0:
                self.options.report(position, len(items))
            activity_type = item.get("type") if isinstance(item, dict) else None
            if activity_type == "Announce":
                result.skip("boost")
            elif activity_type != "Create":
                result.skip("other_activity")
            elif not isinstance(item.get("object"), dict):
                result.skip("unresolved_object")  # an object given only by its URL
            elif item["object"].get("type") not in _OWN_OBJECT_TYPES:
                result.skip("other_object")
            else:
                notes.append((_checked_note(item, position, where), position))
        self.options.report(len(items), len(items))
        return notes


def _load_json(tree: ExportTree, name: str) -> Any:
    text = tree.read_text(name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(tree.display_name(name), f"invalid JSON: {error.msg}",
                                line=error.lineno) from error
    except (ValueError, RecursionError) as error:  # nesting past the recursion limit, a huge int
        raise ImportFormatError(tree.display_name(name), f"unreadable JSON: {json_problem(error)}") from None


def _ordered_items(outbox: Any, where: str) -> list[Any]:
    items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
    if not isinstance(items, list):
        raise ImportFormatError(where, "expected an OrderedCollection with an orderedItems list",
                                field_name="orderedItems")
    return items


def _read_actor(tree: ExportTree, name: str) -> _Actor:
    data = _load_json(tree, name)
    if not isinstance(data, dict):
        raise ImportFormatError(tree.display_name(name), "expected an actor object")
    return _Actor(_text(data.get("id")), _text(data.get("preferredUsername")),
                  _text(data.get("name")), _text(data.get("followers")))


def _checked_note(activity: dict[str, Any], position: int, where: str) -> dict[str, Any]:
    """The activity's object, with the audience of the activity when the object has none."""
    note = dict(activity["object"])
    if not _text(note.get("id")):
        raise ImportFormatError(where, f"orderedItems[{position}] has a note without an id",
                                field_name="object.id")
    content = note.get("content")
    if content is not None and not isinstance(content, str):
        raise ImportFormatError(where, f"note {note['id']} has non-text content",
                                field_name="object.content")
    for key in ("to", "cc"):
        note.setdefault(key, activity.get(key))
    note["published"] = _published(note.get("published") or activity.get("published"),
                                   note["id"], where)
    return note


def _published(value: Any, note_id: str, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ImportFormatError(where, f"note {note_id} has an unreadable date {value!r}",
                                field_name="object.published") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _document(note: dict[str, Any], position: int, file_name: str, actor: _Actor,
              parents: dict[str, str | None]) -> ImportedDocument | None:
    text = note_html_to_text(note.get("content") or "")
    if not text:
        return None
    return ImportedDocument(
        platform="mastodon", kind="post",
        author=actor.handle or actor.name or FALLBACK_AUTHOR, is_owner=True,
        raw_text=text, created_at=note["published"], url=_url(note.get("url")),
        language=_language(note.get("contentMap")), external_id=note["id"],
        metadata={"file": file_name, "position": position,
                  **_flags(note, actor, parents)},
    )


def _flags(note: dict[str, Any], actor: _Actor,
           parents: dict[str, str | None]) -> dict[str, Any]:
    flags: dict[str, Any] = {"visibility": _visibility(note, actor),
                             "hashtags": _hashtags(note.get("tag")),
                             "is_reply": bool(note.get("inReplyTo"))}
    parent = _text(note.get("inReplyTo"))
    if parent is not None:
        flags["in_reply_to"] = parent
        flags["self_reply"] = parent in parents or _is_own_status(parent, actor)
        if flags["self_reply"]:
            flags["thread_root"] = _thread_root(parent, parents)
    warning = _text(note.get("summary"))
    if warning is not None:
        flags["content_warning"] = warning
    flags["sensitive"] = note.get("sensitive") is True
    engagement = engagement_counts(likes=_total_items(note.get("likes")),
                                   reposts=_total_items(note.get("shares")),
                                   replies=_total_items(note.get("replies")))
    if engagement:
        flags["engagement"] = engagement
    attachments = note.get("attachment")
    if isinstance(attachments, list) and attachments:
        flags["attachments"] = len(attachments)
    if note.get("type") == "Question":
        flags["poll_options"] = _poll_options(note)
    return flags


def _total_items(collection: Any) -> int | None:
    """A `likes`/`shares`/`replies` collection's `totalItems`: Mastodon 4.3+ writes it for likes
    and shares; `replies` usually holds only a first page without a total (then None)."""
    if isinstance(collection, dict):
        total = collection.get("totalItems")
        if isinstance(total, int) and not isinstance(total, bool):
            return total
    return None


def _visibility(note: dict[str, Any], actor: _Actor) -> str:
    to, cc = _audience(note.get("to")), _audience(note.get("cc"))
    if to & PUBLIC_AUDIENCE:
        return "public"
    if cc & PUBLIC_AUDIENCE:
        return "unlisted"
    audience = to | cc
    if (actor.followers and actor.followers in audience) or any(
            address.endswith("/followers") for address in audience):
        return "followers-only"
    return "direct"


def _audience(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _is_own_status(url: str, actor: _Actor) -> bool:
    return bool(actor.id) and url.startswith(f"{actor.id}/statuses/")


def _thread_root(parent: str, parents: dict[str, str | None]) -> str:
    """The first post of a self-reply chain, as far as the archive holds it."""
    root, seen = parent, set()
    while (grandparent := parents.get(root)) and grandparent in parents and root not in seen:
        seen.add(root)
        root = grandparent
    return root


def _hashtags(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        return []
    return [tag["name"].lstrip("#") for tag in tags
            if isinstance(tag, dict) and tag.get("type") == "Hashtag"
            and isinstance(tag.get("name"), str)]


def _poll_options(note: dict[str, Any]) -> list[str]:
    options = note.get("oneOf") or note.get("anyOf") or []
    return [option["name"] for option in options
            if isinstance(option, dict) and isinstance(option.get("name"), str)]


def _url(value: Any) -> str | None:
    if isinstance(value, dict):  # some servers send a Link object
        value = value.get("href")
    return _text(value)


def _language(content_map: Any) -> str | None:
    if isinstance(content_map, dict) and content_map:
        return _text(next(iter(content_map)))
    return None


def note_html_to_text(html: str) -> str:
    """Mastodon note HTML as the text the owner typed.

    `<p>` separates paragraphs (a blank line), `<br>` is a line break. A link is written as its
    address: Mastodon shows it shortened with hidden spans, but the owner pasted the whole URL.
    Hashtag and mention links keep their visible text (`#tag`, `@name`).
    """
    soup = BeautifulSoup(html, "html.parser")
    paragraphs: list[list[str]] = [[]]
    _render(soup, paragraphs)
    texts = ("".join(parts).strip("\n") for parts in paragraphs)
    return "\n\n".join(text for text in texts if text.strip())


def _render(node: Tag, paragraphs: list[list[str]]) -> None:
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            paragraphs[-1].append(str(child))
        elif isinstance(child, Tag):
            _render_tag(child, paragraphs)


def _render_tag(tag: Tag, paragraphs: list[list[str]]) -> None:
    if tag.name == "br":
        paragraphs[-1].append("\n")
    elif tag.name == "p":
        paragraphs.append([])
        _render(tag, paragraphs)
        paragraphs.append([])
    elif tag.name == "a" and not _is_mention_or_hashtag(tag) and tag.get("href"):
        paragraphs[-1].append(str(tag["href"]))
    else:
        _render(tag, paragraphs)


def _is_mention_or_hashtag(anchor: Tag) -> bool:
    classes = anchor.get_attribute_list("class")  # multi-valued: a list, [None] when absent
    rel = anchor.get_attribute_list("rel")
    return "mention" in classes or "hashtag" in classes or "tag" in rel


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
