"""Prompt building within a token budget.

The system message is always explicit: SmolLM2's template otherwise injects its own assistant
persona, which leaks into drafts. Example blocks are kept short because the small default model
loops when it is shown long ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from llm_twin.backends.base import Message
from llm_twin.inference.platforms import PlatformRules
from llm_twin.inference.retrieval import RetrievedChunk

_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)
EXAMPLE_MAX_CHARS = 360
NOTE_MAX_CHARS = 420


@dataclass
class BuiltPrompt:
    messages: list[Message]
    prompt_tokens: int
    examples: list[RetrievedChunk] = field(default_factory=list)
    notes: list[RetrievedChunk] = field(default_factory=list)


def system_message(owner: str) -> str:
    return (f"You are {owner}'s writing twin. You draft posts in {owner}'s own voice: the same "
            "vocabulary, sentence rhythm, punctuation and line breaks as the examples. Write in the "
            f"first person as {owner}. Only state facts that appear in {owner}'s notes; do not invent "
            "numbers, names or employers. Reply with the draft only.")


def user_message(idea: str, rules: PlatformRules, examples: list[str], notes: list[str],
                 habits: Sequence[str] = ()) -> str:
    """The request. `habits` are the platform profile's hints ("I rarely use emoji: use none.");
    without them the message is exactly the one the training data uses."""
    parts = []
    if examples:
        parts.append("Examples of how I write:\n" + "\n".join(f"---\n{e}" for e in examples) + "\n---")
    if notes:
        parts.append("Things I have said about this:\n" + "\n".join(f"- {n}" for n in notes))
    if habits:
        parts.append(f"How I write on {rules.label}: " + " ".join(habits))
    parts.append(f"Write {rules.style_hint}, about {rules.target_chars} characters long, on this "
                 f"idea: {idea.strip()}")
    return "\n\n".join(parts)


def build_prompt(idea: str, owner: str, rules: PlatformRules, examples: list[RetrievedChunk],
                 notes: list[RetrievedChunk], *, count_tokens: Callable[[str], int],
                 render: Callable[[list[Message]], str], budget_tokens: int,
                 habits: Sequence[str] = ()) -> BuiltPrompt:
    """Add examples and notes alternately, most relevant first, while the prompt fits the budget."""
    chosen_examples: list[RetrievedChunk] = []
    chosen_notes: list[RetrievedChunk] = []
    candidates = _interleave(examples, notes)
    messages = _messages(idea, owner, rules, chosen_examples, chosen_notes, habits)
    tokens = count_tokens(render(messages))
    if tokens > budget_tokens:
        raise ValueError(f"The idea alone needs {tokens} prompt tokens, over the budget of "
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
            raise ValueError(f"{too_long} {tokens} prompt tokens, over the budget of "
                             f"{budget_tokens}; shorten it or raise context_tokens.")
        used.pop()


def _messages(idea: str, owner: str, rules: PlatformRules, examples: list[RetrievedChunk],
              notes: list[RetrievedChunk], habits: Sequence[str] = ()) -> list[Message]:
    return [{"role": "system", "content": system_message(owner)},
            {"role": "user", "content": user_message(
                idea, rules, [_shorten(e.text, EXAMPLE_MAX_CHARS) for e in examples],
                [_shorten(n.text, NOTE_MAX_CHARS).replace("\n", " ") for n in notes], habits)}]


def _interleave(examples: list[RetrievedChunk], notes: list[RetrievedChunk]):
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


def reply_system_message(owner: str) -> str:
    return (f"You are {owner}'s writing twin. You reply to messages the way {owner} does in chats: "
            f"the same tone, length, punctuation and emoji. Write as {owner}, in the first person. "
            "Reply with the message only.")


def code_request(idea: str, language: str | None = None, path: str | None = None) -> str:
    """The user turn asking for code in the owner's style (training and `twin code` alike)."""
    where = f" for `{path}`" if path else ""
    return f"Write {language or 'source'} code in my style{where}: {idea.strip()}"


def commit_message_request(idea: str) -> str:
    return f"Write my commit message for this change: {idea.strip()}"
