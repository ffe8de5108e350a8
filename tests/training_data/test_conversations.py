from datetime import datetime, timedelta, timezone

from llm_twin.training_data.conversations import conversation_samples, load_conversations
from llm_twin.training_data.quality import QualityReport
from conftest import make_doc

START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def message(text: str, minute: int, *, author: str = "Dana", owner: bool = True,
            conversation: str = "chat-1", platform: str = "whatsapp"):
    return make_doc(text, platform=platform, kind="message", author=author, is_owner=owner,
                    created_at=START + timedelta(minutes=minute),
                    metadata={"conversation": conversation})


def build(sessions, owner="Dana"):
    report = QualityReport()
    with sessions() as session:
        samples = conversation_samples(load_conversations(session), owner, report)
    return samples, report


def test_only_owner_messages_are_targets_with_prior_messages_as_context(ingest, sessions):
    ingest(message("Are you coming to the meetup tonight?", 0, author="Sam", owner=False),
           message("Yes! I'll bring the slides about our queue.", 1),
           message("Great, see you there, don't be late", 2, author="Sam", owner=False),
           message("Never late when there is pizza involved.", 3))
    samples, _ = build(sessions)
    assert [s.answer for s in samples] == ["Yes! I'll bring the slides about our queue.",
                                           "Never late when there is pizza involved."]
    last = samples[-1].messages
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant"]
    assert last[1]["content"] == "Are you coming to the meetup tonight?"
    other_lines = {"Are you coming to the meetup tonight?", "Great, see you there, don't be late"}
    assert not other_lines & {s.answer for s in samples}


def test_other_peoples_personal_data_is_redacted_in_the_context(ingest, sessions):
    # As an import from before redaction existed would have stored it.
    ingest(message("Call me on +1 415 555 0132 or mail sam.lee@example.com", 0, author="Sam",
                   owner=False),
           message("Will do, calling you after lunch today.", 1))
    (sample,) = build(sessions)[0]
    context = sample.messages[1]["content"]
    assert "555 0132" not in context and "sam.lee@example.com" not in context
    assert sample.answer == "Will do, calling you after lunch today."


def test_quick_messages_form_one_reply_and_an_opening_message_has_no_context(ingest, sessions):
    ingest(message("Morning all, anyone up for a run?", 0),
           message("Me! Where?", 1, author="Sam", owner=False),
           message("The usual loop", 2), message("by the river", 3), message("at 7 sharp", 4))
    samples, report = build(sessions)
    assert [s.answer for s in samples] == ["The usual loop\nby the river\nat 7 sharp"]
    assert report.dropped["no_context"] == 1


def test_group_chats_name_the_speakers_and_short_replies_are_dropped(ingest, sessions):
    ingest(message("Who booked the room?", 0, author="Sam", owner=False, conversation="g"),
           message("Not me", 1, author="Alex", owner=False, conversation="g"),
           message("I did, it's room 4 on the second floor.", 2, conversation="g"),
           message("thanks", 3, author="Sam", owner=False, conversation="g"),
           message("np", 4, conversation="g"))
    samples, report = build(sessions)
    (sample,) = samples
    assert sample.messages[1]["content"] == "Sam: Who booked the room?\nAlex: Not me" or \
        [m["content"] for m in sample.messages[1:3]] == ["Sam: Who booked the room?", "Alex: Not me"]
    assert report.dropped["too_short"] == 1
