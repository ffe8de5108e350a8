"""FeedImporter: RSS 2.0, Atom and RSS 1.0 fixtures, hostile XML, and a feed served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from local_site import LocalSite

from llm_twin.ingest.base import ImportedDocument, ImportFormatError, ImportOptions
from llm_twin.ingest.formats.feed import FeedImporter
from llm_twin.ingest.net import SafeFetcher

FIXTURES = Path(__file__).parents[1] / "fixtures"
FEEDS = FIXTURES / "feed"
OWNER = ImportOptions(owner_name="Dana Okafor")


def by_title(documents: list[ImportedDocument]) -> dict[str | None, ImportedDocument]:
    return {doc.title: doc for doc in documents}


@pytest.fixture(scope="module")
def rss() -> dict[str | None, ImportedDocument]:
    return by_title(FeedImporter(OWNER).read(FEEDS / "rss.xml").documents)


@pytest.fixture(scope="module")
def atom() -> dict[str | None, ImportedDocument]:
    return by_title(FeedImporter(OWNER).read(FEEDS / "atom.xml").documents)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite(FEEDS) as running:
        yield running


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    target = tmp_path / name
    target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return target


# Detection

@pytest.mark.parametrize("name", ["rss.xml", "atom.xml", "rss1.rdf"])
def test_detects_feed_files_by_content(name: str) -> None:
    assert FeedImporter().detect(FEEDS / name)


def test_detects_a_feed_whatever_its_file_name(tmp_path: Path) -> None:
    renamed = write(tmp_path, "EXPORT.DAT", (FEEDS / "atom.xml").read_bytes())
    assert FeedImporter().detect(renamed)


def test_detects_a_utf16_feed(tmp_path: Path) -> None:
    feed = write(tmp_path, "feed.xml", (FEEDS / "rss.xml").read_text("utf-8")
                 .replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert FeedImporter().detect(feed)
    assert len(FeedImporter().read(feed).documents) == 5


def test_wordpress_wxr_is_left_to_the_wordpress_importer(tmp_path: Path) -> None:
    wxr = write(tmp_path, "site.WordPress.2024-03-01.xml",
                '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"\n'
                ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel><title>x</title>'
                '</channel></rss>')
    assert not FeedImporter().detect(wxr)


def other_fixture_files() -> list[Path]:
    return sorted(path for path in FIXTURES.rglob("*")
                  if path.is_file() and FEEDS not in path.parents)


@pytest.mark.parametrize("path", other_fixture_files(), ids=lambda path: path.name)
def test_other_formats_are_not_feeds(path: Path) -> None:
    assert not FeedImporter().detect(path)


@pytest.mark.parametrize("make", [
    lambda tmp: tmp,  # a folder
    lambda tmp: tmp / "missing.xml",
    lambda tmp: write(tmp, "blob.bin", bytes(range(256)) * 8),
    lambda tmp: write(tmp, "empty.xml", b""),
    lambda tmp: write(tmp, "page.xml", '<?xml version="1.0"?><feedback>not a feed</feedback>'),
])
def test_detection_is_false_and_quiet_on_foreign_input(tmp_path: Path, make) -> None:
    assert not FeedImporter().detect(make(tmp_path))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://fieldnotes.example.org/feed.xml", True),
    ("https://fieldnotes.example.org/feed/", True),
    ("https://fieldnotes.example.org/rss", True),
    ("https://notes.example.net/index.atom", True),
    ("https://notes.example.net/blog/posts.rss", True),
    ("https://fieldnotes.example.org/?feed=rss2", True),
    ("https://fieldnotes.example.org/sitemap.xml", False),
    ("https://fieldnotes.example.org/post-sitemap.xml", False),
    ("https://fieldnotes.example.org/about/", False),
    ("https://fieldnotes.example.org/2024/03/slow-mornings.html", False),
    ("ftp://fieldnotes.example.org/feed.xml", False),
])
def test_detects_urls_by_their_path_without_fetching(url: str, expected: bool) -> None:
    assert FeedImporter().detect(url) is expected


# RSS 2.0

def test_rss_entry_fields(rss) -> None:
    doc = rss["Notes on Slow Mornings"]
    assert (doc.platform, doc.kind) == ("blog", "article")
    assert (doc.author, doc.is_owner) == ("Dana Okafor", True)
    assert doc.url == "https://fieldnotes.example.org/2024/03/slow-mornings/"
    assert doc.external_id == "https://fieldnotes.example.org/?p=412"
    assert doc.created_at == datetime(2024, 3, 9, 7, 15, tzinfo=timezone.utc)
    assert doc.language == "en-gb"
    assert doc.metadata == {"file": str(FEEDS / "rss.xml"), "position": 0,
                            "feed": "Field Notes by Dana Okafor", "tags": ["habits", "writing"]}


def test_rss_full_content_is_preferred_and_keeps_paragraphs_breaks_and_emoji(rss) -> None:
    assert rss["Notes on Slow Mornings"].raw_text == (
        "I used to start the day with the inbox. Now I start it with a kettle, a window and a "
        "notebook — nothing else. ☕️\n\n"
        "The first hour is for thinking on paper.\nNo tabs.\nNo pings.\n\n"
        "## What changed\n\n"
        "My drafts got shorter. My sentences got longer! Odd, but true…")


def test_appeared_first_on_footer_is_dropped(rss) -> None:
    assert "appeared first on" not in rss["Notes on Slow Mornings"].raw_text


def test_full_content_ending_in_an_ellipsis_is_not_called_truncated(rss) -> None:
    assert "truncated" not in rss["Notes on Slow Mornings"].metadata


def test_summary_only_entry_is_flagged_truncated_and_loses_the_more_marker(rss) -> None:
    doc = rss["Walking Without a Destination"]
    assert doc.raw_text.endswith("and now I plan the walk before I plan the essay.")
    assert doc.metadata["truncated"] is True
    assert doc.metadata["summary_only"] is True


def test_guest_author_is_not_the_owner(rss) -> None:
    doc = rss["Guest post: Notebooks I Have Loved"]
    assert (doc.author, doc.is_owner) == ("Rui Tanaka", False)


def test_short_untitled_entry_is_a_post_by_the_feed_author(rss) -> None:
    doc = rss[None]
    assert (doc.kind, doc.author, doc.is_owner) == ("post", "Dana Okafor", True)
    assert doc.raw_text == ("First frost on the allotment this morning. "
                            "The leeks don't care. 🥶🌱")
    assert doc.external_id == "note-2024-01-05"


def test_undated_entry_has_no_date(rss) -> None:
    assert rss["An Undated Draft About Pencils"].created_at is None


def test_empty_entries_are_skipped_and_counted() -> None:
    result = FeedImporter().read(FEEDS / "rss.xml")
    assert result.skipped == {"empty": 1}
    assert len(result.documents) == 5
    assert result.owner == "Dana Okafor"
    assert result.format_name == "feed"


def test_owner_name_option_claims_entries_by_that_author() -> None:
    importer = FeedImporter(ImportOptions(owner_name="rui tanaka"))
    docs = by_title(importer.read(FEEDS / "rss.xml").documents)
    assert docs["Guest post: Notebooks I Have Loved"].is_owner


def test_entries_without_any_author_info_are_the_owners(tmp_path: Path) -> None:
    feed = write(tmp_path, "plain.xml", '<rss version="2.0"><channel><title>t</title><item>'
                 "<title>Mine</title><description>Words.</description></item></channel></rss>")
    [doc] = FeedImporter().read(feed).documents
    assert (doc.author, doc.is_owner) == ("owner", True)


def test_read_more_tail_is_removed_and_flagged(tmp_path: Path) -> None:
    feed = write(tmp_path, "more.xml", '<rss version="2.0"><channel><title>t</title><item>'
                 "<title>Teaser</title><description><![CDATA[<p>The start of a long thought.</p>"
                 '<p><a href="https://x.example/teaser">Continue reading →</a></p>]]>'
                 "</description>"
                 "</item></channel></rss>")
    [doc] = FeedImporter().read(feed).documents
    assert doc.raw_text == "The start of a long thought."
    assert doc.metadata["truncated"] is True


def test_windows_1252_feed_is_decoded_by_its_declaration(tmp_path: Path) -> None:
    feed = write(tmp_path, "legacy.xml", '<?xml version="1.0" encoding="windows-1252"?>'
                 '<rss version="2.0"><channel><title>t</title><item><title>Café notes</title>'
                 "<description>Crème brûlée – twice.</description></item></channel></rss>"
                 .encode("cp1252"))
    [doc] = FeedImporter().read(feed).documents
    assert (doc.title, doc.raw_text) == ("Café notes", "Crème brûlée – twice.")


# Atom and RSS 1.0

def test_atom_html_title_becomes_plain_text_and_dates_are_utc(atom) -> None:
    doc = atom["Why I Write Before Breakfast"]
    assert doc.created_at == datetime(2024, 4, 1, 4, 45, tzinfo=timezone.utc)
    assert doc.metadata["updated"] == "2024-04-02T09:30:00+00:00"
    assert doc.language == "en"


def test_atom_content_is_preferred_over_summary_and_keeps_line_breaks(atom) -> None:
    assert atom["Why I Write Before Breakfast"].raw_text == (
        "Short version: hunger is a deadline.\n\n"
        "Long version: the hour before food is the only hour that nobody else has claimed yet.\n"
        "Not the kids.\nNot the office.")


def test_atom_relative_link_resolves_against_xml_base(atom) -> None:
    url = atom["Why I Write Before Breakfast"].url
    assert url == "https://notes.example.net/posts/before-breakfast/"


def test_atom_xhtml_content_and_updated_only_date(atom) -> None:
    doc = atom["Lists, Again"]
    assert doc.raw_text == ("Three things I keep re-learning:\n\n"
                            "- write it down\n- write it short\n- write it again tomorrow")
    assert doc.created_at == datetime(2024, 3, 20, 18, tzinfo=timezone.utc)
    assert "updated" not in doc.metadata
    assert (doc.author, doc.is_owner) == ("Dana Okafor", True)


def test_atom_text_content_and_other_author(atom) -> None:
    doc = atom["Reply from a reader"]
    assert doc.raw_text == "I tried the morning notebook for a month. It stuck."
    assert (doc.author, doc.is_owner) == ("Morgan Reyes", False)


def test_rss_1_0_feed() -> None:
    [doc] = FeedImporter().read(FEEDS / "rss1.rdf").documents
    assert doc.title == "First Post, Finally"
    assert doc.created_at == datetime(2009, 6, 1, 20, tzinfo=timezone.utc)
    assert doc.url == "https://old.example.org/2009/first"


# Hostile and broken input

def test_broken_feed_is_an_error_naming_the_file() -> None:
    with pytest.raises(ImportFormatError) as caught:
        FeedImporter().read(FEEDS / "broken.xml")
    assert caught.value.file == str(FEEDS / "broken.xml")
    assert "not a readable RSS or Atom feed" in caught.value.problem


def test_xml_that_is_not_a_feed_is_an_error(tmp_path: Path) -> None:
    sitemap = write(tmp_path, "sitemap.xml", (FIXTURES / "web" / "sitemap.xml").read_bytes())
    with pytest.raises(ImportFormatError, match="sitemap.xml"):
        FeedImporter().read(sitemap)


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="missing.xml"):
        FeedImporter().read(tmp_path / "missing.xml")


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE rss [ <!ENTITY leak SYSTEM "{uri}"> ]>',
    '<!DOCTYPE rss [ <!ENTITY leak SYSTEM "{uri}"> <!ENTITY % remote SYSTEM "{uri}"> %remote; ]>',
])
def test_external_entities_never_pull_in_local_files(tmp_path: Path, doctype: str) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-7f3a")
    payload = ('<?xml version="1.0"?>\n' + doctype.format(uri=secret.as_uri()) + "\n"
               '<rss version="2.0"><channel><title>Feed &leak;</title><item><title>Item &leak;'
               "</title><link>https://x.example/1</link><description>Body &leak; here."
               "</description></item></channel></rss>")
    result = FeedImporter().read(write(tmp_path, "xxe.xml", payload))
    [doc] = result.documents
    assert "TOP-SECRET" not in f"{result.owner} {doc.title} {doc.raw_text} {doc.metadata}"
    assert "&leak" in doc.raw_text  # the reference stays unresolved text


def test_not_well_formed_feed_with_bare_ampersands_imports_with_urls_intact() -> None:
    result = FeedImporter(OWNER).read(FEEDS / "bare_ampersand.xml")
    documents = by_title(result.documents)
    assert set(documents) == {"Salt & pepper drafts", "Second & last"}
    # `&lang=en` stays a query parameter, not the HTML entity 〈 feedparser would make of it.
    assert documents["Second & last"].url == "https://dana.example/?p=42&lang=en"
    assert documents["Salt & pepper drafts"].url == "https://dana.example/?p=41&preview=true"
    assert documents["Salt & pepper drafts"].raw_text == (
        "Season the first draft lightly & taste it the next morning.")
    [note] = result.notes
    assert "bare '&' escaped on line(s) 4, 5, 6, 8, 9, 17, 18" in note


BILLION_LAUGHS = ('<!DOCTYPE rss [ <!ENTITY a "ha"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  ' <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"> <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;'
                  '&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"> <!ENTITY f "&e;&e;&e;'
                  '&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"> ]>')


def test_not_well_formed_feed_still_expands_no_entities(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-7f3a")
    payload = ('<?xml version="1.0"?>\n' + BILLION_LAUGHS[:-2]
               + f' <!ENTITY leak SYSTEM "{secret.as_uri()}"> ]>\n'
               '<rss version="2.0"><channel><title>Q&A &g;</title><item><title>Item &g; &leak;'
               "</title><link>https://x.example/?a=1&b=2</link><description>Body &g; &leak; "
               "here & there.</description></item></channel></rss>")
    result = FeedImporter().read(write(tmp_path, "laughs.xml", payload))
    [doc] = result.documents
    everything = f"{result.owner} {doc.title} {doc.raw_text} {doc.metadata}"
    assert "TOP-SECRET" not in everything and "hahaha" not in everything
    assert len(everything) < 2000
    assert doc.url == "https://x.example/?a=1&b=2"


# Over HTTP

def test_feed_over_http_is_fetched_safely_and_fingerprinted(site: LocalSite) -> None:
    options = ImportOptions(allow_private=True)
    with SafeFetcher(options, min_interval=0) as fetcher:
        importer = FeedImporter(options, fetcher=fetcher)
        first = importer.read(site.url("/rss.xml"))
        again = importer.read(site.url("/rss.xml"))
        site.add("/rss.xml", (FEEDS / "rss.xml").read_bytes().replace(b"No pings.", b"No pings!"),
                 content_type="application/rss+xml")
        changed = importer.read(site.url("/rss.xml"))
    assert len(first.documents) == 5
    assert first.documents[0].metadata["file"] == site.url("/rss.xml")
    assert first.fingerprint is not None and first.fingerprint == again.fingerprint
    assert changed.fingerprint != first.fingerprint
    assert site.paths() == ["/robots.txt"] + ["/rss.xml"] * 3


def test_feed_url_on_a_private_address_is_refused_by_default(site: LocalSite) -> None:
    with pytest.raises(ImportFormatError, match="non-public address"):
        FeedImporter().read(site.url("/rss.xml"))
    assert site.requests == []


def test_missing_feed_url_names_the_url_and_status(site: LocalSite) -> None:
    options = ImportOptions(allow_private=True)
    with SafeFetcher(options, min_interval=0) as fetcher:
        with pytest.raises(ImportFormatError) as caught:
            FeedImporter(options, fetcher=fetcher).read(site.url("/gone.xml"))
    assert caught.value.file == site.url("/gone.xml")
    assert caught.value.problem == "HTTP 404 Not Found"
