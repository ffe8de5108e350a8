"""Ghost JSON export (Settings -> Advanced -> Import/Export), FORMATS.md section 8.

`{"db": [{"meta": {...}, "data": {"posts": [...], "users": [...], "posts_authors": [...],
"tags": [...], "posts_tags": [...]}}]}`; exports from Ghost 0.x have `{"meta", "data"}` at the root.
A post's text comes from `html` when present, else `plaintext`, else its `lexical` (Ghost 5) or
`mobiledoc` (Ghost 1-4) document, rendered to text here. Authors come from `posts_authors`
(older exports: the post's `author_id`); a post the owner wrote with others is kept at low weight.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import (ImportedDocument, ImportFormatError, ImportResult,
                                  json_problem)
from llm_twin.ingest.html_text import decode_text, html_to_text
from llm_twin.ingest.safe_zip import files_of_one_format

PLATFORM = "blog"
FALLBACK_AUTHOR = "owner"
PUBLISHED_STATUSES = frozenset({"published", "sent"})  # "sent": a newsletter-only post
CO_AUTHORED_WEIGHT = 0.3
_DETECT_HEAD = 4096
_PROGRESS_EVERY = 1000
_GHOST_ROOT = re.compile(r'\A\s*\{\s*(?:"db"\s*:\s*\[|"meta"\s*:\s*\{[^{}]*"exported_on")')
_HEADING_TAGS = {"h1": "## ", "h2": "## ", "h3": "## ", "h4": "### ", "h5": "### ", "h6": "### "}


@dataclass(frozen=True)
class _Export:
    file: str  # the file inside the export, for metadata
    where: str  # the full name, for error messages
    posts: list[Any]
    users: dict[str, dict[str, Any]]
    authors_of: dict[str, list[str]]  # post id -> user ids, in byline order
    tags_of: dict[str, list[str]]  # post id -> tag names


class GhostImporter(ArchiveImporter):
    format_name = "ghost"

    def _detect(self, path: Path) -> bool:
        return bool(self._ghost_files(path, head=_DETECT_HEAD))

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        files = self._ghost_files(Path(path))
        if not files:
            raise ImportFormatError(path, "no Ghost JSON export found")
        exports = [_read_export(file, where, data) for file, where, data in files]
        owner_id = _owner_id(exports, self.options.owner_name)
        result = ImportResult(self.format_name, [], owner=_user_name(exports, owner_id))
        total = sum(len(export.posts) for export in exports)
        done = 0
        for export in exports:
            for position, post in enumerate(export.posts):
                self._add(export, position, post, owner_id, result)
                done += 1
                if done % _PROGRESS_EVERY == 0:
                    self.options.report(done, total)
        self.options.report(total, total)
        return result

    def _add(self, export: _Export, position: int, post: Any, owner_id: str | None,
             result: ImportResult) -> None:
        post = _checked_post(post, position, export.where)
        text = post_text(post)
        if not text:
            result.skip("empty")
            return
        result.documents.append(_document(export, position, post, text, owner_id))

    def _ghost_files(self, path: Path, head: int | None = None) -> list[tuple[str, str, bytes]]:
        """(name inside the export, name for messages, bytes) of each Ghost JSON file.

        A zip or folder counts only when every (non-media) file in it is a Ghost export.
        """
        return files_of_one_format(path, _is_ghost, head=head, detect_bytes=_DETECT_HEAD,
                                   max_total_bytes=self.max_total_bytes)



def _is_ghost(head: bytes) -> bool:
    return bool(_GHOST_ROOT.match(head.decode("utf-8-sig", errors="ignore")))


def _read_export(file: str, where: str, data: bytes) -> _Export:
    text = decode_text(data, where)
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(where, f"invalid JSON: {error.msg}", line=error.lineno) from error
    except (ValueError, RecursionError) as error:  # nesting past the recursion limit, a huge int
        raise ImportFormatError(where, f"unreadable JSON: {json_problem(error)}") from None
    tables = _tables(root, where)
    posts = tables.get("posts")
    if not isinstance(posts, list):
        raise ImportFormatError(where, "expected a list of posts", field_name="db[0].data.posts")
    users = {str(user["id"]): user for user in _dicts(tables.get("users")) if "id" in user}
    return _Export(file, where, posts, users, _authors_of(tables, posts), _tags_of(tables))


def _tables(root: Any, where: str) -> dict[str, Any]:
    database = root.get("db") if isinstance(root, dict) else None
    if isinstance(database, list) and database and isinstance(database[0], dict):
        root = database[0]  # Ghost 1.x and later
    data = root.get("data") if isinstance(root, dict) else None
    if not isinstance(data, dict):
        raise ImportFormatError(where, "expected {\"db\": [{\"meta\": ..., \"data\": {...}}]}",
                                field_name="db[0].data")
    return data


def _authors_of(tables: dict[str, Any], posts: list[Any]) -> dict[str, list[str]]:
    links = sorted(_dicts(tables.get("posts_authors")),
                   key=lambda link: _number(link.get("sort_order")))
    authors: dict[str, list[str]] = {}
    for link in links:
        authors.setdefault(str(link.get("post_id")), []).append(str(link.get("author_id")))
    for post in _dicts(posts):  # exports before multiple authors: one author_id per post
        if "id" in post and post.get("author_id") is not None:
            authors.setdefault(str(post["id"]), [str(post["author_id"])])
    return authors


def _tags_of(tables: dict[str, Any]) -> dict[str, list[str]]:
    names = {str(tag.get("id")): tag.get("name") for tag in _dicts(tables.get("tags"))}
    tags: dict[str, list[str]] = {}
    for link in sorted(_dicts(tables.get("posts_tags")),
                       key=lambda link: _number(link.get("sort_order"))):
        name = names.get(str(link.get("tag_id")))
        if isinstance(name, str) and name:
            tags.setdefault(str(link.get("post_id")), []).append(name)
    return tags


def _owner_id(exports: list[_Export], owner_name: str | None) -> str | None:
    """The user matching the configured owner name, else the most frequent first author."""
    users = {user_id: user for export in exports for user_id, user in export.users.items()}
    if owner_name:
        wanted = owner_name.strip().casefold()
        for user_id, user in users.items():
            if wanted in {str(user.get(key) or "").casefold() for key in ("name", "slug")}:
                return user_id
    first_authors = Counter(authors[0] for export in exports
                            for authors in export.authors_of.values() if authors)
    if not first_authors:
        return next(iter(users), None)
    order = {user_id: index for index, user_id in enumerate(users)}
    return min(first_authors, key=lambda user: (-first_authors[user], order.get(user, len(order))))


def _user_name(exports: list[_Export], user_id: str | None) -> str | None:
    for export in exports:
        user = export.users.get(user_id or "")
        if user and isinstance(user.get("name"), str):
            return user["name"]
    return None


def _checked_post(post: Any, position: int, where: str) -> dict[str, Any]:
    if not isinstance(post, dict):
        raise ImportFormatError(where, f"post {position} is not an object",
                                field_name=f"posts[{position}]")
    if post.get("id") in (None, ""):
        raise ImportFormatError(where, f"post {position} has no id",
                                field_name=f"posts[{position}].id")
    return post


def _document(export: _Export, position: int, post: dict[str, Any], text: str,
              owner_id: str | None) -> ImportedDocument:
    post_id = str(post["id"])
    author_ids = export.authors_of.get(post_id, [])
    names = [_name(export.users.get(user_id), user_id) for user_id in author_ids]
    is_owner = owner_id is None or owner_id in author_ids
    created_at, date_source = _created_at(post, export.where)
    metadata = _metadata(export, position, post, names, date_source)
    if is_owner and len(author_ids) > 1:
        metadata.update(weight=CO_AUTHORED_WEIGHT, tag="co_authored")
    return ImportedDocument(
        platform=PLATFORM, kind="article", author=names[0] if names else FALLBACK_AUTHOR,
        is_owner=is_owner, raw_text=text, title=_text(post.get("title")),
        created_at=created_at, url=_text(post.get("canonical_url")),
        language=_language(post.get("locale") or post.get("language")), external_id=post_id,
        metadata=metadata,
    )


def _metadata(export: _Export, position: int, post: dict[str, Any], author_names: list[str],
              date_source: str | None) -> dict[str, Any]:
    status = _text(post.get("status")) or "published"
    metadata: dict[str, Any] = {"file": export.file, "position": position, "status": status,
                                "post_type": _post_type(post), "slug": _text(post.get("slug"))}
    if status not in PUBLISHED_STATUSES:
        metadata["draft"] = True
    if status == "sent":
        metadata["email_only"] = True
    if date_source is not None:
        metadata["date_source"] = date_source
    if _text(post.get("custom_excerpt")):
        metadata["custom_excerpt"] = _text(post["custom_excerpt"])
    if _text(post.get("visibility")) not in (None, "public"):
        metadata["visibility"] = _text(post["visibility"])  # members-only or paid
    if len(author_names) > 1:
        metadata["authors"] = author_names
    tags = export.tags_of.get(str(post["id"]))
    if tags:
        metadata["tags"] = tags
    return metadata


def _post_type(post: dict[str, Any]) -> str:
    if post.get("type") in ("post", "page"):
        return post["type"]
    return "page" if post.get("page") in (1, True, "1") else "post"


def _created_at(post: dict[str, Any], where: str) -> tuple[datetime | None, str | None]:
    """published_at; drafts have none, so their created_at is used and said to be."""
    for key, source in (("published_at", None), ("created_at", "created_at")):
        value = post.get(key)
        if value is not None:
            return _moment(value, key, post["id"], where), source
    return None, None


def _moment(value: Any, key: str, post_id: Any, where: str) -> datetime:
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, tz=UTC)  # Ghost 0.x: ms
        moment = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        raise ImportFormatError(where, f"post {post_id} has an unreadable date {value!r}",
                                field_name=key) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def post_text(post: dict[str, Any]) -> str:
    """html, else plaintext, else the lexical or mobiledoc document rendered to text."""
    if _text(post.get("html")):
        return html_to_text(post["html"])
    if _text(post.get("plaintext")):
        return post["plaintext"].strip("\n")
    for key, render in (("lexical", _lexical_text), ("mobiledoc", _mobiledoc_text)):
        document = _json_document(post.get(key))
        if document is not None:
            return render(document)
    return ""


def _json_document(value: Any) -> dict[str, Any] | None:
    """lexical/mobiledoc are JSON stored as a string; a malformed one is treated as absent."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _lexical_text(document: dict[str, Any]) -> str:
    root = document.get("root")
    blocks = [_lexical_block(node) for node in _dicts(root.get("children"))] \
        if isinstance(root, dict) else []
    return "\n\n".join(block for block in blocks if block.strip())


def _lexical_block(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "heading":
        return _HEADING_TAGS.get(str(node.get("tag")), "## ") + _lexical_inline(node)
    if kind == "quote":
        return "\n".join(f"> {line}" for line in _lexical_inline(node).split("\n"))
    if kind == "list":
        numbered = node.get("listType") == "number"
        return "\n".join((f"{index}. " if numbered else "- ") + _lexical_inline(item)
                         for index, item in enumerate(_dicts(node.get("children")), start=1))
    if kind == "html" and isinstance(node.get("html"), str):
        return html_to_text(node["html"])
    if kind == "markdown" and isinstance(node.get("markdown"), str):
        return node["markdown"].strip("\n")
    return _lexical_inline(node)


def _lexical_inline(node: dict[str, Any]) -> str:
    parts = []
    for child in _dicts(node.get("children")):
        if child.get("type") == "linebreak":
            parts.append("\n")
        elif isinstance(child.get("text"), str):
            parts.append(child["text"])
        else:
            parts.append(_lexical_inline(child))  # links and other inline wrappers
    return "".join(parts)


def _mobiledoc_text(document: dict[str, Any]) -> str:
    atoms, cards = _lists(document.get("atoms")), _lists(document.get("cards"))
    blocks = []
    for section in _lists(document.get("sections")):
        if section and section[0] == 1 and len(section) >= 3:  # markup section
            prefix = _HEADING_TAGS.get(str(section[1]).lower(), "")
            blocks.append(prefix + _mobiledoc_markers(section[2], atoms))
        elif section and section[0] == 3 and len(section) >= 3:  # list section
            numbered = str(section[1]).lower() == "ol"
            blocks.append("\n".join((f"{index}. " if numbered else "- ")
                                    + _mobiledoc_markers(item, atoms)
                                    for index, item in enumerate(_lists(section[2]), start=1)))
        elif section and section[0] == 10 and len(section) >= 2:  # card section
            blocks.append(_mobiledoc_card(cards, section[1]))
    return "\n\n".join(block for block in blocks if block.strip())


def _mobiledoc_markers(markers: Any, atoms: list[list[Any]]) -> str:
    parts = []
    for marker in _lists(markers):
        if len(marker) < 4:
            continue
        if marker[0] == 0 and isinstance(marker[3], str):
            parts.append(marker[3])
        elif marker[0] == 1 and isinstance(marker[3], int) and 0 <= marker[3] < len(atoms):
            atom = atoms[marker[3]]
            if atom and atom[0] == "soft-return":
                parts.append("\n")
            elif len(atom) > 1 and isinstance(atom[1], str):
                parts.append(atom[1])
    return "".join(parts)


def _mobiledoc_card(cards: list[list[Any]], index: Any) -> str:
    """Markdown cards (how Ghost 1.x stored whole posts) and HTML cards hold text; others don't."""
    if not isinstance(index, int) or not 0 <= index < len(cards) or len(cards[index]) < 2:
        return ""
    name, payload = cards[index][0], cards[index][1]
    if not isinstance(payload, dict):
        return ""
    if name in ("markdown", "card-markdown") and isinstance(payload.get("markdown"), str):
        return payload["markdown"].strip("\n")
    if name == "html" and isinstance(payload.get("html"), str):
        return html_to_text(payload["html"])
    return ""


def _language(value: Any) -> str | None:
    text = _text(value)
    return re.split(r"[-_]", text)[0].casefold() if text else None


def _name(user: dict[str, Any] | None, user_id: str) -> str:
    if user:
        for key in ("name", "slug"):
            if _text(user.get(key)):
                return _text(user[key]) or user_id
    return user_id


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _lists(value: Any) -> list[list[Any]]:
    return [item for item in value if isinstance(item, list)] if isinstance(value, list) else []


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
