"""inference.preview: what each platform shows of a draft (no model, fast)."""

from __future__ import annotations

import pytest

from llm_twin.inference.formatting import FormatHabits, format_draft
from llm_twin.inference.preview import (SEE_MORE, count_hashtags, fold_at, preview_draft,
                                        preview_rules, preview_text, thread_numbering)
from llm_twin.platforms import DRAFT_PLATFORMS

LONG = " ".join(f"Sentence number {i} says one more thing about queues." for i in range(20))


def test_an_x_thread_is_one_part_per_post_with_its_count_and_the_owners_numbering():
    draft = format_draft(LONG, "x", FormatHabits(thread_numbering="(i/n)"))
    preview = preview_draft(draft)
    assert preview.layout == "thread"
    assert [p.text for p in preview.parts] == draft.posts
    total = len(draft.posts)
    assert total > 1
    assert [p.label for p in preview.parts] == [f"{i}/{total}" for i in range(1, total + 1)]
    assert preview.parts[0].text.startswith(f"(1/{total}) ")
    assert preview.numbering == "(i/n)"
    assert all(p.limit == 280 and p.chars == len(p.text) and not p.over for p in preview.parts)
    assert preview.over_limit == []


def test_an_edited_thread_splits_at_its_numbers_and_flags_a_post_over_280():
    text = "1/3 Short opener.\n\n2/3 " + "x" * 290 + "\n\n3/3 The end. #queues"
    preview = preview_text(text, "x")
    assert [p.text[:4] for p in preview.parts] == ["1/3 ", "2/3 ", "3/3 "]
    assert [p.over for p in preview.parts] == [False, True, False]
    assert preview.parts[1].chars == 294
    assert preview.over_limit == ["post 2/3 has 294 characters, over 280"]
    assert preview.numbering == "i/n" and preview.hashtags == 1


def test_an_unnumbered_long_text_is_split_as_the_formatter_would():
    preview = preview_text(LONG, "x", numbering="i/")
    assert len(preview.parts) > 1
    assert all(p.chars <= 280 for p in preview.parts)
    assert preview.parts[1].text.startswith("2/ ")
    assert thread_numbering(["just one"]) == "none"


def test_linkedin_folds_after_three_lines_or_210_characters_whichever_comes_first():
    three_lines = "Hook line.\nSecond line.\nThird line.\nFourth line after the fold."
    preview = preview_text(three_lines, "linkedin")
    assert preview.layout == "fold"
    assert [p.role for p in preview.parts] == ["visible", "more"]
    assert preview.parts[0].text == "Hook line.\nSecond line.\nThird line."
    assert preview.parts[1].text == "Fourth line after the fold."
    one_line = "abc " * 80  # character 210 falls inside a word
    assert fold_at(one_line, 210, 3) == 207  # the fold moves back to the space before it
    assert preview_text("Short post.", "linkedin").parts[0].text == "Short post."
    assert len(preview_text("Short post.", "linkedin").parts) == 1
    assert preview_rules("linkedin")["see_more"] == SEE_MORE


def test_linkedin_over_3000_characters_is_flagged_on_the_whole_post():
    preview = preview_text("a " * 1600, "linkedin")
    assert preview.over_limit == ["the post has 3,199 characters, over 3,000"]


def test_an_instagram_caption_counts_its_length_and_hashtags():
    caption = "Morning light. " + " ".join(f"#tag{chr(97 + i % 26)}{i}" for i in range(31))
    preview = preview_text(caption, "instagram")
    assert preview.layout == "caption" and preview.parts[0].role == "caption"
    assert preview.parts[0].limit == 2200
    assert preview.hashtags == 31 and preview.max_hashtags == 30
    assert preview.over_limit == ["31 hashtags, over 30"]
    # not hashtags: numbers, C#, a path
    assert count_hashtags("#1 on C# at a/#b, but #café and #v2 are") == 2


@pytest.mark.parametrize("platform", ["medium", "substack"])
def test_an_article_shows_title_subtitle_and_body(platform):
    draft = format_draft("# Why queues\n\n*The boring choice wins*\n\nWe moved it. It worked.",
                         platform)
    preview = preview_draft(draft)
    assert preview.layout == "article"
    assert [(p.role, p.text) for p in preview.parts] == [
        ("title", "Why queues"), ("subtitle", "The boring choice wins"),
        ("body", "We moved it. It worked.")]
    edited = preview_text("# " + "T" * 120 + "\n\nBody.", platform)
    assert edited.parts[0].role == "title"


def test_every_draft_platform_has_a_preview_and_its_json():
    for platform in DRAFT_PLATFORMS:
        preview = preview_text("Some text about queues.\n\nAnd more. #queues", platform)
        data = preview.to_json()
        assert data["platform"] == platform and data["parts"]
        assert data["rules"]["layout"] == data["layout"]
        assert all(part["chars"] == len(part["text"]) for part in data["parts"])


def test_a_blog_post_shows_its_front_matter_title_and_body():
    draft = format_draft("# Queues again\n\nWe moved the queue. It held up for years.", "blog",
                         idea="queues")
    preview = preview_draft(draft)
    assert preview.layout == "markdown"
    assert [p.role for p in preview.parts] == ["front_matter", "title", "body"]
    assert preview.parts[0].text.startswith("title: Queues again\n")
    assert preview.parts[1].text == "Queues again" and preview.front_matter["title"] == "Queues again"
    assert preview.parts[2].text == "We moved the queue. It held up for years."
    edited = preview_text(draft.as_text(), "blog")  # the same from the text the page edits
    assert [p.text for p in edited.parts] == [p.text for p in preview.parts]


def test_a_paper_part_shows_its_heading_and_its_forms_limit():
    draft = format_draft("We study job queues in relational databases. They hold up.", "paper",
                         idea="an introduction about job queues")
    preview = preview_draft(draft)
    assert preview.layout == "paper"
    assert [(p.role, p.limit) for p in preview.parts] == [("section", None), ("body", 12000)]
    assert preview.parts[0].text == "Introduction"
    edited = preview_text("## Abstract\n\n" + "word " * 500, "paper")
    assert edited.parts[1].limit == 2000
    assert edited.over_limit == ["the body has 2,499 characters, over 2,000"]
