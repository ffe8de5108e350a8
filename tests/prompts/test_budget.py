"""build_prompt: explicit system message, examples and notes added within a token budget."""

from __future__ import annotations

import pytest

from llm_twin.inference.hits import RetrievedChunk
from llm_twin.platforms import rules_for
from llm_twin.prompts.budget import EXAMPLE_MAX_CHARS, NOTE_MAX_CHARS, build_prompt
from llm_twin.prompts.wording import system_message

RULES = rules_for("linkedin")
IDEA = "Why small teams ship faster"


def count_tokens(text: str) -> int:
    return len(text) // 4


def render(messages) -> str:
    return "".join(f"<|{m['role']}|>\n{m['content']}\n<|end|>\n" for m in messages)


def chunk(cid: str, text: str) -> RetrievedChunk:
    return RetrievedChunk(cid, 1.0, text, 1, 1, "linkedin", "post", None, None, None, "/export")


def examples(n: int, size: int = 200) -> list[RetrievedChunk]:
    return [chunk(f"e{i}", (f"Example {i} says something. " * 20)[:size].strip()) for i in range(n)]


def notes(n: int, size: int = 200) -> list[RetrievedChunk]:
    return [chunk(f"n{i}", (f"Note {i} records a fact. " * 20)[:size].strip()) for i in range(n)]


def build(ex, nt, budget: int, idea: str = IDEA, owner: str = "Dana"):
    return build_prompt(idea, owner, RULES, ex, nt, count_tokens=count_tokens, render=render,
                        budget_tokens=budget)


def test_system_message_is_explicit_and_first() -> None:
    prompt = build(examples(2), notes(2), budget=4000)
    assert [m["role"] for m in prompt.messages] == ["system", "user"]
    assert prompt.messages[0]["content"] == system_message("Dana")
    assert "Dana" in prompt.messages[0]["content"]
    assert "writing twin" in prompt.messages[0]["content"]


def test_system_message_present_even_with_nothing_retrieved() -> None:
    prompt = build([], [], budget=4000)
    assert prompt.messages[0]["role"] == "system"
    user = prompt.messages[1]["content"]
    assert "Examples of how I write" not in user and "Things I have said" not in user
    assert user.endswith(f"on this idea: {IDEA}")
    assert f"about {RULES.target_chars} characters" in user
    assert RULES.style_hint in user
    assert (prompt.examples, prompt.notes) == ([], [])


def test_everything_fits_in_a_generous_budget() -> None:
    ex, nt = examples(3), notes(4)
    prompt = build(ex, nt, budget=10_000)
    assert prompt.examples == ex and prompt.notes == nt
    user = prompt.messages[1]["content"]
    for item in ex + nt:
        assert item.text in user
    assert user.index("Examples of how I write") < user.index("Things I have said") < \
        user.index("on this idea")
    assert prompt.prompt_tokens == count_tokens(render(prompt.messages))


@pytest.mark.parametrize("budget", range(160, 1200, 37))
def test_never_exceeds_the_budget_and_fills_it(budget: int) -> None:
    ex, nt = examples(5), notes(5)
    prompt = build(ex, nt, budget=budget)
    assert prompt.prompt_tokens == count_tokens(render(prompt.messages))
    assert prompt.prompt_tokens <= budget
    # Greedy: no left-out candidate would still have fitted.
    left_out = [c for c in ex if c not in prompt.examples] + [c for c in nt if c not in prompt.notes]
    for extra in left_out:
        is_example = extra.chunk_id.startswith("e")
        trial = build(prompt.examples + [extra] if is_example else prompt.examples,
                      prompt.notes if is_example else prompt.notes + [extra], budget=10_000)
        assert trial.prompt_tokens > budget
    # Most relevant first: what is chosen is a prefix of each ranked list.
    assert prompt.examples == ex[:len(prompt.examples)]
    assert prompt.notes == nt[:len(prompt.notes)]


def test_more_budget_never_means_fewer_items() -> None:
    ex, nt = examples(5), notes(5)
    sizes = [len(p.examples) + len(p.notes)
             for p in (build(ex, nt, budget=b) for b in range(160, 1400, 20))]
    assert sizes == sorted(sizes)
    assert sizes[0] < sizes[-1] == 10


def test_examples_and_notes_alternate() -> None:
    """Small examples must not crowd out the best note: the first of each comes first."""
    ex, nt = examples(4, size=60), notes(3, size=400)
    one_each = build(ex[:1], nt[:1], budget=10_000).prompt_tokens
    assert build(ex, [], budget=10_000).prompt_tokens <= one_each  # all examples alone would fit
    prompt = build(ex, nt, budget=one_each)
    assert (prompt.examples, prompt.notes) == (ex[:1], nt[:1])


def test_an_item_too_big_is_skipped_and_smaller_ones_still_added() -> None:
    big = chunk("big", "word " * 80)  # shortened to ~360 chars, still the largest
    small = [chunk(f"s{i}", f"Tiny note {i}.") for i in range(3)]
    without_big = build([], small, budget=10_000).prompt_tokens
    prompt = build([big], small, budget=without_big + 10)
    assert prompt.examples == []
    assert prompt.notes == small


def test_idea_alone_over_budget_raises() -> None:
    floor = build([], [], budget=10_000).prompt_tokens
    assert build([], [], budget=floor).prompt_tokens == floor  # exactly at the budget is fine
    with pytest.raises(ValueError, match="budget"):
        build(examples(1), notes(1), budget=floor - 1)
    with pytest.raises(ValueError, match="over the budget of 300"):
        build([], [], budget=300, idea="a very long idea " * 200)


def test_long_examples_are_shortened_at_a_word_boundary() -> None:
    long_text = "\n".join(f"Line {i} of a long example with several words." for i in range(60))
    assert len(long_text) > 2000
    prompt = build([chunk("e", long_text)], [], budget=10_000)
    user = prompt.messages[1]["content"]
    block = user.split("---\n")[1].rstrip("\n")
    assert block.endswith(" …")
    kept = block[:-2]
    assert len(kept) <= EXAMPLE_MAX_CHARS
    assert len(kept) > EXAMPLE_MAX_CHARS // 2
    assert long_text.startswith(kept)
    assert long_text[len(kept)] in " \n"  # cut between words
    assert "\n" in kept  # examples keep their line breaks: they are style signal
    assert prompt.examples[0].text == long_text  # the chunk itself is not modified


def test_long_notes_are_shortened_to_one_line() -> None:
    long_note = "\n".join(f"Fact {i}: something I said once." for i in range(50))
    prompt = build([], [chunk("n", long_note)], budget=10_000)
    user = prompt.messages[1]["content"]
    line = next(l for l in user.splitlines() if l.startswith("- "))
    assert line.endswith(" …")
    assert len(line) <= len("- ") + NOTE_MAX_CHARS + 2
    assert line[2:].startswith("Fact 0: something I said once. Fact 1:")


def test_short_items_are_kept_verbatim() -> None:
    text = "Short post.\nWith a break ✨"
    prompt = build([chunk("e", text)], [], budget=10_000)
    assert f"---\n{text}\n---" in prompt.messages[1]["content"]


def test_a_chunk_in_both_lists_is_used_once() -> None:
    shared = chunk("same", "A text that is both an example and a note.")
    prompt = build([shared], [shared], budget=10_000)
    assert prompt.examples == [shared] and prompt.notes == []
    assert prompt.messages[1]["content"].count(shared.text) == 1


def test_owner_name_is_used_for_the_voice() -> None:
    prompt = build([], [], budget=10_000, owner="Ada Lovelace")
    system = prompt.messages[0]["content"]
    assert system.startswith("You are Ada Lovelace's writing twin.")
    assert "Dana" not in system
