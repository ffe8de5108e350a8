"""LinkedIn "Get a copy of your data" export, zipped or unzipped (FORMATS.md section 2).

Read: posts (Shares.csv, or Shares_<id>.csv), articles (Articles/Articles/*.html), comments
(Comments.csv, low weight), messages (messages.csv) and the profile's headline and summary
(Profile.csv). Every file is optional: the export holds what the user ticked. Nothing else is
read, so addresses, birth dates, e-mail addresses and phone numbers in the other CSVs never get in.
The export has no reaction or comment counts for posts (Shares.csv's columns are Date, ShareLink,
ShareCommentary, SharedUrl, MediaUrl, Visibility), so LinkedIn documents carry no `engagement`.

The CSVs are parsed with the `csv` module; two LinkedIn quirks are repaired on top of it (see
`_repair_multiline` and `_read_rows(backslash_quotes=True)`). In messages, the owner is the
profile that takes part in (nearly) every conversation; other people's lines are kept only as
context, under a pseudonym and with their contact details and names redacted.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportResult
from llm_twin.ingest.html_text import decode_text, html_to_text, parse_html
from llm_twin.features.redaction import Pseudonyms, redact_personal_data
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.storage.models import DocumentMeta

FALLBACK_AUTHOR = "owner"
COMMENT_WEIGHT = 0.5
_SHARES_FILE = re.compile(r"^shares(?:_[\w-]+)?\.csv$", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)")
_HTML_TAG = re.compile(r"</?(?:p|br|div|span|a|b|i|u|strong|em|ul|ol|li|blockquote)\b[^>]*>",
                       re.IGNORECASE)
_ARTICLE_MARKER = re.compile(rb"class=[\"']?created\b")
_DETECT_HEAD = 4096
# An article's inline <style> comes before its "Created on" line.
_DETECT_ARTICLE_HEAD = 16384
_DETECT_ARTICLES = 3
_PROGRESS_EVERY = 1000

# Columns (case-insensitive) a file must have to be read; the rest are optional.
SHARES_COLUMNS = ("Date", "ShareCommentary")
COMMENTS_COLUMNS = ("Date", "Message")
PROFILE_COLUMNS = ("First Name", "Headline")
MESSAGES_COLUMNS = ("CONVERSATION ID", "FROM", "SENDER PROFILE URL", "DATE", "CONTENT")
_DETECT_HEADERS = {"profile.csv": PROFILE_COLUMNS, "messages.csv": MESSAGES_COLUMNS,
                   "shares.csv": ("Date", "ShareLink", "ShareCommentary")}


@dataclass
class _Row:
    """One CSV record: values by case-folded column name, and the line the record starts on."""

    values: dict[str, str]
    line: int

    def get(self, column: str) -> str:
        return self.values.get(column.casefold()) or ""


@dataclass
class _Message:
    row: _Row
    conversation: str
    sender: str
    sender_url: str
    participants: frozenset[str]
    created_at: datetime | None
    text: str


class LinkedInImporter(ArchiveImporter):
    format_name = "linkedin"

    def _detect(self, path: Path) -> bool:
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            return _has_known_csv(tree) or _has_article(tree)

    def read(self, location: str | Path) -> ImportResult:
        path = Path(location)
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            if not (_root_csvs(tree) or _article_files(tree)):
                raise ImportFormatError(path, "no LinkedIn data in this export (looked for "
                                              "Shares.csv, Articles/, Comments.csv, messages.csv "
                                              "and Profile.csv)")
            profile_name = _root_file(tree, "Profile.csv")
            profile = _read_rows(tree, profile_name, PROFILE_COLUMNS)[:1] if profile_name else []
            owner = _owner_name(profile) or self.options.owner_name
            result = ImportResult(self.format_name, [], owner=owner)
            author = owner or FALLBACK_AUTHOR
            if profile_name and profile:
                _keep(result, _profile_document(profile[0], profile_name, author))
            self._read_posts(tree, author, result)
            messages_name = _root_file(tree, "messages.csv")
            if messages_name:
                rows = _read_rows(tree, messages_name, MESSAGES_COLUMNS)
                self._read_messages(rows, messages_name, tree.display_name(messages_name),
                                    author, result)
        return result

    def _read_posts(self, tree: ExportTree, author: str, result: ImportResult) -> None:
        for name in _share_files(tree):
            result.documents.extend(_shares(tree, name, author, result))
        for name in _article_files(tree):
            _keep(result, _article(tree, name, author))
        comments_name = _root_file(tree, "Comments.csv")
        if comments_name:
            result.documents.extend(_comments(tree, comments_name, author, result))

    def _read_messages(self, rows: list[_Row], file: str, where: str, author: str,
                       result: ImportResult) -> None:
        messages = [message for row in rows
                    if (message := _message(row, where, result)) is not None]
        owner_url = _owner_url(messages, self._owner_names(author))
        if owner_url is None:
            if messages:
                result.skip("owner_unknown", len(messages))
            return
        pseudonyms = Pseudonyms()
        for message in messages:  # every name known before any text is redacted
            if message.sender_url != owner_url:
                pseudonyms(message.sender or message.sender_url)
        done = reported = 0
        for conversation in _conversations(messages).values():
            done += len(conversation)
            if not any(message.sender_url == owner_url for message in conversation):
                # Other people only (InMail, sponsored messages): no reply of the owner's to learn.
                result.skip("no_owner_message", len(conversation))
                continue
            for position, message in enumerate(conversation):
                result.documents.append(_message_document(message, position, file, owner_url,
                                                          author, pseudonyms))
            if done - reported >= _PROGRESS_EVERY:
                self.options.report(done, len(messages))
                reported = done
        self.options.report(len(messages), len(messages))

    def _owner_names(self, author: str) -> set[str]:
        """The owner's names and profile URLs as `_owner_url` compares them."""
        names = [name.strip() for name in (author, self.options.owner_name or "",
                                           *self.options.me) if name and name.strip()]
        return {name.casefold() for name in names} | {_profile_key(name) for name in names}


# --- detection and files -------------------------------------------------------------------


def _root_csvs(tree: ExportTree) -> list[str]:
    """The CSVs read here that the export has (LinkedIn's CSVs sit at the top, not in folders)."""
    known = {"profile.csv", "comments.csv", "messages.csv"}
    return [name for name in tree.list()
            if "/" not in name and (name.casefold() in known or _SHARES_FILE.match(name))]


def _root_file(tree: ExportTree, name: str) -> str | None:
    found = tree.find(name)
    return found if found is not None and "/" not in found else None


def _share_files(tree: ExportTree) -> list[str]:
    return [name for name in tree.list() if "/" not in name and _SHARES_FILE.match(name)]


def _article_files(tree: ExportTree) -> list[str]:
    return [name for name in tree.list()
            if name.casefold().endswith(".html")
            and "articles" in (part.casefold() for part in PurePosixPath(name).parts[:-1])]


def _has_known_csv(tree: ExportTree) -> bool:
    for name in _root_csvs(tree):
        folded = "shares.csv" if _SHARES_FILE.match(name) else name.casefold()
        required = _DETECT_HEADERS.get(folded)
        if required and _header_has(tree.read_head(name, _DETECT_HEAD), required):
            return True
    return False


def _header_has(head: bytes, required: tuple[str, ...]) -> bool:
    first_line = head.decode("utf-8-sig", errors="ignore").splitlines()[:1]
    if not first_line:
        return False
    columns = {column.strip().casefold() for column in next(csv.reader(first_line))}
    return all(column.casefold() in columns for column in required)


def _has_article(tree: ExportTree) -> bool:
    return any(_ARTICLE_MARKER.search(tree.read_head(name, _DETECT_ARTICLE_HEAD))
               for name in _article_files(tree)[:_DETECT_ARTICLES])


# --- CSV reading ---------------------------------------------------------------------------


def _read_rows(tree: ExportTree, name: str, required: tuple[str, ...], *,
               backslash_quotes: bool = False) -> list[_Row]:
    """The records of a CSV, by header name: older exports lack some columns.

    Comments.csv escapes a quote inside a quoted field as \\" instead of doubling it; the csv
    module reads that when told the escape character. The cost: a lone backslash the writer typed
    is dropped unless the export doubled it (not known either way).
    """
    where = tree.display_name(name)
    text = decode_text(tree.read_bytes(name), where)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True,
                        escapechar="\\" if backslash_quotes else None)
    try:
        header = [column.strip().casefold() for column in next(reader, [])]
        _check_header(header, required, where)
        return _records(reader, header, where)
    except csv.Error as error:
        raise ImportFormatError(where, f"malformed CSV: {error}", line=reader.line_num) from error


def _check_header(header: list[str], required: tuple[str, ...], where: str) -> None:
    if not header:
        raise ImportFormatError(where, "empty file, expected a header line", line=1)
    for column in required:
        if column.casefold() not in header:
            raise ImportFormatError(where, f"no {column!r} column in the header", line=1,
                                    field_name=column)


def _records(reader: Any, header: list[str], where: str) -> list[_Row]:
    rows = []
    start = reader.line_num + 1
    for values in reader:
        if values and any(values):
            if len(values) != len(header):
                raise ImportFormatError(where, f"expected {len(header)} fields, found "
                                               f"{len(values)}", line=start)
            rows.append(_Row(dict(zip(header, values)), start))
        start = reader.line_num + 1
    return rows


def _repair_multiline(value: str) -> str:
    """Undo the extra quotes LinkedIn wraps around every line of a multi-line Shares field.

    The export writes each inner line as "line" inside the already quoted field, so a correct CSV
    parser returns `first."\\n"second` and a blank line as `""`. Removing one quote on each side
    of every line break restores the text, blank lines and genuine quotes included. It is applied
    only when every line break carries those quotes, so a field written without the quirk is
    left alone.
    """
    breaks = [index for index, char in enumerate(value) if char == "\n"]
    if not breaks or any(index == 0 or index + 1 == len(value) or value[index - 1] != '"'
                         or value[index + 1] != '"' for index in breaks):
        return value
    return value.replace('"\n"', "\n")


def _date(row: _Row, column: str, where: str) -> datetime | None:
    """LinkedIn's "2025-07-01 14:33:22" (no zone, UTC) or "2025-06-01 14:03:22 UTC"."""
    value = row.get(column).strip().removesuffix("UTC").strip()
    if not value:
        return None
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(value, date_format).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ImportFormatError(where, f"unreadable date {row.get(column)!r}", line=row.line,
                            field_name=column)


def _urn(link: str) -> str | None:
    """`urn:li:share:7300...` from a feed/update link, the post's stable id."""
    last = unquote(urlsplit(link.strip()).path.rstrip("/").rsplit("/", 1)[-1])
    return last if last.startswith("urn:li:") else None


def _keep(result: ImportResult, document: ImportedDocument | None) -> None:
    if document is None:
        result.skip("empty")
    else:
        result.documents.append(document)


# --- profile, posts, comments --------------------------------------------------------------


def _owner_name(profile: list[_Row]) -> str | None:
    if not profile:
        return None
    name = f"{profile[0].get('First Name').strip()} {profile[0].get('Last Name').strip()}"
    return name.strip() or None


def _profile_document(row: _Row, file: str, author: str) -> ImportedDocument | None:
    """Headline and summary only; the profile's other columns are personal data, never kept."""
    parts = [row.get("Headline").strip(), _repair_multiline(row.get("Summary")).strip()]
    text = "\n\n".join(part for part in parts if part)
    if not text:
        return None
    # A profile invites contact, so its summary often holds an address or number: drop them.
    return ImportedDocument(
        platform="linkedin", kind="post", author=author, is_owner=True,
        raw_text=redact_personal_data(text), title="LinkedIn profile", external_id="profile",
        metadata={"tag": "profile", "file": file, "line": row.line},
    )


def _shares(tree: ExportTree, name: str, author: str,
            result: ImportResult) -> list[ImportedDocument]:
    where = tree.display_name(name)
    known = {doc.external_id for doc in result.documents}
    documents = []
    for row in _read_rows(tree, name, SHARES_COLUMNS):
        text = _repair_multiline(row.get("ShareCommentary")).strip()
        created_at = _date(row, "Date", where)
        if not text:
            result.skip("repost")  # no words of the owner's, only someone else's post
            continue
        link = row.get("ShareLink").strip()
        external_id = _urn(link) or f"share:{row.get('Date').strip()}"
        if external_id in known:
            result.skip("duplicate")  # the same post in Shares.csv and Shares_<id>.csv
            continue
        known.add(external_id)
        documents.append(ImportedDocument(
            platform="linkedin", kind="post", author=author, is_owner=True, raw_text=text,
            created_at=created_at, url=link or None, external_id=external_id,
            metadata=_share_metadata(row, name),
        ))
    return documents


def _share_metadata(row: _Row, file: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": file, "line": row.line}
    for column, key in (("SharedUrl", "shared_url"), ("MediaUrl", "media_url"),
                        ("Visibility", "visibility")):
        value = row.get(column).strip()
        if value:
            metadata[key] = value
    return metadata


def _comments(tree: ExportTree, name: str, author: str,
              result: ImportResult) -> list[ImportedDocument]:
    where = tree.display_name(name)
    documents = []
    for row in _read_rows(tree, name, COMMENTS_COLUMNS, backslash_quotes=True):
        text = row.get("Message").strip()
        created_at = _date(row, "Date", where)
        if not text:
            result.skip("empty")
            continue
        link = row.get("Link").strip()
        metadata: dict[str, Any] = {"tag": "linkedin_comment", "weight": COMMENT_WEIGHT,
                                    "file": name, "line": row.line}
        if link:
            metadata["commented_on"] = link
        documents.append(ImportedDocument(
            platform="linkedin", kind="post", author=author, is_owner=True, raw_text=text,
            created_at=created_at,
            external_id=f"comment:{_urn(link) or link}:{row.get('Date').strip()}",
            metadata=metadata,
        ))
    return documents


# --- articles ------------------------------------------------------------------------------


def _article(tree: ExportTree, name: str, author: str) -> ImportedDocument | None:
    where = tree.display_name(name)
    soup = parse_html(decode_text(tree.read_bytes(name), where), where, "article pages")
    heading = soup.find("h1")
    link = heading.find("a", href=True) if heading else None
    url = str(link["href"]).strip() if link is not None else ""
    title_tag = heading or soup.title
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if not title:
        raise ImportFormatError(where, "no title: expected <h1><a href=...>Title</a></h1>",
                                field_name="h1")
    created = _stamp(soup, "created", where)
    published = _stamp(soup, "published", where)
    if created is None and published is None:
        raise ImportFormatError(where, "no 'Created on' or 'Published on' date",
                                field_name="p.created")
    for header_part in (heading, *soup.find_all("p", class_=("created", "published"))):
        if header_part is not None:
            header_part.decompose()
    text = html_to_text(soup.body or soup)
    if not text:
        return None
    return ImportedDocument(
        platform="linkedin", kind="article", author=author, is_owner=True, raw_text=text,
        title=title, created_at=published or created, url=url or None,
        external_id=url or f"article:{PurePosixPath(name).stem}",
        metadata=_article_metadata(name, created, published),
    )


def _stamp(soup: BeautifulSoup, css_class: str, where: str) -> datetime | None:
    """The date in <p class="created">Created on 2024-09-20 06:04</p> (or "published")."""
    paragraph = soup.find("p", class_=css_class)
    if paragraph is None:
        return None
    match = _STAMP.search(paragraph.get_text(" ", strip=True))
    if match is None:
        raise ImportFormatError(where, f"unreadable date {paragraph.get_text(strip=True)!r}",
                                field_name=f"p.{css_class}")
    return datetime.fromisoformat(f"{match.group(1)} {match.group(2)}").replace(
        tzinfo=UTC)


def _article_metadata(file: str, created: datetime | None,
                      published: datetime | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": file}
    if created is not None:
        metadata["created"] = created.isoformat()
    if published is not None:
        metadata["published"] = published.isoformat()
    else:
        metadata["draft"] = True  # LinkedIn writes no "Published on" line for unpublished ones
    return metadata


# --- messages ------------------------------------------------------------------------------


def _message(row: _Row, where: str, result: ImportResult) -> _Message | None:
    if _is_yes(row.get("IS MESSAGE DRAFT")) or _is_yes(row.get("IS CONVERSATION DRAFT")):
        result.skip("draft")
        return None
    text = _message_text(row.get("CONTENT"))
    if not text:
        result.skip("empty")  # an attachment or a call notice without words
        return None
    sender_url = _profile_key(row.get("SENDER PROFILE URL"))
    recipients = {_profile_key(url) for url in row.get("RECIPIENT PROFILE URLS").split(",")}
    return _Message(row=row, conversation=row.get("CONVERSATION ID").strip(),
                    sender=row.get("FROM").strip(), sender_url=sender_url,
                    participants=frozenset({sender_url} | recipients) - {""},
                    created_at=_date(row, "DATE", where), text=text)


def _is_yes(value: str) -> bool:
    return value.strip().casefold() in ("yes", "true")


def _profile_key(url: str) -> str:
    """One spelling per profile URL (exports differ in scheme, case and a trailing slash)."""
    return url.strip().rstrip("/").casefold().removeprefix("http://").removeprefix("https://")


def _message_text(content: str) -> str:
    if _HTML_TAG.search(content):
        return html_to_text(content)
    return content.strip()


def _owner_url(messages: list[_Message], owner_names: set[str]) -> str | None:
    """The profile taking part in the most conversations; the owner's name breaks a tie."""
    conversations: dict[str, set[str]] = {}
    for message in messages:
        conversations.setdefault(message.conversation, set()).update(message.participants)
    counts = Counter(url for participants in conversations.values() for url in participants)
    if not counts:
        return None
    most = max(counts.values())
    leaders = {url for url, count in counts.items() if count == most}
    if len(leaders) == 1:
        return leaders.pop()
    named = {message.sender_url for message in messages if message.sender_url in leaders
             and (message.sender.casefold() in owner_names or message.sender_url in owner_names)}
    return named.pop() if len(named) == 1 else None


def _conversations(messages: list[_Message]) -> dict[str, list[_Message]]:
    """Messages by conversation, oldest first."""
    grouped: dict[str, list[_Message]] = {}
    for message in messages:
        grouped.setdefault(message.conversation, []).append(message)
    oldest = datetime.min.replace(tzinfo=UTC)
    # Within one second, a newest-first file lists the later message first.
    return {conversation: sorted(group, key=lambda m: (m.created_at or oldest, -m.row.line))
            for conversation, group in grouped.items()}


def _message_document(message: _Message, position: int, file: str, owner_url: str,
                      author: str, pseudonyms: Pseudonyms) -> ImportedDocument:
    is_owner = message.sender_url == owner_url
    text = message.text
    if not is_owner:
        text = pseudonyms.redact_names(redact_personal_data(text))
    return ImportedDocument(
        platform="linkedin", kind="message", is_owner=is_owner, raw_text=text,
        author=author if is_owner else pseudonyms(message.sender or message.sender_url),
        created_at=message.created_at,
        external_id=f"{message.conversation}:{position}",
        metadata={**DocumentMeta(conversation=message.conversation, position=position),
                  "file": file, "line": message.row.line},
    )
