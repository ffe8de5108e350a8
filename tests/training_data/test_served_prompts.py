"""Training samples on the served prompt: the leakage rules with a real index, and the training
prompt equal to `twin write`'s for the same idea and context, token for token."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from llm_twin.app.indexing import index_into
from llm_twin.backends.base import GenerationParams
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.profiles import PlatformProfile
from llm_twin.inference.writer import DraftWriter, WriterOptions, retrieve_context
from llm_twin.platforms import rules_for
from llm_twin.storage.models import Document
from llm_twin.training_data.builder import BuildOptions, build_dataset
from llm_twin.training_data.instructions import ExtractiveInstructionWriter
from llm_twin.training_data.samples import INSTRUCTION, SftSample
from llm_twin.training_data.served_prompts import (ContextMix, ServedPromptBuilder,
                                                   ServedPromptSettings)
from llm_twin.training_data.store import dataset_card
from conftest import make_doc

DAY0 = datetime(2023, 3, 1, tzinfo=timezone.utc)
SUBJECTS = ["Postgres job queue", "flaky tests", "Friday deploys", "on-call alerts",
            "code review", "cloud budgets"]
WORDS = """team week people morning release server customer bug fix plan meeting coffee branch
metric latency budget owner runbook pager incident review merge rollback cache index query
schema migration ticket sprint manager intern laptop office dashboard graph spike night weekend
lesson habit mistake surprise question answer rule shortcut checklist tool vendor contract
invoice feature launch demo note draft story number month year quiet loud slow fast boring calm
honest small large simple careful early late""".split()


def dated_posts() -> list:
    """30 distinct owner posts, 3 days apart, each about one of a few subjects."""
    import random

    rng = random.Random(7)
    posts = []
    for i in range(30):
        subject = SUBJECTS[i % len(SUBJECTS)]
        sentences = [f"A note on the {subject} from week {i + 1}."]
        for _ in range(3):
            sentences.append("The " + " ".join(rng.sample(WORDS, rng.randint(7, 12))) + ".")
        sentences.append(f"That is what the {subject} taught me.")
        posts.append(make_doc(" ".join(sentences), platform="linkedin",
                              created_at=DAY0 + timedelta(days=3 * i)))
    return posts


@pytest.fixture
def built(workspace, ingest, store, generation_backend):
    ingest(*dated_posts()[:15])
    ingest(*dated_posts()[15:])  # a second source: context can come from either
    index_into(workspace, store)
    settings = ServedPromptSettings(owner="Dana", sample_tokens=600, prompt_tokens=560,
                                    mix=ContextMix(full=0.6, distractor=0.2, bare=0.2), seed=3)
    shaper = ServedPromptBuilder(workspace.retriever(store), settings,
                                 count_tokens=generation_backend.count_tokens,
                                 render=generation_backend.render_prompt)
    with workspace.sessions() as session:
        build = build_dataset(session, BuildOptions(owner="Dana", test_share=0.2),
                              ExtractiveInstructionWriter(), served_prompts=shaper)
        dates = {d.id: d.created_at.replace(tzinfo=timezone.utc)
                 for d in session.scalars(select(Document))}
    return build, dates, shaper


@pytest.mark.models
def test_a_sample_never_sees_its_own_document_a_later_text_or_a_held_out_post(built):
    build, dates, _ = built
    held_out = {s.document_id for s in build.split("test")}
    shaped = [s for s in build.split("train") if s.extra.get("context")]
    assert held_out and len(shaped) >= 10
    used = 0
    for sample in shaped:
        context = sample.extra["context"]
        for document_id in context["examples"] + context["notes"]:
            used += 1
            assert document_id != sample.document_id
            assert document_id not in held_out
            assert dates[document_id] < sample.created_at.replace(tzinfo=timezone.utc)
    assert used > 10  # the rules were exercised, not vacuously true


@pytest.mark.models
def test_shapes_follow_the_mix_and_fit_the_sample_budget(built, generation_backend):
    build, _, shaper = built
    train = [s for s in build.split("train") if s.source == INSTRUCTION]
    shapes = [s.extra["context"]["shape"] for s in train if "context" in s.extra]
    assert set(shapes) == {"full", "distractor", "bare"}
    assert sum(shaper.report.shapes.values()) == len(train)
    full = [s for s in train if s.extra.get("context", {}).get("shape") == "full"]
    # The oldest posts have nothing earlier to draw on; the rest carry examples and notes.
    assert any(s.extra["context"]["notes"] and s.extra["context"]["examples"] for s in full)
    assert any("Examples of how I write" in s.messages[1]["content"] for s in full)
    for sample in train:
        rendered = generation_backend.render_prompt(sample.prompt)
        assert generation_backend.count_tokens(rendered + sample.answer) <= 600 + 2
    for sample in build.split("test"):
        assert "Examples of how I write" not in sample.messages[1]["content"]  # eval's own prompt
    card = dataset_card(build, "x", "smollm2", generation_backend.count_tokens)
    assert card["prompts"]["served"] and card["prompts"]["shapes"] == dict(shaper.report.shapes)


@pytest.mark.models
def test_context_sources_are_part_of_the_build_so_forgetting_one_deletes_it(built):
    build, _, _ = built
    own_sources = {s.source_id for s in build.sft}
    context_sources = {i for s in build.sft for i in s.context_source_ids}
    assert context_sources and context_sources <= build.source_ids
    assert own_sources <= build.source_ids


def test_the_shape_of_a_sample_is_stable_and_the_mix_is_checked():
    mix = ContextMix(0.5, 0.25, 0.25)
    assert mix.shape_for("12:", 0) == mix.shape_for("12:", 0)
    drawn = [mix.shape_for(f"{i}:", 0) for i in range(2000)]
    assert 0.45 < drawn.count("full") / 2000 < 0.55
    assert ContextMix(0, 0, 1).shape_for("1:", 0) == "bare"
    assert ContextMix.parse("1,0,0").as_dict() == {"full": 1.0, "distractor": 0.0, "bare": 0.0}
    for bad in ("0.5,0.5", "a,b,c", "-1,1,1", "0,0,0"):
        with pytest.raises(ValueError, match="full|shares"):
            ContextMix.parse(bad)


# -- the training prompt is the served prompt ------------------------------------------------

def chunk(i: int, text: str, platform: str = "linkedin") -> RetrievedChunk:
    return RetrievedChunk(chunk_id=f"c{i}", score=1.0 / (i + 1), text=text, document_id=100 + i,
                          source_id=1, platform=platform, kind="post", title=None, url=None,
                          created_at=DAY0, source_path="export.json")


EXAMPLES = [chunk(1, "Shipped the queue rewrite today.\n\nNo drama, just one boring migration."),
            chunk(2, "Three things I learned from a week on call: sleep, runbooks, owners.")]
NOTES = [chunk(3, "Our queue moved from Redis to Postgres in March; p99 fell from 900 ms to 40 ms."),
         chunk(4, "I think boring technology wins when the team is small.")]


class FixedContext:
    """Stands in for the index: the same examples (platform searches) and notes (the rest) for
    any query, so the served and the training path see one context."""

    def __init__(self, examples, notes):
        self.examples, self.notes = examples, notes

    def search(self, query, *, k=5, filters=None, **options):
        wants_examples = filters is not None and (filters.platform or filters.kind)
        found = self.examples if wants_examples else self.notes
        return list(found)[:k]


PROFILE = PlatformProfile(platform="linkedin", texts=40, median_chars=640, p25_chars=400,
                          p75_chars=900, median_paragraphs=3, median_paragraph_chars=200,
                          single_line_break_share=0.1, emoji_share=0.0, hashtag_share=0.0,
                          median_hashtags=0.0, max_hashtags=0, hashtags_at_end_share=0.0)


@pytest.mark.models
@pytest.mark.parametrize("examples,notes", [(EXAMPLES, NOTES), (EXAMPLES, []), ([], NOTES), ([], [])],
                         ids=["examples+notes", "examples", "notes", "bare"])
@pytest.mark.parametrize("profiles", [{}, {"linkedin": PROFILE}], ids=["no-habits", "habits"])
def test_the_training_prompt_is_the_served_prompt_token_for_token(generation_backend, examples,
                                                                  notes, profiles):
    idea = "why we moved the job queue into Postgres; boring tech, small team"
    retriever = FixedContext(examples, notes)
    generation = GenerationParams(max_new_tokens=200)
    writer = DraftWriter(retriever, generation_backend,
                         WriterOptions(owner="Dana", context_tokens=2048, prompt_tokens=1500,
                                       generation=generation),
                         profiles=profiles, checker=object())
    served = writer._plan(idea, "linkedin").prompt

    rules = rules_for("linkedin")
    rules = profiles["linkedin"].steer_rules(rules) if profiles else rules
    answer = "We moved it. " * 20
    sample = SftSample(messages=[{"role": "system", "content": ""}, {"role": "user", "content": ""},
                                 {"role": "assistant", "content": answer}],
                       source=INSTRUCTION, platform="linkedin", kind="post", document_id=1,
                       created_at=DAY0 + timedelta(days=400), idea=idea, rules=rules)
    settings = ServedPromptSettings(owner="Dana", prompt_tokens=1500, sample_tokens=10_000,
                                    mix=ContextMix(1, 0, 0))
    shaper = ServedPromptBuilder(retriever, settings, count_tokens=generation_backend.count_tokens,
                                 render=generation_backend.render_prompt, profiles=profiles)
    shaper.apply([sample], held_out_documents=set())

    tokenizer = generation_backend.tokenizer
    served_ids = tokenizer(generation_backend.render_prompt(served.messages))["input_ids"]
    trained_ids = tokenizer(generation_backend.render_prompt(sample.prompt))["input_ids"]
    assert trained_ids == served_ids
    assert sample.extra["context"]["examples"] == [c.document_id for c in examples]
    assert sample.extra["context"]["notes"] == [c.document_id for c in notes]
    if profiles:
        assert "How I write on LinkedIn" in sample.prompt[1]["content"]


@pytest.mark.models
def test_a_long_answer_keeps_the_bare_request_rather_than_lose_its_end(generation_backend):
    rules = rules_for("linkedin")
    sample = SftSample(messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                 {"role": "assistant", "content": "word " * 400}],
                       source=INSTRUCTION, platform="linkedin", kind="post", document_id=1,
                       created_at=DAY0, idea="a long one", rules=rules)
    settings = ServedPromptSettings(owner="Dana", sample_tokens=300, mix=ContextMix(1, 0, 0))
    shaper = ServedPromptBuilder(FixedContext(EXAMPLES, NOTES), settings,
                                 count_tokens=generation_backend.count_tokens,
                                 render=generation_backend.render_prompt)
    shaper.apply([sample], held_out_documents=set())
    assert sample.prompt[1]["content"] == "u"  # untouched: the bare request as built
    assert shaper.report.over_budget == 1 and shaper.report.shapes["bare"] == 1



class OnePlatformOwner:
    """An owner who writes on one platform: every search ranks the same posts first."""

    def __init__(self, posts):
        self.posts = posts

    def search(self, query, *, k=5, filters=None, **options):
        return list(self.posts)[:k]


def test_notes_come_from_other_documents_than_the_examples():
    posts = [*EXAMPLES, *NOTES, chunk(5, "Postgres as a queue: SKIP LOCKED does the work.")]
    examples, notes = retrieve_context(OnePlatformOwner(posts), "queues in Postgres",
                                       rules_for("linkedin"), examples=2, notes=3)
    assert [c.document_id for c in examples] == [101, 102]
    assert [c.document_id for c in notes] == [103, 104, 105]


def test_no_examples_asked_leaves_every_note():
    examples, notes = retrieve_context(OnePlatformOwner(NOTES), "queues", rules_for("linkedin"),
                                       examples=0, notes=2)
    assert examples == [] and [c.document_id for c in notes] == [103, 104]
