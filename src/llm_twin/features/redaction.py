"""Redaction of other people's personal data before it is stored.

Other people's chat lines are kept only as context for the owner's replies, and even then without
their phone numbers, e-mail addresses, card or bank numbers, or their names: each other person
becomes a stable pseudonym ("Contact 1") per source. Phone numbers are found with Google's
libphonenumber (the `phonenumbers` package), the rest with patterns.
"""

from __future__ import annotations

import re

import phonenumbers

# A match starts only where a run of address characters starts: trying every position inside a
# long run of letters made the search quadratic (a 4 MB word took minutes).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
URL_CREDENTIALS = re.compile(r"(https?://)[^/\s:@]+:[^/\s@]+@")
# Where a phone number can be: a run of digits and the separators numbers are written with. The
# matcher is run on these runs only, since on a whole multi-MB message it took seconds per 100 kB.
PHONE_RUN = re.compile(r"[+(]?\d[\d \t().\-/]*\d\)?")
PHONE_RUN_LIMIT = 256  # characters; longer runs are tables of numbers, not a phone number
PHONE_MATCHER_BUDGET = 50_000  # characters of runs read by the matcher per text


def redact_personal_data(text: str, region: str = "US") -> str:
    """Replace e-mail addresses, phone numbers, card and IBAN numbers with placeholders."""
    text = URL_CREDENTIALS.sub(r"\1[credentials]@", text)
    text = EMAIL.sub("[email]", text)
    text = IBAN.sub("[iban]", text)
    text = _redact_phones(text, region)
    return CARD.sub(_card_or_keep, text)


def _redact_phones(text: str, region: str) -> str:
    spans: list[tuple[int, int, str]] = []
    budget = PHONE_MATCHER_BUDGET
    for run in PHONE_RUN.finditer(text):
        if _digit_count(run.group()) < 7:
            continue
        if len(run.group()) > PHONE_RUN_LIMIT or len(run.group()) > budget:
            # Digit tables and number dumps: redacted whole, as reading them number by number
            # with the matcher (about 30 µs a character) would take minutes on a large message.
            spans.append((run.start(), run.end(), "[numbers]"))
            continue
        budget -= len(run.group())
        spans.extend((run.start() + start, run.start() + end, "[phone]")
                     for start, end in _phone_spans(run.group(), region))
    pieces, kept_from = [], 0
    for start, end, placeholder in spans:
        pieces += [text[kept_from:start], placeholder]
        kept_from = end
    return "".join(pieces) + text[kept_from:]


def _phone_spans(run: str, region: str) -> list[tuple[int, int]]:
    # POSSIBLE catches fictional and unassigned ranges too; 7+ digits keeps years and times out.
    return [(match.start, match.end) for match in phonenumbers.PhoneNumberMatcher(
        run, region, leniency=phonenumbers.Leniency.POSSIBLE)
        if _digit_count(match.raw_string) >= 7]


def _digit_count(text: str) -> int:
    return sum(character.isdigit() for character in text)


def _card_or_keep(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if _luhn_valid(digits) else match.group()


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return len(digits) >= 13 and total % 10 == 0


class Pseudonyms:
    """Stable stand-ins for other people's names within one import ("Contact 1", "Contact 2"...)."""

    def __init__(self, prefix: str = "Contact"):
        self.prefix = prefix
        self._names: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        key = name.strip().casefold()
        if key not in self._names:
            self._names[key] = f"{self.prefix} {len(self._names) + 1}"
        return self._names[key]

    def redact_names(self, text: str) -> str:
        """Replace every known other person's name (whole words) in a text by their pseudonym."""
        for key, alias in sorted(self._names.items(), key=lambda item: -len(item[0])):
            if len(key) >= 2:
                text = re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", alias, text, flags=re.I)
        return text
