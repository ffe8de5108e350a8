"""Feedback on a served draft: an unknown generation is a NotFoundError (the server's 404), a
rating other than up, down or null an InputError."""

from __future__ import annotations

import pytest

from llm_twin.errors import InputError, NotFoundError
from llm_twin.storage.history import ServedOutput, ServedRequest, log_generations, set_feedback


def test_feedback_on_an_unknown_generation_is_not_found(sessions):
    with sessions.begin() as session, pytest.raises(NotFoundError, match="No generation #404"):
        set_feedback(session, 404, rating="up")


def test_a_rating_other_than_up_or_down_is_an_input_error(sessions):
    served = ServedRequest(request_id="r1", endpoint="write", model="smollm2",
                           backend="transformers", idea="queues", platform="linkedin",
                           request={}, source_ids=[])
    with sessions.begin() as session:
        (generation_id,) = [r.id for r in log_generations(session, served, [ServedOutput("A.")])]
    with sessions.begin() as session, pytest.raises(InputError, match="'sideways'"):
        set_feedback(session, generation_id, rating="sideways")
