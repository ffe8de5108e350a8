"""Relevance: is a draft about its own prompt's topic? Each draft's embedding similarity to its own
held-out post is ranked against its similarity to the other held-out posts: the share of other
posts its own post beats (ties count half). 0.5 is chance, 1.0 means its own post is always the
closest. Unlike overlap with the post, it does not reward copying the owner's wording."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Embed = Callable[[list[str]], np.ndarray]  # texts -> one vector per text


def relevance_scores(drafts: Sequence[str], posts: Sequence[str], embed: Embed) -> list[float | None]:
    """Per prompt i (draft i written for post i): the share of the other posts j whose similarity
    to draft i is below post i's. An empty draft is about nothing: 0. With fewer than two prompts
    there is nothing to rank against: None for each."""
    if len(drafts) != len(posts):
        raise ValueError(f"{len(drafts)} drafts for {len(posts)} held-out posts.")
    if len(posts) < 2:
        return [None] * len(posts)
    similarity = _unit(embed(list(drafts))) @ _unit(embed(list(posts))).T
    scores: list[float | None] = []
    for i, draft in enumerate(drafts):
        if not draft.strip():
            scores.append(0.0)
            continue
        others = np.delete(similarity[i], i)
        own = similarity[i, i]
        scores.append(float((np.sum(own > others) + 0.5 * np.sum(own == others)) / len(others)))
    return scores


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
