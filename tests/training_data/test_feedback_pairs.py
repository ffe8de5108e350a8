"""Preference pairs from feedback on served drafts: which feedback makes a pair, its prompt, and
the sources it carries (so forgetting one deletes the builds holding it)."""

from __future__ import annotations

from llm_twin.storage.history import ServedOutput, ServedRequest, log_generations, set_feedback
from llm_twin.training_data.feedback_pairs import FeedbackPreferences


def _served(sessions, outputs, *, endpoint="write", request=None, source_ids=(7,)):
    served = ServedRequest(request_id=f"r{len(outputs)}-{endpoint}", endpoint=endpoint,
                           model="smollm2", backend="transformers",
                           idea="why we kept postgres" if endpoint == "write" else "hi?",
                           platform="linkedin" if endpoint == "write" else None,
                           request=request or {}, source_ids=list(source_ids))
    with sessions.begin() as session:
        return [r.id for r in log_generations(session, served, [ServedOutput(t) for t in outputs])]


def _feedback(sessions, generation_id, **changes):
    with sessions.begin() as session:
        set_feedback(session, generation_id, **changes)


def test_edits_and_down_ratings_with_a_better_sibling_make_pairs(sessions):
    edited, rated_down, lonely_down, same_words = _served(
        sessions, ["Draft one.", "Draft two.", "Draft three.", "Draft four."])
    _feedback(sessions, edited, edited_text="What I would have written.")
    _feedback(sessions, rated_down, rating="down")
    _feedback(sessions, same_words, edited_text="draft  four")  # same words: not an edit
    pairs = list(FeedbackPreferences(sessions, "Dana").pairs())
    assert [(p.origin, p.chosen, p.rejected) for p in pairs] == [
        ("feedback:user_edit", "What I would have written.", "Draft one."),
        ("feedback:user_rating", "What I would have written.", "Draft two.")]
    prompt = pairs[0].prompt
    assert prompt[0]["role"] == "system" and "Dana" in prompt[0]["content"]
    assert "why we kept postgres" in prompt[1]["content"]
    assert all(p.split == "train" and p.source_ids == (7,) for p in pairs)


def test_a_down_rating_alone_or_an_up_rating_alone_makes_no_pair(sessions):
    down, up = _served(sessions, ["Bad draft.", "Fine draft."])
    _feedback(sessions, down, rating="down")
    assert list(FeedbackPreferences(sessions, "Dana").pairs()) == []
    _feedback(sessions, up, rating="up")
    (pair,) = FeedbackPreferences(sessions, "Dana").pairs()
    assert (pair.chosen, pair.rejected) == ("Fine draft.", "Bad draft.")


def test_an_edited_chat_answer_keeps_the_chat_as_its_prompt(sessions):
    messages = [{"role": "user", "content": "are you free friday?"}]
    (answer,) = _served(sessions, ["I am an AI assistant."], endpoint="chat",
                        request={"messages": messages})
    _feedback(sessions, answer, edited_text="yes! pizza?")
    (pair,) = FeedbackPreferences(sessions, "Dana").pairs()
    assert pair.prompt == messages and pair.chosen == "yes! pizza?" and pair.kind == "message"


def test_clearing_an_edit_or_a_rating_removes_the_pair(sessions):
    (draft,) = _served(sessions, ["Draft."])
    _feedback(sessions, draft, edited_text="Mine.")
    _feedback(sessions, draft, edited_text="")
    assert list(FeedbackPreferences(sessions, "Dana").pairs()) == []


def test_a_build_with_feedback_pairs_is_forgotten_with_the_sources_they_drew_on(
        ingest, sessions, settings):
    from llm_twin.training_data.builder import BuildOptions, build_dataset
    from llm_twin.training_data.instructions import ExtractiveInstructionWriter
    from llm_twin.training_data.store import forget_sources, list_builds, save_build

    owner = ingest("We moved the job queue into Postgres and deleted a whole Redis cluster.",
                   "Indexes are a product decision: every slow page is a missing one somewhere.")
    (draft,) = _served(sessions, ["A draft."], source_ids=(owner.source_id, 4242))
    _feedback(sessions, draft, edited_text="My own version.")
    with sessions() as session:
        built = build_dataset(session, BuildOptions(owner="Dana"), ExtractiveInstructionWriter(),
                              preference_sources=[FeedbackPreferences(sessions, "Dana")])
    assert len(built.preferences) == 1 and 4242 in built.source_ids
    save_build(built, settings.workspace, tokenizer_name="words", count_tokens=lambda t: len(t.split()))
    assert forget_sources(settings.workspace, [4242]) and not list_builds(settings.workspace)
