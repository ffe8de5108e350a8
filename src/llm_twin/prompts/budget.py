"""Prompts fitted to a token budget: a post's examples and notes, a reply's or code's example turns.

Example blocks are kept short because the small default model loops when it is shown long ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from llm_twin.backends.base import Message
from llm_twin.errors import InputError
from llm_twin.platforms import PlatformRules
from llm_twin.prompts.wording import system_message, user_message

_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)
EXAMPLE_MAX_CHARS = 360
NOTE_MAX_CHARS = 420


class Passage(Protocol):
    """A retrieved text a prompt can show (inference.retrieval's P is one)."""

    @property
    def chunk_id(self) -> str: ...

    @property
    def text(self) -> str: ...


P = TypeVar("P", bound=Passage)


@dataclass
class BuiltPrompt(Generic[P]):
    messages: list[Message]
    prompt_tokens: int
    examples: list[P] = field(default_factory=list)
    notes: list[P] = field(default_factory=list)


def build_prompt(idea: str, owner: str, rules: PlatformRules, examples: list[P],
                 notes: list[P], *, count_tokens: Callable[[str], int],
                 render: Callable[[list[Message]], str], budget_tokens: int,
                 habits: Sequence[str] = ()) -> BuiltPrompt[P]:
    """Add examples and notes alternately, most relevant first, while the prompt fits the budget."""
    chosen_examples: list[P] = []
    chosen_notes: list[P] = []
    candidates = _interleave(examples, notes)
    messages = _messages(idea, owner, rules, chosen_examples, chosen_notes, habits)
    tokens = count_tokens(render(messages))
    if tokens > budget_tokens:
        raise InputError(f"The idea alone needs {tokens} prompt tokens, over the budget of "
                         f"{budget_tokens}; shorten it or raise context_tokens.")
    for item, is_example in candidates:
        target = chosen_examples if is_example else chosen_notes
        target.append(item)
        trial = _messages(idea, owner, rules, chosen_examples, chosen_notes, habits)
        trial_tokens = count_tokens(render(trial))
        if trial_tokens > budget_tokens:
            target.pop()
            continue
        messages, tokens = trial, trial_tokens
    return BuiltPrompt(messages, tokens, chosen_examples, chosen_notes)


def fit_example_turns(head: list[Message], examples: Sequence[tuple[object, list[Message]]],
                      tail: list[Message], *, count_tokens: Callable[[str], int],
                      render: Callable[[list[Message]], str], budget_tokens: int,
                      too_long: str) -> tuple[list[Message], int, list]:
    """head, then the example turns (best ranked nearest the tail), then tail; the lowest ranked
    examples are dropped while the prompt is over the budget. `too_long` starts the error when
    head and tail alone do not fit ("The request needs")."""
    used = list(examples)
    while True:
        messages = [*head, *(m for _, turns in reversed(used) for m in turns), *tail]
        tokens = count_tokens(render(messages))
        if tokens <= budget_tokens:
            return messages, tokens, used
        if not used:
            raise InputError(f"{too_long} {tokens} prompt tokens, over the budget of "
                             f"{budget_tokens}; shorten it or raise context_tokens.")
        used.pop()


def _messages(idea: str, owner: str, rules: PlatformRules, examples: Sequence[Passage],
              notes: Sequence[Passage], habits: Sequence[str] = ()) -> list[Message]:
    return [{"role": "system", "content": system_message(owner)},
            {"role": "user", "content": user_message(
                idea, rules, [_shorten(e.text, EXAMPLE_MAX_CHARS) for e in examples],
                [_shorten(n.text, NOTE_MAX_CHARS).replace("\n", " ") for n in notes], habits)}]


def _interleave(examples: list[P], notes: list[P]) -> list[tuple[P, bool]]:
    seen: set[str] = set()
    ordered = []
    for i in range(max(len(examples), len(notes))):
        for group, is_example in ((examples, True), (notes, False)):
            if i < len(group) and group[i].chunk_id not in seen:
                seen.add(group[i].chunk_id)
                ordered.append((group[i], is_example))
    return ordered


def _shorten(text: str, limit: int) -> str:
    # Heading markers from Markdown sources make the small model open every draft with "### ".
    text = _MARKDOWN_HEADING.sub("", text).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit].rstrip() + " …"
