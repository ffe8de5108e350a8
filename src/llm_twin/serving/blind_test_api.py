""""Which one did I write?" and "What you already said" over HTTP (`app.blind_test`):

    POST /api/blind-test/rounds              a round: one held-out post of yours and the twin's
                                             draft for its idea, as A and B (never which is which)
    POST /api/blind-test/rounds/{id}/pick    {"pick": "a"|"b"}: fooled or not, and the model's
                                             score with its 95 % Wilson interval
    GET  /api/blind-test/scores              every model's score
    GET  /api/past?idea=&platform=&k=        your past posts on the idea, newest first

A round's draft is written holding the model (`generation_lock`, then the store's lock for its
retrieval); a past-posts search holds only the store's lock. Errors are `{"detail": "..."}` like
the other /api routes: 422 names the field, 404 an unknown round or model, 409 a round already
answered or no post to test with. `GET /api/past` is asked as you type: an idea under 3 words
or a workspace not indexed yet gets no posts, not an error.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from llm_twin.app.blind_test import (MIN_PAST_WORDS, BlindTestError, answer_round,
                                     blind_test_scores, draft_platform, past_posts, start_round)
from llm_twin.errors import InputError, NotFoundError, TwinError
from llm_twin.serving.twin import TwinService

RoundId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


# -- bodies and answers --------------------------------------------------------------------
class RoundBody(BaseModel):
    platform: str | None = Field(None, max_length=40, description="Only posts of this platform "
                                 "(a draft platform or its alias); default: any")
    model: str | None = Field(None, max_length=200, description="A run id or 'base'; default: "
                              "the model in use")


class PickBody(BaseModel):
    pick: Literal["a", "b", "A", "B"] = Field(description="The text you say you wrote")


class BlindRoundOut(BaseModel):
    """A round as shown: which text is the real post is never said here."""

    id: int
    idea: str
    platform: str
    a: str
    b: str
    model: str


class BlindScoreOut(BaseModel):
    model: str
    rounds: int
    fooled: int = Field(description="Answered rounds where you picked the twin's draft")
    share: float = Field(description="fooled / rounds")
    low: float = Field(description="The 95 % Wilson interval's lower end")
    high: float = Field(description="The 95 % Wilson interval's upper end")


class RoundOutcomeOut(BaseModel):
    id: int
    pick: Literal["a", "b"]
    twin: Literal["a", "b"] = Field(description="The letter the twin's draft had")
    fooled: bool
    url: str | None = Field(description="Your post's URL, when it has one")
    created_at: str | None = Field(description="When you posted it (ISO 8601)")
    score: BlindScoreOut


class ScoresOut(BaseModel):
    scores: list[BlindScoreOut]


class PastPostOut(BaseModel):
    document_id: int
    platform: str
    created_at: str | None = Field(description="ISO 8601, in the source's time zone")
    first_line: str
    url: str | None
    label: str
    score: float


class PastOut(BaseModel):
    idea: str
    min_words: int = Field(description="Ideas with fewer words get no posts")
    indexed: bool = Field(description="False: nothing is indexed yet, so nothing could be found")
    posts: list[PastPostOut] = Field(description="Newest first")


# -- routes --------------------------------------------------------------------------------
def blind_test_router(twin: TwinService) -> APIRouter:
    router = APIRouter()
    ws = twin.ws

    @router.post("/blind-test/rounds", response_model=BlindRoundOut,
                 summary="Which one did I write? A new round: your post and the twin's draft for "
                         "its idea, in a random order (the model writes, so it takes a while)")
    async def new_round(body: RoundBody | None = None) -> BlindRoundOut:
        body = body or RoundBody(platform=None, model=None)
        return await anyio.to_thread.run_sync(_new_round, twin, body)

    @router.post("/blind-test/rounds/{round_id}/pick", response_model=RoundOutcomeOut,
                 summary="Say which text you wrote; a round is answered once")
    def pick(round_id: RoundId, body: PickBody) -> RoundOutcomeOut:
        try:
            outcome = answer_round(ws, round_id, body.pick)
        except NotFoundError as missing:
            raise HTTPException(404, str(missing)) from None
        except BlindTestError as answered:
            raise HTTPException(409, str(answered)) from None
        except InputError as bad:
            raise HTTPException(422, str(bad)) from None
        return RoundOutcomeOut.model_validate(outcome.as_dict())

    @router.get("/blind-test/scores", response_model=ScoresOut,
                summary="Per model: answered rounds, how many the twin fooled you in, with the "
                        "95 % interval")
    def scores() -> ScoresOut:
        return ScoresOut(scores=[BlindScoreOut.model_validate(score.as_dict())
                                 for score in blind_test_scores(ws).values()])

    @router.get("/past", response_model=PastOut,
                summary="What you already said: your own public posts on the idea's topic, "
                        "newest first (none for fewer than 3 words)")
    def past(idea: Annotated[str, Query(max_length=4000)],
             platform: Annotated[str | None, Query(max_length=40)] = None,
             k: Annotated[int, Query(ge=1, le=20)] = 5) -> PastOut:
        try:
            platform = draft_platform(platform)
        except InputError as bad:
            raise HTTPException(422, str(bad)) from None
        indexed = ws.built_embedding_model() is not None
        if len(idea.split()) < MIN_PAST_WORDS or not indexed:  # asked as you type: no error
            return PastOut(idea=idea, min_words=MIN_PAST_WORDS, indexed=indexed, posts=[])
        try:
            with twin.store() as store:
                found = past_posts(ws, store, idea, platform=platform, k=k)
        except TwinError as error:
            raise HTTPException(400, str(error)) from None
        return PastOut(idea=idea, min_words=MIN_PAST_WORDS, indexed=True,
                       posts=[PastPostOut.model_validate(p.as_dict()) for p in found])

    return router


def _new_round(twin: TwinService, body: RoundBody) -> BlindRoundOut:
    ws = twin.ws
    try:
        platform = draft_platform(body.platform)
    except InputError as bad:
        raise HTTPException(422, str(bad)) from None
    if body.model:
        try:
            twin.model_key(body.model)
        except ValueError as unknown:
            raise HTTPException(404, str(unknown)) from None
    try:
        with ExitStack() as held:
            held.enter_context(twin.generation_lock)
            backend = twin.backend(body.model)
            store = held.enter_context(twin.store())
            game = start_round(ws, store, backend, platform=platform, model=body.model,
                               max_new_tokens=twin.config.max_new_tokens)
    except BlindTestError as none:
        raise HTTPException(409, str(none)) from None
    except InputError as bad:
        raise HTTPException(422, str(bad)) from None
    except TwinError as error:
        raise HTTPException(400, str(error)) from None
    return BlindRoundOut.model_validate(game.as_dict())
