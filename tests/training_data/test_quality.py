from dataclasses import dataclass, field
from datetime import datetime

from llm_twin.training_data import quality
from llm_twin.training_data.owner_texts import length_limits
from llm_twin.training_data.quality import QualityReport


@dataclass
class Unit:
    text: str
    platform: str = "blog"
    kind: str = "post"
    language: str | None = None
    draft: bool = False
    tag: str | None = None
    created_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    @property
    def limits(self):
        return length_limits(self.platform, self.kind, self.tag)


def test_drafts_are_dropped_and_counted():
    report = QualityReport()
    kept = quality.drop_drafts([Unit("published words here"), Unit("half done", draft=True)], report)
    assert [u.text for u in kept] == ["published words here"]
    assert report.dropped == {"draft": 1}


def test_length_limits_per_platform():
    report = QualityReport()
    units = [Unit("ok", platform="x"), Unit("a fine post with enough words", platform="x"),
             Unit("caption " * 300, platform="instagram"), Unit("caption " * 200, platform="linkedin")]
    kept = quality.apply_length_limits(units, report)
    assert [u.platform for u in kept] == ["x", "linkedin"]
    assert report.dropped == {"too_short": 1, "too_long": 1}


def test_language_filter_keeps_the_owner_language_short_texts_and_code():
    english = Unit("I rewrote our billing service this week and learned a lot about idempotency keys.")
    french = Unit("J'ai réécrit notre service de facturation cette semaine et appris beaucoup de choses.")
    short = Unit("Bonjour tout le monde")
    code = Unit("def f():\n    return 'c\\'est la vie, mon ami, vraiment la vie'", kind="code")
    declared = Unit("Ein Beitrag, dessen Sprache der Export angibt, nämlich Deutsch.", language="de-DE")
    assert quality.main_languages([english, english, french]) == ["en"]
    report = QualityReport()
    kept = quality.filter_languages([english, french, short, code, declared], ["en"], report)
    assert kept == [english, short, code]
    assert report.dropped == {"language": 2}


def _published(i: int) -> Unit:
    return Unit(f"Published fragment [Note number {i}](/fragments/note-{i}), on a thing I wrote.")


def test_templated_posts_are_dropped_but_an_opening_habit_is_kept():
    templated = [_published(i) for i in range(6)]
    habit = [Unit(f"I've been thinking about topic {i} a lot lately, and here is why.") for i in range(8)]
    other = [Unit(f"Some unrelated post number {i} about databases and queues.") for i in range(20)]
    report = QualityReport()
    kept = quality.drop_templated(templated + habit + other, report)
    assert report.dropped == {"templated": 6}
    assert kept == habit + other


def test_a_sentence_end_inside_a_link_title_does_not_hide_the_template():
    posts = [Unit(f"Published [_Article {i}: the subtitle_](/article-{i}). Short note.") for i in range(6)]
    assert quality.opening_signature(posts[0].text) == ("published", quality.LINK)
    report = QualityReport()
    assert quality.drop_templated(posts + [Unit("A normal post here.")] * 3, report) == [Unit("A normal post here.")] * 3


def test_bot_commit_messages_are_templated():
    report = QualityReport()
    kept = quality.drop_templated([Unit("Bump lodash from 4.17.20 to 4.17.21", tag="commit_message"),
                                   Unit("Make the retry loop back off exponentially", tag="commit_message")],
                                  report)
    assert [u.text for u in kept] == ["Make the retry loop back off exponentially"]


def test_repeated_footer_is_trimmed_verbatim_and_pure_boilerplate_dropped():
    footer = "Subscribe to my newsletter for more posts like this one."
    posts = [Unit(f"Post {i} says something different about topic {i}.\n\n{footer}") for i in range(4)]
    only_footer = Unit(footer)
    originals = [p.text for p in posts]
    report = QualityReport()
    kept = quality.strip_boilerplate(posts + [only_footer], report)
    assert report.dropped == {"boilerplate": 1}
    assert report.trimmed == {"boilerplate_lines": 4}
    for unit, original in zip(kept, originals):
        assert footer not in unit.text and unit.text in original


def test_exact_duplicates_keep_the_first_copy():
    first = Unit("Same words, same post!", platform="x")
    copy = Unit("same words — same post", platform="linkedin")
    report = QualityReport()
    assert quality.drop_exact_duplicates([first, copy], report) == [first]
    assert report.dropped == {"exact_duplicate": 1}


def test_near_duplicates_are_dropped_and_different_posts_kept():
    base = ("We moved our job queue into Postgres last year and it has been the most boring, "
            "reliable part of the stack ever since. SKIP LOCKED does the heavy lifting, and one "
            "fewer moving part means one fewer pager alert at night for everybody on the team.")
    edited = base.replace("last year", "in 2023") + " Highly recommended."
    different = ("Kubernetes was the wrong call for a team of four: we spent more time on YAML "
                 "than on the product, and a single VM would have served our traffic for years.")
    report = QualityReport()
    kept = quality.drop_near_duplicates([Unit(base), Unit(edited), Unit(different)], 0.8, report)
    assert [u.text for u in kept] == [base, different]
    assert report.dropped == {"near_duplicate": 1}
