"""features.engagement: the counts' normalisation, the score, the per-platform relative score,
and the owner's best posts read back from a real warehouse."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import make_doc
from llm_twin.features.engagement import (engaged_posts, engagement_counts, engagement_score,
                                          relative_scores, sample_repeats, top_posts)


def when(year: int, month: int = 6) -> datetime:
    return datetime(year, month, 1, tzinfo=timezone.utc)


def test_counts_are_normalised_and_absent_or_bad_ones_left_out() -> None:
    assert engagement_counts(likes="31", reposts=5, replies=None, quotes="n/a") == {
        "likes": 31, "reposts": 5}
    assert engagement_counts(likes=-1, reposts=True) == {}
    with pytest.raises(ValueError, match="views"):
        engagement_counts(views=3)


def test_score_weighs_reposts_and_quotes_twice() -> None:
    assert engagement_score({"likes": 10, "reposts": 3, "quotes": 1, "replies": 4}) == 22
    assert engagement_score({"likes": 7}) == 7
    assert engagement_score({}) == 0


def test_relative_score_is_over_the_median_at_least_one() -> None:
    assert relative_scores([10, 20, 40]) == [0.5, 1.0, 2.0]
    assert relative_scores([0, 0, 3]) == [0.0, 0.0, 3.0]  # median 0 -> divided by 1
    assert relative_scores([]) == []


@pytest.mark.parametrize("relative, copies", [(None, 1), (0.5, 1), (1.99, 1), (2.0, 2),
                                              (3.9, 2), (4.0, 3), (50.0, 3)])
def test_sample_repeats(relative, copies) -> None:
    assert sample_repeats(relative) == copies


@pytest.fixture
def posts(ingest):
    """X posts with large counts, Mastodon posts with small ones, one private, one without."""
    x = [make_doc(f"X post number {i} about shipping\nsecond line", platform="x",
                  created_at=when(2020 + i), metadata={"engagement": {"likes": 10 * i, "reposts": i}})
         for i in range(1, 5)]
    mastodon = [make_doc(f"Toot {i} on gardening", platform="mastodon", created_at=when(2022),
                         metadata={"engagement": {"likes": i, "replies": 1}}) for i in range(1, 4)]
    private = make_doc("A followers-only post with huge numbers", platform="x",
                       created_at=when(2023), metadata={"engagement": {"likes": 900},
                                                        "visibility": "followers"})
    ingest(*x, *mastodon, private, make_doc("No counts here", platform="x"),
           make_doc("Someone else's post", platform="x", is_owner=False,
                    metadata={"engagement": {"likes": 999}}))


def test_top_posts_per_platform_best_first(posts, sessions) -> None:
    with sessions() as session:
        best = top_posts(session, 3)
    assert list(best) == ["mastodon", "x"]
    assert [p.first_line for p in best["x"]][:2] == ["A followers-only post with huge numbers",
                                                     "X post number 4 about shipping"]
    assert [p.counts["likes"] for p in best["mastodon"]] == [3, 2, 1]
    # Relative scores make platforms comparable: each platform's median post is 1.0.
    assert best["mastodon"][1].relative == 1.0


def test_engaged_posts_follow_audience_and_date_bounds(posts, sessions) -> None:
    with sessions() as session:
        public = engaged_posts(session, platform="x", audiences=("public", "unlisted"))
        until = engaged_posts(session, platform="x", audiences=("public",), until=when(2022, 12))
    assert [p.counts["likes"] for p in public] == [40, 30, 20, 10]
    assert [p.counts["likes"] for p in until] == [20, 10]
