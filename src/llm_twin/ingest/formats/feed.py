"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, from a file or an http(s) URL (docs/FORMATS.md §8).

A feed is a fallback source: many carry only a summary, so entries that look cut off ("…",
"[…]", "Read more") get metadata["truncated"]. feedparser only ever sees bytes we read or fetched
ourselves (its own fetcher has none of SafeFetcher's guards); its XML parser does not resolve
external entities, so a hostile feed cannot pull local files into a document.
WordPress WXR exports are RSS too, but they are left to the WordPress importer (drafts, pages and
attachments would otherwise pass for posts).
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser

from llm_twin.ingest.base import (MAX_FEED_BYTES, MAX_FEED_TAGS, ImportedDocument, ImporterBase,
                                  ImportFormatError, ImportOptions, ImportResult, too_large)
from llm_twin.ingest.html_text import html_to_text
from llm_twin.ingest.net import SafeFetcher, content_digest, fetcher_session, is_url

FEED_MEDIA_TYPES = frozenset({"application/rss+xml", "application/atom+xml",
                              "application/rdf+xml", "application/feed+xml"})
PLATFORM = "blog"
FALLBACK_AUTHOR = "owner"
SHORT_POST_CHARS = 600
PROGRESS_EVERY = 1000
_HEAD_BYTES = 2048
_FEED_ROOT = re.compile(r"<(?:rss\b|feed\b[^>]*http://www\.w3\.org/2005/Atom"
                        r"|rdf:RDF\b[^>]*http://purl\.org/rss/1\.0/)", re.IGNORECASE)
_WXR_NAMESPACE = "wordpress.org/export/"
# A `&` that starts no entity or character reference (`?a=1&b=2` in a URL makes the feed not
# well-formed). feedparser's lenient parser would read `&lang=en` as the entity `&lang` (〈), so
# such an `&` is escaped first, outside CDATA and comments, as browsers and peers read it.
_BARE_AMPERSAND = re.compile(rb"&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#[xX][0-9a-fA-F]+;)")
_CDATA_OR_COMMENT = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)
_FEED_URL_PATH = re.compile(r"(?:\.(?:xml|rss|atom|rdf)|/(?:feed|rss|atom)(?:\.xml)?)/?$",
                            re.IGNORECASE)
_FEED_URL_QUERY = re.compile(r"(?:^|&)(?:feed=|format=(?:rss|atom)\b)", re.IGNORECASE)
# Excerpt markers that feeds and blog engines append; they are not the writer's words.
_MORE_MARKER = re.compile(r"(?:\s*\[\s*(?:…|\.\.\.)\s*\]"
                          r"|(?:^|(?<=[.!?…:]))[ \t]*(?:read more|continue reading)\b[^\n]{0,80})"
                          r"\s*\Z", re.IGNORECASE | re.MULTILINE)
_ELLIPSIS_END = re.compile(r"(?:…|\.\.\.)\s*\Z")
_FOOTER = re.compile(r"\A(?:the post .+ appeared first on .+|originally published (?:at|on) .+)\Z",
                     re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _FeedInfo:
    title: str | None
    author: str | None  # display name
    author_keys: frozenset[str]  # names and e-mails that identify the feed's author, casefolded
    language: str | None


def looks_like_feed(head: bytes) -> bool:
    """True when the first bytes of a document open an RSS or Atom feed (WXR excluded)."""
    text = _head_text(head)
    return bool(_FEED_ROOT.search(text)) and _WXR_NAMESPACE not in text


class FeedImporter(ImporterBase):
    format_name = "feed"

    def __init__(self, options: ImportOptions | None = None, *,
                 fetcher: SafeFetcher | None = None):
        self.options = options or ImportOptions()
        self._fetcher = fetcher

    def detect(self, location: str | Path) -> bool:
        """Files by their first bytes; URLs by their path alone (fetching would cost too much)."""
        try:
            if is_url(location):
                return _looks_like_feed_url(str(location))
            path = Path(location)
            if not path.is_file():
                return False
            with path.open("rb") as handle:
                return looks_like_feed(handle.read(_HEAD_BYTES))
        except (OSError, ValueError):
            return False

    def read(self, location: str | Path) -> ImportResult:
        if is_url(location):
            return self._read_url(str(location).strip())
        path = Path(location)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImportFormatError(path, f"cannot read: {error.strerror or error}") from error
        return self.read_bytes(data, str(path))

    def read_bytes(self, data: bytes, source: str, *,
                   content_type: str | None = None) -> ImportResult:
        """Parse feed bytes; `source` (a file or URL) names it in errors and provenance."""
        headers = {"content-location": source} if is_url(source) else {}
        if content_type:
            headers["content-type"] = content_type
        if len(data) > MAX_FEED_BYTES:
            raise too_large(source, "feeds", len(data), MAX_FEED_BYTES)
        tags = data.count(b"<") + data.count(b"&lt;")  # feedparser parses escaped HTML too
        if tags > MAX_FEED_TAGS:
            raise too_large(source, "feeds", tags, MAX_FEED_TAGS, unit="tags")
        data, repaired_lines = _escape_bare_ampersands(data)
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
        entries = [entry for entry in parsed.entries if _has_substance(entry)]
        if not entries and (parsed.bozo or not parsed.version):
            raise ImportFormatError(source,
                                    f"not a readable RSS or Atom feed: {_bozo_reason(parsed)}")
        info = _feed_info(parsed.feed)
        result = ImportResult(self.format_name, [], owner=info.author)
        if repaired_lines:
            shown = ", ".join(map(str, repaired_lines[:10]))
            more = f" and {len(repaired_lines) - 10} more" if len(repaired_lines) > 10 else ""
            result.notes.append(f"{source}: not well-formed XML, read leniently; a bare '&' "
                                f"escaped on line(s) {shown}{more}")
        for position, entry in enumerate(entries):
            document = self._document(entry, position, info, source)
            if document is None:
                result.skip("empty")
            else:
                result.documents.append(document)
            if (position + 1) % PROGRESS_EVERY == 0:
                self.options.report(position + 1, len(entries))
        return result

    def _read_url(self, url: str) -> ImportResult:
        with fetcher_session(self._fetcher, self.options) as fetcher:
            response = fetcher.fetch(url)
        result = self.read_bytes(response.content, response.url,
                                 content_type=response.headers.get("content-type"))
        result.fingerprint = content_digest([(response.url, response.content)])
        return result

    def _document(self, entry: Any, position: int, info: _FeedInfo,
                  source: str) -> ImportedDocument | None:
        text, text_field = _entry_text(entry)
        from_summary = text_field == "summary"
        text, truncated = _without_more_marker(_without_footer(text), from_summary=from_summary)
        if not text:
            return None
        title = _entry_title(entry)
        published = _utc(entry.get("published_parsed")) or _utc(entry.get("created_parsed"))
        updated = _utc(entry.get("updated_parsed"))
        metadata = _metadata(source, position, info, entry, text_field, truncated)
        if published is not None and updated is not None and updated != published:
            metadata["updated"] = updated.isoformat()
        author_keys = _author_keys(entry)
        return ImportedDocument(
            platform=PLATFORM,
            kind="post" if title is None and len(text) < SHORT_POST_CHARS else "article",
            author=_author_name(entry) or info.author or self.options.owner_name or FALLBACK_AUTHOR,
            is_owner=self._is_owner(author_keys, info),
            raw_text=text,
            title=title,
            created_at=published or updated,
            url=entry.get("link") or None,
            language=_entry_language(entry) or info.language,
            external_id=str(entry.get("id") or entry.get("link") or f"{source}#{position}"),
            metadata=metadata,
        )

    def _is_owner(self, author_keys: frozenset[str], info: _FeedInfo) -> bool:
        if not author_keys:
            return True
        owner_keys = set(info.author_keys)
        if self.options.owner_name:
            owner_keys.add(self.options.owner_name.strip().casefold())
        return bool(author_keys & owner_keys)


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _looks_like_feed_url(url: str) -> bool:
    parts = urlsplit(url)
    last_segment = parts.path.rstrip("/").rpartition("/")[2]
    if "sitemap" in last_segment.casefold():
        return False
    return bool(_FEED_URL_PATH.search(parts.path) or _FEED_URL_QUERY.search(parts.query))


def _has_substance(entry: Any) -> bool:
    return any(entry.get(key) for key in ("title", "link", "summary", "content"))


def _escape_bare_ampersands(data: bytes) -> tuple[bytes, list[int]]:
    """The feed with every bare `&` outside CDATA and comments escaped, and their lines."""
    if b"&" not in data:
        return data, []
    lines: list[int] = []
    pieces: list[bytes] = []
    start = 0
    for kept in [*_CDATA_OR_COMMENT.finditer(data), None]:
        end = kept.start() if kept is not None else len(data)
        segment = data[start:end]
        for match in _BARE_AMPERSAND.finditer(segment):
            line = data.count(b"\n", 0, start + match.start()) + 1
            if not lines or lines[-1] != line:
                lines.append(line)
        pieces.append(_BARE_AMPERSAND.sub(b"&amp;", segment))
        if kept is not None:
            pieces.append(kept.group(0))
            start = kept.end()
    return b"".join(pieces), lines


def _bozo_reason(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    if error is not None:
        return str(error) or type(error).__name__
    return "no <rss>, <feed> or <rdf:RDF> root and no entries"


def _feed_info(feed: Any) -> _FeedInfo:
    return _FeedInfo(title=_plain(feed.get("title_detail")) or feed.get("title") or None,
                     author=_author_name(feed), author_keys=_author_keys(feed),
                     language=feed.get("language") or None)


def _author_name(item: Any) -> str | None:
    detail = item.get("author_detail") or {}
    name = detail.get("name") or item.get("author")
    return name.strip() if isinstance(name, str) and name.strip() else None


def _author_keys(item: Any) -> frozenset[str]:
    """Every name, e-mail and raw author string of an entry or feed, casefolded."""
    people = list(item.get("authors") or [])
    people.append(item.get("author_detail") or {})
    keys = {str(value).strip().casefold() for person in people
            for value in (person.get("name"), person.get("email")) if value and str(value).strip()}
    if isinstance(item.get("author"), str) and item["author"].strip():
        keys.add(item["author"].strip().casefold())
    return frozenset(keys)


def _entry_text(entry: Any) -> tuple[str, str]:
    """(text, field it came from): full content (content:encoded, Atom content) over a summary."""
    for content in entry.get("content") or []:
        text = _to_text(content.get("value", ""), content.get("type", ""))
        if text:
            return text, "content"
    summary = (entry.get("summary_detail")
               or {"value": entry.get("summary", ""), "type": "text/html"})
    return _to_text(summary.get("value", ""), summary.get("type", "")), "summary"


def _to_text(value: str | None, media_type: str) -> str:
    if not isinstance(value, str):  # feedparser leaves None for a damaged <description>
        return ""
    if "html" in media_type:
        return html_to_text(value)
    return value.strip("\n").rstrip()


def _entry_title(entry: Any) -> str | None:
    title = _plain(entry.get("title_detail")) or entry.get("title")
    return title.strip() if isinstance(title, str) and title.strip() else None


def _plain(detail: Any) -> str | None:
    """A feed text construct as plain text (Atom titles may be type="html")."""
    if not detail or not detail.get("value"):
        return None
    return _to_text(detail["value"], detail.get("type", "")) or None


def _entry_language(entry: Any) -> str | None:
    for content in entry.get("content") or []:
        if content.get("language"):
            return content["language"]
    return None


def _without_footer(text: str) -> str:
    """Drop a closing "The post … appeared first on …" or "Originally published at …" block."""
    body, _, last = text.rpartition("\n\n")
    return body.rstrip() if body and _FOOTER.match(last.strip()) else text


def _without_more_marker(text: str, *, from_summary: bool) -> tuple[str, bool]:
    """(text without a "[…]" or "Read more" tail, whether the entry looks cut off).

    A closing "…" only means "cut off" in a summary; in full content it is the writer's own.
    """
    stripped = _MORE_MARKER.sub("", text).rstrip()
    cut_off = stripped != text.rstrip() or (from_summary and bool(_ELLIPSIS_END.search(stripped)))
    return stripped, cut_off


def _utc(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _metadata(source: str, position: int, info: _FeedInfo, entry: Any, text_field: str,
              truncated: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": source, "position": position}
    if info.title:
        metadata["feed"] = info.title
    tags = [tag.get("term") for tag in entry.get("tags") or [] if tag.get("term")]
    if tags:
        metadata["tags"] = tags
    if text_field == "summary":
        metadata["summary_only"] = True
    if truncated:
        metadata["truncated"] = True
    return metadata
