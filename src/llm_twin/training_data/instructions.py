"""Instructions for the owner's real texts (back-translation): what a person would have asked for.

Two writers share one protocol. `ModelInstructionWriter` asks the configured backend for a short
request that does not copy the answer; `ExtractiveInstructionWriter` builds a skeleton idea (the
title or the text's most specific terms, the points to make, tone hints), deterministic, and is the
fallback for every rejection. Both obey one rule (`idea_leaks`): an idea a person would type never
holds 4 or more of the answer's words in a row, nor many of its word 3-grams, so training never
teaches "copy the prompt and extend it". The instruction ends up in the same user message that
`twin write` sends, so training and serving prompts have one shape.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from llm_twin.backends.base import Backend, GenerationParams, Message
from llm_twin.features.shingles import shingles, words
from llm_twin.platforms import (DRAFT_PLATFORMS, PAPER_FORMS, PlatformRules, label_of,
                                rules_for, source_rules)
from llm_twin.prompts.wording import (code_request, commit_message_request, system_message,
                                      user_message)
from llm_twin.training_data.owner_texts import COMMIT_MESSAGE, OwnerText
from llm_twin.training_data.quality import prose_of

TOPIC_TERMS = 3
POINTS = 4
TERMS_PER_CONTENT_WORDS = 3  # a short text gets at most one term per 3 distinct content words
MAX_SHARED_RUN = 3  # 4 answer words in a row in an idea is copying, not an idea
DEFAULT_OVERLAP_THRESHOLD = 0.5  # the default of `instruction_overlap_threshold`
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
almost often always never ever every another others around across along already though although
however perhaps maybe quite rather enough less least actually probably pretty sure able kind little
great big small first second third last next two three four five six seven eight nine ten
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
    own = source_rules(unit.platform)
    if own is not None and own.drafts and own.paper_forms:
        form = PAPER_FORMS[paper_part(unit)]
        return replace(own, style_hint=form.style_hint, target_chars=target,
                       max_chars_per_post=max(form.max_chars, target))
    if (own is not None and own.drafts and own.front_matter
            and unit.kind in ("article", "paper")):  # `twin write --platform blog`
        hint = "one section of a blog post, in Markdown" if unit.sections > 1 else own.style_hint
        return replace(own, style_hint=hint, target_chars=target,
                       max_chars_per_post=max(own.max_chars_per_post or 0, target))
    if unit.kind in ("article", "paper"):
        hint = ("one section of a blog post, in Markdown" if unit.sections > 1
                else "a blog post in Markdown")
        return replace(rules_for("medium"), style_hint=hint, target_chars=target)
    if unit.platform in DRAFT_PLATFORMS and not (own is not None and own.long_form):
        rules = rules_for(unit.platform)
        if unit.kind == "thread":
            posts = unit.text.count("\n\n") + 1
            rules = replace(rules, style_hint=f"a thread of about {posts} posts")
        return replace(rules, target_chars=target)
    return replace(rules_for("x"), style_hint=f"a short {label_of(unit.platform)} post",
                   target_chars=target)


_PART_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\d+(?:\.\d+)*\.?\s+)?(?P<name>abstract|"
                           r"introduction)\b", re.I)


def paper_part(unit: OwnerText) -> str:
    """Which part of a paper a section of it is, as `twin write --platform paper` names them:
    the abstract, the introduction (by their headings; an untitled opening is the abstract), or
    any other section."""
    match = _PART_HEADING.match(unit.text)
    if match is not None:
        return match["name"].lower()
    return "abstract" if unit.sections > 1 and unit.section == 0 else "section"


def round_length(chars: int) -> int:
    step = 10 if chars < 500 else 50
    return max(step, round(chars / step) * step)


# -- the overlap rule every idea obeys ------------------------------------------------------

@dataclass(frozen=True)
class IdeaOverlap:
    """How much of the answer an idea gives away."""

    trigram_share: float  # share of the idea's word 3-grams found in the answer
    longest_run: int      # most answer words the idea holds in a row


class _AnswerIndex:
    """The answer's words, indexed once, so many candidate ideas are checked cheaply."""

    def __init__(self, answer: str) -> None:
        self.trigrams = shingles(answer)
        self.positions: dict[str, list[int]] = defaultdict(list)
        for position, word in enumerate(words(answer)):
            self.positions[word].append(position)

    def overlap(self, idea: str) -> IdeaOverlap:
        mine = shingles(idea)
        share = len(mine & self.trigrams) / len(mine) if mine else 0.0
        return IdeaOverlap(share, self.longest_run(words(idea)))

    def longest_run(self, idea_words: Sequence[str]) -> int:
        """Longest common run of words (longest common substring over words)."""
        best = 0
        previous: dict[int, int] = {}  # answer position -> run length ending there
        for word in idea_words:
            current = {j: previous.get(j - 1, 0) + 1 for j in self.positions.get(word, ())}
            best = max(best, *current.values(), 0)
            previous = current
        return best


def idea_answer_overlap(idea: str, answer: str) -> IdeaOverlap:
    """Measure one (idea, answer) pair; case and punctuation are ignored."""
    return _AnswerIndex(answer).overlap(idea)


def instruction_overlap(instruction: str, answer: str) -> float:
    """Share of the instruction's word 3-grams that appear in the answer (0 = none copied)."""
    return idea_answer_overlap(instruction, answer).trigram_share


def idea_leaks(idea: str, answer: str, threshold: float = DEFAULT_OVERLAP_THRESHOLD) -> bool:
    """The one rule for every instruction: no run of 4+ answer words, at most `threshold` of its
    word 3-grams shared with the answer (`instruction_overlap_threshold`)."""
    return _breaks_rule(_AnswerIndex(answer).overlap(idea), threshold)


def _breaks_rule(overlap: IdeaOverlap, threshold: float) -> bool:
    return overlap.longest_run > MAX_SHARED_RUN or overlap.trigram_share > threshold


@dataclass(frozen=True)
class OverlapSummary:
    """Idea-to-answer overlap over a set of samples (what a dataset card reports)."""

    ideas: int = 0
    mean_trigram_share: float = 0.0
    mean_longest_run: float = 0.0
    max_longest_run: int = 0
    copied_runs: int = 0  # ideas holding MAX_SHARED_RUN + 1 or more answer words in a row

    def as_dict(self) -> dict[str, float | int]:
        return {"ideas": self.ideas, "mean_trigram_share": self.mean_trigram_share,
                "mean_longest_run": self.mean_longest_run, "max_longest_run": self.max_longest_run,
                "copied_runs": self.copied_runs}


def summarize_overlaps(overlaps: Iterable[IdeaOverlap]) -> OverlapSummary:
    overlaps = list(overlaps)
    if not overlaps:
        return OverlapSummary()
    runs = [o.longest_run for o in overlaps]
    return OverlapSummary(
        ideas=len(overlaps),
        mean_trigram_share=round(statistics.fmean(o.trigram_share for o in overlaps), 4),
        mean_longest_run=round(statistics.fmean(runs), 2), max_longest_run=max(runs),
        copied_runs=sum(run > MAX_SHARED_RUN for run in runs))


# -- extractive ------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”|/]+|\n")
# A term word keeps its hyphens ("cross-post"), drops Markdown's emphasis underscores.
_TERM_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")
# How each part of a skeleton idea is written; parts appear in this order.
_SLOTS = {"topic": "{}", "defines": "defines {}", "size": "{}", "points": "points to make: {}",
          "tone": "keep it {}"}
_GENERIC_IDEAS = ("a text in my usual style", "a text")  # when every specific part would leak


@dataclass
class ExtractiveInstructionWriter:
    """Title or most specific terms + points to make + tone hints, from the text itself; never the
    text's own wording (see `idea_leaks`). Deterministic."""

    name: str = "extractive"
    overlap_threshold: float = DEFAULT_OVERLAP_THRESHOLD
    _document_frequency: Counter[str] = field(default_factory=Counter)
    _documents: int = 0

    def fit(self, units: Sequence[OwnerText]) -> ExtractiveInstructionWriter:
        """Learn term rarity over the owner's texts, so key terms are what is specific to one."""
        self._document_frequency = Counter()
        for unit in units:
            self._document_frequency.update({term for term, _ in _term_occurrences(unit.text)})
        self._documents = len(units)
        return self

    @property
    def fitted(self) -> bool:
        return self._documents > 0

    def ideas(self, units: Sequence[OwnerText]) -> list[str]:
        if not self.fitted:
            self.fit(units)
        return [self.idea(unit) for unit in units]

    def idea(self, unit: OwnerText) -> str:
        answer = _AnswerIndex(unit.text)
        parts = self._code_parts(unit) if unit.kind == "code" else self._prose_parts(unit, answer)
        return _compose_within_rule(parts, answer, self.overlap_threshold)

    def key_phrases(self, text: str, count: int = TOPIC_TERMS) -> list[str]:
        """The text's most specific words and word pairs, in the order the text mentions them."""
        occurrences = _term_occurrences(text)
        best = _pick(_ranked(self._scores(occurrences)), set(), count)
        first = {term: position for term, position in reversed(occurrences)}
        return sorted(best, key=first.__getitem__)

    def points(self, text: str, exclude: Iterable[str] = (), count: int = POINTS) -> list[str]:
        """One term per stretch of the text (up to `count` stretches, as many as it has sentences):
        the outline of what it says, in order."""
        occurrences = _term_occurrences(text)
        if not occurrences or count < 1:
            return []
        scores = self._scores(occurrences)
        sentences = sum(1 for s in _SENTENCE.split(prose_of(text)) if s.strip())
        stretches = max(1, min(count, sentences))
        length = occurrences[-1][1] + 1
        taken = {word for term in exclude for word in term.split()}
        chosen: list[str] = []
        for stretch in range(stretches):
            here = dict.fromkeys(term for term, position in occurrences
                                 if position * stretches // length == stretch)
            chosen += _pick(_ranked({term: scores[term] for term in here}), taken, 1)
        return chosen

    def _scores(self, occurrences: Sequence[tuple[str, int]]) -> dict[str, float]:
        counts = Counter(term for term, _ in occurrences)  # in order of first mention
        return {term: (1 + math.log(tf)) * self._idf(term) for term, tf in counts.items()}

    def _idf(self, term: str) -> float:
        return math.log((1 + self._documents) / (1 + self._document_frequency[term])) + 1

    def _prose_parts(self, unit: OwnerText, answer: _AnswerIndex) -> list[tuple[str, str]]:
        budget = max(1, len(set(_content_words(unit.text))) // TERMS_PER_CONTENT_WORDS)
        title = usable_title(unit)
        if title and not _breaks_rule(answer.overlap(title), self.overlap_threshold):
            topic = [title]
            budget += 1
        else:
            topic = self.key_phrases(unit.text, min(TOPIC_TERMS, budget))
        points = self.points(unit.text, exclude=topic, count=min(POINTS, budget - len(topic)))
        return ([("topic", t) for t in topic] + [("points", p) for p in points]
                + [("tone", hint) for hint in tone_hints(unit.text)])

    def _code_parts(self, unit: OwnerText) -> list[tuple[str, str]]:
        names = list(dict.fromkeys(_DEFINITION.findall(unit.text)))[:POINTS]
        parts = [("defines", name) for name in names] or [("topic", "a small module")]
        return [*parts, ("size", f"{len(unit.text.splitlines())} lines")]


def usable_title(unit: OwnerText) -> str | None:
    """The title, unless it is only the opening of the text (a title cut from the first words)."""
    title = (unit.title or "").strip().strip('"“”').strip()
    head = words(title)
    if not head:
        return None
    body = words(prose_of(unit.text))[:len(head)]
    if len(body) == len(head) and body[:-1] == head[:-1] and body[-1].startswith(head[-1]):
        return None
    return title


def _compose_within_rule(parts: Sequence[tuple[str, str]], answer: _AnswerIndex,
                         threshold: float) -> str:
    """Add the parts in order, dropping any whose addition would break the overlap rule."""
    kept: list[tuple[str, str]] = []
    for part in parts:
        if not _breaks_rule(answer.overlap(_render([*kept, part])), threshold):
            kept.append(part)
    if kept:
        return _render(kept)
    for generic in _GENERIC_IDEAS:
        if not _breaks_rule(answer.overlap(generic), threshold):
            return generic
    return _GENERIC_IDEAS[-1]  # two words: only an answer of exactly those words matches them


def _render(parts: Sequence[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {slot: [] for slot in _SLOTS}
    for slot, text in parts:
        grouped[slot].append(text)
    return "; ".join(_SLOTS[slot].format(", ".join(values))
                     for slot, values in grouped.items() if values)


def _ranked(scores: dict[str, float]) -> list[str]:
    """Best first; ties (common in short texts) go to word pairs, then to the earlier mention."""
    return sorted(scores, key=lambda term: (-scores[term], -term.count(" ")))


def _pick(ranked: Iterable[str], taken_words: set[str], count: int) -> list[str]:
    """The first `count` terms sharing no word with a term already taken (updates taken_words)."""
    chosen: list[str] = []
    for term in ranked:
        if len(chosen) >= count:
            break
        if taken_words.isdisjoint(term.split()):
            chosen.append(term)
            taken_words.update(term.split())
    return chosen


def _term_occurrences(text: str) -> list[tuple[str, int]]:
    """(term, word position) for every content word and every pair of adjacent content words
    within a clause, in text order."""
    occurrences: list[tuple[str, int]] = []
    position = 0
    for clause in _CLAUSE_BREAK.split(prose_of(text)):
        tokens = _term_words(clause)
        for i, token in enumerate(tokens):
            if _is_content(token):
                occurrences.append((token, position + i))
                if i + 1 < len(tokens) and _is_content(tokens[i + 1]):
                    occurrences.append((f"{token} {tokens[i + 1]}", position + i))
        position += len(tokens)
    return occurrences


def _term_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [_POSSESSIVE.sub("", word) for word in _TERM_WORD.findall(folded)]


def _is_content(word: str) -> bool:
    """Not a function word, number or contraction ("they'd"): what a topic can be made of."""
    return (len(word) > 2 and word not in _STOPWORDS and not word.isdigit()
            and "'" not in word and "’" not in word)


def _content_words(text: str) -> list[str]:
    return [w for w in _term_words(prose_of(text)) if _is_content(w)]


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

@dataclass
class ModelInstructionWriter:
    """The configured backend writes each instruction; overlap or bad shape -> extractive fallback."""

    backend: Backend
    fallback: ExtractiveInstructionWriter
    overlap_threshold: float = DEFAULT_OVERLAP_THRESHOLD
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
        if not self.fallback.fitted:  # its key terms are what is rare among these texts
            self.fallback.fit(units)
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
        if idea_leaks(idea, unit.text, self.overlap_threshold):
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
