"""Two views of every text.

`clean_raw` keeps the voice (punctuation, emoji, line breaks, Unicode bold): it only removes what
no writer chose (control characters, zero-width junk, Windows line endings, trailing spaces).
`normalize_for_search` is the NFKC, single-spaced copy used for hashing, search and embeddings.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Zero-width space/joiners and BOM; ZWJ (U+200D) is kept because emoji sequences need it.
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")


def clean_raw(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def normalize_for_search(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def content_hash(platform: str, kind: str, normalized_text: str, title: str | None = None,
                 identity: str | None = None) -> str:
    """Identity of a document's content: the same words on the same platform are one document.

    `identity` separates documents whose words may repeat legitimately: two chat messages that
    both say "ok" are two messages.
    """
    key = "\x1f".join((platform, kind, normalize_for_search(title or "").casefold(),
                       normalized_text.casefold(), identity or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


_URL = re.compile(r"https?://\S+")
_NON_WORD = re.compile(r"[\W_]+")


def crosspost_key(normalized_text: str) -> str | None:
    """Words only, URLs and punctuation dropped: the same post on LinkedIn and X shares this key.

    Short texts ("thanks!") get no key: equal words there say nothing about being the same post.
    """
    words = _NON_WORD.sub(" ", _URL.sub(" ", normalized_text.casefold())).split()
    if len(words) < 8:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
