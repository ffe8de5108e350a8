"""Chat messages are indexed as windows: each owner message with the messages before it."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import make_doc
from llm_twin.features.chunking import chat_window
from llm_twin.features.cleaning import content_hash, normalize_for_search
from llm_twin.features.indexing import CHAT_WINDOW, index_documents
from llm_twin.storage.models import Chunk, Document
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters

OWNER = "Dana"
# (author, text) in the order they were written; other people are pseudonymised at import.
BAKERS = [
    ("Person 1", "Anyone baking this weekend?"),
    (OWNER, "Yes, a rye sourdough with caraway."),
    ("Person 2", "Rye is so sticky, how do you shape it?"),
    ("Person 1", "Wet hands and a bench scraper, I guess."),
    (OWNER, "I don't shape it at all: it goes straight into a tin."),
    ("Person 2", "Clever. What hydration?"),
    (OWNER, "Around 85 percent, with a long cold proof."),
    ("Person 1", "Send a picture of the crumb!"),
    ("Person 2", "And the recipe please."),
    (OWNER, "Will do both tomorrow after it has rested a full day."),
]
HIKING = [("Person 3", "Hike on Sunday?"), (OWNER, "Only if it is not raining.")]


def message(author: str, text: str, conversation: str, position: int):
    return make_doc(text, platform="whatsapp", kind="message", author=author,
                    is_owner=author == OWNER,
                    metadata={"conversation": conversation, "position": position})


def expected_window(conversation: list[tuple[str, str]], index: int) -> str:
    start = max(0, index - CHAT_WINDOW)
    return "\n".join(f"{author}: {text}" for author, text in conversation[start:index + 1])


@pytest.fixture
def chat(ingest):
    """Two conversations in one export, stored out of order: only `position` gives the order."""
    docs = [message(a, t, "Bakers", i) for i, (a, t) in enumerate(BAKERS)]
    docs += [message(a, t, "Hiking", i) for i, (a, t) in enumerate(HIKING)]
    random.Random(4).shuffle(docs)
    return ingest(*docs, owner=OWNER)


def documents(sessions: sessionmaker[Session]) -> dict[str, Document]:
    with sessions() as session:
        return {d.raw_text: d for d in session.scalars(select(Document))}


def chunks_by_document(sessions: sessionmaker[Session]) -> dict[int, list[Chunk]]:
    grouped: dict[int, list[Chunk]] = {}
    with sessions() as session:
        for row in session.scalars(select(Chunk).order_by(Chunk.position)):
            grouped.setdefault(row.document_id, []).append(row)
    return grouped


def run_index(sessions, store, embedder, max_chars: int = 1000):
    return index_documents(sessions, store, embedder, max_chars=max_chars, overlap_chars=100)


def test_only_owner_messages_get_a_window_of_what_came_before(chat, sessions, store,
                                                               embedder) -> None:
    report = run_index(sessions, store, embedder)
    docs, chunks = documents(sessions), chunks_by_document(sessions)
    owner_ids = {d.id for d in docs.values() if d.is_owner}
    assert set(chunks) == owner_ids and len(owner_ids) == 5
    assert (report.documents_indexed, report.chunks_added) == (5, 5)
    for conversation in (BAKERS, HIKING):
        for index, (author, text) in enumerate(conversation):
            if author == OWNER:
                [row] = chunks[docs[text].id]
                assert row.text == expected_window(conversation, index)
                assert row.text.endswith(f"\n{OWNER}: {text}")
    last = chunks[docs[BAKERS[-1][1]].id][0].text.split("\n")
    assert len(last) == CHAT_WINDOW + 1  # the window reaches back six messages, no further
    assert last[0] == "Person 1: Wet hands and a bench scraper, I guess."
    assert store.all_ids() == {row.id for rows in chunks.values() for row in rows}


def test_window_chunks_are_payloads_of_the_owner_message(chat, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    docs = documents(sessions)
    query = embedder.embed(["shaping rye dough in a tin"])[0].tolist()
    hits = store.search(query, "rye tin shape", limit=20, filters=SearchFilters(kind="message"))
    assert len(hits) == 5
    tin = docs[BAKERS[4][1]]
    assert hits[0].payload["document_id"] == tin.id
    assert (hits[0].payload["is_owner"], hits[0].payload["platform"]) == (1, "whatsapp")
    assert {h.payload["document_id"] for h in hits} == {d.id for d in docs.values() if d.is_owner}
    assert not store.search(query, "rye", limit=20, filters=SearchFilters(is_owner=False))


def test_a_second_run_reindexes_nothing(chat, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    before = store.all_ids()
    report = run_index(sessions, store, embedder)
    assert (report.documents_indexed, report.chunks_added, report.chunks_removed,
            report.orphans_removed) == (0, 0, 0, 0)
    assert store.all_ids() == before


def test_a_window_over_max_chars_keeps_the_newest_lines(chat, sessions, store, embedder) -> None:
    max_chars = 150
    run_index(sessions, store, embedder, max_chars=max_chars)
    docs, chunks = documents(sessions), chunks_by_document(sessions)
    index = len(BAKERS) - 1
    [row] = chunks[docs[BAKERS[index][1]].id]
    full = expected_window(BAKERS, index).split("\n")
    kept = row.text.split("\n")
    assert len(row.text) <= max_chars and 1 < len(kept) < len(full)
    assert kept == full[-len(kept):]  # the oldest lines went first
    assert len("\n".join(full[-len(kept) - 1:])) > max_chars  # and only as many as needed


def test_an_edited_owner_message_gets_a_new_window(chat, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    with sessions.begin() as session:
        doc = session.scalars(select(Document).where(Document.raw_text == BAKERS[6][1])).one()
        doc_id = doc.id
        doc.raw_text = "Around 80 percent now, the 85 was too slack."
        doc.normalized_text = normalize_for_search(doc.raw_text)
        doc.content_hash = content_hash(doc.platform, doc.kind, doc.normalized_text, doc.title,
                                        "edited")
    report = run_index(sessions, store, embedder)
    assert (report.documents_indexed, report.chunks_added, report.chunks_removed) == (1, 1, 1)
    [row] = chunks_by_document(sessions)[doc_id]
    assert row.text.endswith(f"\n{OWNER}: Around 80 percent now, the 85 was too slack.")
    assert row.text.startswith("Person 1: Anyone baking this weekend?\n")


def test_chunks_left_on_other_peoples_messages_are_removed_once(chat, sessions, store,
                                                                embedder) -> None:
    """Indexes from before chat windows embedded every message: those chunks go away."""
    run_index(sessions, store, embedder)
    guest = documents(sessions)[BAKERS[0][1]]
    legacy = Chunk(id=str(uuid.uuid4()), document_id=guest.id, position=0, text=guest.raw_text,
                   document_hash=guest.content_hash, embedding_model=embedder.model_id)
    store.upsert([IndexedChunk(legacy.id, embedder.embed([legacy.text])[0].tolist(), legacy.text,
                               {"document_id": guest.id, "is_owner": 0})])
    with sessions.begin() as session:
        session.add(legacy)
    report = run_index(sessions, store, embedder)
    assert (report.documents_indexed, report.chunks_added, report.chunks_removed) == (1, 0, 1)
    assert legacy.id not in store.all_ids()
    assert guest.id not in chunks_by_document(sessions)
    assert run_index(sessions, store, embedder).documents_indexed == 0


def test_a_message_outside_any_conversation_is_its_own_window(ingest, sessions, store,
                                                              embedder) -> None:
    ingest(make_doc("Lone note to self.", kind="message", platform="telegram"),
           make_doc("A stranger's message.", kind="message", platform="telegram",
                    author="Person 9", is_owner=False))
    run_index(sessions, store, embedder)
    assert [r.text for rows in chunks_by_document(sessions).values() for r in rows] == \
        ["Dana: Lone note to self."]


def test_chat_window_formatting() -> None:
    lines = [(f"P{i}", f"message {i}") for i in range(10)]
    assert chat_window(lines, 1000, size=2) == "P7: message 7\nP8: message 8\nP9: message 9"
    assert chat_window(lines, 30, size=6) == "P8: message 8\nP9: message 9"
    long = [("P1", "hi"), ("Dana", "x" * 50)]
    assert chat_window(long, 20) == "Dana: " + "x" * 50  # the owner's message is never cut
    assert chat_window([("Dana", "hello")], 1000) == "Dana: hello"
