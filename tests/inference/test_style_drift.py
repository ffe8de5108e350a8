"""inference.style_drift: the voice card's style by year."""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import make_doc
from llm_twin.inference.style_drift import drift_by_year, is_informal, owner_drift, sentences


def when(year: int) -> datetime:
    return datetime(year, 3, 1, tzinfo=timezone.utc)


def test_informal_markers() -> None:
    assert is_informal("I don't think so")
    assert is_informal("Ship it!")
    assert is_informal("we tried")
    assert is_informal("Great news 🎉")
    assert is_informal("lowercase start here")
    assert not is_informal("The migration completed in four hours.")


def test_sentences_leave_out_links_and_hashtags() -> None:
    assert sentences("Read this https://example.org/a.b now. #tag\nSecond line!") == [
        "Read this now.", "Second line!"]


def test_drift_rows_per_year() -> None:
    rows = drift_by_year([
        (when(2020), "The system was rebuilt. The queue moved to Postgres. #infra #db"),
        (when(2020), "Latency fell by half."),
        (when(2023), "omg I can't believe it shipped 🎉🎉"),
    ])
    assert [r.year for r in rows] == [2020, 2023]
    old, new = rows
    assert old.posts == 2 and old.hashtags_per_post == 1.0 and old.emoji_per_post == 0
    assert old.sentence_words == round((4 + 5 + 4) / 3, 2) and old.formality == 1.0
    assert new.emoji_per_post == 2 and new.formality == 0.0 and new.sentence_words == 6


def test_owner_drift_reads_public_dated_owner_texts(ingest, sessions) -> None:
    ingest(make_doc("The plan held. It worked.", created_at=when(2021)),
           make_doc("I'm so happy!", created_at=when(2024)),
           make_doc("Undated text.", created_at=None),
           make_doc("Someone else wrote this in 2019.", is_owner=False, created_at=when(2019)),
           make_doc("A followers-only note from 2018.", created_at=when(2018),
                    metadata={"visibility": "followers"}))
    with sessions() as session:
        rows = owner_drift(session)
    assert [(r.year, r.posts, r.formality) for r in rows] == [(2021, 1, 1.0), (2024, 1, 0.0)]
