"""The scaffolding filter, and the blog and paper formats (issue 19)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from frontmatter.default_handlers import YAMLHandler

from llm_twin.inference.formatting import (FormatHabits, FrontMatterField, FrontMatterShape,
                                           filter_scaffolding, format_draft, glued_from_idea)
from llm_twin.inference.profiles import learn_front_matter, learn_profile, rules_and_habits
from llm_twin.platforms import PAPER_FORMS, paper_form
from llm_twin.prompts.wording import user_message
from llm_twin.platforms import rules_for
from llm_twin.storage.models import Document
from llm_twin.training_data.instructions import paper_part, training_rules
from llm_twin.training_data.owner_texts import OwnerText

IDEA = "Why we stop using cron for background jobs"
BODY = ("We stopped using cron last spring. Jobs now run from a Postgres queue, and a failed job "
        "is a row we can look at instead of a line in a log nobody reads.")


# -- the scaffolding filter ----------------------------------------------------------------------

@pytest.mark.parametrize("leak", [
    "Here's your 12th example from my blog:",
    "Here is a LinkedIn post about why we stopped using cron:",
    "Here's the revised draft based on your notes.",
    "Based on my blog's notes, here goes.",
    "As requested.",
    "As an AI, I don't have a team.",
    "Examples of how I write:",
    "Things I have said about this:",
    "This matches the examples above.",
    "About 1200 characters long.",
    "Here's a post for LinkedIn:",
    "Here is a caption for Instagram about our move.",
    "I'm writing a LinkedIn post about why we stopped using cron.",
    "Let me draft an X thread on this.",
])
def test_a_line_that_is_only_scaffolding_is_cut_and_counted(leak):
    draft = format_draft(f"{leak}\n\n{BODY}", "linkedin", idea=IDEA)
    assert draft.body == BODY
    assert draft.scaffolding == {"cut": 1, "flagged": 0}
    assert len(draft.notes) == 1


def test_scaffolding_inside_a_paragraph_is_cut_by_sentence():
    text = f"{BODY} I wrote this in the style of the examples you gave. Retries are visible now."
    draft = format_draft(text, "linkedin", idea=IDEA)
    assert draft.body == f"{BODY} Retries are visible now."
    assert draft.scaffolding_cut == 1 and "examples you gave" in draft.notes[0]


def test_scaffolding_in_a_sentence_with_content_is_flagged_not_cut():
    text = f"As requested, three lessons from a year of on-call: sleep, runbooks, rotation.\n\n{BODY}"
    draft = format_draft(text, "linkedin", idea=IDEA)
    assert draft.body == text
    assert draft.scaffolding == {"cut": 0, "flagged": 1}
    assert draft.notes[0].startswith('check: "As requested, three lessons')


def test_a_draft_that_is_only_scaffolding_is_flagged_not_emptied():
    draft = format_draft("Here is your LinkedIn post about cron.", "linkedin", idea=IDEA)
    assert draft.body == "Here is your LinkedIn post about cron."
    assert draft.scaffolding == {"cut": 0, "flagged": 1}


def test_echoes_of_the_real_prompt_headers_are_caught():
    """The headers our own prompt carries (prompts/wording.user_message), echoed back."""
    prompt = user_message(IDEA, rules_for("linkedin"), ["A past post."], ["A note."],
                          ["I rarely use emoji: use none."])
    headers = [line for line in prompt.split("\n") if line.endswith(":") or "characters" in line]
    assert len(headers) >= 3
    for header in headers:
        draft = format_draft(f"{header}\n{BODY}", "linkedin", idea=IDEA)
        assert draft.body == BODY, header
        assert draft.scaffolding_cut >= 1, header


def test_hashtag_glued_from_the_idea_is_cut_from_the_tag_line_and_real_tags_stay():
    text = f"{BODY}\n\n#Whywestopusing #Postgres #BackgroundJobs"
    draft = format_draft(text, "linkedin", idea=IDEA)
    assert draft.body == f"{BODY}\n\n#Postgres #BackgroundJobs"
    assert draft.scaffolding == {"cut": 1, "flagged": 0}
    assert "#Whywestopusing" in draft.notes[0]


def test_glued_hashtag_inside_a_sentence_is_flagged():
    text = "The #WhyWeStopUsingCron story is simple: we moved to Postgres."
    draft = format_draft(text, "linkedin", idea=IDEA)
    assert draft.body == text and draft.scaffolding == {"cut": 0, "flagged": 1}


@pytest.mark.parametrize("tag, glued", [
    ("#Whywestopusing", True), ("#whywestopusingcron", True), ("#StopUsingCronFor", True),
    ("#Postgres", False), ("#BackgroundJobs", False), ("#cron", False), ("#WhyWe", False),
    ("#UsingCronBadly", False),
])
def test_glued_hashtags_follow_the_ideas_word_sequence(tag, glued):
    assert glued_from_idea(tag, IDEA) is glued
    assert glued_from_idea(tag, "") is False


@pytest.mark.parametrize("text", [
    # a post that is about examples in the owner's own field
    "Three examples of flaky tests, and what each one taught me.\n\nThe first example is a race "
    "between two workers. The second is a clock. #testing #Postgres",
    # a blog post that shows its examples and refers to them
    "```sql\ncreate index on jobs (run_at) where done = false;\n```\n\nThe examples above "
    "skip finished jobs, so the index stays small.",
    # an X thread opener in the owner's voice
    "Here's a thread on how we cut our AWS bill by half 🧵",
    # notes and prompts as the subject
    "I keep my notes in plain text files. The prompt engineering hype will pass; good notes stay.",
    "Here's a post I wrote in 2019 about burnout. It still holds.",
    "My LinkedIn post from last week got more replies than anything I wrote this year.",
    "I'm writing a book about job queues. Chapter one is about cron.",
])
def test_real_posts_are_left_untouched(text):
    result = filter_scaffolding(text, IDEA)
    assert result.text == text
    assert (result.cut, result.flagged, result.notes) == (0, 0, [])


# -- blog ----------------------------------------------------------------------------------------

def _blog(title: str, tags: list[str], **extra) -> Document:
    return Document(platform="blog", kind="article", author="Dana", is_owner=True,
                    raw_text=BODY + "\n\n" + BODY, title=title, created_at=datetime(2023, 5, 1),
                    extra={"layout": "post", "categories": tags, **extra, "path": f"{title}.md"})


def test_blog_front_matter_follows_the_owners_files():
    documents = [_blog("Queues", ["postgres", "queues"], description="On queues."),
                 _blog("Cron", ["ops"], description="On cron."),
                 _blog("Indexes", ["postgres"], description="On indexes.", image="a.png")]
    shape = learn_front_matter(documents)
    assert [(f.key, f.fill) for f in shape.fields] == [
        ("title", "title"), ("date", "date"), ("layout", "constant"), ("categories", "tags"),
        ("description", "summary")]
    assert shape.fields[3].vocabulary[0] == "postgres"
    text = f"# Why we stopped using cron\n\n*A queue beats a crontab.*\n\n{BODY}"
    draft = format_draft(text, "blog", FormatHabits(front_matter=shape), idea=IDEA,
                         today=date(2024, 3, 9))
    assert draft.front_matter == {"title": "Why we stopped using cron", "date": date(2024, 3, 9),
                                  "layout": "post", "categories": ["postgres"],
                                  "description": "A queue beats a crontab."}
    head, body = draft.as_text().split("\n---\n\n", 1)
    assert YAMLHandler().load(head.removeprefix("---\n")) == draft.front_matter
    assert body == BODY and draft.body == BODY and draft.title == "Why we stopped using cron"
    assert draft.front_matter_json()["date"] == "2024-03-09"


def test_blog_default_front_matter_without_imported_blog():
    draft = format_draft(f"Cron is not a queue\n\n{BODY}", "blog", idea=IDEA,
                         today=date(2024, 3, 9))
    assert draft.front_matter == {"title": "Cron is not a queue", "date": date(2024, 3, 9),
                                  "tags": ["stop", "using", "cron"]}
    assert draft.as_text().startswith("---\ntitle: Cron is not a queue\ndate: 2024-03-09\n")


def test_comma_separated_tags_stay_a_string():
    shape = FrontMatterShape((FrontMatterField("title", "title"),
                              FrontMatterField("tags", "tags_text", vocabulary=("Cron", "SQL"),
                                               max_tags=2)))
    draft = format_draft(f"# Cron\n\n{BODY} SQL wins.", "blog", FormatHabits(front_matter=shape))
    assert draft.front_matter == {"title": "Cron", "tags": "Cron, SQL"}


def test_blog_profile_carries_the_front_matter_and_length():
    documents = [_blog(f"Post {i}", ["ops"]) for i in range(5)]
    profile = learn_profile("blog", documents)
    assert profile is not None and profile.front_matter is not None
    rules, habits, _ = rules_and_habits("blog", profile)
    assert habits is not None and habits.front_matter is not None
    assert [f.key for f in habits.front_matter.fields][:3] == ["title", "date", "layout"]
    assert rules.target_chars != rules_for("blog").target_chars  # the owner's length, not 4000
    assert abs(rules.target_chars - len(documents[0].raw_text)) <= 10


# -- paper ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("idea, form", [
    ("a study of cron failures in small teams", "abstract"),
    ("Introduction: why job queues fail quietly", "introduction"),
    ("the intro for my paper on job queues", "introduction"),
    ("section on related work in job scheduling", "section"),
    ("Introduction to job queues", "abstract"),  # a topic, not the part
])
def test_paper_form_comes_from_the_idea(idea, form):
    assert paper_form(idea) == form
    rules, _, _ = rules_and_habits("paper", None, idea)
    assert rules.style_hint == PAPER_FORMS[form].style_hint
    assert rules.max_chars_per_post == PAPER_FORMS[form].max_chars


def test_paper_abstract_is_one_plain_paragraph_under_its_heading():
    text = "**Abstract**\n\nWe study cron failures.\nWe find **most** are silent."
    draft = format_draft(text, "paper", idea="cron failures")
    assert (draft.form, draft.section, draft.title) == ("abstract", "Abstract", None)
    assert draft.body == "We study cron failures. We find most are silent."
    assert draft.as_text() == "## Abstract\n\nWe study cron failures. We find most are silent."


def test_paper_introduction_keeps_markdown_and_an_explicit_title():
    text = ("# Quiet failures in job queues\n\n## 1. Introduction\n\nJobs fail quietly.\n\n"
            "- one\n- two")
    draft = format_draft(text, "paper", idea="introduction: quiet failures")
    assert (draft.title, draft.section) == ("Quiet failures in job queues", "Introduction")
    assert draft.body == "Jobs fail quietly.\n\n- one\n- two"
    assert draft.as_text().startswith("# Quiet failures in job queues\n\n## Introduction\n\n")


def test_paper_section_uses_its_own_heading_and_the_limit():
    text = "## Related work\n\n" + "Prior work studies schedulers in depth. " * 400
    draft = format_draft(text, "paper", idea="section on related work")
    assert draft.section == "Related work" and draft.truncated
    assert len(draft.body) <= PAPER_FORMS["section"].max_chars


def test_paper_and_blog_training_rules_match_what_write_serves():
    def unit(platform, kind, text, section=None, sections=1):
        return OwnerText(document_id=1, source_id=1, platform=platform, kind=kind, text=text,
                         section=section, sections=sections)
    abstract = unit("paper", "paper", "Abstract\n\nWe study cron.", 0, 3)
    intro = unit("paper", "paper", "## 1 Introduction\n\nJobs fail.", 1, 3)
    other = unit("paper", "paper", "## Method\n\nWe counted.", 2, 3)
    assert [paper_part(u) for u in (abstract, intro, other)] == ["abstract", "introduction",
                                                                 "section"]
    for u in (abstract, intro, other):
        rules = training_rules(u)
        assert rules.name == "paper"
        assert rules.style_hint == PAPER_FORMS[paper_part(u)].style_hint
    post = training_rules(unit("blog", "article", BODY))
    assert (post.name, post.style_hint) == ("blog", rules_for("blog").style_hint)
    assert training_rules(unit("blog", "post", "Short note.")).name == "x"


def test_empty_headings_and_an_unclosed_fence_are_removed_from_articles():
    """A base-model blog draft (the README screenshot) showed "##", "#" and a lone "```" as text."""
    text = ("# Our queue in Postgres\n\nWe moved it into a table.\n##\n- one index, one query\n"
            "#\n```\n---\n\nIt has been two years.")
    draft = format_draft(text, "blog", idea=IDEA)
    assert draft.body == "We moved it into a table.\n- one index, one query\n---\n\nIt has been two years."
    assert "removed 2 empty headings" in draft.notes
    assert "removed a code fence that was never closed" in draft.notes
    fenced = "# Title\n\nSee:\n\n```sql\nselect 1;\n```\n\nDone."
    assert format_draft(fenced, "medium", idea=IDEA).body == "See:\n\n```sql\nselect 1;\n```\n\nDone."
