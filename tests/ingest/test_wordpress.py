"""WordPress WXR importer, on the synthetic export in tests/fixtures/wordpress (FORMATS.md §8)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.wordpress import WordPressImporter, wordpress_html_to_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
WXR = FIXTURES / "wordpress" / "danawrites.WordPress.2024-03-12.xml"
WXR_TEXT = WXR.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def result():
    return WordPressImporter().read(WXR)


@pytest.fixture(scope="module")
def docs(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_classic_editor_blank_lines_are_paragraphs_newlines_line_breaks(docs) -> None:
    assert docs["12"].raw_text == (
        "I used to ship something every day. It felt productive.\n\n"
        "It wasn't.\nNot really — it was noise.\n\n"
        "My desk, the morning I stopped.\n\n"
        "Here's what changed:\n\n"
        "- I write in the morning\n- I publish on Fridays\n\n"
        "Read the notes from February [sic] if you want the long version.\n\n"
        "```\ndraft --slow\n  edit --twice\n```")


def test_shortcodes_are_stripped_but_bracketed_words_stay(docs) -> None:
    text = docs["12"].raw_text
    assert "[caption" not in text and "[gallery" not in text and "video.example" not in text
    assert "[sic]" in text


def test_gutenberg_comments_are_removed(docs) -> None:
    assert docs["40"].raw_text == (
        "Every morning: kettle on, timer set, 25 minutes. ☕️\n\n"
        "## Why a timer?\n\n"
        "Because a timer ends.\nA to-do list never does.\n\n"
        "The kettle, doing its job.\n\n"
        "- Small\n- Boring")
    assert "wp:" not in docs["40"].raw_text


def test_published_post_fields(docs) -> None:
    doc = docs["12"]
    assert (doc.platform, doc.kind, doc.author, doc.is_owner) == (
        "blog", "article", "Dana Writes", True)
    assert doc.title == "On slow writing"
    assert doc.url == "https://danawrites.example/2019/03/on-slow-writing/"
    assert doc.created_at == datetime(2019, 3, 4, 9, 0, tzinfo=timezone.utc)  # the GMT date
    assert doc.language == "en"
    assert doc.metadata == {
        "file": WXR.name, "position": 0, "post_type": "post", "status": "publish",
        "slug": "on-slow-writing", "categories": ["Writing"], "tags": ["habits"],
        "excerpt": "Why I stopped shipping daily.", "sticky": True}


def test_draft_is_kept_flagged_with_its_local_date(docs) -> None:
    doc = docs["52"]
    assert doc.metadata["draft"] is True and doc.metadata["status"] == "draft"
    assert doc.metadata["slug"] is None
    # post_date_gmt is 0000-00-00 and pubDate says year -0001: the local post_date is used.
    assert doc.created_at == datetime(2024, 3, 1, 21, 14, 9, tzinfo=timezone.utc)
    assert doc.metadata["date_source"] == "post_date_local"
    assert doc.url is None  # a ?p= preview link, not a public page


def test_private_post_is_flagged_as_draft(docs) -> None:
    assert docs["20"].metadata["draft"] is True
    assert docs["20"].metadata["status"] == "private"


def test_pages_are_kept_and_tagged(docs) -> None:
    assert docs["2"].metadata["post_type"] == "page"
    assert docs["2"].kind == "article"


def test_guest_author_is_not_the_owner(result, docs) -> None:
    assert result.owner == "Dana Writes"
    guest = docs["33"]
    assert (guest.author, guest.is_owner) == ("Sam Guest", False)


def test_owner_name_option_picks_the_owner(tmp_path: Path) -> None:
    result = WordPressImporter(ImportOptions(owner_name="sam")).read(WXR)
    by_id = {doc.external_id: doc for doc in result.documents}
    assert result.owner == "Sam Guest"
    assert by_id["33"].is_owner is True and by_id["12"].is_owner is False
    full_name = WordPressImporter(ImportOptions(owner_name="Dana Rivers")).read(WXR)
    assert full_name.owner == "Dana Writes"


def test_non_content_items_and_comments_are_counted(result) -> None:
    assert result.skipped == {"comment": 2, "attachment": 1, "nav_menu_item": 1, "revision": 1,
                              "wp_block": 1, "trash": 1, "empty": 1}
    assert [doc.external_id for doc in result.documents] == ["12", "40", "52", "2", "33", "20"]
    assert not any("Robin" in doc.raw_text or "exactly what I needed" in doc.raw_text
                   for doc in result.documents)
    assert "dana@danawrites.example" not in repr(result)
    json.dumps([doc.metadata for doc in result.documents])


def test_xxe_payload_is_refused_and_the_file_is_not_read(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "TOP-SECRET-CONTENT")
    payload = WXR_TEXT.replace(
        '<?xml version="1.0" encoding="UTF-8" ?>',
        f'<?xml version="1.0" encoding="UTF-8" ?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', 1).replace(
        "Revenue: tiny.", "&xxe; Revenue: tiny.")
    hostile = write(tmp_path / "hostile.xml", payload)
    with pytest.raises(ImportFormatError, match="refused") as caught:
        WordPressImporter().read(hostile)
    assert caught.value.file == str(hostile)
    assert "TOP-SECRET" not in str(caught.value)


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    payload = ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>\n'
               + WXR_TEXT.split("?>", 1)[1].replace("Revenue", "&b;"))
    with pytest.raises(ImportFormatError, match="refused"):
        WordPressImporter().read(write(tmp_path / "laughs.xml", payload))


def test_mismatched_tag_is_repaired_and_its_line_reported(tmp_path: Path) -> None:
    lines = WXR_TEXT.splitlines()
    index = next(i for i, line in enumerate(lines) if "<wp:post_id>40</wp:post_id>" in line)
    lines[index] = "\t\t<wp:post_id>40</wp:post_idd>"
    broken = write(tmp_path / "broken.xml", "\n".join(lines))
    result = WordPressImporter().read(broken)
    assert [doc.external_id for doc in result.documents] == ["12", "40", "52", "2", "33", "20"]
    assert len(result.notes) == 1
    assert result.notes[0].startswith("broken.xml was not well-formed XML")
    assert f"line {index + 1} (" in result.notes[0]


LENIENT = FIXTURES / "wordpress" / "lenient" / "danawrites.WordPress.2024-06-01.xml"


def test_bare_ampersands_are_read_like_peers_and_reported() -> None:
    importer = WordPressImporter()
    assert importer.detect(LENIENT)
    result = importer.read(LENIENT)
    by_id = {doc.external_id: doc for doc in result.documents}
    assert by_id["71"].url == "https://danawrites.example/?p=71&utm_source=wxr&utm_medium=export"
    assert by_id["72"].url == "https://danawrites.example/?p=72&lang=en"
    assert by_id["71"].raw_text == "Kettle on & timer set. Same as ever."  # CDATA untouched
    assert by_id["71"].title == "Tea \u201crituals\u201d\u00a0revisited"  # entities decoded
    assert by_id["71"].metadata["categories"] == ["Habits & rituals"]
    assert result.notes == [
        "danawrites.WordPress.2024-06-01.xml was not well-formed XML and was read leniently: "
        "2 of 2 items recovered; repaired line 18 (undeclared entity '&nbsp;' kept as text); "
        "line 19 (bare '&' escaped); line 22 (bare '&' escaped); line 34 (bare '&' escaped)"]
    assert result.repaired == 4  # lines


def test_well_formed_export_has_no_notes(result) -> None:
    assert result.notes == []


def test_lost_items_are_counted_in_the_note(tmp_path: Path) -> None:
    text = LENIENT.read_text(encoding="utf-8").replace(
        "<item>\n\t\t<title><![CDATA[Second cup]]>", "<item>\n\t\t<title><![CDATA[Second cup]]", 1)
    text = text.replace("</channel>", "", 1)
    result = WordPressImporter().read(write(tmp_path / "lossy.xml", text))
    assert "of 2 items recovered" in result.notes[0]


@pytest.mark.parametrize("declaration", [
    '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE rss SYSTEM "http://127.0.0.1:1/evil.dtd">',
    '<!doctype rss [<!entity a "ha">]>'])
def test_malformed_file_with_a_declaration_is_refused_before_the_lenient_parse(
        tmp_path: Path, declaration: str) -> None:
    text = LENIENT.read_text(encoding="utf-8").replace(
        '<?xml version="1.0" encoding="UTF-8" ?>', '<?xml version="1.0" encoding="UTF-8" ?>\n'
        + declaration, 1)
    with pytest.raises(ImportFormatError, match="refused"):
        WordPressImporter().read(write(tmp_path / "hostile.xml", text.replace("72&lang", "72&xxe;")))


def test_lenient_parse_expands_no_entity(tmp_path: Path) -> None:
    # No declaration (it would be refused): an undeclared reference stays literal text.
    text = LENIENT.read_text(encoding="utf-8").replace("Second cup", "Second &xxe; cup", 1)
    text = text.replace("<![CDATA[Second &xxe; cup]]>", "Second &xxe; cup")
    docs = WordPressImporter().read(write(tmp_path / "ref.xml", text)).documents
    assert docs[1].title == "Second &xxe; cup"


def test_unrecoverable_xml_names_file_and_line(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.xml", '<?xml version="1.0"?>\n<rss xmlns:wp='
                                            '"http://wordpress.org/export/1.2/" <<<')
    with pytest.raises(ImportFormatError, match=r"broken\.xml"):
        WordPressImporter().read(broken)


def test_wrong_encoding_is_named(tmp_path: Path) -> None:
    latin = tmp_path / "latin.xml"
    latin.write_bytes(WXR_TEXT.replace("Revenue: tiny.", "Revenue: tiny. Café!").encode("latin-1",
                                                                                         "replace"))
    with pytest.raises(ImportFormatError, match=r"latin\.xml.*not valid UTF-8"):
        WordPressImporter().read(latin)


def test_item_without_post_id_names_the_field(tmp_path: Path) -> None:
    broken = write(tmp_path / "no-id.xml", WXR_TEXT.replace("<wp:post_id>40</wp:post_id>", ""))
    with pytest.raises(ImportFormatError, match=r"no-id\.xml.*item 1") as caught:
        WordPressImporter().read(broken)
    assert caught.value.field_name == "wp:post_id"


def test_rss_without_channel_is_an_error(tmp_path: Path) -> None:
    bare = write(tmp_path / "bare.xml",
                 '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"></rss>')
    assert WordPressImporter().detect(bare)
    with pytest.raises(ImportFormatError, match="channel"):
        WordPressImporter().read(bare)


def test_older_wxr_namespace_is_read(tmp_path: Path) -> None:
    old = write(tmp_path / "old.xml", WXR_TEXT.replace("export/1.2/", "export/1.0/"))
    assert [doc.external_id for doc in WordPressImporter().read(old).documents] == [
        "12", "40", "52", "2", "33", "20"]


def test_zip_of_split_export_files(tmp_path: Path) -> None:
    second = WXR_TEXT.split("<item>")[0] + "<item>" + WXR_TEXT.split("<item>")[2].split(
        "</item>")[0].replace("<wp:post_id>40<", "<wp:post_id>400<") + "</item></channel></rss>"
    zipped = tmp_path / "danawrites.wordpress.2024-03-12.001.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("danawrites.wordpress.2024-03-12.000.xml", WXR_TEXT)
        archive.writestr("danawrites.wordpress.2024-03-12.001.xml", second)
    importer = WordPressImporter()
    assert importer.detect(zipped)
    docs = importer.read(zipped).documents
    assert [doc.external_id for doc in docs][-1] == "400"
    assert docs[-1].metadata["file"] == "danawrites.wordpress.2024-03-12.001.xml"


def test_folder_with_other_files_is_not_claimed(tmp_path: Path) -> None:
    write(tmp_path / "site.xml", WXR_TEXT)
    assert WordPressImporter().detect(tmp_path)
    write(tmp_path / "tweets.js", "window.YTD.tweets.part0 = []")
    assert not WordPressImporter().detect(tmp_path)


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int | None]] = []
    WordPressImporter(ImportOptions(progress=lambda done, total: calls.append((done, total)))
                      ).read(WXR)
    assert calls[-1] == (7, 7)


def test_plain_rss_is_not_wordpress(tmp_path: Path) -> None:
    rss = write(tmp_path / "feed.xml", '<?xml version="1.0"?><rss version="2.0"><channel>'
                                       "<title>x</title></channel></rss>")
    assert not WordPressImporter().detect(rss)
    assert not WordPressImporter().detect(tmp_path / "missing.xml")


@pytest.mark.parametrize("other", sorted(path.name for path in FIXTURES.iterdir()
                                         if path.is_dir() and path.name != "wordpress"))
def test_detect_rejects_other_formats(other: str) -> None:
    folder = FIXTURES / other
    assert not WordPressImporter().detect(folder)
    for file in folder.rglob("*"):
        assert not WordPressImporter().detect(file)


def test_classic_text_keeps_single_line_breaks_inside_inline_markup() -> None:
    assert wordpress_html_to_text("<strong>Bold</strong> start\nsecond line\n\n\nthird") == \
        "Bold start\nsecond line\n\nthird"
