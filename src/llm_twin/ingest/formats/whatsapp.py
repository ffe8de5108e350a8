"""WhatsApp "Export chat" files: an Android `WhatsApp Chat with X.txt`, an iOS
`WhatsApp Chat - X.zip` holding `_chat.txt`, or a folder of either.

See docs/FORMATS.md section 6. The parsing is hand-written: no maintained Python package reads
WhatsApp exports across phone locales. It follows the line pattern and the date-order inference
of the JavaScript reference parser (Pustur/whatsapp-chat-parser), in one pass over the lines.

WhatsApp writes no account data, so the owner comes from `--me`. Timestamps are the phone's local
time without a zone; they are read in `local_timezone` (`--timezone`: ImportOptions.timezone,
else UTC) and stored in UTC, the zone kept with the source.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo, UTC
from pathlib import Path, PurePosixPath

from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.chat_common import (ChatExportImporter, OtherPeople, OwnerMatcher, Progress,
                                         decode_text, is_plain_file, owner_not_found_problem,
                                         owner_unknown_problem, read_plain_file)
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.storage.models import DocumentMeta
import itertools

_DETECT_HEAD_BYTES = 4096
_DETECT_SAMPLE = 20
_SPACE = "[ \u00a0\u202f]"  # newer builds put U+202F (narrow no-break space) before AM/PM
_HEADER = re.compile(
    rf"[\u200e\u200f]*(?P<open>\[)?"
    rf"(?P<date>\d{{1,4}}[-/.]{_SPACE}?\d{{1,4}}[-/.]{_SPACE}?\d{{1,4}})\.?,?{_SPACE}"
    rf"[^\d\n]{{0,10}}?"  # a locale's word between date and time, e.g. Finnish "klo "
    rf"(?P<time>\d{{1,2}}[.:]\d{{1,2}}(?:[.:]\d{{1,2}})?)"
    rf"(?:{_SPACE}?(?P<ampm>[ap]\.?{_SPACE}?m\.?))?"
    rf"(?P<close>\])?(?P<sep>{_SPACE}-|:)?{_SPACE}"
    # "Name: text", else one of WhatsApp's own event lines. A name never holds quotes, which
    # keeps `Dana changed the subject from "Trip: plans"` from passing for a message.
    r"(?:(?P<author>[^\"“”]+?):(?: (?P<body>.*)|$)|(?P<event>.*))",
    re.IGNORECASE)
_DATE_FIELDS = re.compile(r"[-/.]\s?")
_TIME_FIELDS = re.compile(r"[.:]")
_BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_WIDE_SPACES = {0x00A0: " ", 0x202F: " "}
_LRM = "\u200e"
_SYSTEM_BODY = re.compile(
    r"(?:Messages and calls are end-to-end encrypted|Messages to this (?:group|chat) are now "
    r"secured with end-to-end encryption|Your security code with .+ changed|Missed (?:group )?"
    r"(?:voice|video) call)", re.IGNORECASE)
_DELETED = re.compile(
    r"(?:This message was deleted|You deleted this message|Diese Nachricht wurde gelöscht|"
    r"Du hast diese Nachricht gelöscht|Se eliminó este mensaje|Eliminaste este mensaje|"
    r"Questo messaggio è stato eliminato|Hai eliminato questo messaggio|"
    r"Ce message a été supprimé|Vous avez supprimé ce message)\.?", re.IGNORECASE)
_EDITED_SUFFIX = re.compile(
    r"\s*<(?:This message was edited|Diese Nachricht wurde bearbeitet|Se editó este mensaje|"
    r"Questo messaggio è stato modificato|Ce message a été modifié)>$", re.IGNORECASE)
_ATTACHED = re.compile(r"<attached: [^<>\n]*>")
_MEDIA_LINE = re.compile(
    r"<(?:Media omitted|Multimedia omitido|Medien ausgeschlossen|Médias omis|Media omessi|"
    r"Media weggelaten|Mídia oculta)>"
    r"|.*\b(?:image|video|audio|sticker|GIF|document|Contact card|voice message) omitted"
    r"|\S.* \((?:file attached|Datei angehängt|archivo adjunto|fichier joint|file allegato)\)"
    r"|null",  # old Android builds write "null" for view-once media
    re.IGNORECASE)
_CHAT_FILE_NAME = re.compile(
    r"(?:WhatsApp[ -]Chat(?: with| mit| con| avec| met| com| -| –)?|Chat de WhatsApp con|"
    r"Conversa do WhatsApp com)\s+(?P<partner>.+?)(?:\s*\(\d+\))?", re.IGNORECASE)


@dataclass(slots=True)
class _Message:
    line: int
    date: str
    time: str
    ampm: str | None
    sender: str | None  # None for WhatsApp's own event lines
    body: str
    continuation: list[str] = field(default_factory=list)

    def text(self, has_marks: bool) -> str:
        text = "\n".join([self.body, *self.continuation]) if self.continuation else self.body
        if has_marks:
            text = text.translate(_BIDI_MARKS)
        return text.strip("\n").rstrip()


@dataclass
class _Chat:
    where: str  # the file, for error messages
    member: str  # the file inside the export, for provenance
    partner: str
    messages: list[_Message]
    senders: list[str]  # cleaned sender names, in order of first message
    has_marks: bool  # whether the file holds any bidi mark at all (most Android files do not)


class WhatsAppImporter(ChatExportImporter):
    format_name = "whatsapp"

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        result = ImportResult(self.format_name, [], timezone=self.timezone_name)
        chats = self._load_chats(Path(path), result)
        if not chats:
            raise ImportFormatError(path, "no WhatsApp chat found (expected 'WhatsApp Chat with "
                                          "….txt' or a zip or folder holding '_chat.txt')")
        me = OwnerMatcher(self.options.me)
        senders = [sender for chat in chats for sender in chat.senders]
        if not me:
            raise ImportFormatError(chats[0].where, owner_unknown_problem(senders))
        owner_names = [sender for sender in senders if me.matches(sender)]
        if not owner_names:
            raise ImportFormatError(chats[0].where, owner_not_found_problem(me, senders))
        result.owner = owner_names[0]
        others = OtherPeople(self.region)
        for sender in senders:
            if not me.matches(sender):
                others.alias(sender)
        progress = Progress(self.options, sum(len(chat.messages) for chat in chats))
        for chat in chats:
            self._add_documents(chat, me, others, result, progress)
        progress.finish()
        return result

    # -- finding and parsing chat files --------------------------------------------------------

    def _detect(self, path: Path) -> bool:
        if is_plain_file(path):
            with path.open("rb") as handle:
                return _looks_like_chat(handle.read(_DETECT_HEAD_BYTES))
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            texts = [name for name in tree.list() if name.casefold().endswith(".txt")]
            if any(_looks_like_chat(tree.read_head(name, _DETECT_HEAD_BYTES))
                   for name in texts[:_DETECT_SAMPLE]):
                return True
            if tree.is_zip:
                return False
            zips = [name for name in tree.list() if name.casefold().endswith(".zip")]
            return any(self.detect(Path(tree.display_name(name))) for name in zips[:_DETECT_SAMPLE])

    def _load_chats(self, path: Path, result: ImportResult) -> list[_Chat]:
        if is_plain_file(path):
            data = read_plain_file(path, self.max_total_bytes)
            return [_parse_chat(data, str(path), path.name, _partner_name(path, path.name))]
        chats = []
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            for name in tree.list():
                folded = name.casefold()
                if folded.endswith(".zip") and not tree.is_zip:
                    chats += self._load_chats(Path(tree.display_name(name)), result)
                elif not (folded.endswith(".txt")
                          and _looks_like_chat(tree.read_head(name, _DETECT_HEAD_BYTES))):
                    result.skip("other_file")
                else:
                    chats.append(_parse_chat(tree.read_bytes(name), tree.display_name(name),
                                             name, _partner_name(path, name)))
        return chats

    # -- documents -----------------------------------------------------------------------------

    def _add_documents(self, chat: _Chat, me: OwnerMatcher, others: OtherPeople,
                       result: ImportResult, progress: Progress) -> None:
        conversation = _conversation_id(chat.partner)
        to_date = _date_reader(chat)
        owners = {sender for sender in chat.senders if me.matches(sender)}
        aliases = {sender: others.alias(sender) for sender in chat.senders if sender not in owners}
        is_group = len(chat.senders) > 2
        position = 0
        for message in chat.messages:
            progress.step()
            if message.sender is None:
                result.skip("system")
                continue
            metadata = {**DocumentMeta(conversation=conversation, position=position),
                        "file": chat.member, "line": message.line}
            position += 1
            text = _without_markers(message.text(chat.has_marks), metadata, result)
            if text is None:
                continue
            if is_group:
                metadata["group"] = True
            is_owner = message.sender in owners
            result.documents.append(ImportedDocument(
                platform="whatsapp", kind="message",
                author=message.sender if is_owner else aliases[message.sender],
                is_owner=is_owner, raw_text=text if is_owner else others.redact(text),
                created_at=_created_at(message, to_date, self.local_timezone, chat.where),
                external_id=f"{conversation}:{metadata['position']}", metadata=metadata))


def _looks_like_chat(head: bytes) -> bool:
    """The first non-empty line is a WhatsApp message or event line, with its separator."""
    text = head.decode("utf-8-sig", errors="ignore").replace("\r", "\n")
    for line in text.split("\n")[:50]:
        if line.strip():
            match = _HEADER.match(line.translate(_BIDI_MARKS).lstrip("\ufeff"))
            return bool(match and ((match["open"] and match["close"]) or match["sep"]))
    return False


def _parse_chat(data: bytes, where: str, member: str, partner: str) -> _Chat:
    """Split a chat file into messages: a line with a timestamp starts one, others continue it."""
    text = decode_text(data, where)
    lines = text.split("\n")
    messages: list[_Message] = []
    senders: dict[str, None] = {}
    match_header = _HEADER.match
    current: _Message | None = None
    style: tuple[bool, bool] | None = None
    for number, line in enumerate(lines, start=1):
        match = match_header(line)
        if match is not None:
            opening, day, clock, ampm, _closing, separator, author, body, event = match.groups()
            # Every header of one file has the same shape, so a message line that merely starts
            # with a date ("3.5.24 9:00 dentist") stays in its message.
            shape = (opening is not None, separator is not None)
            style = style or shape
            if shape != style:
                match = None
        if match is None:
            if current is not None:
                current.continuation.append(line)
            continue
        sender = None if author is None else _sender(author, body or "")
        current = _Message(number, day, clock, ampm, sender, body or event or "")
        messages.append(current)
        if sender is not None:
            senders.setdefault(sender, None)
    if not messages:
        raise ImportFormatError(where, "no WhatsApp message line found (expected lines such as "
                                       "'12/03/2024, 14:05 - Name: text')", line=1)
    has_marks = any(chr(mark) in text for mark in _BIDI_MARKS)
    return _Chat(where, member, partner, messages, list(senders), has_marks)


def _sender(author: str, body: str) -> str | None:
    """Who wrote a "Name: text" line, or None when it is one of WhatsApp's own events."""
    if body.startswith(_LRM) and not _is_placeholder_led(body):
        # iOS writes its events ("Dana added Sam") as lines of the chat itself, led by U+200E.
        return None
    if _SYSTEM_BODY.match(body):
        return None
    return _clean_sender(author)


@functools.lru_cache(maxsize=4096)
def _clean_sender(raw: str) -> str:
    """Display name without the bidi marks around phone numbers or the "~ " of non-contacts."""
    name = raw.translate(_BIDI_MARKS).translate(_WIDE_SPACES).strip()
    return name.lstrip("~").strip() or name


def _is_placeholder_led(body: str) -> bool:
    first = body.translate(_BIDI_MARKS).strip()
    return bool(_ATTACHED.match(first) or _MEDIA_LINE.fullmatch(first) or _DELETED.fullmatch(first))


def _without_markers(text: str, metadata: dict, result: ImportResult) -> str | None:
    """The message's own words, with media placeholders and the edit marker taken out.

    Returns None (and counts the skip) when nothing of the sender's words is left.
    """
    if not text.strip():
        result.skip("empty")
        return None
    if text.endswith(">"):
        edited = _EDITED_SUFFIX.search(text)
        if edited:
            text = text[:edited.start()]
            metadata["edited"] = True
    if _DELETED.fullmatch(text):
        result.skip("deleted")
        return None
    if not _may_hold_media(text):
        return text
    without_attached = _ATTACHED.sub("", text)
    lines = without_attached.split("\n")
    kept = [line for line in lines if not _MEDIA_LINE.fullmatch(line.strip())]
    if len(kept) < len(lines) or without_attached != text:
        metadata["media"] = True
    words = "\n".join(kept).strip("\n").rstrip()
    if not words.strip():
        result.skip("media")
        return None
    return words


def _may_hold_media(text: str) -> bool:
    """A cheap pre-check: every media placeholder has one of these."""
    return "<" in text or ")" in text or "null" in text or "omitted" in text.lower()


# -- dates ---------------------------------------------------------------------------------------

def _date_reader(chat: _Chat) -> dict[str, date | None]:
    """Each distinct date string of a chat, read in the field order the whole file implies."""
    distinct = list(dict.fromkeys(message.date for message in chat.messages))
    fields = [[int(part) for part in _DATE_FIELDS.split(text)] for text in distinct]
    order = _date_order(fields, any(message.ampm for message in chat.messages))
    return {text: _to_date(parts, order) for text, parts in zip(distinct, fields)}


def _date_order(fields: list[list[int]], uses_ampm: bool) -> str:
    """"ymd", "dmy" or "mdy": the first decisive test wins (as in Pustur's parser)."""
    if fields and fields[0][0] > 31:
        return "ymd"
    firsts = [parts[0] for parts in fields]
    seconds = [parts[1] for parts in fields]
    if max(firsts, default=0) > 12:
        return "dmy"
    if max(seconds, default=0) > 12:
        return "mdy"
    # Within one year months only grow, so a field that goes down is the day.
    same_year = [(a, b) for a, b in itertools.pairwise(fields) if a[2] == b[2]]
    if any(b[0] < a[0] for a, b in same_year):
        return "dmy"
    if any(b[1] < a[1] for a, b in same_year):
        return "mdy"
    # The day changes more often than the month.
    first_change = sum(abs(b[0] - a[0]) for a, b in itertools.pairwise(fields))
    second_change = sum(abs(b[1] - a[1]) for a, b in itertools.pairwise(fields))
    if first_change != second_change:
        return "dmy" if first_change > second_change else "mdy"
    return "mdy" if uses_ampm else "dmy"  # undecidable: 12-hour clocks are mostly US phones


def _to_date(parts: list[int], order: str) -> date | None:
    if order == "ymd":
        year, month, day = parts
    elif order == "dmy":
        day, month, year = parts
    else:
        month, day, year = parts
    try:
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None


def _created_at(message: _Message, to_date: dict[str, date | None], local_timezone: tzinfo,
                where: str) -> datetime:
    day = to_date[message.date]
    clock = _clock(message.time, message.ampm)
    if day is None or clock is None:
        raise ImportFormatError(where, f"unreadable date or time {message.date!r} "
                                       f"{message.time!r}", line=message.line)
    local = datetime(day.year, day.month, day.day, *clock, tzinfo=local_timezone)
    return local if local_timezone is UTC else local.astimezone(UTC)


@functools.lru_cache(maxsize=8192)
def _clock(time: str, ampm: str | None) -> tuple[int, int, int] | None:
    """(hour, minute, second) on a 24-hour clock, or None when out of range."""
    fields = [int(part) for part in _TIME_FIELDS.split(time)]
    hour, minute, second = fields[0], fields[1], fields[2] if len(fields) > 2 else 0
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


# -- conversations -------------------------------------------------------------------------------

def _partner_name(export: Path, member: str) -> str:
    """Who the chat is with: 'WhatsApp Chat with Sam.txt', or the zip/folder of a '_chat.txt'."""
    member_path = PurePosixPath(member)
    stem = member_path.stem
    if stem.casefold() == "_chat":
        stem = member_path.parent.name or (export.stem if export.is_file() else export.name)
    match = _CHAT_FILE_NAME.fullmatch(stem)
    return match["partner"] if match else stem


def _conversation_id(partner: str) -> str:
    # Hashed: the chat partner's name is theirs, not the owner's, and must not be stored.
    digest = hashlib.sha256(partner.strip().casefold().encode("utf-8")).hexdigest()
    return f"whatsapp-{digest[:16]}"
