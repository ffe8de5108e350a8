"""The anti-cliché lexicon: frequent in the base model's drafts, absent from the owner's texts."""

import pytest

from llm_twin.inference.cliches import ClicheLexicon, phrases, words

OWNER = [
    "We kept the queue in Postgres. Boring works, and boring lets me sleep.",
    "On-call taught me to write runbooks people read at 3am.",
    "Partial indexes saved our weekend. Measure first, then index.",
]
BASE = [
    "In today's fast-paced world, it is important to note that databases matter.",
    "In today's fast-paced world, teams must unlock the power of their data.",
    "Let's dive in! In today's fast-paced world, queues are key. Unlock the power of Postgres.",
    "It is important to note that boring works. Let's dive in.",
]


def test_words_and_phrases():
    assert words("Let's dive IN, today’s 3 tests") == ["let's", "dive", "in", "today's", "tests"]
    assert phrases("a b c", sizes=(2, 3)) == {"a b", "b c", "a b c"}


def test_frequent_base_phrases_absent_from_the_owner_are_cliches():
    lexicon = ClicheLexicon.fit(OWNER, BASE, min_documents=2)
    # Word 2-4 grams: a five-word stock phrase shows as its two 4-grams.
    assert {"in today's fast paced", "today's fast paced world"} <= set(lexicon.phrases)
    assert "unlock the power of" in lexicon.phrases
    assert "let's dive in" in lexicon.phrases
    # Sub-phrases that only ever occur inside a longer cliché are not listed twice.
    assert "today's fast" not in lexicon.phrases
    # "boring works" is the owner's own phrase; "it is" is stopwords only.
    assert not any("boring works" in p for p in lexicon.phrases)
    assert "it is" not in lexicon.phrases
    assert lexicon.phrases[:2] == ["in today's fast paced", "today's fast paced world"]  # most frequent first


def test_find_lists_hits_in_lexicon_order():
    lexicon = ClicheLexicon.fit(OWNER, BASE, min_documents=2)
    text = "Let's dive in. In today's fast-paced world we should unlock the power of queues."
    assert lexicon.find(text) == ["in today's fast paced", "today's fast paced world",
                                  "unlock the power of", "let's dive in"]
    assert lexicon.find(OWNER[0]) == []


def test_a_phrase_seen_in_one_draft_only_is_not_a_cliche():
    lexicon = ClicheLexicon.fit(OWNER, BASE, min_documents=3)
    assert lexicon.phrases == ["in today's fast paced", "today's fast paced world"]


def test_round_trip_and_bad_input():
    lexicon = ClicheLexicon.fit(OWNER, BASE)
    assert ClicheLexicon.from_json(lexicon.to_json()) == lexicon
    with pytest.raises(ValueError, match="list of phrases"):
        ClicheLexicon.from_json({"phrases": 1})
    with pytest.raises(ValueError, match="owner_texts is empty"):
        ClicheLexicon.fit([], BASE)
    assert ClicheLexicon.fit(OWNER, []).phrases == []
