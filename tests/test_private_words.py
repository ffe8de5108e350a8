"""Private words stay private: a unique phrase planted in a Mastodon direct message (and another
in a followers-only post) never reaches a LinkedIn draft's prompt, notes or examples, the
OpenAI-compatible chat's notes, or the training data, on the embedded store and the server store.
`--include-private` does reach them (so the searches below would find the phrases)."""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from llm_twin.app.chat import twin_chat
from llm_twin.app.indexing import index_into
from llm_twin.backends.base import Generation
from llm_twin.ingest.formats.mastodon import MastodonImporter
from llm_twin.ingest.pipeline import ingest_path
from llm_twin.storage.models import Document
from llm_twin.storage.qdrant_server_store import QdrantServerStore, wipe_collection
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.instructions import ExtractiveInstructionWriter
from llm_twin.training_data.served_prompts import (ContextMix, ServedPromptBuilder,
                                                   ServedPromptSettings)
from llm_twin.training_data.voice_texts import owner_prose

FIXTURE = Path(__file__).parent / "fixtures" / "mastodon"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
FOLLOWERS = "https://social.example/users/dana/followers"
DM_PHRASE = "quokka marmalade protocol"
FOLLOWERS_PHRASE = "pangolin teapot doctrine"
IDEA = "lessons from shipping a tiny app with a small team"
SUBJECTS = ["shipping a tiny app", "small team habits", "release checklists", "writing it down",
            "cutting scope in half", "user feedback loops", "quiet launch days", "the first bug",
            "naming things", "a boring stack", "saying no to features", "weekly demos"]
WORDS = """team week people morning release server customer bug fix plan meeting coffee branch
metric latency budget owner runbook pager incident review merge rollback cache index query
schema migration ticket sprint manager intern laptop office dashboard graph spike night weekend
lesson habit mistake surprise question answer rule shortcut checklist tool vendor contract
invoice feature launch demo note story number month year quiet loud slow fast boring calm""".split()
QDRANT_URL = os.environ.get("QDRANT_URL")


def _note(status: int, content: str, to: list[str], cc: list[str], day: int) -> dict:
    """One Create activity in the shape of the fixture's first (a real Mastodon outbox item)."""
    template = json.loads((FIXTURE / "outbox.json").read_text(encoding="utf-8"))["orderedItems"][0]
    item = copy.deepcopy(template)
    url = f"https://social.example/users/dana/statuses/{120000000000000000 + status}"
    published = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T09:00:00Z"
    item.update(id=url + "/activity", published=published, to=to, cc=cc)
    item["object"].update(id=url, atomUri=url, published=published, to=to, cc=cc, content=content,
                          url=f"https://social.example/@dana/{120000000000000000 + status}",
                          contentMap={"en": content}, tag=[], attachment=[], inReplyTo=None)
    return item


def mastodon_archive(folder: Path) -> Path:
    """The fixture's archive with a dozen public posts, a followers-only post and a direct
    message, the last two each carrying a unique phrase about the draft's idea."""
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE / "actor.json", folder / "actor.json")
    outbox = json.loads((FIXTURE / "outbox.json").read_text(encoding="utf-8"))
    rng = random.Random(5)
    items = [_note(i, f"<p>What I learned about {subject} while shipping a tiny app. The "
                      + " ".join(rng.sample(WORDS, 10)) + ". Then " + " ".join(rng.sample(WORDS, 9))
                      + f". That is what {subject} taught me.</p>",
                   [PUBLIC], [FOLLOWERS], i) for i, subject in enumerate(SUBJECTS)]
    items.append(_note(90, f"<p>Only for you: the real lesson from shipping the tiny app with a small "
                           f"team was the {DM_PHRASE}. Please keep it between us.</p>",
                       ["https://other.example/users/sam"], [], 40))
    items.append(_note(91, f"<p>Followers only: shipping a tiny app with a small team taught me the "
                           f"{FOLLOWERS_PHRASE}, which I am not ready to say in public.</p>",
                       [FOLLOWERS], [], 41))
    outbox["orderedItems"] = items
    outbox["totalItems"] = len(items)
    (folder / "outbox.json").write_text(json.dumps(outbox), encoding="utf-8")
    return folder


class RecordingBackend:
    """Counts tokens by words, renders a prompt as its messages, and records every prompt it is
    asked to complete; its draft is a fixed text."""

    name, model_id, context_window = "fake", "fake", 8192

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def load(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def render_prompt(self, messages) -> str:
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages)

    def generate(self, conversations, params):
        self.prompts += [self.render_prompt(c) for c in conversations]
        return [Generation("Ship small, write it down, listen.", 10, 8, True) for _ in conversations]


@contextmanager
def _server_store(kind: str, workspace) -> Iterator[QdrantServerStore]:
    from qdrant_client import QdrantClient

    client = QdrantClient(url=QDRANT_URL) if kind == "server" else QdrantClient(":memory:")
    collection = f"twin-private-words-{os.getpid()}"
    store = QdrantServerStore(QDRANT_URL, collection=collection, client=client,
                              embedding_model=workspace.embedder.model_id,
                              dimension=workspace.embedder.dimension)
    try:
        yield store
    finally:
        store.close()
        wipe_collection(QDRANT_URL, collection, client=client)
        client.close()


@pytest.fixture(params=["edge", "server-memory", pytest.param("server", marks=pytest.mark.skipif(
    not QDRANT_URL, reason="set QDRANT_URL to run the server store on a real Qdrant server"))])
def any_store(request, workspace) -> Iterator:
    if request.param == "edge":
        with workspace.vector_store() as store:
            yield store
    else:
        with _server_store(request.param, workspace) as store:
            yield store


@pytest.fixture
def indexed(workspace, any_store, tmp_path):
    report = ingest_path(mastodon_archive(tmp_path / "mastodon"), MastodonImporter(),
                         workspace.sessions)
    assert report.new_documents == len(SUBJECTS) + 2
    index_into(workspace, any_store)
    return any_store


def _shown(result) -> str:
    prompt = result.prompt
    return "\n".join([*(m["content"] for m in prompt.messages),
                      *(c.text for c in prompt.examples), *(c.text for c in prompt.notes)])


def test_audience_is_stored_and_indexed(workspace, indexed):
    with workspace.sessions() as session:
        audiences = {doc.raw_text: doc.audience for doc in session.scalars(select(Document))}
    assert [a for text, a in audiences.items() if DM_PHRASE in text] == ["direct"]
    assert [a for text, a in audiences.items() if FOLLOWERS_PHRASE in text] == ["followers"]
    assert sorted(set(audiences.values())) == ["direct", "followers", "public"]


def test_a_direct_message_never_reaches_a_linkedin_draft(workspace, indexed):
    backend = RecordingBackend()
    result = workspace.writer(indexed, backend, rank=False).write(IDEA, "linkedin")
    seen = _shown(result) + "\n".join(backend.prompts)
    assert result.prompt.examples or result.prompt.notes  # public posts are used
    assert DM_PHRASE not in seen and FOLLOWERS_PHRASE not in seen
    assert {c.audience for c in result.prompt.examples + result.prompt.notes} == {"public"}
    # The same searches do find them when the owner widens them: the test above could fail.
    wide = workspace.writer(indexed, RecordingBackend(), rank=False,
                            include_private=True).write(IDEA, "linkedin")
    assert DM_PHRASE in _shown(wide) or FOLLOWERS_PHRASE in _shown(wide)


def test_a_direct_message_never_reaches_the_chat_api_notes(workspace, indexed, monkeypatch):
    @contextmanager
    def open_store():
        yield indexed

    # A workspace configured with this store (vector_store_url) knows it is built.
    monkeypatch.setattr(workspace, "built_embedding_model", lambda: workspace.embedder.model_id)

    prepared = twin_chat(workspace, open_store,
                         [{"role": "user", "content": f"What did you learn from {IDEA}?"}])
    assert prepared.chunk_ids  # notes are given
    system = prepared.messages[0]["content"]
    assert DM_PHRASE not in system and FOLLOWERS_PHRASE not in system


def test_a_direct_message_never_reaches_the_training_data(workspace, indexed):
    backend = RecordingBackend()
    settings = ServedPromptSettings(owner="Dana", sample_tokens=900, prompt_tokens=700,
                                    mix=ContextMix(full=1.0, distractor=0.0, bare=0.0), seed=1)
    shaper = ServedPromptBuilder(workspace.retriever(indexed), settings,
                                 count_tokens=backend.count_tokens, render=backend.render_prompt)
    with workspace.sessions() as session:
        build = build_dataset(session, BuildOptions(owner="Dana", test_share=0.2),
                              ExtractiveInstructionWriter(), served_prompts=shaper)
        prose = owner_prose(session)
    texts = [m["content"] for s in build.sft for m in s.messages]
    texts += [text for p in build.preferences for text in (p.chosen, p.rejected)]
    assert len(build.sft) >= 6 and any(s.extra.get("context") for s in build.sft)
    assert not any(DM_PHRASE in t or FOLLOWERS_PHRASE in t for t in texts + prose)
    assert build.instruction_report.dropped["not_public"] == 2
    from llm_twin.training_data.store import dataset_card

    card = dataset_card(build, "card", "chars", len)
    assert card["audiences"] == {"post_answers": ["public", "unlisted"]}
    assert card["filters"]["instruction"]["dropped"]["not_public"] == 2


def test_sources_audit_counts_by_audience_and_says_where_each_goes(workspace, tmp_path):
    from llm_twin.app.sources import WIDENED, audit_sources

    ingest_path(mastodon_archive(tmp_path / "mastodon"), MastodonImporter(), workspace.sessions)
    rows = {use.audience: use for use in audit_sources(workspace)}
    assert {audience: use.documents for audience, use in rows.items()} == {
        "direct": 1, "followers": 1, "public": len(SUBJECTS)}
    assert (rows["public"].posts, rows["public"].replies, rows["public"].training) == (
        "yes", "no", "yes (post samples)")
    for private in ("direct", "followers"):
        assert (rows[private].posts, rows[private].training) == (WIDENED, "no")
    assert rows["direct"].as_dict()["used_for"]["retrieval_posts"] == WIDENED
