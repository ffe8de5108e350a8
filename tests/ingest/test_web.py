"""WebImporter against a real local site: a page, sitemaps, robots.txt, a feed, and failures."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from local_site import LocalSite

from llm_twin.ingest.base import ImportFormatError, ImportOptions, ImportResult
from llm_twin.ingest.net import RobotsDisallowed, SafeFetcher
from llm_twin.ingest.formats.web import WebImporter

FIXTURES = Path(__file__).parents[1] / "fixtures"
WEB = FIXTURES / "web"
LOCAL = ImportOptions(allow_private=True)
BOILERPLATE = ("Home", "Archive", "Subscribe", "All rights reserved", "Powered by",
               "Cookie settings", "Popular posts", "Great post", "3 comments", "No spam")


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite(WEB) as running:
        yield running


def read(url: str, options: ImportOptions = LOCAL, *, min_interval: float = 0.0,
         **importer_args: object) -> ImportResult:
    with SafeFetcher(options, min_interval=min_interval) as fetcher:
        importer = WebImporter(options, fetcher=fetcher, **importer_args)  # type: ignore[arg-type]
        return importer.read(url)


# Detection

@pytest.mark.parametrize("location", ["https://notes.example.net/",
                                      "http://notes.example.net/a/b?c=d",
                                      " https://notes.example.net/post "])
def test_detects_http_urls(location: str) -> None:
    assert WebImporter().detect(location)


@pytest.mark.parametrize("location", [WEB / "post.html", str(WEB / "post.html"),
                                      Path("https://notes.example.net/"),
                                      "ftp://notes.example.net/", "notes.example.net/post", ""])
def test_does_not_detect_files_or_other_schemes(location: object) -> None:
    assert not WebImporter().detect(location)  # type: ignore[arg-type]


def test_a_path_is_not_read_as_a_url() -> None:
    with pytest.raises(ImportFormatError, match="not an http or https URL"):
        WebImporter().read(WEB / "post.html")


# One page

def test_page_main_text_without_navigation_footer_sidebar_or_comments(site: LocalSite) -> None:
    [doc] = read(site.url("/post.html")).documents
    assert doc.raw_text.startswith("I used to start the day with the inbox.")
    assert doc.raw_text.endswith("after I have said something to myself first.")
    for boilerplate in BOILERPLATE:
        assert boilerplate not in doc.raw_text


def test_page_keeps_line_breaks_paragraphs_emoji_and_the_writers_asterisks(site: LocalSite) -> None:
    [doc] = read(site.url("/post.html")).documents
    assert ("nothing else. ☕️\n\n"
            "The first hour is for thinking on paper.\nNo tabs.\nNo pings.\n\n") in doc.raw_text
    assert "My drafts got *shorter*. My sentences got longer! Odd, but true…" in doc.raw_text
    assert "## What changed\n\n" in doc.raw_text


def test_page_metadata_title_author_date_language(site: LocalSite) -> None:
    [doc] = read(site.url("/post.html")).documents
    assert (doc.platform, doc.kind, doc.is_owner) == ("web", "article", True)
    assert (doc.title, doc.author) == ("Notes on Slow Mornings", "Dana Okafor")
    assert doc.created_at == datetime(2024, 3, 9, 7, 15, tzinfo=timezone.utc)
    assert doc.language == "en-GB"
    assert doc.url == doc.external_id == site.url("/post.html")
    assert doc.metadata == {"file": site.url("/post.html"), "sitename": "Dana's Notebook",
                            "description": "Why the first hour of my day belongs to a notebook."}


def test_title_heading_is_not_repeated_in_the_text(site: LocalSite) -> None:
    [doc] = read(site.url("/post.html")).documents
    assert "Notes on Slow Mornings" not in doc.raw_text


def test_date_only_page_is_midnight_utc(site: LocalSite) -> None:
    [doc] = read(site.url("/pages/pencils.html")).documents
    assert doc.created_at == datetime(2023, 11, 30, tzinfo=timezone.utc)


def test_page_without_author_falls_back_to_the_owner_name(site: LocalSite) -> None:
    site.add("/about", (WEB / "private" / "drafts.html").read_bytes())  # no author anywhere
    options = ImportOptions(allow_private=True, owner_name="Dana Okafor")
    [doc] = read(site.url("/about"), options).documents
    assert (doc.author, doc.is_owner) == ("Dana Okafor", True)


def test_redirected_page_is_filed_under_its_final_url(site: LocalSite) -> None:
    site.add("/2024/slow-mornings", status=301, headers={"Location": "/post.html"})
    [doc] = read(site.url("/2024/slow-mornings")).documents
    assert doc.url == site.url("/post.html")


def test_page_with_no_main_text_is_skipped_and_counted(site: LocalSite) -> None:
    site.add("/blank", "<!DOCTYPE html><html><head><title>Blank</title></head><body></body></html>")
    result = read(site.url("/blank"))
    assert (result.documents, result.skipped) == ([], {"no_main_text": 1})


def test_html_without_a_content_type_is_still_a_page(site: LocalSite) -> None:
    site.add("/bare", (WEB / "pages" / "walking.html").read_bytes(), content_type=None)
    [doc] = read(site.url("/bare")).documents
    assert doc.title == "Walking Without a Destination"


LEGACY_PAGE = ("<!DOCTYPE html><html><head>{meta}<title>Café</title></head><body><article>"
               + "<p>Crème brûlée, twice – and a naïve façade, as every year.</p>" * 4
               + "</article></body></html>")


@pytest.mark.parametrize(("meta", "content_type"), [
    ('<meta charset="windows-1252">', "text/html"),
    ("", "text/html; charset=windows-1252"),
])
def test_windows_1252_page_is_decoded_by_meta_or_header(site: LocalSite, meta: str,
                                                        content_type: str) -> None:
    site.add("/legacy", LEGACY_PAGE.format(meta=meta).encode("cp1252"), content_type=content_type)
    [doc] = read(site.url("/legacy")).documents
    assert doc.raw_text.startswith("Crème brûlée, twice – and a naïve façade, as every year.")


def test_fingerprint_is_stable_and_follows_the_content(site: LocalSite) -> None:
    first = read(site.url("/post.html"))
    again = read(site.url("/post.html"))
    site.add("/post.html", (WEB / "post.html").read_bytes().replace(b"No pings.", b"No pings!"))
    changed = read(site.url("/post.html"))
    assert first.fingerprint is not None and first.fingerprint == again.fingerprint
    assert changed.fingerprint != first.fingerprint


# Sitemaps

def test_sitemap_crawls_its_pages_skipping_robots_disallowed_and_other_hosts(
        site: LocalSite) -> None:
    result = read(site.url("/sitemap.xml"))
    assert [doc.title for doc in result.documents] == ["Notes on Slow Mornings",
                                                       "Walking Without a Destination"]
    assert result.skipped == {"robots_disallowed": 1, "other_host": 1}
    assert "/private/drafts.html" not in site.paths()
    assert result.documents[1].metadata["sitemap"] == site.url("/sitemap.xml")
    assert result.documents[1].metadata["position"] == 1
    assert result.format_name == "web"


def test_sitemap_crawl_is_rate_limited_per_host(site: LocalSite) -> None:
    read(site.url("/sitemap.xml"), min_interval=0.2)
    arrivals = [request.at for request in site.requests]
    assert len(arrivals) == 4  # robots.txt, the sitemap, two pages
    assert all(later - earlier >= 0.15 for earlier, later in zip(arrivals, arrivals[1:]))


def test_sitemap_index_follows_its_sitemaps_once_per_page(site: LocalSite) -> None:
    result = read(site.url("/sitemap_index.xml"))
    assert sorted(doc.title for doc in result.documents) == [
        "Notes on Slow Mornings", "Pencils Forgive You", "Walking Without a Destination"]
    assert result.skipped == {"other_host": 1, "duplicate_url": 1}
    assert site.paths().count("/post.html") == 1
    pencils = next(doc for doc in result.documents if doc.title == "Pencils Forgive You")
    assert pencils.metadata["sitemap"] == site.url("/sitemap-pages.xml")


def test_gzipped_sitemap(site: LocalSite) -> None:
    site.add("/sitemap.xml.gz", gzip.compress((WEB / "sitemap.xml").read_bytes()
                                              .replace(b"{{BASE}}", site.base_url.encode())),
             content_type="application/x-gzip")
    assert len(read(site.url("/sitemap.xml.gz")).documents) == 2


def test_page_limit_caps_the_crawl(site: LocalSite) -> None:
    result = read(site.url("/sitemap_index.xml"), max_pages=2)
    assert len(result.documents) == 2
    assert result.skipped["over_page_limit"] == 1
    assert "/pages/pencils.html" not in site.paths()


def test_failing_page_in_a_crawl_is_skipped_and_counted(site: LocalSite) -> None:
    site.add("/sitemap-broken.xml", f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{site.url('/post.html')}</loc></url><url><loc>{site.url('/deleted.html')}</loc></url>
<url><loc>{site.url('/robots.txt')}</loc></url></urlset>""", content_type="application/xml")
    result = read(site.url("/sitemap-broken.xml"))
    assert len(result.documents) == 1
    assert result.skipped == {"fetch_failed": 1, "not_html": 1}


def test_malformed_sitemap_names_the_url_and_line(site: LocalSite) -> None:
    site.add("/sitemap-bad.xml", '<?xml version="1.0"?>\n<urlset>\n<url><loc>x</loc>\n</urlset>',
             content_type="application/xml")
    with pytest.raises(ImportFormatError) as caught:
        read(site.url("/sitemap-bad.xml"))
    assert caught.value.file == site.url("/sitemap-bad.xml")
    assert "malformed sitemap XML" in caught.value.problem
    assert caught.value.line == 4


def test_sitemap_with_entity_declarations_is_refused(site: LocalSite) -> None:
    site.add("/sitemap-bomb.xml",
             '<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
             '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
             "<urlset><url><loc>&b;</loc></url></urlset>", content_type="application/xml")
    with pytest.raises(ImportFormatError, match="sitemap refused"):
        read(site.url("/sitemap-bomb.xml"))


# Feeds, failures and safety

def test_url_that_serves_a_feed_is_read_as_a_feed(site: LocalSite) -> None:
    site.add("/latest", (FIXTURES / "feed" / "atom.xml").read_bytes(),
             content_type="application/atom+xml")
    result = read(site.url("/latest"))
    assert result.format_name == "web"
    assert [doc.title for doc in result.documents] == [
        "Why I Write Before Breakfast", "Lists, Again", "Reply from a reader"]
    assert result.documents[0].platform == "blog"
    assert result.fingerprint is not None


def test_missing_page_names_the_url_and_status(site: LocalSite) -> None:
    with pytest.raises(ImportFormatError) as caught:
        read(site.url("/nowhere.html"))
    assert caught.value.file == site.url("/nowhere.html")
    assert caught.value.problem == "HTTP 404 Not Found"


def test_page_disallowed_by_robots_is_an_error_not_an_empty_import(site: LocalSite) -> None:
    with pytest.raises(RobotsDisallowed):
        read(site.url("/private/drafts.html"))
    assert "/private/drafts.html" not in site.paths()


def test_non_html_content_is_an_error(site: LocalSite) -> None:
    site.add("/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")
    with pytest.raises(ImportFormatError, match="not a web page, sitemap or feed"):
        read(site.url("/photo.png"))


def test_private_address_is_refused_without_allow_private(site: LocalSite) -> None:
    with pytest.raises(ImportFormatError, match="non-public address 127.0.0.1"):
        WebImporter().read(site.url("/post.html"))
    assert site.requests == []


def test_oversized_page_is_an_error(site: LocalSite) -> None:
    site.add("/huge.html", "<html><body>" + "<p>words words words</p>" * 2000 + "</body></html>")
    with SafeFetcher(LOCAL, min_interval=0, max_bytes=10_000) as fetcher, \
            pytest.raises(ImportFormatError, match="larger than"):
        WebImporter(LOCAL, fetcher=fetcher).read(site.url("/huge.html"))


def test_broken_sitemap_inside_an_index_is_skipped_and_counted(site: LocalSite) -> None:
    site.add("/index-with-bad.xml", f"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{site.url('/sitemap-posts.xml')}</loc></sitemap>
<sitemap><loc>{site.url('/sitemap-cut.xml')}</loc></sitemap></sitemapindex>""",
             content_type="application/xml")
    site.add("/sitemap-cut.xml", "<urlset><url><loc>", content_type="application/xml")
    result = read(site.url("/index-with-bad.xml"))
    assert len(result.documents) == 2
    assert result.skipped == {"bad_sitemap": 1}
