"""`twin reply`'s prompt is the conversation dataset's prompt; transcripts; examples; the model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import make_doc

from llm_twin.backends.base import GenerationParams
from llm_twin.errors import WorkspaceError
from llm_twin.features.indexing import index_documents
from llm_twin.inference.reply import (ReplyOptions, ReplyWriter, _example_pair,
                                      conversation_messages, parse_transcript)
from llm_twin.training_data.conversations import conversation_samples, load_conversations
from llm_twin.training_data.quality import QualityReport

START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def message(text: str, minute: int, *, author: str = "Dana", owner: bool = True,
            conversation: str = "chat-1"):
    return make_doc(text, platform="whatsapp", kind="message", author=author, is_owner=owner,
                    created_at=START + timedelta(minutes=minute),
                    metadata={"conversation": conversation})


CHAT = [message("Are you coming to the meetup tonight? Call +1 415 555 0132", 0, author="Contact 1",
                owner=False),
        message("Yes! I'll bring the slides about our queue.", 1),
        message("Great, see you there, don't be late", 2, author="Contact 1", owner=False),
        message("Never late when there is pizza involved.", 3)]


@pytest.mark.parametrize("group", [False, True])
def test_the_prompt_is_exactly_what_the_conversation_dataset_trains_on(ingest, sessions, group):
    chat = list(CHAT) + ([message("Save me a slice", 2, author="Contact 2", owner=False)]
                         if group else [])
    chat.sort(key=lambda doc: doc.created_at)
    ingest(*chat)
    with sessions() as session:
        sample = conversation_samples(load_conversations(session), "Dana", QualityReport())[-1]
    transcript = "\n".join(f"{'me' if d.is_owner else d.author}: {d.raw_text}" for d in chat[:-1])
    turns = parse_transcript(transcript, "Dana Scully")
    *context, last = turns
    served = conversation_messages("Dana", context, last.text, last.author)
    assert served == sample.messages[:-1]
    assert "555 0132" not in str(served)


def test_transcript_lines_continue_and_merge_and_bad_input_names_the_line():
    turns = parse_transcript("Sam: hi\nthere\nSam: you free?\nDana: sure\n", "Dana Scully")
    assert [(t.author, t.is_owner, t.text) for t in turns] == [
        ("Sam", False, "hi\nthere\nyou free?"), ("Dana", True, "sure")]
    with pytest.raises(ValueError, match="ctx.txt, line 1"):
        parse_transcript("just words, no speaker", "Dana", where="ctx.txt")
    with pytest.raises(ValueError, match="no 'Name: message' lines"):
        parse_transcript("\n\n", "Dana", where="ctx.txt")


def test_an_indexed_chat_window_becomes_a_user_assistant_example():
    window = "Contact 1: Are you coming tonight?\nDana: Yes!\nContact 1: Bring pizza\nplease\nDana: Deal."
    assert _example_pair(window, "Dana", "Deal.") == [
        {"role": "user", "content": "Bring pizza\nplease"}, {"role": "assistant", "content": "Deal."}]
    assert _example_pair("Dana: I opened the chat", "Dana", "I opened the chat") is None


@pytest.mark.models
def test_reply_streams_with_the_owners_chats_as_examples(ingest, sessions, workspace, store,
                                                         generation_backend):
    writer = ReplyWriter(workspace.retriever(store, expansions=0, rerank=False),
                         generation_backend,
                         ReplyOptions("Dana", generation=GenerationParams(max_new_tokens=8, seed=3)))
    with pytest.raises(WorkspaceError, match="No chat messages of yours are imported"):
        writer.reply("are you coming?")
    ingest(*CHAT)
    with pytest.raises(WorkspaceError, match="twin index"):
        writer.reply("are you coming?")
    index_documents(sessions, store, workspace.embedder)

    stream = writer.stream("Are you coming to the pizza meetup?", platform="whatsapp")
    pieces = list(stream)
    result = stream.result
    assert pieces and result.generation.completion_tokens <= 8
    assert result.sources and {s.platform for s in result.sources} == {"whatsapp"}
    roles = [m["role"] for m in result.messages]
    assert roles[0] == "system" and roles[-1] == "user" and "assistant" in roles
    assert result.messages[-1]["content"] == "Are you coming to the pizza meetup?"
    other = writer.reply("Pizza tonight?", platform="telegram")
    assert "none of your telegram chats" in other.notes[0]
    with pytest.raises(ValueError, match="unknown chat platform 'myspace'"):
        writer.stream("hi", platform="myspace")
    with pytest.raises(ValueError, match="empty"):
        writer.stream("   ")
