"""Telegram Desktop "Export chat history" / "Export Telegram data" in machine-readable JSON.

See docs/FORMATS.md section 6. Two roots share one message schema: a full export
(`personal_information` + `chats.list`, the owner is `personal_information.user_id`) and a
single-chat export (`name`, `type`, `id`, `messages`, the owner comes from `--me`). A minimal
single-chat export may carry only `messages` whose entries have `date_unixtime` and `from`/`text`
(no `id`, `date` or top-level `type`): it is recognised by that content, and a message without an
id takes one from its position in the chat. Read with the
standard `json` module, which keeps integers exact: message and chat ids can exceed 2^53, and
none of them ever passes through a float.

Messages in channels are stored as kind "post": a channel is broadcast writing, not a dialogue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path, PurePosixPath
from typing import Any

from llm_twin.ingest.base import (ImportedDocument, ImportFormatError, ImportResult,
                                  json_problem)
from llm_twin.ingest.chat_common import (ChatExportImporter, OtherPeople, OwnerMatcher, Progress,
                                         decode_text, is_plain_file, owner_not_found_problem,
                                         owner_unknown_problem, read_plain_file)
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.storage.models import DocumentMeta

RESULT_FILE = "result.json"
CHANNEL_TYPES = frozenset({"private_channel", "public_channel"})
_DETECT_HEAD_BYTES = 8192
_FULL_EXPORT_HEAD = re.compile(r'^\s*\{.*"personal_information"\s*:\s*\{', re.DOTALL)
_CHAT_EXPORT_HEAD = re.compile(
    r'^\s*\{.*"type"\s*:\s*"(?:personal_chat|private_group|private_supergroup|public_supergroup|'
    r'private_channel|public_channel|bot_chat|saved_messages)".*"messages"\s*:\s*\[', re.DOTALL)
# A minimal chat export: any object whose "messages" list starts with an object carrying
# "date_unixtime" (Telegram's own key) and a sender or a text.
_MINIMAL_CHAT_HEAD = re.compile(r'^\s*\{.*"messages"\s*:\s*\[\s*\{', re.DOTALL)
_MINIMAL_MESSAGE_KEYS = re.compile(r'"date_unixtime"\s*:')
_SENDER_OR_TEXT_KEYS = re.compile(r'"(?:from|text)"\s*:')
# Keys of a message that carry a photo, file, sticker, poll... rather than text.
_MEDIA_KEYS = ("photo", "file", "media_type", "sticker_emoji", "poll", "location_information",
               "contact_information", "place_name", "game_title", "invoice_information")


@dataclass
class _Chat:
    where: str  # the result.json, for errors
    member: str  # the file inside the export, for provenance
    data: dict[str, Any]
    index: int  # position in the export, for errors and as a fallback id

    @property
    def type(self) -> str:
        return str(self.data.get("type") or "")

    @property
    def conversation(self) -> str:
        chat_id = _id_text(self.data.get("id"))
        return f"telegram-{chat_id if chat_id is not None else f'chat{self.index}'}"

    def messages(self) -> list[Any]:
        messages = self.data.get("messages", [])
        if not isinstance(messages, list):
            raise ImportFormatError(self.where, f"chat {self.index} has no list of messages",
                                    field_name="messages")
        return messages


@dataclass
class _Owner:
    from_id: str | None  # "user<id>" from a full export
    name: str | None
    me: OwnerMatcher

    def is_sender(self, sender: str, from_id: str | None, chat_type: str) -> bool:
        if chat_type == "saved_messages":  # only the owner writes there
            return True
        if self.from_id is not None and from_id == self.from_id:
            return True
        return bool(self.me) and (self.me.matches(sender)
                                  or (from_id is not None and self.me.matches(from_id)))


class TelegramImporter(ChatExportImporter):
    format_name = "telegram"

    def _detect(self, path: Path) -> bool:
        return any(_looks_like_export(head) for head in self._heads(path))

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        exports = self._load(Path(path))
        if not exports:
            raise ImportFormatError(path, f"no Telegram {RESULT_FILE} found in this export")
        result = ImportResult(self.format_name, [], timezone=self.timezone_name)
        chats: list[_Chat] = []
        owner = _Owner(None, None, OwnerMatcher(self.options.me))
        for where, member, root in exports:
            owner = _owner_of(root, owner, where)
            chats += _chats_of(root, where, member, len(chats))
        _check_owner_known(chats, owner)
        result.owner = owner.name or _first_owner_name(chats, owner)
        others = _register_others(chats, owner, self.region)
        progress = Progress(self.options, sum(len(chat.messages()) for chat in chats))
        for chat in chats:
            self._add_documents(chat, owner, others, result, progress)
        progress.finish()
        return result

    # -- files -----------------------------------------------------------------------------------

    def _heads(self, path: Path) -> list[bytes]:
        if is_plain_file(path):
            with path.open("rb") as handle:
                return [handle.read(_DETECT_HEAD_BYTES)]
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            return [tree.read_head(name, _DETECT_HEAD_BYTES) for name in _result_files(tree)]

    def _load(self, path: Path) -> list[tuple[str, str, dict[str, Any]]]:
        """(file for errors, file inside the export, parsed root) for every result.json."""
        if is_plain_file(path):
            data = read_plain_file(path, self.max_total_bytes)
            return [(str(path), path.name, _parse_root(data, str(path)))]
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            return [(tree.display_name(name), name,
                     _parse_root(tree.read_bytes(name), tree.display_name(name)))
                    for name in _result_files(tree)]

    # -- documents -------------------------------------------------------------------------------

    def _add_documents(self, chat: _Chat, owner: _Owner, others: OtherPeople,
                       result: ImportResult, progress: Progress) -> None:
        for position, message in enumerate(chat.messages()):
            progress.step()
            document = self._document(chat, position, message, owner, others, result)
            if document is not None:
                result.documents.append(document)

    def _document(self, chat: _Chat, position: int, message: Any, owner: _Owner,
                  others: OtherPeople, result: ImportResult) -> ImportedDocument | None:
        if not isinstance(message, dict):
            raise ImportFormatError(chat.where, f"chat {chat.index}, message {position} is not an "
                                                "object", field_name="messages")
        if message.get("type") == "service":
            result.skip("service")
            return None
        # A minimal export has no ids: the position in the chat is stable for the same export.
        message_id = _id_text(message.get("id")) or f"pos{position}"
        text = _message_text(message, chat, message_id)
        if not text.strip():
            result.skip("media" if any(key in message for key in _MEDIA_KEYS) else "empty")
            return None
        sender, from_id = _sender(message)
        sent_by_owner = owner.is_sender(sender, from_id, chat.type)
        forwarded = "forwarded_from" in message
        # A forward is someone else's words, whoever shared it.
        is_owner = sent_by_owner and not forwarded
        if forwarded:
            author = others.alias(_forwarded_name(message))
        else:
            author = sender if is_owner else others.alias(sender)
        return ImportedDocument(
            platform="telegram", kind="post" if chat.type in CHANNEL_TYPES else "message",
            author=author, is_owner=is_owner, raw_text=text if is_owner else others.redact(text),
            created_at=self._created_at(message, chat, message_id),
            external_id=f"{chat.conversation}:{message_id}",
            metadata=_metadata(chat, position, message, message_id, forwarded, sent_by_owner))

    def _created_at(self, message: dict[str, Any], chat: _Chat,
                    message_id: str) -> datetime | None:
        unix = message.get("date_unixtime")
        local = message.get("date")
        try:
            if unix is not None:
                return datetime.fromtimestamp(int(unix), tz=UTC)
            if local is not None:
                # "date" is the exporting computer's local time, without a zone.
                return (datetime.fromisoformat(str(local)).replace(tzinfo=self.local_timezone)
                        .astimezone(UTC))
        except (TypeError, ValueError, OverflowError, OSError):
            raise ImportFormatError(chat.where, f"message {message_id} has an unreadable date "
                                                f"{unix if unix is not None else local!r}",
                                    field_name="date_unixtime" if unix is not None else "date"
                                    ) from None
        return None


def _looks_like_export(head: bytes) -> bool:
    text = head.decode("utf-8-sig", errors="ignore")
    if _FULL_EXPORT_HEAD.match(text) or _CHAT_EXPORT_HEAD.match(text):
        return True
    start = _MINIMAL_CHAT_HEAD.match(text)
    if start is None:
        return False
    messages = text[start.end() - 1:]
    return bool(_MINIMAL_MESSAGE_KEYS.search(messages) and _SENDER_OR_TEXT_KEYS.search(messages))


def _result_files(tree: ExportTree) -> list[str]:
    """Every result.json: one for a data export, one per chat in a folder of chat exports."""
    return [name for name in tree.list()
            if PurePosixPath(name).name.casefold() == RESULT_FILE]


def _parse_root(data: bytes, where: str) -> dict[str, Any]:
    text = decode_text(data, where)
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(where, f"invalid JSON: {error.msg}", line=error.lineno) from error
    except (ValueError, RecursionError) as error:  # nesting past the recursion limit, a huge int
        raise ImportFormatError(where, f"unreadable JSON: {json_problem(error)}") from None
    if not isinstance(root, dict):
        raise ImportFormatError(where, "expected a JSON object at the top")
    if "personal_information" not in root and "messages" not in root:
        raise ImportFormatError(where, "neither a full Telegram export (personal_information, "
                                       "chats) nor a chat export (name, type, id, messages)")
    return root


def _owner_of(root: dict[str, Any], known: _Owner, where: str) -> _Owner:
    info = root.get("personal_information")
    if info is None:
        return known
    if not isinstance(info, dict) or _id_text(info.get("user_id")) is None:
        raise ImportFormatError(where, "personal_information has no user_id",
                                field_name="personal_information.user_id")
    # Only the id and the name are read; phone number and bio are never kept.
    names = [info.get("first_name"), info.get("last_name")]
    name = " ".join(str(part).strip() for part in names if part and str(part).strip())
    return _Owner(f"user{_id_text(info['user_id'])}", name or _text(info.get("username")),
                  known.me)


def _chats_of(root: dict[str, Any], where: str, member: str, first: int) -> list[_Chat]:
    """The chats of one result.json, numbered from `first` (their index across the import)."""
    if "personal_information" not in root:
        return [_Chat(where, member, root, first)]
    chats: list[_Chat] = []
    for section in ("chats", "left_chats"):
        listing = root.get(section, {})
        entries = listing.get("list", []) if isinstance(listing, dict) else None
        if not isinstance(entries, list):
            raise ImportFormatError(where, f"'{section}' has no list of chats",
                                    field_name=f"{section}.list")
        for entry in entries:
            if not isinstance(entry, dict):
                raise ImportFormatError(where, f"an entry of {section}.list is not a chat object",
                                        field_name=f"{section}.list")
            chats.append(_Chat(where, member, entry, first + len(chats)))
    return chats


def _check_owner_known(chats: list[_Chat], owner: _Owner) -> None:
    if owner.from_id is not None or not chats:
        return
    if all(chat.type == "saved_messages" for chat in chats):
        return
    senders = [sender for chat in chats for sender in _senders(chat)]
    if not owner.me:
        raise ImportFormatError(chats[0].where, owner_unknown_problem(senders) + _OWNER_HINT)
    if not any(owner.is_sender(sender, from_id, chat.type) for chat in chats
               for sender, from_id in _sender_pairs(chat)):
        raise ImportFormatError(chats[0].where,
                                owner_not_found_problem(owner.me, senders) + _OWNER_HINT)


_OWNER_HINT = ("; a single-chat export does not name its owner, a full export (Export Telegram "
               "data) or a Saved Messages chat does")


def _first_owner_name(chats: list[_Chat], owner: _Owner) -> str | None:
    for chat in chats:
        for sender, from_id in _sender_pairs(chat):
            if owner.is_sender(sender, from_id, chat.type):
                return sender
    return None


def _register_others(chats: list[_Chat], owner: _Owner, region: str) -> OtherPeople:
    """Give every other person a pseudonym before any text is redacted."""
    others = OtherPeople(region)
    for chat in chats:
        for message in chat.messages():
            if not isinstance(message, dict) or message.get("type") == "service":
                continue
            sender, from_id = _sender(message)
            if "forwarded_from" in message:
                others.alias(_forwarded_name(message))
            if not owner.is_sender(sender, from_id, chat.type):
                others.alias(sender)
    return others


def _senders(chat: _Chat) -> list[str]:
    return [sender for sender, _from_id in _sender_pairs(chat)]


def _sender_pairs(chat: _Chat) -> list[tuple[str, str | None]]:
    pairs: dict[tuple[str, str | None], None] = {}
    for message in chat.messages():
        if isinstance(message, dict) and message.get("type") != "service":
            pairs.setdefault(_sender(message), None)
    return list(pairs)


def _sender(message: dict[str, Any]) -> tuple[str, str | None]:
    """(display name, from_id). A deleted account has no name; its id stands in."""
    from_id = _id_text(message.get("from_id"))
    name = _text(message.get("from")) or from_id or "Deleted Account"
    return name, from_id


def _forwarded_name(message: dict[str, Any]) -> str:
    return _text(message.get("forwarded_from")) or "Unknown sender"


def _message_text(message: dict[str, Any], chat: _Chat, message_id: str) -> str:
    """`text` is a string or a list of strings and entity objects; `text_entities` is a list."""
    text = message.get("text") or ""
    if text == "" and isinstance(message.get("text_entities"), list):
        text = message["text_entities"]
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(part if isinstance(part, str) else _entity_text(part) for part in text)
    raise ImportFormatError(chat.where, f"message {message_id} has text of an unknown shape "
                                        f"({type(text).__name__})", field_name="text")


def _entity_text(part: Any) -> str:
    value = part.get("text") if isinstance(part, dict) else None
    return value if isinstance(value, str) else ""


def _metadata(chat: _Chat, position: int, message: dict[str, Any], message_id: str,
              forwarded: bool, forwarded_by_owner: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {**DocumentMeta(conversation=chat.conversation, position=position),
                                "file": chat.member, "message_id": message_id,
                                "chat_type": chat.type or None}
    reply_to = _id_text(message.get("reply_to_message_id"))
    if reply_to is not None:
        metadata["reply_to"] = reply_to
    if message.get("edited") or message.get("edited_unixtime"):
        metadata["edited"] = True
    if forwarded:
        metadata["forwarded"] = True
        metadata["forwarded_by_owner"] = forwarded_by_owner
    if any(key in message for key in _MEDIA_KEYS):
        metadata["media"] = True
    links = [part.get("href") or part.get("text") for part in _entities(message)
             if part.get("type") in ("link", "text_link")]
    if links:
        metadata["links"] = [link for link in links if isinstance(link, str)]
    return metadata


def _entities(message: dict[str, Any]) -> list[dict[str, Any]]:
    entities = message.get("text_entities")
    if not isinstance(entities, list):
        text = message.get("text")
        entities = text if isinstance(text, list) else []
    return [part for part in entities if isinstance(part, dict)]


def _id_text(value: Any) -> str | None:
    """An id as a string; ints arrive exact from json, so str() loses nothing."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
