"""What the chat importers (WhatsApp, Telegram) share: decoding, finding the owner, and keeping
other people's lines as redacted, pseudonymous context.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import UTC, timedelta, tzinfo
from pathlib import Path

import charset_normalizer

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.features.redaction import Pseudonyms, redact_personal_data
from llm_twin.ingest.safe_zip import DEFAULT_MAX_TOTAL_BYTES
from llm_twin.ingest.timezones import zone_info

# What redact_personal_data can replace needs an "@" (e-mails, URL credentials), 7+ digits
# (phones, cards) or an IBAN's "CC00" start. The phone matcher is the slow part of an import and
# most chat lines hold none of these, so those lines skip it. Keep this in step with redaction.py.
_EMAIL_OR_IBAN_HINT = re.compile(r"@|[A-Z]{2}\d{2}")
_MIN_REDACTED_DIGITS = 7
_ANY_DIGIT = re.compile(r"\d")
_NON_DIGITS = re.compile(r"\D")
_MIN_PHONE_DIGITS = 7
PROGRESS_EVERY = 1000
_ZIP_MAGIC = b"PK\x03\x04"


class ChatExportImporter(ArchiveImporter):
    """A chat export: others' phone numbers are recognised as dialled in `region`, and times the
    export writes without a zone are in `local_timezone` (default: `options.timezone`, else UTC)."""

    def __init__(self, options: ImportOptions | None = None, *, region: str = "US",
                 local_timezone: tzinfo | None = None,
                 max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES):
        super().__init__(options, max_total_bytes=max_total_bytes)
        self.region = region
        if local_timezone is None:
            local_timezone = zone_info(self.options.timezone) if self.options.timezone else UTC
        self.local_timezone = local_timezone

    @property
    def timezone_name(self) -> str | None:
        """The zone's IANA name, stored with the source (ImportResult.timezone); None for a
        fixed offset other than UTC, which has none."""
        key = getattr(self.local_timezone, "key", None)
        if isinstance(key, str):
            return key
        return "UTC" if self.local_timezone.utcoffset(None) == timedelta(0) else None


def is_plain_file(path: Path) -> bool:
    """A single file that is not a zip archive (a bare chat .txt or result.json).

    A damaged zip still counts as a zip (by name or by its first bytes), so that it is reported
    as a damaged archive rather than as text that does not parse.
    """
    if not path.is_file() or path.suffix.casefold() == ".zip":
        return False
    with path.open("rb") as handle:
        if handle.read(4) == _ZIP_MAGIC:
            return False
    return not zipfile.is_zipfile(path)


def read_plain_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ImportFormatError(path, f"is {size} bytes, over the limit of {max_bytes} bytes")
        return path.read_bytes()
    except OSError as error:
        raise ImportFormatError(path, f"cannot read: {error.strerror or error}") from error


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 (a BOM dropped), else whatever charset-normalizer is confident about; LF line ends."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise ImportFormatError(where, f"not valid UTF-8 (byte offset {error.start}) and no "
                                           "other text encoding fits",
                                    line=data.count(b"\n", 0, error.start) + 1) from error
        text = str(best)
    return text.replace("\r\n", "\n").replace("\r", "\n")


class OwnerMatcher:
    """The owner's sender names from `--me`: matched case-insensitively, phone numbers by digits."""

    def __init__(self, me: Iterable[str]):
        names = [name.strip() for name in me if name and name.strip()]
        self.names = tuple(names)
        self._folded = {name.casefold() for name in names}
        self._phones = {digits for digits in map(_digits, names)
                        if len(digits) >= _MIN_PHONE_DIGITS}

    def __bool__(self) -> bool:
        return bool(self.names)

    def matches(self, sender: str) -> bool:
        if sender.casefold() in self._folded:
            return True
        digits = _digits(sender)
        return len(digits) >= _MIN_PHONE_DIGITS and digits in self._phones


def _digits(text: str) -> str:
    return _NON_DIGITS.sub("", text)


class OtherPeople:
    """Other senders of one import: stable pseudonyms, and their texts redacted.

    Register every other sender (`alias`) before redacting texts, so that a name is replaced even
    in lines written before that person first spoke.
    """

    def __init__(self, region: str = "US"):
        self.region = region
        self.pseudonyms = Pseudonyms()
        self._keys: set[str] = set()
        self._known_names: re.Pattern[str] | None = None

    def alias(self, name: str) -> str:
        key = name.strip().casefold()
        if key not in self._keys:
            self._keys.add(key)
            self._known_names = None
        return self.pseudonyms(name)

    def redact(self, text: str) -> str:
        if _may_hold_personal_data(text):
            text = redact_personal_data(text, self.region)
        # Same keys and word boundaries as Pseudonyms.redact_names, checked in one search
        # instead of one substitution per known person.
        if self._names_pattern().search(text):
            text = self.pseudonyms.redact_names(text)
        return text

    def _names_pattern(self) -> re.Pattern[str]:
        if self._known_names is None:
            keys = sorted((key for key in self._keys if len(key) >= 2), key=len, reverse=True)
            alternatives = "|".join(map(re.escape, keys)) or r"(?!)"
            self._known_names = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return self._known_names


def _may_hold_personal_data(text: str) -> bool:
    if _EMAIL_OR_IBAN_HINT.search(text):
        return True
    return _ANY_DIGIT.search(text) is not None and (
        sum(map(str.isdigit, text)) >= _MIN_REDACTED_DIGITS)


def owner_unknown_problem(senders: Iterable[str]) -> str:
    seen = ", ".join(sorted(set(senders), key=str.casefold)) or "none"
    return ("cannot tell which sender is you, the export does not say; pass --me 'Your Name as "
            f"shown in the chat' (senders seen: {seen})")


def owner_not_found_problem(me: OwnerMatcher, senders: Iterable[str]) -> str:
    seen = ", ".join(sorted(set(senders), key=str.casefold)) or "none"
    wanted = ", ".join(repr(name) for name in me.names)
    return (f"no sender matches --me {wanted}; pass --me 'Your Name as shown in the chat' "
            f"(senders seen: {seen})")


class Progress:
    """Tells `options.progress` how many messages are done, every PROGRESS_EVERY and at the end."""

    def __init__(self, options: ImportOptions, total: int):
        self.options = options
        self.total = total
        self.done = 0

    def step(self) -> None:
        if self.done % PROGRESS_EVERY == 0:
            self.options.report(self.done, self.total)
        self.done += 1

    def finish(self) -> None:
        self.options.report(self.done, self.total)
