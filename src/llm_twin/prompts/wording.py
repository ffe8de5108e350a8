"""The words of every prompt: the twin's system messages and the requests it is sent.

The system message is always explicit: SmolLM2's template otherwise injects its own assistant
persona, which leaks into drafts.
"""

from __future__ import annotations

from collections.abc import Sequence

from llm_twin.platforms import PlatformRules


def system_message(owner: str) -> str:
    return (f"You are {owner}'s writing twin. You draft posts in {owner}'s own voice: the same "
            "vocabulary, sentence rhythm, punctuation and line breaks as the examples. Write in the "
            f"first person as {owner}. Only state facts that appear in {owner}'s notes; do not invent "
            "numbers, names or employers. Reply with the draft only.")


def reply_system_message(owner: str) -> str:
    return (f"You are {owner}'s writing twin. You reply to messages the way {owner} does in chats: "
            f"the same tone, length, punctuation and emoji. Write as {owner}, in the first person. "
            "Reply with the message only.")


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


def code_request(idea: str, language: str | None = None, path: str | None = None) -> str:
    """The user turn asking for code in the owner's style (training and `twin code` alike)."""
    where = f" for `{path}`" if path else ""
    return f"Write {language or 'source'} code in my style{where}: {idea.strip()}"


def commit_message_request(idea: str) -> str:
    return f"Write my commit message for this change: {idea.strip()}"
