"""`twin write`: retrieve, build the prompt, generate N drafts as one batch, fit the platform,
check and score each draft and rank the batch (inference.ranking: relevance to the idea minus
penalties for clichés, unsupported claims and repetition).

The owner's platform profile, when there is one, sets the target length and the prompt's habit
hints, and the formatter's numbering and hashtag habits. A single draft can be streamed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from llm_twin.backends.base import Backend, Generation, GenerationParams, TextStream
from llm_twin.errors import InputError
from llm_twin.inference.formatting import FormatHabits, FormattedDraft, format_draft
from llm_twin.inference.grounding import DraftChecker, find_claims
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.preview import preview_draft
from llm_twin.inference.profiles import PlatformProfile, rules_and_habits
from llm_twin.inference.ranking import (RankingParts, RankingWeights, draft_fluency, rank,
                                        ranking_parts)
from llm_twin.inference.best_examples import best_style_examples, no_engagement_notice
from llm_twin.inference.retrieval import BarredRetriever, Retriever, Searcher
from llm_twin.platforms import PlatformRules, rules_for
from llm_twin.prompts.budget import BuiltPrompt, build_prompt
from llm_twin.prompts.era import era_hint
from llm_twin.storage.models import PUBLIC_AUDIENCES
from llm_twin.storage.vector_store import SearchFilters

# Chat windows hold other people's (redacted) lines and a conversational register: never used as
# notes or style examples for a post.
CHATS = ("message",)


def post_audiences(include_private: bool) -> tuple[str, ...] | None:
    """Whose texts a public post may draw on: public and unlisted ones, or (`--include-private`)
    any of the owner's non-chat texts (followers-only, direct, drafts...)."""
    return None if include_private else PUBLIC_AUDIENCES
_SENTENCE_END = re.compile(r"[.!?…](?:[\"')\]]*)(?=\s|$)|\n")


def trim_unfinished(text: str) -> str:
    """Drop the half sentence left when generation hit max_new_tokens, if that loses little."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] >= len(text) * 0.5:
        return text[:ends[-1]].rstrip()
    return text


_SENTENCE = re.compile(r"[^.!?\u2026\n]+(?:[.!?\u2026]+[\"')\]\u201d\u2019]*|\n|$)")
_WORDS = re.compile(r"\w+")
LOOP_MIN_WORDS = 3  # "Yes." or "1/" may repeat; a repeated sentence of 3+ words is a loop


def trim_repetition(text: str) -> tuple[str, bool]:
    """Cut a draft where a sentence (or line) it already said comes again: small models loop.
    Returns the text and whether it was cut."""
    seen: set[str] = set()
    for match in _SENTENCE.finditer(text):
        key = " ".join(_WORDS.findall(match.group().lower()))
        if len(key.split()) < LOOP_MIN_WORDS:
            continue
        if key in seen:
            head = text[:match.start()].rstrip()
            if _WORDS.search(head):
                return head, True
        seen.add(key)
    return text, False


@dataclass
class WriteTimings:
    model_load: float = 0.0
    retrieval: float = 0.0
    prompt_building: float = 0.0
    generation: float = 0.0
    scoring: float = 0.0  # voice score, clichés and ranking

    @property
    def total(self) -> float:
        return (self.model_load + self.retrieval + self.prompt_building + self.generation
                + self.scoring)


@dataclass
class Draft:
    formatted: FormattedDraft
    generation: Generation
    voice_score: float | None = None  # probability the owner wrote it; None without a voice model
    cliches: list[str] = field(default_factory=list)  # base-model stock phrases found in it
    # First-person facts found in no source (grounding.UnsupportedClaim: the sentence, .facts).
    unsupported_claims: Sequence[str] = field(default_factory=list)
    claims: int = 0  # first-person factual claims checked (grounding.find_claims)
    near_duplicate_of: dict | None = None  # the past post it repeats (novelty.find_near_duplicate)
    ranking: RankingParts | None = None  # what the rank is made of (inference.ranking)
    weights: RankingWeights = field(default_factory=RankingWeights, repr=False)

    @property
    def support(self) -> float | None:
        """Share of the draft's factual claims found in the owner's texts; None without claims."""
        if not self.claims:
            return None
        return max(0.0, 1.0 - len(self.unsupported_claims) / self.claims)

    @property
    def ranking_score(self) -> float | None:
        return self.ranking.score(self.weights) if self.ranking is not None else None


@dataclass
class WriteResult:
    idea: str
    platform: str
    drafts: list[Draft]
    prompt: BuiltPrompt[RetrievedChunk]
    timings: WriteTimings = field(default_factory=WriteTimings)
    ranked: bool = False  # drafts are sorted best first by ranking score
    profile: PlatformProfile | None = None  # the owner's platform profile the write used
    # What the request could not do as asked (e.g. --like-my-best without engagement counts).
    notices: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[RetrievedChunk]:
        """The documents the prompt drew on, each once, notes first."""
        seen: set[int] = set()
        unique = []
        for chunk in self.prompt.notes + self.prompt.examples:
            if chunk.document_id not in seen:
                seen.add(chunk.document_id)
                unique.append(chunk)
        return unique

    def to_json(self) -> dict:
        """What `twin write --json` prints and `twin serve` sends."""
        return {
            "idea": self.idea, "platform": self.platform, "ranked": self.ranked,
            "drafts": [_draft_json(i, d) for i, d in enumerate(self.drafts)],
            "sources": [{"chunk_id": s.chunk_id, "document_id": s.document_id, "label": s.label,
                         "url": s.url, "source": s.source_path, "platform": s.platform,
                         "kind": s.kind} for s in self.sources],
            "timings": {"model_load": self.timings.model_load, "retrieval": self.timings.retrieval,
                        "prompt_building": self.timings.prompt_building,
                        "generation": self.timings.generation, "scoring": self.timings.scoring,
                        "total": self.timings.total},
            "prompt_tokens": self.prompt.prompt_tokens,
            "notices": self.notices,
        }


def _draft_json(index: int, draft: Draft) -> dict:
    formatted = draft.formatted
    return {"index": index, "text": formatted.as_text(), "posts": formatted.posts,
            "title": formatted.title, "subtitle": formatted.subtitle, "notes": formatted.notes,
            "front_matter": formatted.front_matter_json(), "form": formatted.form,
            "section": formatted.section, "scaffolding": formatted.scaffolding,
            "voice_score": draft.voice_score, "cliches": draft.cliches,
            "ranking_score": draft.ranking_score,
            "ranking": draft.ranking.to_json(draft.weights) if draft.ranking is not None else None,
            "unsupported_claims": [{"sentence": str(c), "facts": list(getattr(c, "facts", ()))}
                                   for c in draft.unsupported_claims],
            "claims": draft.claims, "support": draft.support,
            "near_duplicate_of": draft.near_duplicate_of,
            "completion_tokens": draft.generation.completion_tokens,
            "finished": draft.generation.finished,
            "preview": preview_draft(formatted).to_json()}  # what the platform will show


@dataclass
class WriterOptions:
    owner: str
    retrieval_k: int = 4
    style_examples: int = 3
    context_tokens: int = 2048
    prompt_tokens: int = 384  # the post prompt's budget; training samples use the same
    generation: GenerationParams = field(default_factory=GenerationParams)
    rank: bool = True  # sort N > 1 drafts by ranking score
    rank_weights: RankingWeights = field(default_factory=RankingWeights)
    # Notes and examples from non-public texts too (followers-only, direct messages, drafts).
    include_private: bool = False
    like_my_best: bool = False  # style examples from the owner's most engaging posts
    as_of: datetime | None = None  # notes and examples only from texts dated up to it
    era: int | None = None  # ask for this year's voice (a model trained with era tags)


@dataclass
class _Plan:
    platform: str
    rules: PlatformRules
    habits: FormatHabits | None
    profile: PlatformProfile | None
    prompt: BuiltPrompt[RetrievedChunk]
    timings: WriteTimings
    notices: list[str] = field(default_factory=list)


class DraftWriter:
    def __init__(self, retriever: Retriever, backend: Backend, options: WriterOptions, *,
                 voice=None, profiles: dict[str, PlatformProfile] | None = None,
                 checker: DraftChecker | None = None):
        # voice: a fitted inference.voice.VoiceScorer (imported lazily: it brings scikit-learn)
        self.retriever: Searcher = retriever  # twin eval bars held-out posts by swapping it
        self.backend = backend
        self.options = options
        self.voice = voice
        self.profiles = profiles or {}
        self.checker = checker or DraftChecker(retriever.sessions)

    def write(self, idea: str, platform: str, *, n: int = 1) -> WriteResult:
        """N drafts as one batch; with N > 1 and a voice model, sorted best first."""
        plan = self._plan(idea, platform)
        started = time.perf_counter()
        generations = self.backend.generate([plan.prompt.messages] * n, self.options.generation)
        plan.timings.generation = time.perf_counter() - started
        return self._result(idea, plan, generations, rank_drafts=n > 1 and self.options.rank)

    def stream(self, idea: str, platform: str) -> TextStream[WriteResult]:
        """One draft, as text pieces while it is generated (the raw text, before formatting)."""
        return TextStream(self._stream_pieces(idea, platform))

    def _stream_pieces(self, idea: str, platform: str) -> Generator[str, None, WriteResult]:
        plan = self._plan(idea, platform)
        started = time.perf_counter()
        stream = self.backend.stream(plan.prompt.messages, self.options.generation)
        try:
            yield from stream
        finally:
            stream.close()
        plan.timings.generation = time.perf_counter() - started
        return self._result(idea, plan, [stream.final()], rank_drafts=False)

    def _plan(self, idea: str, platform: str) -> _Plan:
        if not idea.strip():
            raise InputError("The idea is empty: say in a few words what the post should be about.")
        profile = self.profiles.get(_platform_key(platform))
        rules, habits, hints = rules_and_habits(platform, profile, idea)
        timings = WriteTimings()

        started = time.perf_counter()
        self.backend.load()
        timings.model_load = time.perf_counter() - started

        started = time.perf_counter()
        notices: list[str] = []
        as_of = self.options.as_of
        retriever = (BarredRetriever(self.retriever, until=as_of) if as_of is not None
                     else self.retriever)
        examples, notes = retrieve_context(retriever, idea, rules,
                                           examples=self.options.style_examples,
                                           notes=self.options.retrieval_k,
                                           include_private=self.options.include_private,
                                           like_my_best=self.options.like_my_best, until=as_of,
                                           notices=notices)
        if self.options.era is not None:
            hints = [*hints, era_hint(self.options.era)]
        timings.retrieval = time.perf_counter() - started

        started = time.perf_counter()
        window = min(self.options.context_tokens, self.backend.context_window)
        budget = min(self.options.prompt_tokens, window - self.options.generation.max_new_tokens)
        prompt = build_prompt(idea, self.options.owner, rules, examples, notes,
                              count_tokens=self.backend.count_tokens,
                              render=self.backend.render_prompt, budget_tokens=budget,
                              habits=hints)
        timings.prompt_building = time.perf_counter() - started
        return _Plan(rules.name, rules, habits, profile, prompt, timings, notices)

    def _result(self, idea: str, plan: _Plan, generations: list[Generation], *,
                rank_drafts: bool) -> WriteResult:
        drafts = [_draft(g, plan, idea) for g in generations]
        started = time.perf_counter()
        sources = [c.text for c in plan.prompt.notes + plan.prompt.examples]
        for draft in drafts:
            text = draft.formatted.as_text()
            draft.unsupported_claims = self.checker.unsupported_claims(text, sources)
            draft.claims = len(find_claims(text))
            draft.near_duplicate_of = self.checker.near_duplicate(text)
        if self.voice is not None:
            self._score(drafts)
        self._rank_parts(idea, drafts, plan.prompt.messages)
        ranked = rank_drafts
        if ranked:
            drafts = rank(drafts, self.options.rank_weights)
        plan.timings.scoring = time.perf_counter() - started
        return WriteResult(idea, plan.platform, drafts, plan.prompt, plan.timings, ranked=ranked,
                           profile=plan.profile, notices=plan.notices)

    def _rank_parts(self, idea: str, drafts: list[Draft], messages) -> None:
        texts = [d.formatted.as_text() for d in drafts]
        embedder = getattr(self.retriever, "embedder", None)
        parts = ranking_parts(idea, texts, embed=embedder.embed if embedder is not None else None,
                              cliches=[len(d.cliches) for d in drafts],
                              unsupported=[len(d.unsupported_claims) for d in drafts],
                              voices=[d.voice_score for d in drafts],
                              fluency=draft_fluency(self.backend, messages, texts))
        for draft, part in zip(drafts, parts):
            draft.weights = self.options.rank_weights
            draft.ranking = part

    def _score(self, drafts: list[Draft]) -> None:
        texts = [d.formatted.as_text() for d in drafts]
        for draft, text, score in zip(drafts, texts, self.voice.score(texts)):
            draft.voice_score = score
            draft.cliches = self.voice.cliches.find(text)

def retrieve_context(retriever: Searcher, idea: str, rules: PlatformRules, *, examples: int,
                     notes: int, notes_idea: str | None = None, include_private: bool = False,
                     like_my_best: bool = False, until: datetime | None = None,
                     notices: list[str] | None = None
                     ) -> tuple[list[RetrievedChunk], list[RetrievedChunk]]:
    """A post prompt's style examples and notes (`twin write` and its training samples alike).

    Notes come from documents other than the examples': for an owner who writes on one platform
    both searches find the same posts, and a note that repeats an example is dropped from the
    prompt, which then carries no material at all. `notes_idea` retrieves the notes for another
    idea (the training samples' distractor shape). Only public and unlisted texts unless
    `include_private`. `like_my_best`, `until`, `notices`: see retrieve_style_examples."""
    chosen = retrieve_style_examples(retriever, idea, rules, examples,
                                     include_private=include_private, like_my_best=like_my_best,
                                     until=until, notices=notices)
    shown = {chunk.document_id for chunk in chosen}
    found = retrieve_notes(retriever, notes_idea or idea, notes + len(shown),
                           include_private=include_private)
    return chosen, [chunk for chunk in found if chunk.document_id not in shown][:notes]


def retrieve_notes(retriever: Searcher, idea: str, k: int, *,
                   include_private: bool = False) -> list[RetrievedChunk]:
    """What the owner has said about the idea: the prompt's notes (chats never; only public and
    unlisted texts unless `include_private`)."""
    return retriever.search(idea, k=k, filters=SearchFilters(
        is_owner=True, exclude_kinds=CHATS, audiences=post_audiences(include_private)))


def retrieve_style_examples(retriever: Searcher, idea: str, rules: PlatformRules,
                            wanted: int, *, include_private: bool = False,
                            like_my_best: bool = False, until: datetime | None = None,
                            notices: list[str] | None = None) -> list[RetrievedChunk]:
    """The owner's own posts on this platform; failing that, their texts of the same form (only
    public and unlisted ones unless `include_private`). `like_my_best`: first from the owner's
    most engaging posts there (inference.best_examples), dated up to `until`; without counts
    for the platform, a line in `notices` and the most relevant examples."""
    if wanted <= 0:
        return []
    audiences = post_audiences(include_private)
    if like_my_best:
        best = best_style_examples(retriever, idea, rules, wanted, audiences=audiences,
                                   until=until)
        if best is None:
            if notices is not None:
                notices.append(no_engagement_notice(rules.label))
        elif len(best) >= wanted:
            return best
        else:  # fewer indexed top posts than wanted: the most relevant ones fill up
            chosen = {c.document_id for c in best}
            extra = retrieve_style_examples(retriever, idea, rules, wanted + len(best),
                                            include_private=include_private)
            return best + [c for c in extra if c.document_id not in chosen][:wanted - len(best)]
    found = retriever.search(idea, k=wanted, filters=SearchFilters(
        platform=rules.name, is_owner=True, exclude_kinds=CHATS, audiences=audiences))
    kinds = rules.example_kinds or (("article",) if rules.long_form else ("post", "thread"))
    for kind in kinds:
        if len(found) >= wanted:
            break
        more = retriever.search(idea, k=wanted, filters=SearchFilters(kind=kind, is_owner=True,
                                                                      audiences=audiences))
        known = {c.chunk_id for c in found}
        found += [c for c in more if c.chunk_id not in known][:wanted - len(found)]
    return found


def _platform_key(platform: str) -> str:
    return rules_for(platform).name


def _draft(generation: Generation, plan: _Plan, idea: str = "") -> Draft:
    """Loops cut, a half sentence at the token limit dropped, then fitted to the platform."""
    text, looped = trim_repetition(generation.text)
    if not looped and not generation.finished:
        text = trim_unfinished(text)
    formatted = format_draft(text, plan.platform, plan.habits, idea=idea)
    if looped:
        formatted.notes.insert(0, "cut the draft where it started repeating itself")
    return Draft(formatted, generation)
