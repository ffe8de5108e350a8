"""Messenger chats from Meta's "Download your information" (JSON), zipped or unzipped.

See docs/FORMATS.md section 6. Each conversation is a folder `<box>/<name>_<id>/` holding
`message_1.json`, `message_2.json`... (newest messages first), where the box is `inbox`,
`archived_threads`, `filtered_threads`, `message_requests` or `e2ee_cutover`, below
`your_facebook_activity/messages/` (older downloads: `messages/`). A thread saved on its own is
read too: a bare `message_1.json`, a `<name>_<id>/` thread folder, or a box folder of them without
the `messages/` parents (they count as `inbox`). Messenger's own download of
end-to-end encrypted chats is one flat `<name>_<n>.json` per chat in a newer camelCase schema
(`senderName`, `timestamp`, `text`), told apart by its keys.

Instagram DMs use the same files; `read_meta_chats` imports them for the Instagram importer.
Other people's lines are kept as context only: pseudonymised, with their personal data redacted.
"""

from __future__ import annotations

import hashlib

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportOptions, ImportResult
from llm_twin.ingest.chat_common import OtherPeople
from llm_twin.ingest.meta_json import (
    HTML_DOWNLOAD_HINT,
    load_meta_json,
    looks_like_html,
    looks_like_instagram,
    open_export,
    read_head_text,
    text_of,
    utc_from_timestamp,
)
from llm_twin.features.redaction import redact_personal_data
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.storage.models import DocumentMeta

BOXES = ("inbox", "archived_threads", "filtered_threads", "message_requests", "e2ee_cutover")
E2EE_BOX = "e2ee_download"
PROGRESS_EVERY = 1000
_THREAD_FILE = re.compile(rf"(?:^|/)({'|'.join(BOXES)})/([^/]+)/message_(\d+)\.(json|html)$",
                          re.IGNORECASE)
# A thread without its box: a bare message_N.json, or one in a thread folder at the top.
_BARE_THREAD_FILE = re.compile(r"^(?:([^/]+)/)?message_(\d+)\.json$", re.IGNORECASE)
BARE_BOX = "inbox"
# Marks that a thread outside its download's folders is an Instagram one: its media paths, links
# to Instagram, Instagram's name for a deleted account.
_INSTAGRAM_MARKS = ("your_instagram_activity/", "instagram.com/", '"instagram user"')
_MARK_HEAD_BYTES = 65536
# The encrypted-chat download: one JSON per chat in a `messages/` folder (or at the top, once
# ExportTree has removed that folder as the only one wrapping everything).
_FLAT_THREAD_FILE = re.compile(r"^(?:(?:.*/)?messages/)?[^/]+\.json$", re.IGNORECASE)
_CAMEL_KEYS = ('"senderName"', '"threadName"')
_PROFILE_FILE = re.compile(r"(?:^|/)profile_information\.json$", re.IGNORECASE)
# Names Meta shows for deleted or deactivated accounts: never the owner.
_PLACEHOLDER_NAMES = frozenset({"", "facebook user", "instagram user", "unknown"})
_ATTACHMENT_KEYS = ("photos", "videos", "audio_files", "files", "gifs", "sticker", "media",
                    "share")
# "Subscribe"/"Unsubscribe": someone joined or left a group; "placeholder": an e2ee stand-in.
_NOTICE_TYPES = frozenset({"subscribe", "unsubscribe", "placeholder"})
# Lines Messenger and Instagram write themselves. Whole-message matches only, so a sentence that
# merely contains these words is kept, and so is one where "I" did it ("I missed your call.").
_NOTICE_LINES = (
    r".+ sent an attachment\.",
    r"(?:.+ )?reacted .+ to your message",
    r"(?:.+ )?liked a message",
    r".+ missed your (?:video )?call\.?",
    r"you missed a (?:video )?call from .+",
    r".+ missed a (?:video )?(?:call|chat) with .+",
    r"(?:the )?video (?:chat|call) ended\.",
    r".+ (?:started|joined) (?:a|the) video (?:chat|call)\.",
    r".+ named the group .+\.",
    r".+ changed the group photo\.",
    r".+ set (?:the|your|his|her|their) (?:own )?nickname (?:for .+ )?to .+\.",
    r".+ (?:added|removed) .+ (?:to|from) the group\.",
    r".+ left the group\.",
    r"you are now connected on messenger\.?",
)
_AUTO_GENERATED = re.compile(rf"(?!i\b)(?:{'|'.join(_NOTICE_LINES)})", re.IGNORECASE)


@dataclass(frozen=True)
class _ThreadSource:
    """Where one conversation lives: its folder's files (message_1 first) or one flat file."""

    name: str
    box: str
    files: tuple[str, ...]
    bare: bool = False  # found without its box folder (a thread saved on its own)


@dataclass(frozen=True)
class _Message:
    sender: str
    text: str
    timestamp: datetime
    data: dict[str, Any]
    file: str
    order: int  # chronological tie-break for messages with the same timestamp

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.timestamp, self.order)


@dataclass
class _Thread:
    source: _ThreadSource
    participants: list[str]
    messages: list[_Message] = field(default_factory=list)
    conversation: str = ""

    @property
    def people(self) -> set[str]:
        """Case-folded names of everyone in it; participants, or senders where none are listed."""
        names = self.participants or [message.sender for message in self.messages]
        return {name.strip().casefold() for name in names}


class MessengerImporter(ArchiveImporter):
    format_name = "messenger"

    def _detect(self, path: Path) -> bool:
        with open_export(path, self.max_total_bytes) as tree:
            return (not looks_like_instagram(tree) and has_meta_chats(tree)
                    and not bare_chats_look_like_instagram(tree))

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        with open_export(path, self.max_total_bytes) as tree:
            account_name = _facebook_account_name(tree)
            result = ImportResult(self.format_name, [], owner=account_name,
                                  timezone=self.options.timezone)  # shown in; times are UTC
            found = read_meta_chats(tree, result, platform="messenger", options=self.options,
                                    account_names=[account_name] if account_name else [])
            if not found:
                raise ImportFormatError(tree.path, "no Messenger conversations found (expected "
                                        "messages/inbox/<name>_<id>/message_1.json)")
        return result


def has_meta_chats(tree: ExportTree) -> bool:
    """Cheap check: the export holds at least one Meta chat thread (JSON, or the HTML version)."""
    sources, html_files = _thread_sources(tree)
    if html_files and not sources:
        return looks_like_html(read_head_text(tree, html_files[0], 256))
    return any(_looks_like_thread(read_head_text(tree, source.files[0]))
               for source in sources[:3])


def bare_chats_look_like_instagram(tree: ExportTree) -> bool:
    """Threads found without their download's folders whose content marks them as Instagram's."""
    sources, _html = _thread_sources(tree)
    bare = [source for source in sources if source.bare][:3]
    return any(mark in read_head_text(tree, source.files[0], _MARK_HEAD_BYTES).casefold()
               for source in bare for mark in _INSTAGRAM_MARKS)


def read_meta_chats(tree: ExportTree, result: ImportResult, *, platform: str,
                    options: ImportOptions, account_names: Sequence[str] = ()) -> bool:
    """Append every chat message of the export to `result`. False when there are no chats.

    `result.owner` is set to the owner's chat name when it is still unknown.
    """
    sources, html_files = _thread_sources(tree)
    if html_files and not sources:
        raise ImportFormatError(tree.display_name(html_files[0]), HTML_DOWNLOAD_HINT)
    threads = [thread for source in sources if (thread := _load_thread(tree, source))]
    if not threads:
        return False
    _name_conversations(threads)
    owner = _resolve_owner(threads, options, account_names, tree.path)
    owner_keys = _owner_keys(threads, owner, options, account_names)
    result.owner = result.owner or owner
    _ChatWriter(platform, owner_keys, options, result).write(threads)
    return True


# --- finding and loading threads -----------------------------------------------------------


def _thread_sources(tree: ExportTree) -> tuple[list[_ThreadSource], list[str]]:
    """JSON thread sources in a stable order, and the HTML thread files (wrong download format)."""
    folders: dict[tuple[str, str], list[tuple[int, str]]] = {}
    html_files = []
    flat = []
    bare: dict[str, list[tuple[int, str]]] = {}
    for name in tree.list():
        match = _THREAD_FILE.search(name)
        if match is None:
            if (loose := _BARE_THREAD_FILE.match(name)) is not None:
                bare.setdefault(_bare_folder(tree, name), []).append((int(loose.group(2)), name))
            elif _FLAT_THREAD_FILE.match(name):
                flat.append(name)
        elif match.group(4).casefold() == "html":
            html_files.append(name)
        else:
            folder = name.rsplit("/", 1)[0]
            box = match.group(1).casefold()
            folders.setdefault((folder, box), []).append((int(match.group(3)), name))
    sources = [_ThreadSource(PurePosixPath(folder).name, box,
                             tuple(name for _number, name in sorted(files)))
               for (folder, box), files in folders.items()]
    sources.sort(key=lambda source: (BOXES.index(source.box), source.name.casefold()))
    if not sources:  # boxes found: the message_N.json elsewhere belong to something else
        sources = [_ThreadSource(folder, BARE_BOX, tuple(name for _n, name in sorted(files)),
                                 bare=True)
                   for folder, files in sorted(bare.items(), key=lambda item: item[0].casefold())
                   if _looks_like_thread(read_head_text(tree, sorted(files)[0][1]))]
    sources += [_ThreadSource(PurePosixPath(name).stem, E2EE_BOX, (name,))
                for name in flat if _is_camel_thread(tree, name)]
    return sources, html_files


def _bare_folder(tree: ExportTree, name: str) -> str:
    """The thread folder's name (it names the conversation), also when the tree unwrapped it or
    the file was given on its own."""
    return PurePosixPath(tree.display_name(name).replace("\\", "/")).parent.name


def _is_camel_thread(tree: ExportTree, name: str) -> bool:
    head = read_head_text(tree, name)
    return head.startswith("{") and any(key in head for key in _CAMEL_KEYS)


def _looks_like_thread(head: str) -> bool:
    return head.startswith("{") and ('"participants"' in head or '"messages"' in head)


def _load_thread(tree: ExportTree, source: _ThreadSource) -> _Thread | None:
    thread = _Thread(source, [])
    index = 0
    for name in source.files:
        where = tree.display_name(name)
        data = load_meta_json(tree, name)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            if source.box == E2EE_BOX:
                return None  # a flat JSON that only looked like a chat
            raise ImportFormatError(where, "expected an object with a 'messages' list",
                                    field_name="messages")
        _add_unique(thread.participants, _participant_names(data.get("participants")))
        for position, item in enumerate(data["messages"]):
            thread.messages.append(_read_message(item, position, where, name, index))
            index += 1
    return thread


def _participant_names(value: Any) -> list[str]:
    names = []
    for item in value if isinstance(value, list) else []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name)
    return names


def _add_unique(names: list[str], new: Iterable[str]) -> None:
    seen = {name.casefold() for name in names}
    for name in new:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)


def _read_message(item: Any, position: int, where: str, name: str, index: int) -> _Message:
    if not isinstance(item, dict):
        raise ImportFormatError(where, f"message {position} is not an object",
                                field_name="messages")
    camel = "senderName" in item or ("timestamp" in item and "timestamp_ms" not in item)
    sender_key, time_key, text_key = (("senderName", "timestamp", "text") if camel
                                      else ("sender_name", "timestamp_ms", "content"))
    sender = item.get(sender_key)
    if not isinstance(sender, str):
        raise ImportFormatError(where, f"message {position} has no sender", field_name=sender_key)
    if item.get(time_key) is None:
        raise ImportFormatError(where, f"message {position} has no timestamp",
                                field_name=time_key)
    text = item.get(text_key)
    timestamp = utc_from_timestamp(item[time_key], where, time_key,
                                   milliseconds=None if camel else True)
    # The classic download lists the newest message first; the encrypted-chat one the oldest.
    return _Message(sender, text if isinstance(text, str) else "", timestamp, item, name,
                    index if camel else -index)


def _name_conversations(threads: list[_Thread]) -> None:
    """A hash of the thread folder is the conversation id: the folder name holds the other
    person's name, which must not be stored. The box keeps ids unique across boxes."""
    for thread in threads:
        thread.conversation = conversation_id(thread.source.box, thread.source.name)


def conversation_id(box: str, folder: str) -> str:
    key = f"{box}/{folder}".casefold()
    return "messenger-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# --- the owner ----------------------------------------------------------------------------


def _resolve_owner(threads: list[_Thread], options: ImportOptions,
                   account_names: Sequence[str], export: Path) -> str:
    """--me, else the export's account name, else whoever is in the most threads (a unique
    leader), else the owner name from settings."""
    spelling = _spellings(threads)
    for candidate in (*options.me, *account_names):
        if candidate.strip().casefold() in spelling:
            return spelling[candidate.strip().casefold()]
    presence = Counter(name for thread in threads for name in thread.people
                       if name not in _PLACEHOLDER_NAMES)
    ranked = presence.most_common(2)
    # Meta lists the owner among the participants of every thread, so they lead the count.
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return spelling[ranked[0][0]]
    if options.owner_name and options.owner_name.strip().casefold() in spelling:
        return spelling[options.owner_name.strip().casefold()]
    raise ImportFormatError(export, _ambiguous_owner_problem(presence, spelling, options.me))


def _spellings(threads: list[_Thread]) -> dict[str, str]:
    spelling: dict[str, str] = {}
    for thread in threads:
        for name in [*thread.participants, *(message.sender for message in thread.messages)]:
            spelling.setdefault(name.strip().casefold(), name.strip())
    return spelling


def _ambiguous_owner_problem(presence: Counter[str], spelling: dict[str, str],
                             me: Sequence[str]) -> str:
    top = presence.most_common(1)[0][1] if presence else 0
    tied = [spelling[name] for name, count in presence.most_common() if count == top][:5]
    unmatched = f" None of --me {', '.join(me)} is a participant." if me else ""
    return (f"cannot tell which participant is you: {', '.join(tied)} each appear in "
            f"{top} conversation(s).{unmatched} Pass --me NAME with your name as it appears "
            "in the chats.")


def _owner_keys(threads: list[_Thread], owner: str, options: ImportOptions,
                account_names: Sequence[str]) -> frozenset[str]:
    """The owner's name plus any other name of theirs (--me, account) that appears in chats."""
    present = set(_spellings(threads))
    hints = {name.strip().casefold() for name in (*options.me, *account_names)}
    return frozenset({owner.casefold(), *(hints & present)})


# --- writing documents --------------------------------------------------------------------


class _ChatWriter:
    def __init__(self, platform: str, owner_keys: frozenset[str], options: ImportOptions,
                 result: ImportResult):
        self.platform = platform
        self.owner_keys = owner_keys
        self.options = options
        self.result = result
        self.others = OtherPeople()
        self.done = 0

    def write(self, threads: list[_Thread]) -> None:
        # Everyone gets an alias before any text is redacted, so a name is replaced wherever
        # it appears, even before that person's first message.
        for thread in threads:
            for name in [*thread.participants, *(m.sender for m in thread.messages)]:
                if not self._is_owner(name) and name.strip():
                    self.others.alias(name)
        total = sum(len(thread.messages) for thread in threads)
        for thread in threads:
            self._write_thread(thread, total)
        self.options.report(self.done, total)

    def _write_thread(self, thread: _Thread, total: int) -> None:
        is_group = len(thread.people) > 2
        kept = []
        for message in sorted(thread.messages, key=lambda m: m.sort_key):
            reason = _skip_reason(message)
            if reason is None:
                kept.append(message)
            else:
                self.result.skip(reason)
        for position, message in enumerate(kept):
            self.result.documents.append(self._document(thread, message, position, is_group))
        before, self.done = self.done, self.done + len(thread.messages)
        if self.done // PROGRESS_EVERY > before // PROGRESS_EVERY:
            self.options.report(self.done, total)

    def _document(self, thread: _Thread, message: _Message, position: int,
                  is_group: bool) -> ImportedDocument:
        is_owner = self._is_owner(message.sender)
        metadata: dict[str, Any] = {
            **DocumentMeta(conversation=thread.conversation, position=position),
            "file": message.file, "box": thread.source.box, "group": is_group}
        link = _share_link(message.data)
        if link is not None:
            metadata["share_link"] = link if is_owner else redact_personal_data(link)
        return ImportedDocument(
            platform=self.platform, kind="message",
            author=message.sender if is_owner else self.others.alias(message.sender),
            is_owner=is_owner,
            raw_text=message.text if is_owner else self.others.redact(message.text),
            created_at=message.timestamp,
            external_id=f"{thread.conversation}:{position}",
            metadata=metadata,
        )

    def _is_owner(self, name: str) -> bool:
        return name.strip().casefold() in self.owner_keys


def _skip_reason(message: _Message) -> str | None:
    data = message.data
    if data.get("is_unsent") is True or data.get("isUnsent") is True:
        return "unsent"
    kind = str(data.get("type") or "").casefold()
    if "call_duration" in data or kind == "call":
        return "call"
    text = message.text.strip()
    if not text:
        return "media" if any(data.get(key) for key in _ATTACHMENT_KEYS) else "empty"
    if kind in _NOTICE_TYPES or _AUTO_GENERATED.fullmatch(text):
        return "auto_generated"
    return None


def _share_link(data: dict[str, Any]) -> str | None:
    share = data.get("share")
    return text_of(share.get("link")) if isinstance(share, dict) else None


def _facebook_account_name(tree: ExportTree) -> str | None:
    """The owner's full name from personal_information/profile_information/, when present."""
    name = next((n for n in tree.list() if _PROFILE_FILE.search(n)), None)
    if name is None:
        return None
    data = load_meta_json(tree, name)
    for key in ("profile_v2", "profile"):
        profile = data.get(key) if isinstance(data, dict) else None
        full_name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(full_name, dict) and text_of(full_name.get("full_name")):
            return full_name["full_name"].strip()
    return None

