"""X archive importer, on synthetic archives written into tmp_path (see FORMATS.md section 1)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.x_archive import XArchiveImporter

ROOT_ID = "1790000000000000001"
SECOND_ID = "1790000000000000002"
THIRD_ID = "1790000000000000003"
LINK_ID = "1790000000000000010"
REPLY_ID = "1790000000000000020"
RETWEET_ID = "1790000000000000030"
ACCOUNT = [{"account": {"email": "me@example.org", "createdVia": "web",
                        "username": "dana_writes", "accountId": "90011",
                        "createdAt": "2012-04-01T09:00:00.000Z", "accountDisplayName": "Dana"}}]


def tweet(id_str: str, full_text: str, **fields: object) -> dict:
    data = {"id_str": id_str, "id": id_str, "created_at": "Tue May 14 08:00:02 +0000 2024",
            "full_text": full_text, "display_text_range": ["0", str(len(full_text))],
            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            "favorite_count": "1", "retweet_count": "0", "retweeted": False, "lang": "en"}
    data.update(fields)
    return {"tweet": data}


def self_reply(id_str: str, parent: str, text: str) -> dict:
    full_text = "@dana_writes " + text
    return tweet(id_str, full_text, in_reply_to_status_id_str=parent,
                 in_reply_to_user_id_str="90011", in_reply_to_screen_name="dana_writes",
                 display_text_range=["13", str(len(full_text))])


def standard_tweets() -> list[dict]:
    # Newest first, as real archives are.
    return [
        tweet(RETWEET_ID, "RT @someone: a great thread about writing, read it all the way thr…"),
        tweet(REPLY_ID, "@bob @carol Thanks, agreed!",
              in_reply_to_status_id_str="1700000000000000000", in_reply_to_user_id_str="12345",
              in_reply_to_screen_name="bob",
              display_text_range=["12", "27"]),
        tweet(LINK_ID, "Read this https://t.co/abc123 &amp; tell me 🙂\nsecond line #writing "
                       "https://t.co/pic999",
              entities={"hashtags": [{"text": "writing", "indices": ["60", "68"]}], "urls": [
                  {"url": "https://t.co/abc123", "expanded_url": "https://example.org/post",
                   "display_url": "example.org/post", "indices": ["10", "29"]}],
                  "media": [{"url": "https://t.co/pic999", "expanded_url": "https://x.com/p",
                             "type": "photo"}]},
              favorite_count="31", retweet_count="5", lang="und"),
        self_reply(THIRD_ID, SECOND_ID, "3/ Third: ship it.\nThen rest."),
        self_reply(SECOND_ID, ROOT_ID, "2/ Second: write the ugly draft first &amp; edit later."),
        tweet(ROOT_ID, "Three lessons from shipping a side project 🧵",
              created_at="Tue May 14 08:00:02 +0000 2024"),
    ]


def ytd(global_name: str, payload: object) -> str:
    return f"window.YTD.{global_name}.part0 = {json.dumps(payload, indent=1, ensure_ascii=False)}"


def write_archive(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def standard_files(tweets: list[dict] | None = None) -> dict[str, str]:
    return {"data/account.js": ytd("account", ACCOUNT),
            "data/tweets.js": ytd("tweets", standard_tweets() if tweets is None else tweets),
            "Your archive.html": "<html>viewer</html>"}


def zip_folder(folder: Path, target: Path, wrapper: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, wrapper + file.relative_to(folder).as_posix())
    return target


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_archive(tmp_path / "archive", standard_files())


def by_id(result) -> dict:
    return {doc.external_id: doc for doc in result.documents}


def test_thread_is_rebuilt_from_self_replies(archive: Path) -> None:
    thread = by_id(XArchiveImporter().read(archive))[ROOT_ID]
    assert thread.kind == "thread"
    assert thread.raw_text == ("Three lessons from shipping a side project 🧵\n\n"
                               "2/ Second: write the ugly draft first & edit later.\n\n"
                               "3/ Third: ship it.\nThen rest.")
    assert thread.metadata["posts"][1] == "2/ Second: write the ugly draft first & edit later."
    assert thread.metadata["tweet_ids"] == [ROOT_ID, SECOND_ID, THIRD_ID]
    assert thread.url == f"https://x.com/dana_writes/status/{ROOT_ID}"


def test_thread_children_are_not_separate_documents(archive: Path) -> None:
    ids = [doc.external_id for doc in XArchiveImporter().read(archive).documents]
    assert ids == [ROOT_ID, LINK_ID, REPLY_ID]  # sorted by id, children folded into the thread


def test_retweet_is_excluded_and_counted(archive: Path) -> None:
    result = XArchiveImporter().read(archive)
    assert result.skipped == {"retweet": 1}
    assert not any("RT @" in doc.raw_text for doc in result.documents)


def test_links_are_expanded_media_link_removed_and_entities_unescaped(archive: Path) -> None:
    doc = by_id(XArchiveImporter().read(archive))[LINK_ID]
    assert doc.raw_text == "Read this https://example.org/post & tell me 🙂\nsecond line #writing"
    assert "t.co" not in doc.raw_text
    assert doc.metadata["hashtags"] == ["writing"]
    assert doc.metadata["favorite_count"] == 31 and doc.metadata["retweet_count"] == 5
    assert doc.language is None  # "und"


def test_reply_to_someone_else_is_kept_as_a_marked_post(archive: Path) -> None:
    doc = by_id(XArchiveImporter().read(archive))[REPLY_ID]
    assert doc.kind == "post"
    assert doc.raw_text == "Thanks, agreed!"
    assert doc.metadata["is_reply"] is True
    assert doc.metadata["reply_to_user"] == "bob"
    assert doc.metadata["in_reply_to"] == "1700000000000000000"


def test_ids_above_2_53_stay_exact_strings(archive: Path) -> None:
    assert str(int(float(ROOT_ID))) != ROOT_ID  # the fixture would expose a float round trip
    thread = by_id(XArchiveImporter().read(archive))[ROOT_ID]
    assert thread.external_id == ROOT_ID
    assert all(isinstance(tweet_id, str) for tweet_id in thread.metadata["tweet_ids"])
    assert thread.metadata["tweet_ids"][2] == THIRD_ID


def test_owner_author_dates_and_no_email(archive: Path) -> None:
    result = XArchiveImporter().read(archive)
    assert result.owner == "Dana"
    doc = result.documents[0]
    assert (doc.platform, doc.author, doc.is_owner) == ("x", "dana_writes", True)
    assert doc.language == "en"
    assert doc.created_at == datetime(2024, 5, 14, 8, 0, 2, tzinfo=timezone.utc)
    assert "me@example.org" not in repr(result)


def test_manifest_enumerates_part_files(tmp_path: Path) -> None:
    files = standard_files()
    files["data/tweets-part1.js"] = ytd("tweets", [tweet("1790000000000000500", "From part one")])
    files["data/tweets-part2.js"] = ytd("tweets", [tweet("1790000000000000600", "Not listed")])
    manifest = {"userInfo": {"accountId": "90011", "userName": "dana_writes"}, "dataTypes": {
        "tweets": {"files": [
            {"fileName": "data/tweets.js", "globalName": "YTD.tweets.part0", "count": "6"},
            {"fileName": "data/tweets-part1.js", "globalName": "YTD.tweets.part1", "count": "1"}]}}}
    files["data/manifest.js"] = "window.__THAR_CONFIG = " + json.dumps(manifest)
    result = XArchiveImporter().read(write_archive(tmp_path, files))
    texts = [doc.raw_text for doc in result.documents]
    assert "From part one" in texts
    assert "Not listed" not in texts  # the manifest, not a glob, decides


def test_manifest_listing_a_missing_file_is_an_error(tmp_path: Path) -> None:
    files = standard_files()
    manifest = {"dataTypes": {"tweets": {"files": [{"fileName": "data/tweets-part9.js"}]}}}
    files["data/manifest.js"] = "window.__THAR_CONFIG = " + json.dumps(manifest)
    with pytest.raises(ImportFormatError, match=r"manifest\.js.*tweets-part9\.js"):
        XArchiveImporter().read(write_archive(tmp_path, files))


def test_old_tweet_js_naming_is_read(tmp_path: Path) -> None:
    files = {"data/account.js": ytd("account", ACCOUNT),
             "data/tweet.js": "window.YTD.tweet.part0 = [ {\n" + json.dumps(
                 tweet("1100000000000000001", "An old one")["tweet"])[1:] + " ]",
             "data/tweet-part1.js": ytd("tweet", [tweet("1100000000000000002", "Older part")])}
    importer = XArchiveImporter()
    assert importer.detect(write_archive(tmp_path, files))
    texts = [doc.raw_text for doc in importer.read(tmp_path).documents]
    assert texts == ["An old one", "Older part"]


def test_zip_with_wrapping_folder_reads_like_the_folder(archive: Path, tmp_path: Path) -> None:
    zipped = zip_folder(archive, tmp_path / "twitter-2024-05-14-abc.zip", wrapper="twitter/")
    importer = XArchiveImporter()
    assert importer.detect(zipped)
    assert importer.read(zipped).documents == importer.read(archive).documents


def test_corrupt_zip_is_an_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "twitter-2024.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert not XArchiveImporter().detect(broken)
    with pytest.raises(ImportFormatError, match="twitter-2024.zip") as caught:
        XArchiveImporter().read(broken)
    assert caught.value.file == str(broken)


def test_broken_json_names_tweets_js_and_line(tmp_path: Path) -> None:
    text = ytd("tweets", standard_tweets())
    lines = text.splitlines()
    lines[6] = lines[6].rstrip(",")  # drop a comma between two keys
    files = {**standard_files(), "data/tweets.js": "\n".join(lines)}
    with pytest.raises(ImportFormatError, match=r"tweets\.js, line \d+") as caught:
        XArchiveImporter().read(write_archive(tmp_path, files))
    assert caught.value.line in (7, 8)


@pytest.mark.parametrize("field", ["full_text", "id_str"])
def test_tweet_missing_a_required_field_names_file_and_field(tmp_path: Path, field: str) -> None:
    broken = tweet("1790000000000000099", "text")
    del broken["tweet"][field]
    files = standard_files(standard_tweets() + [broken])
    with pytest.raises(ImportFormatError, match=rf"tweets\.js.*'{field}'") as caught:
        XArchiveImporter().read(write_archive(tmp_path, files))
    assert caught.value.field_name == field


def test_without_account_js_tweets_import_unthreaded(tmp_path: Path) -> None:
    files = standard_files()
    del files["data/account.js"]
    result = XArchiveImporter().read(write_archive(tmp_path, files))
    assert result.owner is None
    assert all(doc.kind == "post" for doc in result.documents)
    assert len(result.documents) == 5
    assert "thread_detection" in result.documents[0].metadata
    assert result.documents[0].url == f"https://x.com/i/status/{ROOT_ID}"


def test_detect_rejects_other_folders(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tweets.js").write_text("var x = [];", encoding="utf-8")
    assert not XArchiveImporter().detect(tmp_path)
    assert not XArchiveImporter().detect(tmp_path / "missing")


def test_the_data_folder_itself_can_be_given(archive: Path) -> None:
    importer = XArchiveImporter()
    assert importer.detect(archive / "data")
    assert importer.read(archive / "data").documents == importer.read(archive).documents


LONG_ID = "1790000000000000800"
NOTE_TEXT = ("Why I rewrote the onboarding email five times & what each version taught me.\n\n"
             "1. The first one explained features. Nobody read past line two.\n"
             "2. The second told a story. Better, but too long for a phone screen.\n"
             "3. The third asked one question. Replies tripled overnight.\n\n"
             "The full write-up, with the numbers: https://t.co/note1 \u2014 and yes, "
             "version five is the one we still send today. #writing #onboarding")
NOTE_EXPANDED = NOTE_TEXT.replace("https://t.co/note1", "https://example.org/onboarding")


def truncated(text: str, cut: int = 275) -> str:
    """How tweets.js shows a long post: cut short, an ellipsis, then its t.co links."""
    return text[:cut].replace("&", "&amp;") + "\u2026 https://t.co/more1"


def note(note_id: str, text: str, created_at: str = "2024-05-15T10:00:00.000Z",
         urls: list | None = None, hashtags: list | None = None) -> dict:
    return {"noteTweet": {
        "noteTweetId": note_id, "updatedAt": created_at, "createdAt": created_at,
        "lifecycle": {"value": "1", "name": "Active", "originalName": "Active",
                      "annotations": {}},
        "core": {"styletags": [], "urls": urls or [], "text": text, "mentions": [],
                 "cashtags": [], "hashtags": hashtags or []}}}


def long_tweet(id_str: str = LONG_ID, text: str = NOTE_TEXT, **fields: object) -> dict:
    full_text = truncated(text)
    return tweet(id_str, full_text, created_at="Wed May 15 10:00:00 +0000 2024",
                 display_text_range=["0", "276"],
                 entities={"hashtags": [], "urls": [
                     {"url": "https://t.co/more1",
                      "expanded_url": f"https://twitter.com/i/web/status/{id_str}"}]}, **fields)


NOTE_URLS = [{"shortUrl": "https://t.co/note1", "expandedUrl": "https://example.org/onboarding",
              "displayUrl": "example.org/onboarding", "fromIndex": "262", "toIndex": "285"}]
NOTE_TAGS = [{"text": "writing", "fromIndex": "352", "toIndex": "360"},
             {"text": "onboarding", "fromIndex": "361", "toIndex": "372"}]


def note_files(tweets: list[dict], notes: list[dict]) -> dict[str, str]:
    return {**standard_files(tweets), "data/note-tweet.js": ytd("note_tweet", notes)}


def test_long_post_text_comes_from_note_tweet(tmp_path: Path) -> None:
    files = note_files([long_tweet()], [note("1790000000000000777", NOTE_TEXT, urls=NOTE_URLS,
                                             hashtags=NOTE_TAGS)])
    result = XArchiveImporter().read(write_archive(tmp_path, files))
    doc = by_id(result)[LONG_ID]
    assert doc.raw_text == NOTE_EXPANDED  # full text, line breaks and "&" intact, link expanded
    assert "\u2026" not in doc.raw_text and "t.co" not in doc.raw_text
    assert doc.metadata["note_tweet_id"] == "1790000000000000777"
    assert doc.metadata["hashtags"] == ["writing", "onboarding"]
    assert "quote_of" not in doc.metadata  # the i/web/status link is not a quote
    assert result.skipped == {}


def test_note_is_matched_by_second_and_prefix_not_by_id(tmp_path: Path) -> None:
    other_text = "A different long post written in the very same second. " * 8
    notes = [note("1790000000000000901", other_text),
             note("1790000000000000902", NOTE_TEXT, created_at="2024-05-15T10:00:00.640Z")]
    twin = long_tweet("1790000000000000810", other_text)
    result = XArchiveImporter().read(write_archive(tmp_path, note_files([long_tweet(), twin],
                                                                        notes)))
    docs = by_id(result)
    assert docs[LONG_ID].metadata["note_tweet_id"] == "1790000000000000902"
    assert docs[LONG_ID].raw_text.endswith("#writing #onboarding")
    assert docs["1790000000000000810"].raw_text == other_text.strip()


def test_note_from_another_second_is_not_merged(tmp_path: Path) -> None:
    notes = [note("1790000000000000777", NOTE_TEXT, created_at="2024-05-15T10:00:01.000Z")]
    result = XArchiveImporter().read(write_archive(tmp_path, note_files([long_tweet()], notes)))
    doc = by_id(result)[LONG_ID]
    assert doc.raw_text.endswith("\u2026 https://twitter.com/i/web/status/" + LONG_ID)
    assert "note_tweet_id" not in doc.metadata
    assert result.skipped == {"note_without_tweet": 1}


def test_long_reply_drops_the_reply_mentions_from_the_note(tmp_path: Path) -> None:
    body = "@bob " + NOTE_TEXT
    reply = long_tweet(text=body, in_reply_to_status_id_str="1700000000000000000",
                       in_reply_to_user_id_str="12345", in_reply_to_screen_name="bob")
    reply["tweet"]["display_text_range"] = ["5", "281"]
    files = note_files([reply], [note("1790000000000000777", body, urls=NOTE_URLS)])
    doc = by_id(XArchiveImporter().read(write_archive(tmp_path, files)))[LONG_ID]
    assert doc.raw_text == NOTE_EXPANDED


def test_manifest_lists_note_tweet_parts(tmp_path: Path) -> None:
    files = {**standard_files([long_tweet()]),
             "data/note-tweet-part1.js": ytd("note_tweet", [note("1790000000000000777",
                                                                 NOTE_TEXT)])}
    manifest = {"dataTypes": {
        "tweets": {"files": [{"fileName": "data/tweets.js", "count": "1"}]},
        "noteTweet": {"files": [{"fileName": "data/note-tweet-part1.js",
                                 "globalName": "YTD.note_tweet.part1", "count": "1"}]}}}
    files["data/manifest.js"] = "window.__THAR_CONFIG = " + json.dumps(manifest)
    doc = by_id(XArchiveImporter().read(write_archive(tmp_path, files)))[LONG_ID]
    assert doc.metadata["note_tweet_id"] == "1790000000000000777"


def test_note_without_text_names_note_tweet_js_and_field(tmp_path: Path) -> None:
    broken = note("1790000000000000777", NOTE_TEXT)
    del broken["noteTweet"]["core"]["text"]
    with pytest.raises(ImportFormatError, match=r"note-tweet\.js.*'core\.text'") as caught:
        XArchiveImporter().read(write_archive(tmp_path, note_files([long_tweet()], [broken])))
    assert caught.value.field_name == "core.text"


def test_note_with_a_bad_date_names_the_field(tmp_path: Path) -> None:
    broken = note("1790000000000000777", NOTE_TEXT, created_at="yesterday")
    with pytest.raises(ImportFormatError, match=r"note-tweet\.js.*'createdAt'"):
        XArchiveImporter().read(write_archive(tmp_path, note_files([long_tweet()], [broken])))


def quote(id_str: str, full_text: str, short: str = "https://t.co/q1",
          target: str = "https://twitter.com/bob/status/1234") -> dict:
    return tweet(id_str, full_text, entities={"hashtags": [], "urls": [
        {"url": short, "expanded_url": target, "display_url": "twitter.com/bob/status/1234"}]})


def test_quote_tweet_keeps_only_the_owner_comment(tmp_path: Path) -> None:
    quoted = quote("1790000000000000700", "So true. Drafts are cheap &amp; edits are not. "
                                          "https://t.co/q1")
    doc = XArchiveImporter().read(write_archive(tmp_path, standard_files([quoted]))).documents[0]
    assert doc.raw_text == "So true. Drafts are cheap & edits are not."
    assert doc.metadata["quote_of"] == "https://twitter.com/bob/status/1234"
    assert doc.is_owner is True


def test_quote_on_x_com_before_a_photo_link_is_detected(tmp_path: Path) -> None:
    quoted = quote("1790000000000000701", "Look at this https://t.co/q2 https://t.co/pic2",
                   short="https://t.co/q2", target="https://x.com/carol_w/status/99887766")
    quoted["tweet"]["entities"]["media"] = [{"url": "https://t.co/pic2", "type": "photo"}]
    doc = XArchiveImporter().read(write_archive(tmp_path, standard_files([quoted]))).documents[0]
    assert doc.raw_text == "Look at this"
    assert doc.metadata["quote_of"] == "https://x.com/carol_w/status/99887766"


def test_status_link_inside_the_sentence_stays_in_the_text(tmp_path: Path) -> None:
    quoted = quote("1790000000000000702", "As https://t.co/q1 said: keep it short.")
    doc = XArchiveImporter().read(write_archive(tmp_path, standard_files([quoted]))).documents[0]
    assert doc.raw_text == "As https://twitter.com/bob/status/1234 said: keep it short."
    assert doc.metadata["quote_of"] == "https://twitter.com/bob/status/1234"


def test_quote_without_comment_is_skipped(tmp_path: Path) -> None:
    result = XArchiveImporter().read(write_archive(
        tmp_path, standard_files([quote("1790000000000000703", "https://t.co/q1")])))
    assert result.documents == []
    assert result.skipped == {"empty": 1}


def test_progress_is_reported(archive: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    options = ImportOptions(progress=lambda done, total: calls.append((done, total)))
    XArchiveImporter(options).read(archive)
    assert calls[-1] == (3, 3)  # three documents: the thread, the link post, the reply


def test_owner_name_from_options_when_the_archive_has_none(tmp_path: Path) -> None:
    files = standard_files()
    del files["data/account.js"]
    result = XArchiveImporter(ImportOptions(owner_name="Dana")).read(write_archive(tmp_path, files))
    assert result.owner == "Dana"


def test_provenance_names_the_file_inside_the_export(archive: Path) -> None:
    doc = XArchiveImporter().read(archive).documents[0]
    assert doc.metadata["file"] == "data/tweets.js"


@pytest.mark.parametrize("created_at, expected", [
    ("Wed Jan 03 23:59:59 +0000 2024", datetime(2024, 1, 3, 23, 59, 59, tzinfo=timezone.utc)),
    ("Wed Jan 03 23:59:59 +0100 2024", datetime(2024, 1, 3, 22, 59, 59, tzinfo=timezone.utc)),
])
def test_dates_are_read_as_utc_with_the_fast_and_the_general_parser(tmp_path, created_at, expected):
    folder = write_archive(tmp_path / "a", standard_files([tweet("11", "hello", created_at=created_at)]))
    assert XArchiveImporter().read(folder).documents[0].created_at == expected


def test_an_unreadable_date_names_the_field(tmp_path):
    folder = write_archive(tmp_path / "a", standard_files([tweet("11", "hi", created_at="Foo Bar 99")]))
    with pytest.raises(ImportFormatError, match="created_at"):
        XArchiveImporter().read(folder)


def test_engagement_counts_are_kept_normalised(archive: Path) -> None:
    docs = by_id(XArchiveImporter().read(archive))
    assert docs[LINK_ID].metadata["engagement"] == {"likes": 31, "reposts": 5}
    # A thread's counts are its first post's (the one people saw in their timeline).
    assert docs[ROOT_ID].metadata["engagement"] == {"likes": 1, "reposts": 0}


def test_reply_and_quote_counts_are_read_when_the_archive_has_them(tmp_path: Path) -> None:
    tweets = [tweet(ROOT_ID, "A post with every count", favorite_count="12", retweet_count="3",
                    reply_count="4", quote_count="2"),
              tweet(LINK_ID, "Counts written as numbers, one unreadable", favorite_count=7,
                    retweet_count="n/a")]
    docs = by_id(XArchiveImporter().read(write_archive(tmp_path / "a", standard_files(tweets))))
    assert docs[ROOT_ID].metadata["engagement"] == {"likes": 12, "reposts": 3, "replies": 4,
                                                    "quotes": 2}
    assert docs[LINK_ID].metadata["engagement"] == {"likes": 7}


def test_a_tweet_without_counts_has_no_engagement(tmp_path: Path) -> None:
    bare = tweet(ROOT_ID, "No counts at all")
    del bare["tweet"]["favorite_count"], bare["tweet"]["retweet_count"]
    docs = by_id(XArchiveImporter().read(write_archive(tmp_path / "a", standard_files([bare]))))
    assert "engagement" not in docs[ROOT_ID].metadata
