"""Chat-reply and code samples on the prompt `twin reply` and `twin code` serve: the training
prompt equal to the served one token for token for each context shape, the leakage rules with a
real index (never the reply's own conversation window, nothing later, nothing held out), the
budget rule, and samples that stay bare when there is nothing to draw on."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from llm_twin.app.dataset import DatasetSpec, served_prompt_builder
from llm_twin.app.indexing import index_into
from llm_twin.app.workspace import StorePerUse
from llm_twin.backends.base import GenerationParams
from llm_twin.inference.code_writer import CodeOptions, CodeWriter
from llm_twin.inference.reply import (ReplyOptions, ReplyWriter, example_turns_budget,
                                      parse_transcript)
from llm_twin.storage.models import Document
from llm_twin.storage.vector_store import SearchFilters
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.conversations import conversation_samples, load_conversations
from llm_twin.training_data.instructions import ExtractiveInstructionWriter
from llm_twin.training_data.quality import QualityReport
from llm_twin.training_data.samples import CONVERSATION, SftSample
from llm_twin.training_data.served_prompts import (ContextMix, ServedPromptBuilder,
                                                   ServedPromptSettings, barred_retriever,
                                                   held_out_documents, prompt_kind)
from llm_twin.training_data.store import dataset_card
from conftest import make_doc

DAY0 = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)
WORDS = """pizza slides queue meetup train station coffee bike rain deploy review branch laptop
office lunch dinner ticket budget weekend garden concert movie book cinema museum ferry bridge
market bakery harbour island river forest mountain valley lake castle tower library""".split()
OWNER = "Dana"


def chat_message(text: str, when: datetime, *, owner: bool, partner: str, conversation: str,
                 platform: str = "whatsapp"):
    return make_doc(text, platform=platform, kind="message",
                    author=OWNER if owner else partner, is_owner=owner, created_at=when,
                    metadata={"conversation": conversation})


def chats(conversations: int = 4, exchanges: int = 6, *, start: datetime = DAY0, first: int = 0,
          platform: str = "whatsapp") -> list:
    """Conversations with different people, one after another; every line is unique and some of
    the owner's replies are sent as two quick messages (one turn of two documents)."""
    rng = random.Random(11)
    docs = []
    when = start
    for c in range(first, first + conversations):
        partner, conversation = f"Contact {c + 1}", f"{platform}-{c}"
        for e in range(exchanges):
            topic = " ".join(rng.sample(WORDS, 3))
            docs.append(chat_message(f"{partner} asks {c}.{e}: what about the {topic}?", when,
                                     owner=False, partner=partner, conversation=conversation,
                                     platform=platform))
            when += timedelta(minutes=7)
            docs.append(chat_message(f"Dana answers {c}.{e}: the {topic} sounds good to me", when,
                                     owner=True, partner=partner, conversation=conversation,
                                     platform=platform))
            if e % 3 == 2:
                when += timedelta(minutes=1)
                docs.append(chat_message(f"Dana adds {c}.{e}: see you by the {topic.split()[0]}",
                                         when, owner=True, partner=partner,
                                         conversation=conversation, platform=platform))
            when += timedelta(hours=5)
    return docs


COMMITS = ["Make the retry helper give up after the last attempt and say why in the log",
           "Cache parsed configuration files so a reload does not read the disk twice",
           "Resize uploaded images in a worker instead of the request thread",
           "Format dates in the user's own timezone on the invoice page",
           "Slugify titles with unicode letters instead of dropping them silently",
           "Send the weekly mail from a queue so one slow server cannot block it"]


def commits(start: datetime = DAY0) -> list:
    return [make_doc(text, platform="code", kind="post", created_at=start + timedelta(days=3 * i),
                     metadata={"tag": "commit_message"}) for i, text in enumerate(COMMITS)]


def code_doc(text: str, path: str, when: datetime):
    return make_doc(text, platform="code", kind="code", title=path, created_at=when,
                    metadata={"path": path, "language": "python"})


def code_files(count: int = 8, *, start: datetime = DAY0) -> list:
    """Small Python files, each of its own words (near-duplicates would be dropped as leaks)."""
    rng = random.Random(5)
    docs = []
    for i in range(count):
        name, arg, field_name, other = rng.sample(WORDS, 4)
        body = (f"def {name}_{other}_{i}({arg}, {field_name}_count={i + 2}):\n"
                f'    """Count the {field_name} of each {arg} near the {other}."""\n'
                f"    {other}s = [{arg} for {arg} in {arg}s if {arg}.{field_name}]\n"
                f"    while len({other}s) > {field_name}_count:\n"
                f"        {other}s.pop({i % 3})\n"
                f"    return sorted({other}s, key=lambda {name}: {name}.{field_name})\n")
        docs.append(code_doc(body, f"src/{name}_{i}.py", start + timedelta(days=2 * i)))
    return docs


class FixedHits:
    """Stands in for the index: the same hits of the searched kind for any query, so the served
    and the training path see one context; the warehouse is the real one."""

    def __init__(self, hits, sessions):
        self.hits, self.sessions = list(hits), sessions

    def search(self, query, *, k=5, filters=None, **options):
        kind = filters.kind if filters is not None else None
        return [h for h in self.hits if kind in (None, h.kind)][:k]


def indexed(workspace, store):
    index_into(workspace, store)
    return workspace.retriever(store, expansions=0, rerank=False)


def rendered_ids(backend, messages) -> list[int]:
    return backend.tokenizer(backend.render_prompt(messages))["input_ids"]


MIXES = {"full": ContextMix(1, 0, 0), "distractor": ContextMix(0, 1, 0),
         "bare": ContextMix(0, 0, 1)}


def shaper_for(retriever, backend, mix, *, sample_tokens=10_000, max_new_tokens=1):
    settings = ServedPromptSettings(
        owner=OWNER, sample_tokens=sample_tokens, mix=mix,
        turns_prompt_tokens=example_turns_budget(2048, max_new_tokens, backend.context_window))
    return ServedPromptBuilder(retriever, settings, count_tokens=backend.count_tokens,
                               render=backend.render_prompt)


# -- the training prompt is the served prompt ------------------------------------------------

@pytest.mark.models
@pytest.mark.parametrize("shape", ["full", "distractor", "bare"])
def test_a_reply_samples_prompt_is_twin_replys_token_for_token(workspace, store, ingest,
                                                               sessions, generation_backend,
                                                               shape):
    earlier = chats(2, 4)  # what the examples come from
    later = chats(1, 4, start=DAY0 + timedelta(days=30), first=9)  # the sample's conversation
    ingest(*earlier, *later)
    retriever = indexed(workspace, store)
    hits = retriever.search("what about the pizza?", k=4, filters=SearchFilters(
        kind="message", is_owner=True, until=DAY0 + timedelta(days=20)))
    assert len(hits) >= 2
    context = FixedHits(hits if shape != "bare" else [], sessions)

    with sessions() as session:
        samples = conversation_samples(load_conversations(session), OWNER, QualityReport())
    target = next(s for s in samples if s.answer.startswith("Dana answers 9.3"))
    shaper = shaper_for(context, generation_backend, MIXES[shape])
    shaper.apply(samples, held_out_documents=set())
    assert target.extra["context"]["shape"] == shape

    before = [d for d in later if d.created_at < target.created_at.replace(tzinfo=timezone.utc)]
    transcript = "\n".join(f"{'me' if d.is_owner else d.author}: {d.raw_text}" for d in before)
    *turns, last = parse_transcript(transcript, OWNER)
    writer = ReplyWriter(context, generation_backend, ReplyOptions(
        OWNER, retrieval_k=4, generation=GenerationParams(max_new_tokens=1, seed=0)))
    served = writer.reply(last.text, sender=last.author, platform="whatsapp", context=turns)

    assert rendered_ids(generation_backend, target.prompt) == rendered_ids(generation_backend,
                                                                           served.messages)
    assert target.extra["context"]["examples"] == [s.document_id for s in served.sources]
    assert bool(served.sources) == (shape != "bare")


@pytest.mark.models
@pytest.mark.parametrize("shape", ["full", "distractor", "bare"])
def test_a_code_samples_prompt_is_twin_codes_token_for_token(workspace, store, ingest, sessions,
                                                             generation_backend, shape):
    files = code_files(6)
    ingest(*files)
    retriever = indexed(workspace, store)
    with sessions() as session:
        build = build_dataset(session, BuildOptions(owner=OWNER, test_share=0.0),
                              ExtractiveInstructionWriter())
        target_id = session.scalar(select(Document.id).where(Document.title == files[-1].title))
    samples = [s for s in build.sft if s.kind == "code"]
    target = next(s for s in samples if s.document_id == target_id)
    hits = [h for h in retriever.search("retry helper", k=6, filters=SearchFilters(kind="code"))
            if h.document_id != target_id][:3]
    context = FixedHits(hits if shape != "bare" else [], sessions)

    shaper = shaper_for(context, generation_backend, MIXES[shape])
    shaper.apply(samples, held_out_documents=set())
    assert target.extra["context"]["shape"] == shape

    writer = CodeWriter(context, generation_backend, CodeOptions(
        OWNER, retrieval_k=4, generation=GenerationParams(max_new_tokens=1, seed=0)))
    served = writer.write(target.idea, path=files[-1].metadata["path"])
    assert rendered_ids(generation_backend, target.prompt) == rendered_ids(generation_backend,
                                                                           served.messages)
    assert target.extra["context"]["examples"] == [s.document_id for s in served.sources]
    assert bool(served.sources) == (shape != "bare")


# -- leakage, budget and the card, with a real index -----------------------------------------

SAMPLE_TOKENS = 360  # one code example fits beside a code answer, not four chat ones


@pytest.fixture
def built(workspace, ingest, store, generation_backend):
    ingest(*chats(5, 8))
    # Later chats on another platform: their first replies have no earlier telegram chat, so
    # `twin reply`'s fallback searches the WhatsApp chats, held-out ones included.
    ingest(*chats(2, 6, start=DAY0 + timedelta(days=40), first=20, platform="telegram"))
    ingest(*code_files(10), *commits())
    index_into(workspace, store)
    settings = ServedPromptSettings(owner=OWNER, sample_tokens=SAMPLE_TOKENS,
                                    mix=ContextMix(full=0.5, distractor=0.3, bare=0.2), seed=5)
    shaper = ServedPromptBuilder(workspace.retriever(store), settings,
                                 count_tokens=generation_backend.count_tokens,
                                 render=generation_backend.render_prompt)
    with workspace.sessions() as session:
        build = build_dataset(session, BuildOptions(owner=OWNER, test_share=0.2),
                              ExtractiveInstructionWriter(), served_prompts=shaper)
        # The same samples as built before shaping (the builder is deterministic).
        bare = {s.document_id: s.prompt for s in
                conversation_samples(load_conversations(session), OWNER, QualityReport())}
        documents = {d.id: (d.created_at.replace(tzinfo=timezone.utc), d.platform)
                     for d in session.scalars(select(Document))}
    return build, bare, documents, shaper


def example_turns(sample: SftSample, bare: dict[int, list]) -> list[str]:
    """The example turns of a shaped prompt: between its system message and its conversation
    (a reply) or its request (code)."""
    tail = len(bare[sample.document_id]) - 1 if sample.source == CONVERSATION else 1
    return [m["content"] for m in sample.prompt[1:len(sample.prompt) - tail]]


@pytest.mark.models
def test_a_reply_or_code_never_sees_its_own_conversation_a_later_text_or_a_held_out_one(built):
    build, bare, documents, _ = built
    held_out = held_out_documents(build.sft)
    test_answers = [s.answer for s in build.split("test")]
    assert {s.platform for s in build.split("test") if s.source == CONVERSATION} >= {"whatsapp"}
    assert any(s.kind == "code" for s in build.split("test"))
    used = fell_back_past_held_out = 0
    for sample in build.split("train"):
        if prompt_kind(sample) not in ("reply", "code") or not sample.extra.get("context"):
            continue
        when = sample.created_at.replace(tzinfo=timezone.utc)
        examples = example_turns(sample, bare)
        assert not any(answer in text for answer in test_answers for text in examples)
        assert not any(line in text for line in sample.answer.split("\n") for text in examples)
        if sample.source == CONVERSATION:  # no line of its own conversation window either
            own = [m["content"] for m in bare[sample.document_id][1:]]
            assert not any(line in text for line in own for text in examples)
        for document_id in sample.extra["context"]["examples"]:
            used += 1
            assert document_id != sample.document_id
            assert document_id not in sample.conversation_documents
            assert document_id not in held_out
            assert documents[document_id][0] < when
            if documents[document_id][1] != sample.platform:
                fell_back_past_held_out += any(
                    documents[d][1] == "whatsapp" and documents[d][0] < when for d in held_out)
    assert used > 20  # the rules were exercised, not vacuously true
    # Held-out chats were earlier than these samples: only the held-out rule kept them out.
    assert fell_back_past_held_out > 0


@pytest.mark.models
def test_shapes_are_recorded_per_kind_and_fit_the_sample_budget(built, generation_backend):
    build, _, _, shaper = built
    train = [s for s in build.split("train") if prompt_kind(s) in ("reply", "code")]
    for kind in ("reply", "code"):
        counts = shaper.report.by_kind[kind]
        assert sum(counts.shapes.values()) == sum(prompt_kind(s) == kind for s in train)
        assert "full" in counts.shapes and counts.examples > 0
    assert set(shaper.report.by_kind["reply"].shapes) == {"full", "distractor", "bare"}
    for sample in train:
        rendered = generation_backend.render_prompt(sample.prompt)
        assert generation_backend.count_tokens(rendered + sample.answer) <= SAMPLE_TOKENS + 2
    # Commit messages (no command serves them with context) and the test split stay as built.
    assert any(s.kind == "commit" for s in build.sft)
    assert all("context" not in s.extra for s in build.sft
               if s.split == "test" or s.kind == "commit")
    card = dataset_card(build, "x", "smollm2", generation_backend.count_tokens)
    by_kind = card["prompts"]["by_kind"]
    assert set(by_kind) == {"reply", "code"}
    assert by_kind["reply"]["shapes"] == dict(shaper.report.by_kind["reply"].shapes)
    assert card["prompts"]["shapes"] == dict(shaper.report.shapes)


# -- the budget rule and bad inputs ----------------------------------------------------------

@pytest.mark.models
def test_a_reply_that_leaves_no_room_stays_as_built_and_is_counted(workspace, store, ingest,
                                                                   sessions, generation_backend):
    ingest(*chats(2, 4))
    retriever = indexed(workspace, store)
    with sessions() as session:
        samples = conversation_samples(load_conversations(session), OWNER, QualityReport())
    built_prompts = [list(s.prompt) for s in samples]
    shortest = min(generation_backend.count_tokens(generation_backend.render_prompt(p))
                   for p in built_prompts)
    shaper = shaper_for(retriever, generation_backend, ContextMix(1, 0, 0),
                        sample_tokens=shortest)
    shaper.apply(samples, held_out_documents=set())
    assert [s.prompt for s in samples] == built_prompts  # no answer fits beside its prompt
    assert shaper.report.by_kind["reply"].over_budget == len(samples)
    assert dict(shaper.report.by_kind["reply"].shapes) == {"bare": len(samples)}
    assert all("context" not in s.extra for s in samples)


@pytest.mark.models
def test_with_no_chats_indexed_a_reply_sample_stays_bare(workspace, store, ingest, sessions,
                                                         generation_backend):
    ingest(*code_files(3))
    retriever = indexed(workspace, store)  # the code is indexed, the chats imported after
    ingest(*chats(2, 4))
    with sessions() as session:
        samples = conversation_samples(load_conversations(session), OWNER, QualityReport())
    built_prompts = [list(s.prompt) for s in samples]
    shaper = shaper_for(retriever, generation_backend, ContextMix(1, 0, 0))
    shaper.apply(samples, held_out_documents=set())
    assert [s.prompt for s in samples] == built_prompts
    assert all(s.extra["context"] == {"shape": "full", "examples": [], "notes": []}
               for s in samples)
    assert shaper.report.by_kind["reply"].examples == 0


def test_without_an_index_every_reply_and_code_sample_is_counted_bare(workspace, ingest):
    ingest(*chats(1, 4), *code_files(2), *commits())
    with workspace.sessions() as session:
        build = build_dataset(session, BuildOptions(owner=OWNER, test_share=0.0),
                              ExtractiveInstructionWriter())
    with served_prompt_builder(workspace, None, DatasetSpec(seed=0),
                               StorePerUse(workspace)) as shaper:
        shaper.apply(build.sft, held_out_documents=set())
    counts = {kind: dict(c.shapes) for kind, c in shaper.report.by_kind.items()}
    assert counts == {"reply": {"bare": sum(s.source == CONVERSATION for s in build.sft)},
                      "code": {"bare": sum(s.kind == "code" for s in build.sft)}}
    assert shaper.report.to_json(sum(shaper.report.shapes.values()))["index"] is False


def test_held_out_documents_name_a_replys_window_with_dates_and_a_set_bars_every_id():
    when = datetime(2024, 5, 1)
    reply = SftSample(messages=[{"role": "assistant", "content": "ok then"}], source=CONVERSATION,
                      platform="whatsapp", kind="message", document_id=7, created_at=when,
                      split="test", conversation_documents={5: when - timedelta(hours=1),
                                                            7: when - timedelta(minutes=1),
                                                            9: when + timedelta(minutes=3)})
    post = SftSample(messages=[{"role": "assistant", "content": "a post"}], source="instruction",
                     platform="x", kind="post", document_id=3, created_at=None, split="test")
    train = SftSample(messages=[{"role": "assistant", "content": "x"}], source="instruction",
                      platform="x", kind="post", document_id=1, created_at=when, split="train")
    held_out = held_out_documents([reply, post, train])
    assert held_out == {5: when - timedelta(hours=1), 7: when - timedelta(minutes=1),
                        9: when + timedelta(minutes=3), 3: None}

    sample = SftSample(messages=[], source=CONVERSATION, platform="telegram", kind="message",
                       document_id=40, created_at=when.replace(tzinfo=timezone.utc),
                       conversation_documents={41: None})
    barred = barred_retriever(object(), sample, held_out)
    # 9 is dated after the sample: the date bars it. The rest are named.
    assert barred.excluded == {40, 41, 5, 7, 3}
    assert barred_retriever(object(), sample, {9}).excluded == {40, 41, 9}
