"""The platform table: the draft platforms' rules, every source platform's row, and the names
derived from it."""

import dataclasses

import pytest

from llm_twin.errors import InputError
from llm_twin.platforms import (CHAT_PLATFORMS, DRAFT_PLATFORMS, KINDS, SOURCE_PLATFORMS,
                                PlatformRules, is_long_form, label_of, max_answer_chars, rules_for,
                                source_rules)


def test_every_draft_platform_has_rules():
    assert DRAFT_PLATFORMS == ("linkedin", "x", "instagram", "medium", "substack", "blog", "paper")
    for name in DRAFT_PLATFORMS:
        rules = rules_for(name)
        assert isinstance(rules, PlatformRules)
        assert rules.name == name and rules.drafts
        assert rules.style_hint and not rules.style_hint.endswith(".")
        if rules.max_chars_per_post is not None:
            assert rules.target_chars <= rules.max_chars_per_post


@pytest.mark.parametrize("name, label, max_chars, max_tags, thread, title, target", [
    ("x", "X", 280, None, True, False, 260),
    ("linkedin", "LinkedIn", 3000, None, False, False, 1200),
    ("instagram", "Instagram", 2200, 30, False, False, 600),
    ("medium", "Medium", None, None, False, True, 3000),
    ("substack", "Substack", None, None, False, True, 3000),
    ("blog", "blog", 20000, None, False, True, 4000),
    ("paper", "paper", 2000, None, False, False, 1200),  # an abstract unless the idea says
])
def test_rule_values(name, label, max_chars, max_tags, thread, title, target):
    rules = rules_for(name)
    assert (rules.label, rules.max_chars_per_post, rules.max_hashtags, rules.is_thread_platform,
            rules.needs_title, rules.target_chars) == (label, max_chars, max_tags, thread, title,
                                                        target)


def test_rules_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules_for("x").max_chars_per_post = 10_000


def test_rules_for_accepts_case_and_twitter_alias():
    assert rules_for(" LinkedIn ") is rules_for("linkedin")
    assert rules_for("Twitter") is rules_for("x")


@pytest.mark.parametrize("bad", ["myspace", "", None, 3, "web", "whatsapp"])
def test_unknown_or_undrafted_platform_lists_the_draft_platforms(bad):
    with pytest.raises(InputError) as error:
        rules_for(bad)
    for name in DRAFT_PLATFORMS:
        assert name in str(error.value)


def test_source_platforms_hold_every_platform_a_document_comes_from():
    assert set(SOURCE_PLATFORMS) == {"x", "linkedin", "instagram", "medium", "substack", "blog",
                                     "mastodon", "bluesky", "whatsapp", "telegram", "messenger",
                                     "web", "paper", "code"}
    assert set(DRAFT_PLATFORMS) <= set(SOURCE_PLATFORMS)
    assert KINDS == ("post", "thread", "article", "message", "paper", "code")
    assert source_rules("myspace") is None and source_rules(None) is None


def test_long_form_chat_and_labels_come_from_the_rows():
    assert [p for p in SOURCE_PLATFORMS if is_long_form(p)] == ["medium", "substack", "blog",
                                                                 "paper"]
    assert not is_long_form(None) and not is_long_form("myspace")
    assert set(CHAT_PLATFORMS) == {"whatsapp", "telegram", "messenger", "instagram", "linkedin"}
    assert (label_of("mastodon"), label_of("bluesky"), label_of("blog")) == (
        "Mastodon", "Bluesky", "blog")
    assert label_of("myspace") == "myspace"


def test_answer_limits_per_platform():
    assert (max_answer_chars("x"), max_answer_chars("instagram"), max_answer_chars("linkedin"),
            max_answer_chars("mastodon"), max_answer_chars("myspace")) == (4000, 2200, 3000, 3000,
                                                                            3000)


def test_a_draft_row_needs_its_request_wording():
    with pytest.raises(ValueError, match="needs a style_hint and target_chars"):
        PlatformRules("threads", "Threads", drafts=True)
