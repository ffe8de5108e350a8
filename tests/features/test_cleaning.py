"""clean_raw keeps the voice; normalize_for_search folds it; content_hash is the identity."""

from __future__ import annotations

import pytest

from llm_twin.features.cleaning import clean_raw, content_hash, normalize_for_search

BOLD_HELLO = "\U0001d5db\U0001d5f2\U0001d5f9\U0001d5f9\U0001d5fc"  # "Hello" in Unicode sans-serif bold
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # a ZWJ emoji sequence


def test_clean_raw_keeps_emoji_line_breaks_and_unicode_bold() -> None:
    text = f"{BOLD_HELLO} world 🚀🔥\n\nSecond paragraph,\nwith a single break… {FAMILY}!"
    assert clean_raw(text) == text


def test_clean_raw_keeps_indentation_and_tabs_inside_lines() -> None:
    text = "List:\n  - indented item\n\tcode();"
    assert clean_raw(text) == text


def test_clean_raw_converts_windows_and_old_mac_line_endings() -> None:
    assert clean_raw("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_clean_raw_removes_zero_width_characters_but_keeps_zwj() -> None:
    text = "\ufeffzero\u200bwidth\u200cjunk\u2060here " + FAMILY
    assert clean_raw(text) == "zerowidthjunkhere " + FAMILY


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"])
def test_clean_raw_removes_control_characters(char: str) -> None:
    assert clean_raw(f"be{char}fore\nafter") == "before\nafter"


def test_clean_raw_trims_trailing_spaces_and_collapses_blank_lines() -> None:
    assert clean_raw("  \n\nfirst   \t\nsecond\n\n\n\n\nthird  \n\n") == "first\nsecond\n\nthird"


def test_normalize_folds_bold_and_whitespace() -> None:
    assert normalize_for_search(f"{BOLD_HELLO}\n\n  world\tagain ") == "Hello world again"
    assert normalize_for_search("ﬁne ①") == "fine 1"  # NFKC compatibility folding


def test_normalize_is_idempotent() -> None:
    once = normalize_for_search(f" {BOLD_HELLO}\r\n x  y ")
    assert normalize_for_search(once) == once


@pytest.mark.parametrize("variant", [
    "Shipping  small things\nevery week.",
    "Shipping small things every week.",
    "  Shipping small\tthings\r\n\r\nevery   week.  ",
    "Shipping small things every week.".upper(),  # the hash is case-insensitive
])
def test_content_hash_equal_for_whitespace_variants(variant: str) -> None:
    reference = content_hash("linkedin", "post", normalize_for_search("Shipping small things every week."))
    assert content_hash("linkedin", "post", normalize_for_search(clean_raw(variant))) == reference


def test_content_hash_title_is_normalised_too() -> None:
    body = normalize_for_search("Body text")
    assert content_hash("blog", "article", body, "My  Title") == \
        content_hash("blog", "article", body, " my title\n")
    assert content_hash("blog", "article", body, None) == content_hash("blog", "article", body, "")


def test_content_hash_differs_across_platforms_kinds_titles_and_text() -> None:
    body = normalize_for_search("Same words everywhere.")
    hashes = {
        content_hash("linkedin", "post", body),
        content_hash("x", "post", body),
        content_hash("x", "thread", body),
        content_hash("x", "post", body, "A title"),
        content_hash("x", "post", normalize_for_search("Same words, elsewhere.")),
    }
    assert len(hashes) == 5
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)


def test_content_hash_fields_do_not_run_together() -> None:
    """Moving text between the title and the body must not produce the same identity."""
    assert content_hash("x", "post", "b c", "a") != content_hash("x", "post", "c", "a b")
