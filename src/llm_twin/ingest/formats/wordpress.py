"""WordPress WXR export (Tools -> Export), as an .xml file or a zip/folder of them (FORMATS.md §8).

WXR is RSS 2.0 with WordPress namespaces; it is parsed with defusedxml and any DTD is refused,
so no entity (internal or external) is ever expanded. WordPress and its plugins sometimes write
files that are not well-formed (a bare `&` in a URL); such a file is read again the way peers
read it, with lxml's recovering parser (no DTD, no entity resolution, no network, default size
limits), after refusing any DOCTYPE or ENTITY declaration in it; the lines repaired and the
number of items recovered go into `ImportResult.notes`. Posts and pages become articles (pages
tagged), drafts and private posts are kept with metadata["draft"]; attachments, menu items,
revisions, reusable blocks, trashed posts and comments are counted as skipped.

Content comes in two shapes. The block editor (Gutenberg) stores real HTML between
`<!-- wp:... -->` comments. The classic editor stores text whose blank lines are paragraphs and
single newlines line breaks (WordPress adds the tags when it renders: `wpautop`), so those are
turned into `<p>`/`<br>` first; otherwise the HTML-to-text step would fold them into spaces.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from email.utils import parsedate_to_datetime
from html import unescape
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from lxml import etree as LET

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.html_text import html_to_text
from llm_twin.ingest.safe_zip import files_of_one_format

PLATFORM = "blog"
FALLBACK_AUTHOR = "owner"
KEPT_TYPES = ("post", "page")
PUBLISHED = "publish"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
WP_NS_PREFIX = "http://wordpress.org/export/"
DEFAULT_WP_NS = WP_NS_PREFIX + "1.2/"
_DETECT_HEAD = 8192
_PROGRESS_EVERY = 1000
_ZERO_DATE = "0000-00-00 00:00:00"
_WP_DATE = "%Y-%m-%d %H:%M:%S"
_PUB_DATE_YEAR = re.compile(r"\s(-?\d{4})\s")
_FIRST_PLAUSIBLE_YEAR = 1990
_GUTENBERG_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.DOTALL)
# Core shortcodes only: a general [word] pattern would also eat "[sic]" and footnote marks.
_MEDIA_SHORTCODES = "embed|audio|video|playlist"
_CAPTION = re.compile(r"\[(wp_caption|caption)\b[^\]]*\](.*?)\[/\1\]", re.DOTALL | re.IGNORECASE)
_ENCLOSED_MEDIA = re.compile(rf"\[({_MEDIA_SHORTCODES})\b[^\]]*\].*?\[/\1\]",
                             re.DOTALL | re.IGNORECASE)
_LONE_SHORTCODE = re.compile(rf"\[/?(?:gallery|caption|wp_caption|{_MEDIA_SHORTCODES})\b[^\]]*\]",
                             re.IGNORECASE)
# The block-level tags wpautop puts paragraph breaks around.
_BLOCK_TAGS = (r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|"
               r"pre|form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|"
               r"section|article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|"
               r"summary)")
_BLOCK_OPEN = re.compile(rf"(<{_BLOCK_TAGS}[\s/>])", re.IGNORECASE)
_BLOCK_CLOSE = re.compile(rf"(</{_BLOCK_TAGS}>)", re.IGNORECASE)
_STARTS_WITH_BLOCK = re.compile(rf"</?{_BLOCK_TAGS}[\s/>]", re.IGNORECASE)
_PRE = re.compile(r"<pre[\s>].*?</pre>", re.DOTALL | re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class _Author:
    login: str
    display_name: str | None
    full_name: str | None

    def names(self) -> set[str]:
        return {name.casefold() for name in (self.login, self.display_name, self.full_name)
                if name}


@dataclass
class _Item:
    element: ET.Element
    file: str  # the file inside the export, for metadata
    where: str  # the full name, for error messages
    position: int
    wp: str  # the WordPress namespace of this file (1.0, 1.1 or 1.2)
    language: str | None

    def wp_field(self, name: str) -> str:
        return self.field(f"{{{self.wp}}}{name}")

    def field(self, tag: str) -> str:
        return (self.element.findtext(tag) or "").strip()

    def raw(self, tag: str) -> str:
        """A field as stored: content keeps its newlines, which are paragraph marks."""
        return self.element.findtext(tag) or ""


class WordPressImporter(ArchiveImporter):
    format_name = "wordpress"

    def _detect(self, path: Path) -> bool:
        return bool(self._wxr_files(path, head=_DETECT_HEAD))

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        files = self._wxr_files(Path(path))
        if not files:
            raise ImportFormatError(path, "no WordPress WXR (.xml) export found")
        authors: dict[str, _Author] = {}
        items: list[_Item] = []
        notes: list[str] = []
        repaired_lines = 0
        for file, where, data in files:
            root, repaired = _parse(data, where)
            channel = _channel(root, where)
            wp = _wp_namespace(channel)
            authors.update(_authors(channel, wp))
            language = _primary_language(channel.findtext("language"))
            found = channel.findall("item")
            items += [_Item(element, file, where, index, wp, language)
                      for index, element in enumerate(found)]
            if repaired:
                notes.append(_repair_note(file, data, repaired, len(found)))
                repaired_lines += len({repair.line for repair in repaired})
        result = self._result(items, authors)
        result.notes += notes
        result.repaired = repaired_lines
        return result

    def _result(self, items: list[_Item], authors: dict[str, _Author]) -> ImportResult:
        result = ImportResult(self.format_name, [])
        kept = [item for item in items if _kept(item, result)]
        owner = _owner_login(kept, authors, self.options.owner_name)
        if owner is not None:
            result.owner = authors[owner].display_name if owner in authors else owner
        for done, item in enumerate(kept, start=1):
            document = _document(item, authors, owner)
            if document is None:
                result.skip("empty")
            else:
                result.documents.append(document)
            if done % _PROGRESS_EVERY == 0:
                self.options.report(done, len(kept))
        self.options.report(len(kept), len(kept))
        return result

    def _wxr_files(self, path: Path, head: int | None = None) -> list[tuple[str, str, bytes]]:
        """(name inside the export, name for messages, bytes) of each WXR file.

        A zip or folder counts only when every file in it is a WXR export, so a folder holding
        several kinds of export is left to the registry to split.
        """
        return files_of_one_format(path, _is_wxr, head=head, detect_bytes=_DETECT_HEAD,
                                   max_total_bytes=self.max_total_bytes)



def _is_wxr(head: bytes) -> bool:
    text = head.decode("utf-8-sig", errors="ignore")
    return "<rss" in text and WP_NS_PREFIX in text


_REFUSED = "refused: the XML declares a DTD or entities ({}); WXR exports have none"
# A declaration anywhere before the root element (the prolog), any case, any spacing.
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)\b", re.IGNORECASE)
_ROOT_START = re.compile(rb"<\s*rss[\s>/]", re.IGNORECASE)
_ITEM_START = re.compile(rb"<item[\s>]")
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)  # kept as written
# XML knows five named entities; with no DTD allowed, `&nbsp;` & co. are undeclared.
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#x[0-9a-fA-F]+;|(?:amp|lt|gt|quot|apos);)")
_ENTITY_NAME = re.compile(rb"&([A-Za-z_][\w.-]*);")
_NOTED_LINES = 10


@dataclass(frozen=True)
class _Repair:
    line: int
    problem: str


def _parse(data: bytes, where: str) -> tuple[ET.Element, list[_Repair]]:
    """The root element, and the repairs made when the file was not well-formed XML."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True), []
    except DefusedXmlException as error:
        raise ImportFormatError(where, _REFUSED.format(type(error).__name__)) from error
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        problem = _xml_problem(data, error)
        if problem.startswith("not valid UTF-8"):
            raise ImportFormatError(where, problem, line=line) from error
        refuse_declarations(data, where)
        escaped, repairs = _escape_bare_ampersands(data)
        try:
            return SafeET.fromstring(escaped, forbid_dtd=True), repairs
        except (DefusedXmlException, ET.ParseError):
            pass
        recovered = _recover(escaped, where)
        if recovered is None:
            raise ImportFormatError(where, problem, line=line) from error
        return recovered[0], repairs + recovered[1]


def refuse_declarations(data: bytes, where: str) -> None:
    """Refuse a file with a DOCTYPE or ENTITY declaration before its root element."""
    root_start = _ROOT_START.search(data)
    prolog = data[:root_start.start()] if root_start else data
    if _DECLARATION.search(prolog):
        raise ImportFormatError(where, _REFUSED.format("DOCTYPE or ENTITY in a malformed file"))


def _escape_bare_ampersands(data: bytes) -> tuple[bytes, list[_Repair]]:
    """`&` that starts no character reference or XML entity becomes `&amp;`, outside CDATA
    and comments.

    What browsers and WordPress's own importer do with `?a=1&b=2` in a URL: the `&` is kept
    as a character (lxml's recovery alone would drop `&b`). An HTML entity such as `&nbsp;`
    is kept as its text, which the text fields then decode like any other entity.
    """
    repairs: list[_Repair] = []
    pieces: list[bytes] = []
    start = 0
    for cdata in [*_CDATA.finditer(data), None]:
        end = cdata.start() if cdata is not None else len(data)
        segment = data[start:end]
        for match in _BARE_AMPERSAND.finditer(segment):
            line = data.count(b"\n", 0, start + match.start()) + 1
            name = _ENTITY_NAME.match(segment, match.start())
            repairs.append(_Repair(line, f"undeclared entity '{name.group(0).decode()}' kept as "
                                         "text" if name else "bare '&' escaped"))
        pieces.append(_BARE_AMPERSAND.sub(b"&amp;", segment))
        if cdata is not None:
            pieces.append(cdata.group(0))
            start = cdata.end()
    return b"".join(pieces), repairs


def _recover(data: bytes, where: str) -> tuple[ET.Element, list[_Repair]] | None:
    """Read a not well-formed file the way browsers and peers do, keeping defusedxml's guards.

    Any DOCTYPE or ENTITY declaration is refused before lxml sees the bytes (so no internal or
    external entity, and no billion laughs); lxml itself loads no DTD, resolves no entity,
    reaches no network and keeps its default size limits. What it recovered is serialised and
    parsed again by defusedxml, so the rest of the importer sees exactly what a well-formed file
    would give it. None when nothing usable was recovered.
    """
    refuse_declarations(data, where)
    parser = LET.XMLParser(recover=True, resolve_entities=False, no_network=True,
                           huge_tree=False, load_dtd=False, dtd_validation=False)
    try:
        root = LET.fromstring(data, parser)
    except LET.XMLSyntaxError:
        return None
    if root is None or root.getroottree().docinfo.internalDTD is not None:
        return None
    repairs = [_Repair(entry.line, entry.message.strip()) for entry in parser.error_log]
    try:
        element = SafeET.fromstring(LET.tostring(root, encoding="utf-8"), forbid_dtd=True)
    except (DefusedXmlException, ET.ParseError):
        return None
    return element, repairs or [_Repair(0, "not well-formed")]


def _repair_note(file: str, data: bytes, repairs: list[_Repair], recovered: int) -> str:
    """E.g. "x.xml was not well-formed XML: 7 of 7 items recovered; repaired line 40
    (EntityRef: expecting ';')"."""
    declared = len(_ITEM_START.findall(data))
    lines: dict[int, str] = {}
    for repair in repairs:
        lines.setdefault(repair.line, repair.problem)
    shown = [f"line {line} ({problem})" for line, problem in sorted(lines.items())[:_NOTED_LINES]]
    more = len(lines) - len(shown)
    return (f"{file} was not well-formed XML and was read leniently: {recovered} of "
            f"{max(declared, recovered)} items recovered; repaired "
            + "; ".join(shown) + (f"; and {more} more line(s)" if more > 0 else ""))


def _xml_problem(data: bytes, error: ET.ParseError) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        if b"encoding=" not in data[:200] or b"utf-8" in data[:200].lower():
            return f"not valid UTF-8 (byte offset {bad.start}); re-export the site as UTF-8"
    return f"malformed XML: {error}"


def _channel(root: ET.Element, where: str) -> ET.Element:
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise ImportFormatError(where, "expected <rss><channel>, as in a WXR export",
                                field_name="channel")
    return channel


def _wp_namespace(channel: ET.Element) -> str:
    for element in channel.iter():
        namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
        if namespace.startswith(WP_NS_PREFIX) and not namespace.endswith("/excerpt/"):
            return namespace
    return DEFAULT_WP_NS


def _authors(channel: ET.Element, wp: str) -> dict[str, _Author]:
    authors = {}
    for element in channel.findall(f"{{{wp}}}author"):
        login = (element.findtext(f"{{{wp}}}author_login") or "").strip()
        if not login:
            continue
        full_name = " ".join(part for part in (
            (element.findtext(f"{{{wp}}}author_first_name") or "").strip(),
            (element.findtext(f"{{{wp}}}author_last_name") or "").strip()) if part)
        display = unescape(element.findtext(f"{{{wp}}}author_display_name") or "").strip()
        # The author's e-mail is in the export too; it is never read.
        authors[login] = _Author(login, display or None, full_name or None)
    return authors


def _primary_language(value: str | None) -> str | None:
    tag = (value or "").strip()
    return tag.split("-")[0].casefold() if tag else None


def _kept(item: _Item, result: ImportResult) -> bool:
    comments = len(item.element.findall(f"{{{item.wp}}}comment"))
    if comments:
        result.skip("comment", comments)
    post_type = item.wp_field("post_type") or "unknown_type"
    if post_type not in KEPT_TYPES:
        result.skip(post_type)
        return False
    if item.wp_field("status") == "trash":
        result.skip("trash")
        return False
    return True


def _owner_login(items: list[_Item], authors: dict[str, _Author],
                 owner_name: str | None) -> str | None:
    """The owner's login: the one matching the configured name, else the most frequent creator."""
    if owner_name:
        wanted = owner_name.strip().casefold()
        for author in authors.values():
            if wanted in author.names():
                return author.login
    counts = Counter(item.field(DC_CREATOR) for item in items)
    counts.pop("", None)
    if not counts:
        return next(iter(authors), None)
    order = {login: index for index, login in enumerate(authors)}
    return min(counts, key=lambda login: (-counts[login], order.get(login, len(order))))


def _document(item: _Item, authors: dict[str, _Author],
              owner: str | None) -> ImportedDocument | None:
    text = wordpress_html_to_text(item.raw(CONTENT_ENCODED))
    if not text:
        return None
    post_id = item.wp_field("post_id")
    if not post_id:
        raise ImportFormatError(item.where, f"item {item.position} has no post id",
                                field_name="wp:post_id")
    creator = item.field(DC_CREATOR) or None
    author = authors.get(creator) if creator else None
    status = item.wp_field("status")
    created_at, date_source = _created_at(item)
    return ImportedDocument(
        platform=PLATFORM, kind="article",
        author=(author.display_name if author else None) or creator or FALLBACK_AUTHOR,
        is_owner=creator is None or creator == owner,
        raw_text=text, title=unescape(item.field("title")).strip() or None,
        created_at=created_at,
        url=(item.field("link") or None) if status == PUBLISHED else None,
        language=item.language, external_id=post_id,
        metadata=_metadata(item, status, date_source),
    )


def _metadata(item: _Item, status: str, date_source: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": item.file, "position": item.position,
                                "post_type": item.wp_field("post_type"), "status": status,
                                "slug": item.wp_field("post_name") or None}
    if status != PUBLISHED:
        metadata["draft"] = True
    if date_source is not None:
        metadata["date_source"] = date_source
    for domain, key in (("category", "categories"), ("post_tag", "tags")):
        names = [unescape(element.text or "").strip()
                 for element in item.element.findall("category")
                 if element.get("domain") == domain]
        if any(names):
            metadata[key] = [name for name in names if name]
    excerpt = item.raw(f"{{{item.wp}excerpt/}}encoded")
    if excerpt.strip():
        metadata["excerpt"] = html_to_text(excerpt)
    if item.wp_field("post_password"):
        metadata["password_protected"] = True
    if item.wp_field("is_sticky") == "1":
        metadata["sticky"] = True
    return metadata


def _created_at(item: _Item) -> tuple[datetime | None, str | None]:
    """post_date_gmt; drafts have none, so pubDate, else the local post_date read as UTC."""
    gmt = _wp_date(item.wp_field("post_date_gmt"))
    if gmt is not None:
        return gmt, None
    published = _pub_date(item.field("pubDate"))
    if published is not None:
        return published, "pubDate"
    local = _wp_date(item.wp_field("post_date"))
    return (local, "post_date_local") if local is not None else (None, None)


def _pub_date(value: str) -> datetime | None:
    """RFC 822 pubDate; drafts carry "Mon, 30 Nov -0001 ...", which email.utils reads as 2000."""
    year = _PUB_DATE_YEAR.search(value)
    if year is None or int(year.group(1)) < _FIRST_PLAUSIBLE_YEAR:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return None


def _wp_date(value: str) -> datetime | None:
    if not value or value == _ZERO_DATE:
        return None
    try:
        return datetime.strptime(value, _WP_DATE).replace(tzinfo=UTC)
    except ValueError:
        return None


def wordpress_html_to_text(content: str) -> str:
    """Post content (block editor or classic) as plain text with its paragraphs and line breaks."""
    content = _strip_shortcodes(content)
    if _GUTENBERG_COMMENT.search(content):
        content = _GUTENBERG_COMMENT.sub("", content)
    else:
        content = _autop(content)
    return html_to_text(content) if content.strip() else ""


def _strip_shortcodes(content: str) -> str:
    # A caption's text is the owner's words about an image: it stays, like a <figcaption>.
    content = _CAPTION.sub(lambda match: f"<figure>{match.group(2)}</figure>", content)
    content = _ENCLOSED_MEDIA.sub("", content)
    return _LONE_SHORTCODE.sub("", content)


def _autop(content: str) -> str:
    """A small wpautop: blank lines -> paragraphs, other newlines -> <br>, <pre> untouched."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = _PRE.sub(keep, content.replace("\r\n", "\n"))
    text = _BLOCK_CLOSE.sub(r"\1\n\n", _BLOCK_OPEN.sub(r"\n\n\1", text))
    paragraphs = []
    for chunk in _BLANK_LINE.split(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if chunk.startswith("\x00"):
            paragraphs.append(kept[int(chunk.strip("\x00"))])
        elif _STARTS_WITH_BLOCK.match(chunk):
            paragraphs.append(chunk)
        else:
            paragraphs.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n".join(paragraphs)
