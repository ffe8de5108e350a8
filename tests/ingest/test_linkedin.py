"""LinkedIn importer, on the synthetic export in tests/fixtures/linkedin (FORMATS.md section 2)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.linkedin import LinkedInImporter
from llm_twin.ingest.formats.x_archive import XArchiveImporter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "linkedin"
EXPORT = FIXTURES / "export"
# The raw bytes FORMATS.md gives for the multi-line quirk, verbatim.
QUIRK_BYTES = (
    '2025-03-02 09:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A'
    '7300000000000000001,"I lost a client in 11 minutes.""\n""""\n""Here is the ""one line"" '
    'that did it:""\n""• never skip the recap","","",MEMBER_NETWORK\n').encode("utf-8")
SHARES_HEADER = "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
OWNER_URL = "https://www.linkedin.com/in/dana-writes"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A writable copy of the fixture export."""
    return Path(shutil.copytree(EXPORT, tmp_path / "Basic_LinkedInDataExport_06-02-2025"))


@pytest.fixture(scope="module")
def result():
    return LinkedInImporter().read(EXPORT)


def docs_by_id(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def only_file(tmp_path: Path, name: str, text: str | bytes) -> Path:
    folder = tmp_path / "only"
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


# --- the fixture itself --------------------------------------------------------------------


def test_fixture_keeps_the_exact_quirk_bytes_and_a_bom() -> None:
    data = (EXPORT / "Shares.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfDate,ShareLink,")
    assert QUIRK_BYTES in data
    assert (EXPORT / "messages.csv").read_bytes().count(b"\r\n") >= 7  # Windows line ends


# --- Shares.csv ----------------------------------------------------------------------------


def test_multiline_quirk_is_repaired_to_the_written_text(result) -> None:
    doc = docs_by_id(result)["urn:li:share:7300000000000000001"]
    assert doc.raw_text == ('I lost a client in 11 minutes.\n\nHere is the "one line" that did '
                            'it:\n• never skip the recap')


def test_quotes_at_the_edges_of_lines_survive_the_repair(result) -> None:
    doc = docs_by_id(result)["urn:li:share:7302000000000000004"]
    assert doc.raw_text == ("Three things I'd tell my first-year self:\n1. Ask \"why\" twice.\n"
                            "2. My mentor's rule: \"ship it\"\n\"Done\" beats perfect.\n\n"
                            "What would you add? 👇")


def test_share_without_the_quirk_is_left_alone(tmp_path: Path) -> None:
    text = 'A line ending in "quotes"\n"And one starting with them"\nplain'
    quoted = '"' + text.replace('"', '""') + '"'
    row = f"2025-03-02 09:00:00,https://x.example/urn%3Ali%3Ashare%3A1,{quoted},,,PUBLIC\n"
    doc = LinkedInImporter().read(only_file(tmp_path, "Shares.csv", SHARES_HEADER + row))
    assert doc.documents[0].raw_text == text


def test_share_fields_dates_and_unicode_bold(result) -> None:
    doc = docs_by_id(result)["urn:li:ugcPost:7301000000000000002"]
    assert (doc.platform, doc.kind, doc.is_owner, doc.author) == (
        "linkedin", "post", True, "Dana Whitfield")
    assert doc.raw_text.startswith("𝗪𝗛𝗔𝗧 I learned") and "𝘮𝘰𝘴𝘵" in doc.raw_text
    assert doc.created_at == datetime(2025, 3, 5, 17, 45, 10, tzinfo=timezone.utc)
    assert doc.url.endswith("urn%3Ali%3AugcPost%3A7301000000000000002")
    assert doc.metadata == {"file": "Shares.csv", "line": 9, "visibility": "PUBLIC",
                            "shared_url": "https://example.org/cold-emails"}


def test_bare_repost_is_skipped(result) -> None:
    assert result.skipped["repost"] == 1
    assert "urn:li:share:7301100000000000003" not in docs_by_id(result)


def test_shares_with_member_id_name_are_read_and_deduplicated(export: Path) -> None:
    shutil.copy(export / "Shares.csv", export / "Shares_123456789.csv")
    (export / "Shares.csv").unlink()
    (export / "Shares_123456789.csv").rename(export / "shares_123456789.csv")
    first = LinkedInImporter().read(export)
    shutil.copy(export / "shares_123456789.csv", export / "Shares.csv")
    both = LinkedInImporter().read(export)
    posts = [doc for doc in first.documents if doc.external_id.startswith("urn:li:")]
    assert len(posts) == 3
    assert len(both.documents) == len(first.documents)
    assert both.skipped["duplicate"] == 3


# --- Articles ------------------------------------------------------------------------------


def test_published_article_keeps_layout_and_drops_images(result) -> None:
    url = "https://www.linkedin.com/pulse/how-i-edit-three-passes-dana-whitfield-x7k2q"
    doc = docs_by_id(result)[url]
    assert (doc.kind, doc.title, doc.url) == ("article", "How I edit in three passes", url)
    assert doc.raw_text == (
        "Most drafts fail in the second paragraph.\nMine too.\n\n## Pass one: structure\n\n"
        "I read it out loud and cut anything I skip.\n\n> Write fast, edit slow.\n\n"
        "- Cut the first sentence.\n- Move the ask to the top.\n\n1. Read.\n2. Cut.\n\n"
        "That's it. 🙂")
    assert "licdn" not in doc.raw_text and "Created on" not in doc.raw_text
    assert doc.created_at == datetime(2024, 9, 20, 6, 12, tzinfo=timezone.utc)  # published
    assert doc.metadata["created"] == "2024-09-20T06:04:00+00:00"
    assert "draft" not in doc.metadata


def test_article_without_published_line_is_a_draft(result) -> None:
    doc = docs_by_id(result)["https://www.linkedin.com/pulse/notes-feedback-dana-whitfield-q9w8e"]
    assert doc.metadata["draft"] is True
    assert doc.created_at == datetime(2025, 1, 11, 21, 40, tzinfo=timezone.utc)
    assert doc.raw_text == "Feedback is a gift you can return.\n\nHalf an idea, still."


def test_article_without_date_names_the_file(export: Path) -> None:
    article = export / "Articles/Articles/notes-on-feedback-dana-whitfield-q9w8e.html"
    article.write_text(article.read_text(encoding="utf-8").replace(
        '<p class="created">Created on 2025-01-11 21:40</p>', ""), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"notes-on-feedback.*\.html.*'p\.created'"):
        LinkedInImporter().read(export)


def test_article_with_unreadable_date_names_the_field(export: Path) -> None:
    article = export / "Articles/Articles/notes-on-feedback-dana-whitfield-q9w8e.html"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "2025-01-11 21:40", "last Tuesday"), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"notes-on-feedback.*'p\.created'"):
        LinkedInImporter().read(export)


def test_article_without_title_names_the_file(export: Path) -> None:
    article = export / "Articles/Articles/notes-on-feedback-dana-whitfield-q9w8e.html"
    text = article.read_text(encoding="utf-8")
    text = text.replace("<title>Notes on feedback</title>", "").split("<h1>")[0] + (
        '<p class="created">Created on 2025-01-11 21:40</p><div><p>x</p></div></body></html>')
    article.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"notes-on-feedback.*'h1'"):
        LinkedInImporter().read(export)


# --- Comments.csv --------------------------------------------------------------------------


def test_comments_unescape_backslash_quotes_and_are_low_weight(result) -> None:
    comments = [doc for doc in result.documents
                if doc.metadata.get("tag") == "linkedin_comment"]
    assert len(comments) == 3
    first = comments[0]
    assert first.raw_text == ("Sam Ortiz Here's how I tag mine: https://example.org/tags\n\n"
                              'Good point about the loop. My rule is "ask one question, '
                              'then stop."')
    assert comments[1].raw_text == '"No" 🙂'
    assert (first.kind, first.is_owner, first.metadata["weight"]) == ("post", True, 0.5)
    assert first.metadata["commented_on"].endswith("activity%3A7344186464080941056")
    assert first.created_at == datetime(2025, 6, 27, 9, 4, 13, tzinfo=timezone.utc)


# --- messages.csv --------------------------------------------------------------------------


def messages(result) -> list:
    return [doc for doc in result.documents if doc.kind == "message"]


def test_owner_messages_are_kept_verbatim(result) -> None:
    own = [doc for doc in messages(result) if doc.is_owner]
    assert [doc.raw_text for doc in own] == [
        "Great to meet you too, Priya!\nCoffee next week? I'm free Tuesday 🙂",
        "Sure thing.\n\nSent the deck & notes \u2014 shout if anything's unclear."]  # from HTML
    assert all(doc.author == "Dana Whitfield" and doc.platform == "linkedin" for doc in own)


def test_other_people_are_pseudonymised_and_redacted(result) -> None:
    others = [doc for doc in messages(result) if not doc.is_owner]
    assert [doc.author for doc in others] == ["Contact 1", "Contact 2"]
    assert others[0].raw_text == ("Hi Dana, Contact 1 here from the writing meetup. "
                                  "Reach me at [email] or [phone].")
    assert others[1].raw_text.endswith("Thanks, Contact 2")
    dump = repr(result)
    for secret in ("Priya Raman", "priya.raman@example.com", "415 555 0132", "Tomasz Kowal",
                   "priya-raman-synthetic", "Morgan Hale"):
        assert secret not in dump


def test_messages_are_ordered_with_conversation_metadata(result) -> None:
    first_conversation = [doc for doc in messages(result)
                          if doc.metadata["conversation"] == "2-c1"]
    assert [doc.metadata["position"] for doc in first_conversation] == [0, 1]
    assert [doc.external_id for doc in first_conversation] == ["2-c1:0", "2-c1:1"]
    assert first_conversation[0].created_at == datetime(2025, 6, 1, 14, 3, 22,
                                                        tzinfo=timezone.utc)
    assert first_conversation[1].metadata["line"] == 2  # newest first in the file


def test_drafts_and_conversations_without_the_owner_are_dropped(result) -> None:
    assert result.skipped["draft"] == 1
    assert result.skipped["no_owner_message"] == 1  # the recruiter's InMail
    texts = " ".join(doc.raw_text for doc in result.documents)
    assert "half-written reply" not in texts and "Synthetic Corp" not in texts
    assert {doc.metadata["conversation"] for doc in messages(result)} == {"2-c1", "2-c2"}


def test_older_messages_without_draft_columns(tmp_path: Path) -> None:
    folder = only_file(tmp_path, "messages.csv",
                       (FIXTURES / "older_messages.csv").read_bytes())
    result = LinkedInImporter().read(folder)
    own = [doc.raw_text for doc in result.documents if doc.is_owner]
    assert own == ["Sounds good \u2014 see you then!", "Anytime, Tomasz."]
    assert result.skipped == {}
    assert result.owner is None and result.documents[0].author == "Contact 1"


def test_owner_of_a_single_conversation_comes_from_the_profile_name(export: Path) -> None:
    data = (export / "messages.csv").read_bytes()
    (export / "messages.csv").write_bytes(data.split(b"\r\n2-c2,")[0] + b"\r\n")
    own = [doc for doc in messages(LinkedInImporter().read(export)) if doc.is_owner]
    assert [doc.raw_text[:17] for doc in own] == ["Great to meet you"]


def test_without_any_owner_clue_messages_are_not_guessed(tmp_path: Path) -> None:
    lines = (FIXTURES / "older_messages.csv").read_text(encoding="utf-8").splitlines()
    folder = only_file(tmp_path, "messages.csv", "\n".join(lines[:3]) + "\n")
    result = LinkedInImporter().read(folder)
    assert result.documents == []
    assert result.skipped == {"owner_unknown": 2}
    for me in ("Dana Whitfield", OWNER_URL + "/"):
        named = LinkedInImporter(ImportOptions(me=(me,))).read(folder)
        assert [doc.is_owner for doc in named.documents] == [False, True]


def test_messages_report_progress(export: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    LinkedInImporter(ImportOptions(progress=lambda *call: calls.append(call))).read(export)
    assert calls[-1] == (5, 5)  # five messages left after the draft


# --- Profile.csv and private files ---------------------------------------------------------


def test_profile_gives_owner_and_one_headline_summary_document(result) -> None:
    assert result.owner == "Dana Whitfield"
    doc = docs_by_id(result)["profile"]
    assert (doc.kind, doc.metadata["tag"]) == ("post", "profile")
    assert doc.raw_text == (
        "Writer & product coach | I help teams ship words people read\n\n"
        "I write about writing at work: short emails, clear docs, honest updates.\n\n"
        "Say hi: [email] or [phone]")


def test_address_birth_date_zip_email_and_phone_are_never_stored(result) -> None:
    dump = repr(result)
    for secret in ("Synthetic Lane", "Apr 1 1990", "94110", "dana.whitfield@example.org",
                   "555 0199", "dana.private@example.net", "650 555 0123"):
        assert secret not in dump


# --- layout, detection, hostile input ------------------------------------------------------


def test_zip_with_one_top_folder_reads_like_the_folder(export: Path, tmp_path: Path) -> None:
    zipped = zip_folder(export, tmp_path / "Complete_LinkedInDataExport_06-02-2025.zip",
                        wrapper="Complete_LinkedInDataExport_06-02-2025/")
    importer = LinkedInImporter()
    assert importer.detect(zipped)
    assert importer.read(zipped).documents == importer.read(export).documents


def test_missing_files_import_what_is_there(tmp_path: Path) -> None:
    folder = only_file(tmp_path, "Comments.csv", (EXPORT / "Comments.csv").read_bytes())
    result = LinkedInImporter().read(folder)
    assert len(result.documents) == 3 and result.owner is None
    assert result.documents[0].author == "owner"


@pytest.mark.parametrize("name", ["Shares.csv", "Profile.csv", "messages.csv"])
def test_detects_a_folder_with_one_known_csv(tmp_path: Path, name: str) -> None:
    assert LinkedInImporter().detect(only_file(tmp_path, name, (EXPORT / name).read_bytes()))


def test_detects_articles_alone(tmp_path: Path) -> None:
    folder = tmp_path / "articles-only"
    shutil.copytree(EXPORT / "Articles", folder / "Articles")
    assert LinkedInImporter().detect(folder)
    assert len(LinkedInImporter().read(folder).documents) == 2


def test_detect_rejects_other_exports(tmp_path: Path) -> None:
    importer = LinkedInImporter()
    x_archive = only_file(tmp_path / "x", "data/tweets.js", "window.YTD.tweets.part0 = []")
    markdown = only_file(tmp_path / "md", "post.md", "---\ntitle: Hi\n---\nBody\n")
    wrong_header = only_file(tmp_path / "csv", "Shares.csv", "id,text\n1,hello\n")
    comments_only = only_file(tmp_path / "c", "Comments.csv", "Date,Link,Message\n")
    other_html = only_file(tmp_path / "h", "Articles/page.html", "<html><p>hi</p></html>")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    for path in (x_archive, markdown, wrong_header, comments_only, other_html, broken,
                 tmp_path / "missing"):
        assert not importer.detect(path), path


OTHER_FIXTURES = sorted(path for path in FIXTURES.parent.iterdir()
                        if path.is_dir() and path.name != "linkedin")


@pytest.mark.parametrize("folder", OTHER_FIXTURES, ids=lambda path: path.name)
def test_detect_rejects_the_other_formats_fixtures(folder: Path) -> None:
    assert not LinkedInImporter().detect(folder)
    assert not any(LinkedInImporter().detect(file) for file in folder.rglob("*") if file.is_file())


def test_other_importers_do_not_take_the_linkedin_export() -> None:
    assert not XArchiveImporter().detect(EXPORT)


def test_corrupt_zip_is_an_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "Basic_LinkedInDataExport.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ImportFormatError, match="Basic_LinkedInDataExport.zip"):
        LinkedInImporter().read(broken)


def test_folder_without_linkedin_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no LinkedIn data"):
        LinkedInImporter().read(only_file(tmp_path, "Connections.csv", "First Name\n"))


def test_unterminated_quote_names_file_and_line(tmp_path: Path) -> None:
    text = SHARES_HEADER + '2025-03-02 09:00:00,https://x.example/1,"never closed,,,PUBLIC\n'
    with pytest.raises(ImportFormatError, match=r"Shares\.csv, line \d: malformed CSV"):
        LinkedInImporter().read(only_file(tmp_path, "Shares.csv", text))


def test_row_with_extra_fields_names_its_line(tmp_path: Path) -> None:
    text = SHARES_HEADER + "2025-03-02 09:00:00,https://x.example/1,ok,,,PUBLIC\n" + \
        "2025-03-03 09:00:00,https://x.example/2,a, stray comma,,,PUBLIC\n"
    with pytest.raises(ImportFormatError, match=r"Shares\.csv, line 3: expected 6 fields"):
        LinkedInImporter().read(only_file(tmp_path, "Shares.csv", text))


def test_missing_required_column_names_the_field(tmp_path: Path) -> None:
    text = "Date,ShareLink,SharedUrl\n2025-03-02 09:00:00,https://x.example/1,\n"
    with pytest.raises(ImportFormatError, match=r"Shares\.csv.*'ShareCommentary'") as caught:
        LinkedInImporter().read(only_file(tmp_path, "Shares.csv", text))
    assert caught.value.field_name == "ShareCommentary"


def test_unreadable_date_names_line_and_field(tmp_path: Path) -> None:
    text = "Date,Link,Message\n2025-06-27 09:04:13,https://x.example/1,fine\n" \
           "27/06/2025,https://x.example/2,bad date\n"
    with pytest.raises(ImportFormatError, match=r"Comments\.csv, line 3, field 'Date'"):
        LinkedInImporter().read(only_file(tmp_path, "Comments.csv", text))


def test_windows_1252_csv_is_decoded(tmp_path: Path) -> None:
    """A CSV re-saved by a spreadsheet on a Western PC."""
    post = ("Caf\u00e9 notes, cr\u00e8me br\u00fbl\u00e9e and a na\u00efve r\u00e9sum\u00e9 "
            "\u2014 that\u2019s the menu.")
    text = SHARES_HEADER + f'2025-03-02 09:00:00,https://x.example/1,"{post}",,,PUBLIC\n'
    result = LinkedInImporter().read(only_file(tmp_path, "Shares.csv", text.encode("cp1252")))
    assert result.documents[0].raw_text == post


def test_binary_csv_is_an_error_naming_it(tmp_path: Path) -> None:
    data = SHARES_HEADER.encode() + bytes(range(256)) * 4
    with pytest.raises(ImportFormatError, match=r"Shares\.csv"):
        LinkedInImporter().read(only_file(tmp_path, "Shares.csv", data))


def test_no_engagement_counts_are_made_up(result) -> None:
    # The export has no reaction or comment counts for posts.
    assert result.documents and all("engagement" not in d.metadata for d in result.documents)
