"""Instructions for the owner's real texts (back-translation): what a person would have asked for.

Two writers share one protocol. `ModelInstructionWriter` asks the configured backend for a short
request that does not copy the answer, and rejects any that shares too many word 3-grams with it;
`ExtractiveInstructionWriter` builds a skeleton from the opening idea and key phrases, deterministic,
and is the fallback for every rejection. The instruction ends up in the same user message that
`twin write` sends, so training and serving prompts have one shape.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from llm_twin.backends.base import Backend, GenerationParams, Message
from llm_twin.inference.platforms import PlatformRules, rules_for
from llm_twin.inference.prompting import (code_request, commit_message_request, system_message,
                                          user_message)
from llm_twin.training_data.owner_texts import COMMIT_MESSAGE, OwnerText
from llm_twin.training_data.quality import prose_of, shingles, words

OPENING_WORDS = 12
KEY_PHRASES = 4
MODEL_SOURCE_CHARS = 700  # the gist is enough; prompt prefill dominates the time on a CPU
MODEL_INSTRUCTION_TOKENS = 60
MAX_INSTRUCTION_WORDS = 40
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_DEFINITION = re.compile(r"^\s*(?:def|class|func|fn|function|pub fn|struct|interface|type)\s+(\w+)",
                         re.M)
_PREAMBLE = re.compile(r"^(?:here(?:'s| is) (?:the|an|my) (?:instruction|request)[^:]*:|"
                       r"instruction:|request:|sure[,!.]?)\s*", re.I)
# What a chat assistant says instead of a request ("I'm glad to help", "Here's an example").
_ASSISTANT_TALK = re.compile(r"^(?:i'm|i am|i'd|i will|i'll|here's|here is|sure|certainly|sorry|"
                             r"as an ai|thank)|\b(?:assist|help you|your response|placeholder)",
                             re.I)
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i i'd i'll i'm i've if in into is it it's
its itself just let's me more most my myself no nor not now of off on once only or other our ours
ourselves out over own really same she should so some such than that that's the their theirs them
themselves then there there's these they they're this those through to too under until up very was
we we're we've were what when where which while who whom why will with would you you're your yours
yourself yourselves get got one like much many even still way thing things lot make made use used
using new good well back via us since yet don't can't didn't doesn't isn't won't
""".split())


class InstructionWriter(Protocol):
    name: str

    def ideas(self, units: Sequence[OwnerText]) -> list[str]:
        """One skeleton idea (with tone hints) per unit, in order."""
        ...


@dataclass
class InstructionStats:
    generated: int = 0
    rejected_overlap: int = 0   # copies the answer
    rejected_shape: int = 0     # not a request (empty, rambling, chat-assistant talk, markup)
    rejected_off_topic: int = 0  # shares no content word with the answer

    @property
    def rejected(self) -> int:
        return self.rejected_overlap + self.rejected_shape + self.rejected_off_topic

    @property
    def rejected_share(self) -> float:
        return self.rejected / self.generated if self.generated else 0.0


# -- the prompt both training and serving use ------------------------------------------------

def instruction_messages(unit: OwnerText, idea: str, owner: str) -> list[Message]:
    if unit.kind == "code":
        request = code_request(idea, unit.code_language, unit.path)
    elif unit.tag == COMMIT_MESSAGE:
        request = commit_message_request(idea)
    else:
        request = user_message(idea, training_rules(unit), [], [])
    return [{"role": "system", "content": system_message(owner)},
            {"role": "user", "content": request}]


def training_rules(unit: OwnerText) -> PlatformRules:
    """The serving platform rules closest to where the text was published, with its real length."""
    target = round_length(len(unit.text))
    if unit.kind in ("article", "paper"):
        hint = ("one section of a blog post, in Markdown" if unit.sections > 1
                else "a blog post in Markdown")
        return replace(rules_for("medium"), style_hint=hint, target_chars=target)
    if unit.platform in ("x", "linkedin", "instagram", "medium", "substack"):
        rules = rules_for(unit.platform)
        if unit.kind == "thread":
            posts = unit.text.count("\n\n") + 1
            rules = replace(rules, style_hint=f"a thread of about {posts} posts")
        return replace(rules, target_chars=target)
    label = {"mastodon": "Mastodon", "bluesky": "Bluesky"}.get(unit.platform, unit.platform)
    return replace(rules_for("x"), style_hint=f"a short {label} post", target_chars=target)


def round_length(chars: int) -> int:
    step = 10 if chars < 500 else 50
    return max(step, int(round(chars / step)) * step)


# -- extractive ------------------------------------------------------------------------------

@dataclass
class ExtractiveInstructionWriter:
    """Opening idea + key phrases + tone hints, from the text itself. Deterministic."""

    name: str = "extractive"
    _document_frequency: Counter[str] = field(default_factory=Counter)
    _documents: int = 0

    def fit(self, units: Sequence[OwnerText]) -> ExtractiveInstructionWriter:
        """Learn word rarity over the owner's texts, so key phrases are what is specific to one."""
        self._document_frequency = Counter()
        for unit in units:
            self._document_frequency.update(set(_content_words(unit.text)))
        self._documents = len(units)
        return self

    def ideas(self, units: Sequence[OwnerText]) -> list[str]:
        if not self._documents:
            self.fit(units)
        return [self.idea(unit) for unit in units]

    def idea(self, unit: OwnerText) -> str:
        if unit.kind == "code":
            return self._code_idea(unit)
        skeleton = _opening_idea(unit.text)
        if unit.title and unit.kind in ("article", "paper"):
            skeleton = f"“{unit.title.strip()}”: {skeleton}"
        phrases = self.key_phrases(unit.text)
        parts = [skeleton]
        if phrases:
            parts.append("key points: " + ", ".join(phrases))
        tone = tone_hints(unit.text)
        if tone:
            parts.append("keep it " + ", ".join(tone))
        return "; ".join(parts)

    def key_phrases(self, text: str, count: int = KEY_PHRASES) -> list[str]:
        terms = _content_words(text)
        if not terms:
            return []
        frequency = Counter(terms)
        opening = set(_content_words(_opening_idea(text)))
        scores = {term: tf * math.log((1 + self._documents) / (1 + self._document_frequency[term]))
                  for term, tf in frequency.items() if term not in opening}
        best = sorted(scores, key=lambda term: (-scores[term], terms.index(term)))[:count]
        return sorted(best, key=terms.index)  # in the order the text mentions them

    def _code_idea(self, unit: OwnerText) -> str:
        names = list(dict.fromkeys(_DEFINITION.findall(unit.text)))[:KEY_PHRASES]
        what = f"defines {', '.join(names)}" if names else "a small module"
        return f"{what} ({len(unit.text.splitlines())} lines)"


def _content_words(text: str) -> list[str]:
    return [w for w in words(prose_of(text)) if len(w) > 2 and w not in _STOPWORDS
            and not w.isdigit()]


def _opening_idea(text: str) -> str:
    prose = prose_of(text).strip().lstrip("#>*- ").strip()
    first = next((s for s in _SENTENCE.split(prose) if s.strip()), prose).strip()
    tokens = first.split()
    if len(tokens) > OPENING_WORDS:
        return " ".join(tokens[:OPENING_WORDS]) + " …"
    return first


def tone_hints(text: str) -> list[str]:
    """A few words on how the text sounds, the way a person would ask for it."""
    prose = prose_of(text)
    sentences = [s for s in _SENTENCE.split(prose) if len(s.split()) >= 2]
    mean_words = sum(len(s.split()) for s in sentences) / len(sentences) if sentences else 0
    hints = []
    if sentences and mean_words <= 12:
        hints.append("punchy")
    elif mean_words >= 24:
        hints.append("explanatory")
    if prose.count("!") >= 2:
        hints.append("enthusiastic")
    if prose.rstrip().endswith("?"):
        hints.append("ending on a question")
    if _EMOJI.search(text):
        hints.append("with emoji")
    if _HASHTAG.search(prose):
        hints.append("with hashtags")
    if "```" in text:
        hints.append("with a code example")
    if re.search(r"\b(I|I'm|I've|my)\b", prose) and "personal" not in hints:
        hints.append("personal")
    return hints[:3]


# -- model-written ---------------------------------------------------------------------------

def instruction_overlap(instruction: str, answer: str) -> float:
    """Share of the instruction's word 3-grams that appear in the answer (0 = none copied)."""
    mine = shingles(instruction)
    if not mine:
        return 0.0
    return len(mine & shingles(answer)) / len(mine)


@dataclass
class ModelInstructionWriter:
    """The configured backend writes each instruction; overlap or bad shape -> extractive fallback."""

    backend: Backend
    fallback: ExtractiveInstructionWriter
    overlap_threshold: float = 0.5
    batch_size: int = 16
    seed: int | None = 0
    progress: Callable[[int], None] | None = None
    stats: InstructionStats = field(default_factory=InstructionStats)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"model:{self.backend.model_id}"

    def ideas(self, units: Sequence[OwnerText]) -> list[str]:
        params = GenerationParams(max_new_tokens=MODEL_INSTRUCTION_TOKENS, temperature=0.3,
                                  top_p=0.9, repetition_penalty=1.1, no_repeat_ngram_size=3,
                                  seed=self.seed)
        # Similar lengths share a batch, so little of each batch is padding.
        order = sorted(range(len(units)), key=lambda i: len(units[i].text))
        ideas: dict[int, str] = {}
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            outputs = self.backend.generate([writer_prompt(units[i]) for i in batch], params)
            ideas.update((i, self._accept(units[i], out.text)) for i, out in zip(batch, outputs))
            if self.progress:
                self.progress(len(batch))
        return [ideas[i] for i in range(len(units))]

    def _accept(self, unit: OwnerText, generated: str) -> str:
        self.stats.generated += 1
        idea = clean_instruction(generated)
        if idea is None:
            self.stats.rejected_shape += 1
            return self.fallback.idea(unit)
        if instruction_overlap(idea, unit.text) > self.overlap_threshold:
            self.stats.rejected_overlap += 1
            return self.fallback.idea(unit)
        if not set(_content_words(idea)) & set(_content_words(unit.text)):
            self.stats.rejected_off_topic += 1
            return self.fallback.idea(unit)
        return idea


_EXAMPLE_TEXT = ("We stopped estimating in story points. Every ticket is now either \"a day or less\" "
                 "or \"split it\". Planning went from two hours to ten minutes, and nobody misses "
                 "the poker cards.")
_EXAMPLE_REQUEST = ("A short LinkedIn post on dropping story points for a one-day-or-split rule; "
                    "practical and a bit cheeky.")


def writer_prompt(unit: OwnerText) -> list[Message]:
    """One worked example first: the small default model copies its shape far better than it
    follows a description of it."""
    what = {"code": f"{unit.code_language or 'source'} file", "thread": "thread",
            "article": "blog post section" if unit.sections > 1 else "blog post"}.get(
        unit.kind, "commit message" if unit.tag == COMMIT_MESSAGE else f"{unit.platform} post")
    return [
        {"role": "system", "content":
            "You reconstruct the short request a writer gave their assistant before a text was "
            "written. Never copy sentences or phrases from the text. Reply with the request only."},
        {"role": "user", "content": _writer_request("linkedin post", _EXAMPLE_TEXT)},
        {"role": "assistant", "content": _EXAMPLE_REQUEST},
        {"role": "user", "content": _writer_request(what, unit.text[:MODEL_SOURCE_CHARS])}]


def _writer_request(what: str, text: str) -> str:
    return (f"The text ({what}):\n---\n{text}\n---\nIn one sentence of under 30 words, write the "
            "request that produced it: the topic as a skeleton idea, and the tone. Use your own "
            "words.")


def clean_instruction(generated: str) -> str | None:
    """The request alone, or None when the model's output is not one (empty, rambling, markup)."""
    text = generated.strip().strip('"“”').strip()
    text = _PREAMBLE.sub("", text).strip().strip('"“”').strip()
    text = text.split("\n\n")[0].replace("\n", " ").strip()
    if "<|" in text or "---" in text or "```" in text or _ASSISTANT_TALK.search(text):
        return None
    count = len(text.split())
    if count < 4 or count > MAX_INSTRUCTION_WORDS:
        return None
    return text
