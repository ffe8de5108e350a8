import pytest

from llm_twin.prompts.wording import system_message, user_message
from llm_twin.training_data.instructions import (ExtractiveInstructionWriter, InstructionStats,
                                                 ModelInstructionWriter, clean_instruction,
                                                 idea_leaks, instruction_messages,
                                                 instruction_overlap, tone_hints, training_rules)
from llm_twin.training_data.owner_texts import OwnerText

POST = ("Postgres as a job queue: SKIP LOCKED makes it trivial. We dropped Redis last month and "
        "nobody noticed, except our on-call rotation, which got quieter.")


def unit(text: str = POST, **kwargs) -> OwnerText:
    values = dict(document_id=1, source_id=1, platform="linkedin", kind="post", text=text)
    values.update(kwargs)
    return OwnerText(**values)


def test_extractive_idea_is_deterministic_and_a_skeleton_not_the_opening():
    corpus = [unit(), unit("Another post about databases and teams and habits."),
              unit("Why I write every morning before I open e-mail.")]
    writer = ExtractiveInstructionWriter().fit(corpus)
    first = writer.idea(corpus[0])
    assert first == ExtractiveInstructionWriter().fit(corpus).idea(corpus[0])
    assert not first.lower().startswith("postgres as a job")
    assert "postgres as a job queue" not in first.lower()
    assert "points to make:" in first
    assert not idea_leaks(first, POST)
    terms = writer.key_phrases(POST) + writer.points(POST)
    assert terms and {w for t in terms for w in t.split()} <= set(
        POST.lower().replace(",", "").replace(".", "").replace(":", "").split())


def test_code_ideas_name_the_definitions():
    code = unit("import os\n\ndef load_config(path):\n    return path\n\nclass Cache:\n    pass\n",
                platform="code", kind="code", code_language="python", path="app/config.py")
    idea = ExtractiveInstructionWriter().fit([code]).idea(code)
    assert "load_config" in idea and "Cache" in idea
    assert not idea_leaks(idea, code.text)
    messages = instruction_messages(code, idea, "Dana")
    assert messages[1]["content"].startswith("Write python code in my style for `app/config.py`")


def test_tone_hints_describe_how_it_sounds():
    assert "punchy" in tone_hints("Ship it. Then fix it. Then ship again.")
    assert "ending on a question" in tone_hints("Would you do the same?")
    assert "with emoji" in tone_hints("Launch day 🚀 and it went well")
    assert "with hashtags" in tone_hints("New release out now #rust #release")


def test_instruction_uses_the_same_user_message_as_serving():
    post = unit()
    idea = "why we dropped Redis; keep it punchy"
    messages = instruction_messages(post, idea, "Dana")
    rules = training_rules(post)
    assert messages == [{"role": "system", "content": system_message("Dana")},
                        {"role": "user", "content": user_message(idea, rules, [], [])}]
    assert rules.target_chars == 150  # the real length, rounded


def test_article_sections_and_threads_get_their_own_hints():
    section = unit("Body text " * 30, platform="blog", kind="article", sections=3, section=1)
    assert "one section of a blog post" in training_rules(section).style_hint
    thread = unit("First post.\n\nSecond post.\n\nThird post.", platform="x", kind="thread")
    assert "thread of about 3 posts" in training_rules(thread).style_hint


def test_overlap_is_the_share_of_copied_word_trigrams():
    assert instruction_overlap("Postgres as a job queue: SKIP LOCKED makes it trivial", POST) == 1.0
    assert instruction_overlap("a post about replacing a cache with a database queue", POST) == 0.0


def test_clean_instruction_strips_preambles_and_rejects_non_requests():
    assert clean_instruction('Here is the instruction: "Write about queues in Postgres, upbeat."') == \
        "Write about queues in Postgres, upbeat."
    assert clean_instruction("ok") is None
    assert clean_instruction("word " * 80) is None
    assert clean_instruction("<|im_start|>assistant write about it please") is None


class _FixedOutputs:
    """A stand-in for the model's text only: the rejection rules are what is under test here; the
    real backend is exercised in test_model_writer_with_the_real_default_model."""

    model_id = "fixed"

    def __init__(self, outputs):
        self.outputs = outputs


def test_accept_falls_back_to_extractive_on_overlap_and_bad_shape():
    post = unit()
    fallback = ExtractiveInstructionWriter().fit([post])
    writer = ModelInstructionWriter(_FixedOutputs([]), fallback, overlap_threshold=0.5)
    assert writer._accept(post, POST) == fallback.idea(post)          # copies the answer
    four_in_a_row = "A short note on Postgres queues: we dropped Redis last month, upbeat tone."
    assert instruction_overlap(four_in_a_row, POST) < 0.5             # few copied 3-grams, but
    assert writer._accept(post, four_in_a_row) == fallback.idea(post)  # 5 answer words in a row
    assert writer._accept(post, "hm") == fallback.idea(post)          # not a request
    chatter = "I'm glad you're happy to help me improve my writing skills today!"
    assert writer._accept(post, chatter) == fallback.idea(post)       # assistant talk
    off_topic = "A warm note about a summer holiday with the family by the sea."
    assert writer._accept(post, off_topic) == fallback.idea(post)     # nothing of the answer's topic
    own_words = "A short upbeat note on replacing Redis with a Postgres-backed job queue."
    assert writer._accept(post, own_words) == own_words
    assert writer.stats == InstructionStats(generated=6, rejected_overlap=2, rejected_shape=2,
                                            rejected_off_topic=1)
    assert writer.stats.rejected_share == pytest.approx(5 / 6)
    assert not idea_leaks(fallback.idea(post), POST)


@pytest.mark.models
def test_model_writer_with_the_real_default_model(generation_backend):
    posts = [unit(), unit("Hiring is a product problem: write the job post like a landing page. "
                          "Say who it is for, what they will build, and what they will not do.")]
    writer = ModelInstructionWriter(generation_backend, ExtractiveInstructionWriter().fit(posts),
                                    batch_size=2, seed=1)
    ideas = writer.ideas(posts)
    assert len(ideas) == 2 and all(idea.strip() for idea in ideas)
    assert writer.stats.generated == 2
    accepted = [i for i, idea in enumerate(ideas) if idea != writer.fallback.idea(posts[i])]
    for i, idea in enumerate(ideas):  # kept or fallen back, no idea copies its answer
        assert not idea_leaks(idea, posts[i].text, 0.5)
    for i in accepted:
        assert instruction_overlap(ideas[i], posts[i].text) <= 0.5
