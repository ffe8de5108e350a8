"""Claim flagging on constructed drafts: supported facts pass, invented ones are flagged."""

from __future__ import annotations

from conftest import make_doc
from hypothesis import given, settings, strategies as st

from llm_twin.inference.grounding import (Evidence, find_claims, find_unsupported_claims,
                                          owner_evidence)

SOURCES = ["I spent four years at Stripe on the payments team, and we cut p99 latency 40 percent.",
           "In 2019 we moved the job queue into Postgres. Sarah Chen ran the migration."]


def facts(draft: str, sources=SOURCES, **kwargs) -> list[tuple[str, ...]]:
    return [claim.facts for claim in find_unsupported_claims(draft, sources, **kwargs)]


def test_numbers_employers_and_names_present_in_a_source_are_not_flagged():
    draft = ("When I was at Stripe we cut p99 latency by 40%. In 2019 we moved our queue into "
             "Postgres, and Sarah Chen ran it.")
    assert facts(draft) == []


def test_absent_number_employer_and_name_are_flagged_with_the_missing_fact():
    claims = find_unsupported_claims(
        "At Google I cut costs by 35%. My manager Priya loved it. We shipped it in 2019.", SOURCES)
    assert [c.facts for c in claims] == [("35%", "Google"), ("Priya",)]
    assert claims[0] == "At Google I cut costs by 35%."  # the claim is the sentence itself


def test_non_first_person_statements_are_not_claims():
    assert facts("Google cut costs by 35% in 2021. Postgres 16 is fast. Priya Patel agrees.") == []


def test_first_person_sentence_without_a_checkable_fact_is_not_a_claim():
    assert find_claims("I think queues are underrated. We should write more tests.") == []


def test_numbers_match_in_another_notation():
    assert facts("Our bill dropped by $2M and we served 1,200 users.",
                 ["the bill fell 2 million dollars", "1200 users a day"]) == []
    assert facts("We grew 40% last quarter.", ["it grew 40 percent"]) == []
    assert facts("We grew 45% last quarter.", ["it grew 40 percent"]) == [("45%",)]


def test_anecdote_is_supported_only_by_a_source_that_tells_it():
    told = ["That marathon in the rain taught me pacing, and the blisters taught me socks."]
    assert facts("Last year I ran a marathon in the rain.", told) == []
    assert facts("Last year I adopted a three-legged greyhound.", told) == [("Last year",)]


def test_facts_found_only_in_the_owner_documents_are_supported():
    owner = Evidence(["A post from 2015: I joined Basecamp as its second ops hire."])
    draft = "I joined Basecamp in 2015."
    assert facts(draft, []) == [("2015", "Basecamp")]
    assert facts(draft, [], owner_documents=owner) == []


def test_sentence_start_quotes_and_thread_numbers_are_not_facts():
    assert facts("1/2 Honestly, I love this. 2/2 Why? Because we ship.") == []
    assert facts('My rule: Never deploy on a Friday.') == []


def test_owner_evidence_reads_only_the_owners_documents_from_the_warehouse(sessions, ingest):
    ingest(make_doc("I worked at Initech for six years."),
           make_doc("I was at Globex, not you.", author="Sam", is_owner=False, kind="message",
                    platform="whatsapp"))
    owner = owner_evidence(sessions)
    assert facts("I spent years at Initech.", [], owner_documents=owner) == []
    assert facts("I spent years at Globex.", [], owner_documents=owner) == [("Globex",)]
    ingest(make_doc("Later I joined Globex myself."))  # a new document is seen on the next check
    assert facts("I spent years at Globex.", [], owner_documents=owner_evidence(sessions)) == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_checked_and_only_claims_are_flagged(text):
    claims = {claim.sentence for claim in find_claims(text)}
    for flagged in find_unsupported_claims(text, []):
        assert flagged.facts and str(flagged) in claims
