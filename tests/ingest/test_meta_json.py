"""Shared Meta JSON helpers: the mojibake fix, the loader's errors, timestamps (FORMATS.md §5)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.meta_json import (
    fix_mojibake,
    load_meta_json,
    looks_like_instagram,
    utc_from_timestamp,
)
from llm_twin.ingest.safe_zip import ExportTree

FIXTURES = Path(__file__).parent.parent / "fixtures"
# Exactly as Meta writes it: each UTF-8 byte of "Café ☀️" escaped on its own.
ESCAPED = r'{"title": "Caf\u00c3\u00a9 \u00e2\u0098\u0080\u00ef\u00b8\u008f"}'


def export_with(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return tmp_path


def load(tmp_path: Path, content: str | bytes, name: str = "content/posts_1.json"):
    with ExportTree(export_with(tmp_path, {name: content}), unwrap=False) as tree:
        return load_meta_json(tree, name)


def test_fix_mojibake_repairs_escaped_utf8_bytes() -> None:
    broken = "Caf\u00c3\u00a9 \u00e2\u0098\u0080\u00ef\u00b8\u008f"
    assert broken.startswith("CafÃ© â")  # what json.loads alone gives
    assert fix_mojibake(broken) == "Café ☀️"


@pytest.mark.parametrize("clean", ["plain", "Café", "naïve Zoë", "☀️ sun", "", "日本語"])
def test_fix_mojibake_leaves_clean_strings_alone(clean: str) -> None:
    assert fix_mojibake(clean) == clean


def test_fix_mojibake_walks_lists_dicts_and_keys_leaving_other_values() -> None:
    value = {"participants": [{"name": "No\u00c3\u00abl"}], "n\u00c3\u00a9": 1,
             "flags": [True, None, 2.5], "nested": {"deeper": ["\u00e2\u0080\u0094"]}}
    assert fix_mojibake(value) == {"participants": [{"name": "Noël"}], "né": 1,
                                   "flags": [True, None, 2.5], "nested": {"deeper": ["—"]}}


def test_loader_parses_the_escaped_form_and_fixes_it(tmp_path: Path) -> None:
    assert load(tmp_path, ESCAPED) == {"title": "Café ☀️"}


def test_loader_tolerates_a_byte_order_mark(tmp_path: Path) -> None:
    assert load(tmp_path, b"\xef\xbb\xbf" + ESCAPED.encode()) == {"title": "Café ☀️"}


def test_broken_json_names_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"posts_1\.json, line 3: invalid JSON") as caught:
        load(tmp_path, '[\n  {"title": "a"},\n  {"title" "b"}\n]')
    assert caught.value.line == 3
    assert caught.value.file.endswith("posts_1.json")


def test_wrong_encoding_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"posts_1\.json, line 2: not valid UTF-8"):
        load(tmp_path, '[\n{"title": "Caf\xe9"}]'.encode("latin-1"))


def test_empty_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"posts_1\.json: the file is empty"):
        load(tmp_path, "  \n")


def test_html_in_place_of_json_says_to_request_the_json_download(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="Format: JSON"):
        load(tmp_path, "<!DOCTYPE html><html><body>Posts</body></html>")


@pytest.mark.parametrize(("value", "milliseconds", "expected"), [
    (1709290000, False, datetime(2024, 3, 1, 10, 46, 40, tzinfo=timezone.utc)),
    (1709290000123, True, datetime(2024, 3, 1, 10, 46, 40, 123000, tzinfo=timezone.utc)),
    (1709290000123, None, datetime(2024, 3, 1, 10, 46, 40, 123000, tzinfo=timezone.utc)),
    (1709290000, None, datetime(2024, 3, 1, 10, 46, 40, tzinfo=timezone.utc)),
    ("1709290000", False, datetime(2024, 3, 1, 10, 46, 40, tzinfo=timezone.utc)),
])
def test_timestamps_become_aware_utc(value: object, milliseconds: bool | None,
                                     expected: datetime) -> None:
    moment = utc_from_timestamp(value, "f.json", "creation_timestamp", milliseconds=milliseconds)
    assert moment == expected and moment.tzinfo == timezone.utc


@pytest.mark.parametrize("value", ["yesterday", True, None, [1], 10 ** 20])
def test_unreadable_timestamp_names_file_and_field(value: object) -> None:
    with pytest.raises(ImportFormatError, match=r"f\.json, field 'timestamp_ms'"):
        utc_from_timestamp(value, "f.json", "timestamp_ms", milliseconds=True)


def test_instagram_is_recognised_by_its_own_files(tmp_path: Path) -> None:
    posts = (FIXTURES / "instagram" / "posts_1.json").read_text(encoding="utf-8")
    thread = (FIXTURES / "messenger" / "sam_message_1.json").read_text(encoding="utf-8")
    instagram = export_with(tmp_path / "ig", {"content/posts_1.json": posts, "x/y.txt": "-"})
    facebook = export_with(tmp_path / "fb", {
        "your_facebook_activity/messages/inbox/samrivera_1/message_1.json": thread, "a.txt": "-"})
    with ExportTree(instagram) as tree:
        assert looks_like_instagram(tree)
    with ExportTree(facebook) as tree:
        assert not looks_like_instagram(tree)
