"""The one overlap rule every instruction obeys, and extractive ideas shaped like a user's."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from llm_twin.features.shingles import words
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.instructions import (ExtractiveInstructionWriter, IdeaOverlap,
                                                 ModelInstructionWriter, OverlapSummary,
                                                 idea_answer_overlap, idea_leaks,
                                                 summarize_overlaps, usable_title)
from llm_twin.training_data.owner_texts import COMMIT_MESSAGE, OwnerText
from llm_twin.training_data.store import save_build
from conftest import make_doc

ANSWER = "We moved the job queue into Postgres, and deleted a whole Redis cluster last spring."


def unit(text: str, **kwargs) -> OwnerText:
    values = dict(document_id=1, source_id=1, platform="blog", kind="post", text=text)
    values.update(kwargs)
    return OwnerText(**values)


# -- the rule on crafted pairs ----------------------------------------------------------------

def test_four_answer_words_in_a_row_break_the_rule_three_do_not():
    four = "why a job queue into postgres works"
    assert idea_answer_overlap(four, ANSWER) == IdeaOverlap(0.4, 4)  # few 3-grams, but a run
    assert idea_leaks(four, ANSWER)
    three = "why the job queue matters"
    assert idea_answer_overlap(three, ANSWER) == IdeaOverlap(1 / 3, 3)
    assert not idea_leaks(three, ANSWER)


def test_case_and_punctuation_are_ignored():
    shouting = "JOB-QUEUE... INTO; Postgres!"
    assert idea_answer_overlap(shouting, ANSWER).longest_run == 4
    assert idea_leaks(shouting, ANSWER)
    assert idea_answer_overlap("Redis Cluster", ANSWER) == IdeaOverlap(0.0, 2)


def test_trigram_share_breaks_the_rule_above_the_threshold():
    # 3-word runs only, but both of the idea's 3-grams are the answer's
    idea = "whole redis cluster"
    overlap = idea_answer_overlap(idea, ANSWER)
    assert overlap == IdeaOverlap(1.0, 3)
    assert idea_leaks(idea, ANSWER, threshold=0.5)
    assert not idea_leaks("redis, postgres and a job queue we like", ANSWER, threshold=0.5)
    assert idea_leaks("postgres job queue", "postgres job queue rocks", threshold=0.5)


def test_empty_idea_or_answer_shares_nothing():
    assert idea_answer_overlap("", ANSWER) == IdeaOverlap(0.0, 0)
    assert idea_answer_overlap("a post on queues", "") == IdeaOverlap(0.0, 0)


def test_longest_run_matches_a_brute_force_search():
    rng = random.Random(7)
    vocabulary = "a b c d e".split()
    for _ in range(200):
        idea = [rng.choice(vocabulary) for _ in range(rng.randint(0, 12))]
        answer = [rng.choice(vocabulary) for _ in range(rng.randint(0, 30))]
        expected = max((k for i in range(len(idea)) for k in range(1, len(idea) - i + 1)
                        if _contains(answer, idea[i:i + k])), default=0)
        assert idea_answer_overlap(" ".join(idea), " ".join(answer)).longest_run == expected


def _contains(sequence, run):
    return any(sequence[j:j + len(run)] == run for j in range(len(sequence) - len(run) + 1))


def test_summary_counts_ideas_that_copy_a_run():
    summary = summarize_overlaps([IdeaOverlap(0.0, 2), IdeaOverlap(0.5, 4), IdeaOverlap(0.1, 3)])
    assert summary == OverlapSummary(ideas=3, mean_trigram_share=0.2, mean_longest_run=3.0,
                                     max_longest_run=4, copied_runs=1)
    assert summarize_overlaps([]) == OverlapSummary()


# -- extractive ideas ---------------------------------------------------------------------------

POSTS = [
    "Three lessons from moving our job queue into Postgres. First, SKIP LOCKED does the hard part. "
    "Second, keep the jobs table small: archive finished jobs every night. Third, watch vacuum.",
    "Hot take: most dashboards are decoration. When something breaks at 3am I want structured "
    "logs, a trace id and a runbook link, not a wall of green charts nobody reads.",
    "I finally read The Mythical Man-Month. Adding people to a late project makes it later, and "
    "that sentence alone would have saved my last team a quarter! Would you hire mid-project?",
    "Launch day 🚀 The new billing page is live. Stripe checkout, one plan, no seat math. "
    "#buildinpublic #saas",
    "Shipping is a habit. Shipping is a habit. Shipping is a habit. Shipping small things daily "
    "beats shipping big things yearly.",
    "Postgres Postgres Postgres queue queue queue",
    "The the the and of a to in it is.",
]


def test_extractive_ideas_of_real_looking_posts_never_hold_four_answer_words_in_a_row():
    units = [unit(text, platform="linkedin") for text in POSTS]
    writer = ExtractiveInstructionWriter().fit(units)
    for post, idea in zip(units, writer.ideas(units)):
        assert idea.strip()
        overlap = idea_answer_overlap(idea, post.text)
        assert overlap.longest_run <= 3 and overlap.trigram_share <= 0.5, (idea, post.text)
        opening = " ".join(words(post.text)[:6])
        assert opening not in " ".join(words(idea))


def test_extractive_ideas_hold_the_topic_and_points_in_text_order():
    long_post = unit(POSTS[0])
    writer = ExtractiveInstructionWriter().fit([unit(p) for p in POSTS])
    idea = writer.idea(long_post)
    assert "points to make:" in idea
    points = idea.split("points to make:")[1].split(";")[0].split(", ")
    positions = [words(long_post.text).index(p.strip().split()[0]) for p in points]
    assert positions == sorted(positions)


def test_every_idea_follows_the_rule_at_a_strict_threshold():
    units = [unit(text) for text in POSTS]
    writer = ExtractiveInstructionWriter(overlap_threshold=0.05).fit(units)
    for post, idea in zip(units, writer.ideas(units)):
        assert not idea_leaks(idea, post.text, 0.05), idea


def test_a_title_cut_from_the_opening_is_not_used_a_real_title_is():
    text = "The other day I found that my automated job to cross-post started failing again."
    cut = unit(text, kind="article", title="The other day I found that my automated job to cro")
    assert usable_title(cut) is None
    whole = unit(text, kind="article", title="The other day I found that my automated job")
    assert usable_title(whole) is None
    real = unit(text, kind="article", title="When cron jobs rot")
    assert usable_title(real) == "When cron jobs rot"
    writer = ExtractiveInstructionWriter().fit([cut, real])
    assert "the other day" not in writer.idea(cut).lower()
    assert writer.idea(real).startswith("When cron jobs rot; ")


def test_a_title_quoting_the_body_is_dropped_and_the_idea_still_has_a_topic():
    text = ("Queues are easy to start. Then one day you learn that retries without backoff will "
            "take your database down, and the pager agrees.")
    post = unit(text, kind="article", title="Retries without backoff will take you down")
    idea = ExtractiveInstructionWriter().fit([post]).idea(post)
    assert "Retries without backoff" not in idea
    assert not idea_leaks(idea, text) and idea.strip()


def test_code_and_commit_ideas_follow_the_rule():
    # the definitions' names sit next to each other in the text, so "defines a, b, c" would copy
    code = unit("# defines parse load save\ndef parse(x):\n    return x\n\n"
                "def load(p):\n    return p\n\ndef save(p):\n    return p\n",
                platform="code", kind="code", code_language="python")
    writer = ExtractiveInstructionWriter().fit([code])
    idea = writer.idea(code)
    assert not idea_leaks(idea, code.text) and "parse" in idea
    commit = unit("Fix flaky retry test in the queue worker", platform="git", kind="post",
                  tag=COMMIT_MESSAGE)
    idea = ExtractiveInstructionWriter().fit([commit]).idea(commit)
    assert idea.strip() and not idea_leaks(idea, commit.text)


def test_model_written_ideas_that_copy_fall_back_to_a_rule_abiding_extractive_one():
    post = unit(POSTS[1])
    fallback = ExtractiveInstructionWriter().fit([post])
    writer = ModelInstructionWriter(_NoModel(), fallback, overlap_threshold=0.5)
    copied = "A post saying I want structured logs, a trace id and a runbook link"
    assert writer._accept(post, copied) == fallback.idea(post)
    assert writer.stats.rejected_overlap == 1
    assert not idea_leaks(writer._accept(post, copied), post.text)


class _NoModel:
    """`_accept` judges given text; no generation happens in these tests."""

    model_id = "none"


# -- the dataset card ---------------------------------------------------------------------------

def test_card_and_its_readme_report_the_overlap_of_each_split(ingest, sessions, settings):
    day0 = datetime(2022, 1, 1, tzinfo=timezone.utc)
    ingest(*[make_doc(text, platform="linkedin", created_at=day0 + timedelta(days=i))
             for i, text in enumerate(POSTS[:5])])
    with sessions() as session:
        build = build_dataset(session, BuildOptions(owner="Dana", test_share=0.2),
                              ExtractiveInstructionWriter())
    stored, _ = save_build(build, settings.workspace, tokenizer_name="words",
                           count_tokens=lambda text: len(text.split()))
    overlap = stored.card["instructions"]["idea_overlap"]
    assert overlap["all"]["ideas"] == len(build.sft) > 0
    assert overlap["train"]["ideas"] + overlap["test"]["ideas"] == len(build.sft)
    assert overlap["all"]["copied_runs"] == 0 and overlap["all"]["max_longest_run"] <= 3
    assert 0 <= overlap["all"]["mean_trigram_share"] <= 0.5
    readme = (stored.path / "README.md").read_text()
    assert "## Instructions vs answers" in readme and "| all |" in readme


@pytest.mark.parametrize("threshold", [0.0001, 1.0])
def test_the_writer_takes_the_configured_threshold(threshold):
    writer = ExtractiveInstructionWriter(overlap_threshold=threshold)
    post = unit(POSTS[0])
    assert not idea_leaks(writer.fit([post]).idea(post), post.text, threshold)


class _EchoingModel:
    """A model that answers every writer prompt with the text it was shown: pure copying."""

    model_id = "echo"

    def generate(self, conversations, params):
        from llm_twin.backends.base import Generation

        shown = [c[-1]["content"].split("---\n")[1].split("\n---")[0] for c in conversations]
        return [Generation(text, 0, 0, True) for text in shown]


def test_a_copying_model_gets_every_idea_replaced_by_a_fitted_extractive_one():
    units = [unit(text) for text in POSTS[:4]]
    writer = ModelInstructionWriter(_EchoingModel(), ExtractiveInstructionWriter(), batch_size=2)
    ideas = writer.ideas(units)
    assert writer.fallback.fitted
    assert ideas == ExtractiveInstructionWriter().fit(units).ideas(units)
    assert writer.stats.generated == 4 and writer.stats.rejected == 4
    assert all(not idea_leaks(idea, post.text) for idea, post in zip(ideas, units))
