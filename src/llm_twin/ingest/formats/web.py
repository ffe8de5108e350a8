"""Pages of the owner's own website, by URL: one page, every page of a sitemap, or a feed.

- A page: trafilatura finds the main text (navigation, footers, sidebars and comment sections
  are left out) and the title, author and date. The main text comes out as HTML and is laid out
  by `html_text.html_to_text`, like every other HTML source: trafilatura's own Markdown output
  escapes the writer's `*` and `_` and turns each `<br>` into a paragraph break.
- A sitemap (`<urlset>` or `<sitemapindex>`, gzipped or not, parsed with defusedxml): each page on
  the sitemap's own host, at most `max_pages`, politely (SafeFetcher's rate limit and robots.txt).
  In a crawl a page that fails or is disallowed is skipped and counted; the URL given by the user
  must work, or the import fails.
- A feed: handed to FeedImporter's parser.

Every page counts as the owner's (`is_owner` True): importing a URL asserts it is the user's own
writing. The fingerprint hashes every fetched body, so re-importing unchanged pages is a no-op.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import trafilatura
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from llm_twin.ingest.base import (ImportedDocument, ImporterBase, ImportFormatError, ImportOptions,
                                  ImportResult)
from llm_twin.ingest.formats.feed import FEED_MEDIA_TYPES, FeedImporter, looks_like_feed
from llm_twin.ingest.html_text import html_to_text
from llm_twin.ingest.net import (FetchedResponse, RobotsDisallowed, SafeFetcher, content_digest,
                                 fetcher_session, is_url)

DEFAULT_MAX_PAGES = 200
PLATFORM = "web"
KIND = "article"
FALLBACK_AUTHOR = "owner"
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HEAD_BYTES = 2048
_GZIP_MAGIC = b"\x1f\x8b"
_SITEMAP_ROOT = re.compile(rb"<(?:\w+:)?(?:urlset|sitemapindex)\b")
_HEADING = re.compile(r"^#+ ")
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html)\b", re.IGNORECASE)
# Only dates the page states; an extensive search guesses from copyright lines and URLs.
_DATE_CONFIG = {"original_date": True, "extensive_search": False,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z"}

logger = logging.getLogger(__name__)


class _PageRef(NamedTuple):
    url: str
    sitemap: str  # the sitemap that lists it
    position: int  # its index in that sitemap


@dataclass
class _Crawl:
    """What one `read` has fetched and produced so far."""

    result: ImportResult
    fetched: list[tuple[str, bytes]] = field(default_factory=list)

    def keep(self, response: FetchedResponse) -> bytes:
        self.fetched.append((response.url, response.content))
        return response.content


class WebImporter(ImporterBase):
    format_name = "web"

    def __init__(self, options: ImportOptions | None = None, *,
                 fetcher: SafeFetcher | None = None, max_pages: int = DEFAULT_MAX_PAGES):
        self.options = options or ImportOptions()
        self.max_pages = max_pages
        self._fetcher = fetcher

    def detect(self, location: str | Path) -> bool:
        """Any http(s) URL; FeedImporter claims the feed-looking ones first."""
        return is_url(location)

    def read(self, location: str | Path) -> ImportResult:
        if not is_url(location):
            raise ImportFormatError(location, "not an http or https URL")
        url = str(location).strip()
        crawl = _Crawl(ImportResult(self.format_name, []))
        with fetcher_session(self._fetcher, self.options) as fetcher:
            response = fetcher.fetch(url)
            body = _gunzipped(crawl.keep(response), response.url, fetcher.max_bytes)
            if _is_feed(response, body):
                crawl.result = self._feed_result(response, body)
            elif _SITEMAP_ROOT.search(body[:_HEAD_BYTES]):
                self._crawl_sitemap(fetcher, crawl, response.url, body)
            elif _is_html(response, body):
                self._add_page(crawl.result, response, None)
            else:
                raise ImportFormatError(response.url, "not a web page, sitemap or feed (content "
                                                      f"type {response.content_type or 'unknown'})")
        crawl.result.fingerprint = content_digest(crawl.fetched)
        return crawl.result

    def _feed_result(self, response: FetchedResponse, body: bytes) -> ImportResult:
        result = FeedImporter(self.options).read_bytes(
            body, response.url, content_type=response.headers.get("content-type"))
        # The pipeline files an import under the importer that read it.
        result.format_name = self.format_name
        return result

    def _crawl_sitemap(self, fetcher: SafeFetcher, crawl: _Crawl, sitemap_url: str,
                       body: bytes) -> None:
        result = crawl.result
        pages = self._sitemap_pages(fetcher, crawl, sitemap_url, body)
        if len(pages) > self.max_pages:
            result.skip("over_page_limit", len(pages) - self.max_pages)
            pages = pages[:self.max_pages]
        for done, ref in enumerate(pages, start=1):
            page = self._fetch_in_crawl(fetcher, result, ref.url)
            if page is not None:
                crawl.keep(page)
                if _is_html(page, page.content):
                    self._add_page(result, page, {"sitemap": ref.sitemap, "position": ref.position})
                else:
                    result.skip("not_html")
            self.options.report(done, len(pages))

    def _sitemap_pages(self, fetcher: SafeFetcher, crawl: _Crawl, sitemap_url: str,
                       body: bytes) -> list[_PageRef]:
        """Every page on the sitemap's host, once.

        A sitemap index is followed one level down, to the sitemaps on the same host.
        """
        kind, locations = _parse_sitemap(body, sitemap_url)
        if kind == "urlset":
            return self._same_host(crawl.result, sitemap_url, locations)
        pages: list[_PageRef] = []
        for child_ref in self._same_host(crawl.result, sitemap_url, locations):
            child = self._fetch_in_crawl(fetcher, crawl.result, child_ref.url)
            if child is None:
                continue
            try:
                child_body = _gunzipped(crawl.keep(child), child.url, fetcher.max_bytes)
                child_kind, child_locations = _parse_sitemap(child_body, child.url)
            except ImportFormatError as error:
                logger.warning("skipping %s", error)
                crawl.result.skip("bad_sitemap")
                continue
            if child_kind != "urlset":
                crawl.result.skip("nested_sitemap_index")
                continue
            pages += self._same_host(crawl.result, child.url, child_locations)
        return _unique(crawl.result, pages)

    def _same_host(self, result: ImportResult, sitemap_url: str,
                   locations: list[str]) -> list[_PageRef]:
        host = _host(sitemap_url)
        kept = []
        for position, location in enumerate(locations):
            if is_url(location) and _host(location) == host:
                kept.append(_PageRef(location, sitemap_url, position))
            else:
                result.skip("other_host")
        return _unique(result, kept)

    def _fetch_in_crawl(self, fetcher: SafeFetcher, result: ImportResult,
                        url: str) -> FetchedResponse | None:
        try:
            return fetcher.fetch(url)
        except RobotsDisallowed:
            result.skip("robots_disallowed")
        except ImportFormatError as error:
            logger.warning("skipping %s", error)
            result.skip("fetch_failed")
        return None

    def _add_page(self, result: ImportResult, page: FetchedResponse,
                  crawl_metadata: dict[str, Any] | None) -> None:
        document = self._page_document(page, crawl_metadata or {})
        if document is None:
            result.skip("no_main_text")
        else:
            result.documents.append(document)

    def _page_document(self, page: FetchedResponse,
                       crawl_metadata: dict[str, Any]) -> ImportedDocument | None:
        html = _html_input(page)
        # Precision over recall: a stray menu line in the training text costs more than a
        # missed sentence.
        main_html = trafilatura.extract(html, url=page.url, output_format="html",
                                        favor_precision=True, include_formatting=True,
                                        include_comments=False, include_tables=True,
                                        include_images=False, include_links=False)
        if not main_html:
            return None
        tree = trafilatura.load_html(html)
        if tree is None:
            return None
        meta = trafilatura.extract_metadata(tree, default_url=page.url, date_config=_DATE_CONFIG)
        text = _without_title_heading(html_to_text(main_html), meta.title)
        if not text:
            return None
        return ImportedDocument(
            platform=PLATFORM, kind=KIND,
            author=meta.author or self.options.owner_name or FALLBACK_AUTHOR,
            is_owner=True,
            raw_text=text,
            title=meta.title or None,
            created_at=_utc(meta.date),
            url=page.url,
            language=_page_language(tree),
            external_id=page.url,
            metadata={**_page_metadata(page, meta), **crawl_metadata},
        )


def _is_feed(response: FetchedResponse, body: bytes) -> bool:
    return response.content_type in FEED_MEDIA_TYPES or looks_like_feed(body[:_HEAD_BYTES])


def _is_html(response: FetchedResponse, body: bytes) -> bool:
    if response.content_type in HTML_MEDIA_TYPES:
        return True
    # Servers without a content type, or with text/plain, still send pages.
    sniffable = response.content_type in ("", "text/plain")
    return sniffable and bool(_HTML_START.search(body[:_HEAD_BYTES]))


def _gunzipped(body: bytes, url: str, max_bytes: int) -> bytes:
    """A `.xml.gz` sitemap arrives as gzip bytes; unpack it, no bigger than `max_bytes`."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as unpacked:
            data = unpacked.read(max_bytes + 1)
    except (OSError, EOFError) as error:
        raise ImportFormatError(url, f"damaged gzip data: {error}") from error
    if len(data) > max_bytes:
        raise ImportFormatError(url, f"unpacks to more than {max_bytes} bytes")
    return data


def _parse_sitemap(body: bytes, url: str) -> tuple[str, list[str]]:
    """("urlset" or "sitemapindex", the <loc> of each entry in order)."""
    try:
        root = parse_xml(body)
    except DefusedXmlException as error:
        raise ImportFormatError(url, f"sitemap refused: {error}") from error
    except ParseError as error:
        raise ImportFormatError(url, f"malformed sitemap XML: {error}",
                                line=error.position[0]) from error
    kind = _local_name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise ImportFormatError(url, f"XML root <{kind}> is not a sitemap "
                                     "<urlset> or <sitemapindex>")
    locations = [loc.text.strip() for entry in root for loc in entry
                 if _local_name(loc) == "loc" and loc.text and loc.text.strip()]
    return kind, locations


def _local_name(element: Element) -> str:
    return str(element.tag).rpartition("}")[2]


def _unique(result: ImportResult, pages: list[_PageRef]) -> list[_PageRef]:
    seen: set[str] = set()
    unique = []
    for ref in pages:
        if ref.url in seen:
            result.skip("duplicate_url")
            continue
        seen.add(ref.url)
        unique.append(ref)
    return unique


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").casefold()


def _html_input(page: FetchedResponse) -> str | bytes:
    """The page as text when the server named its charset, else bytes for trafilatura to sniff."""
    if page.charset:
        try:
            return page.content.decode(page.charset, errors="replace")
        except LookupError:
            pass
    return page.content


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _without_title_heading(text: str, title: str | None) -> str:
    """The page's own <h1> repeats the title, which the document already carries."""
    first, _, rest = text.partition("\n\n")
    if title and _HEADING.sub("", first).strip() == title.strip():
        return rest.strip("\n")
    return text


def _page_language(tree: Any) -> str | None:
    language = tree.get("lang") if tree is not None else None
    return language.strip() if isinstance(language, str) and language.strip() else None


def _page_metadata(page: FetchedResponse, meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"file": page.url}
    if meta.url and meta.url != page.url:
        metadata["canonical_url"] = meta.url
    if meta.sitename and meta.sitename != urlsplit(page.url).netloc:  # not just the host again
        metadata["sitename"] = meta.sitename
    if meta.description:
        metadata["description"] = meta.description
    for name in ("tags", "categories"):
        values = [value for value in getattr(meta, name, None) or [] if value]
        if values:
            metadata[name] = values
    return metadata
