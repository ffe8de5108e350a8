""""Which one did I write?" (`twin blind-test`, the web app's blind test): the human half of
`twin eval`, and "What you already said" (`twin write --show-past`, `GET /api/past`).

A round takes one held-out post of the owner's (the newest dataset build's test split when there
is one, else a random public post), the idea the dataset build gives it (the build's own
instruction; without a build the extractive instruction writer's, fitted on the owner's texts),
and a twin draft for that idea on the same platform, about as long, written by the model in use
with the real post and everything written after it barred from retrieval. The two are shown in a
random order; the owner says which one they wrote. Each round is one `GenerationRecord`
(`endpoint="blind_test"`, the draft as `output`, the real post's document id, the order shown and
the answer in `request`): its source ids let `twin forget` drop it, and the dataset build turns
each answered round into a preference pair (the real post over the draft, `feedback:blind_test`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from llm_twin.app.search import SearchRequest, search_writing
from llm_twin.app.workspace import Workspace
from llm_twin.backends.base import Backend
from llm_twin.errors import InputError, NotFoundError, TwinError
from llm_twin.platforms import DRAFT_PLATFORMS, rules_for
from llm_twin.storage.history import ServedOutput, ServedRequest, log_generations, new_request_id
from llm_twin.storage.models import PUBLIC_AUDIENCES, Document, GenerationRecord, utcnow
from llm_twin.storage.vector_store import SearchFilters, VectorStore

ENDPOINT = "blind_test"
TWIN, REAL = "twin", "real"
LETTERS = ("a", "b")
Z_95 = 1.959964  # the normal quantile of a two-sided 95 % interval
_POST_KINDS = ("post", "thread", "article", "paper")


class BlindTestError(TwinError):
    """No post to test with, or a round that cannot be answered."""


@dataclass
class HeldOutPost:
    document_id: int
    source_id: int
    text: str  # the verbatim slice of the document shown (a whole post, or an article's section)
    start: int  # where the slice starts in the document's raw text
    idea: str
    platform: str  # a draft platform
    created_at: datetime | None
    url: str | None
    origin: str  # "dataset:<id>" (its test split) or "posts" (no dataset build)


@dataclass
class BlindRound:
    id: int  # the GenerationRecord's
    idea: str
    platform: str
    texts: tuple[str, str]  # A and B, as shown
    model: str  # the registry run id, or "base"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "idea": self.idea, "platform": self.platform,
                "a": self.texts[0], "b": self.texts[1], "model": self.model}


@dataclass
class BlindScore:
    model: str
    rounds: int
    fooled: int

    @property
    def share(self) -> float:
        return self.fooled / self.rounds if self.rounds else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.fooled, self.rounds)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {"model": self.model, "rounds": self.rounds, "fooled": self.fooled,
                "share": round(self.share, 4), "low": round(low, 4), "high": round(high, 4)}


@dataclass
class RoundOutcome:
    id: int
    pick: str  # "a" or "b"
    twin: str  # the letter the twin's draft had
    fooled: bool
    url: str | None
    created_at: datetime | None
    score: BlindScore  # the model's score with this round

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "pick": self.pick, "twin": self.twin, "fooled": self.fooled,
                "url": self.url,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "score": self.score.as_dict()}


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial share (0, 1 for no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def draft_platform(platform: str | None) -> str | None:
    """The draft platform's name for a --platform value (aliases allowed); None: any."""
    if platform is None or not platform.strip():
        return None
    try:
        return rules_for(platform).name
    except InputError:
        raise InputError(f"platform: unknown platform {platform!r}; choose one of "
                         f"{', '.join(DRAFT_PLATFORMS)}.") from None


# -- choosing the post ---------------------------------------------------------------------

def held_out_posts(ws: Workspace, platform: str | None = None) -> list[HeldOutPost]:
    """The posts a round may show: the newest dataset build's held-out posts, else the owner's
    public posts (each with the idea the dataset build would give it)."""
    platform = draft_platform(platform)
    posts = _dataset_posts(ws)
    if not posts:
        posts = _public_posts(ws)
    return [p for p in posts if platform is None or p.platform == platform]


def _dataset_posts(ws: Workspace) -> list[HeldOutPost]:
    from llm_twin.errors import DatasetError
    from llm_twin.evaluation.heldout import load_eval_data
    from llm_twin.training.dataset_build import resolve_build
    from llm_twin.training_data.store import latest_id

    if latest_id(ws.settings.workspace) is None:
        return []
    try:
        build = resolve_build(ws.settings.workspace)
        prompts = load_eval_data(build, limit=10**9, impostor_folder=None).prompts
    except DatasetError:  # a build without held-out posts: fall back to the posts themselves
        return []
    ids = {p.document_id for p in prompts if p.document_id is not None}
    with ws.sessions() as session:
        documents = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
        posts = []
        for prompt in prompts:
            document = documents.get(prompt.document_id or -1)
            if document is None or document.audience not in PUBLIC_AUDIENCES:
                continue
            start = document.raw_text.find(prompt.answer)
            if start < 0:  # the document changed since the build
                continue
            posts.append(HeldOutPost(document.id, document.source_id, prompt.answer, start,
                                     prompt.idea, prompt.platform, document.created_at,
                                     document.url, f"dataset:{build.id}"))
    return posts


def _public_posts(ws: Workspace) -> list[HeldOutPost]:
    from llm_twin.evaluation.heldout import write_platform
    from llm_twin.training_data.instructions import ExtractiveInstructionWriter
    from llm_twin.training_data.owner_texts import load_owner_documents, owner_texts

    with ws.sessions() as session:
        documents = [d for d in load_owner_documents(session)
                     if d.kind in _POST_KINDS and d.audience in PUBLIC_AUDIENCES]
        units = [(document, unit) for document in documents
                 for unit in owner_texts(document)[0]
                 if unit.limits.min_chars <= len(unit.text) <= unit.limits.max_chars
                 and not unit.draft]
    if not units:
        return []
    writer = ExtractiveInstructionWriter(overlap_threshold=ws.settings.instruction_overlap_threshold)
    writer.fit([unit for _, unit in units])
    posts = []
    for document, unit in units:
        start = document.raw_text.find(unit.text)
        if start < 0:
            continue
        platform = write_platform(unit.platform, unit.kind, f"about {len(unit.text)} characters long")
        posts.append(HeldOutPost(document.id, document.source_id, unit.text, start,
                                 writer.idea(unit), platform, document.created_at, document.url,
                                 "posts"))
    return posts


def _used_documents(ws: Workspace) -> set[int]:
    with ws.sessions() as session:
        requests: list[dict[str, Any]] = list(session.scalars(
            select(GenerationRecord.request).where(GenerationRecord.endpoint == ENDPOINT)))
        return {int(r["document_id"]) for r in requests if r and r.get("document_id")}


def choose_post(ws: Workspace, *, platform: str | None = None,
                rng: random.Random | None = None) -> HeldOutPost:
    """A random held-out post, one not shown in an earlier round while there are any left."""
    posts = held_out_posts(ws, platform)
    if not posts:
        where = f" on {platform}" if platform else ""
        raise BlindTestError(f"No post of yours{where} to test with: import your own public posts "
                             "first (`twin ingest`), or pick another --platform.")
    used = _used_documents(ws)
    fresh = [p for p in posts if p.document_id not in used] or posts
    return (rng or random.SystemRandom()).choice(fresh)


# -- a round -------------------------------------------------------------------------------

def model_key(ws: Workspace, model: str | None = None) -> str:
    """The registry run id the drafts come from, or "base"."""
    from llm_twin.training.registry import BASE_MODEL_NAME

    run = ws.tuned_run(model)
    return run.id if run is not None else BASE_MODEL_NAME


def start_round(ws: Workspace, store: VectorStore, backend: Backend, *,
                platform: str | None = None, model: str | None = None, seed: int | None = None,
                max_new_tokens: int | None = None) -> BlindRound:
    """Pick a post, write the twin's draft for its idea and log the round (unanswered).
    `backend`: the model `model` names (default: the model in use), loaded by the caller."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    post = choose_post(ws, platform=platform, rng=rng)
    draft = write_twin_draft(ws, store, backend, post, seed=seed, max_new_tokens=max_new_tokens)
    order = [TWIN, REAL] if rng.random() < 0.5 else [REAL, TWIN]
    key = model_key(ws, model)
    served = ServedRequest(
        request_id=new_request_id(), endpoint=ENDPOINT, model=key, backend=backend.name,
        idea=post.idea, platform=post.platform,
        request={"document_id": post.document_id, "span": [post.start, post.start + len(post.text)],
                 "origin": post.origin, "order": order, "pick": None, "fooled": None},
        source_ids=[post.source_id])
    with ws.sessions.begin() as session:
        row = log_generations(session, served, [ServedOutput(draft)])[0]
        round_id = row.id
    texts = tuple(draft if who == TWIN else post.text for who in order)
    return BlindRound(round_id, post.idea, post.platform, (texts[0], texts[1]), key)


def write_twin_draft(ws: Workspace, store: VectorStore, backend: Backend, post: HeldOutPost, *,
                     seed: int | None = None, max_new_tokens: int | None = None) -> str:
    """`twin write`'s draft for the post's idea: same platform, the post's length as the target,
    and retrieval that cannot see the post or anything written after it."""
    from llm_twin.inference.retrieval import BarredRetriever

    backend.load()
    budget = max(16, int(backend.count_tokens(post.text) * 1.3) + 8)
    tokens = min(max_new_tokens or ws.settings.max_new_tokens, budget)
    writer = ws.writer(store, backend, rank=False, max_new_tokens=tokens, seed=seed)
    until = post.created_at - timedelta(microseconds=1) if post.created_at else None
    writer.retriever = BarredRetriever(writer.retriever, until=until,
                                       excluded_documents={post.document_id})
    key = rules_for(post.platform).name
    if key in writer.profiles:  # the profile steers the length: the real post's, this time
        writer.profiles = {**writer.profiles,
                           key: replace(writer.profiles[key], median_chars=len(post.text))}
    result = writer.write(post.idea, post.platform)
    return result.drafts[0].formatted.as_text().strip()


def answer_round(ws: Workspace, round_id: int, pick: str) -> RoundOutcome:
    """Record which text the owner says they wrote ("a" or "b"); a round is answered once."""
    letter = (pick or "").strip().lower()
    if letter not in LETTERS:
        raise InputError(f"pick: answer 'a' or 'b', not {pick!r}.")
    with ws.sessions.begin() as session:
        record = session.get(GenerationRecord, round_id)
        if record is None or record.endpoint != ENDPOINT:
            raise NotFoundError(f"No blind-test round #{round_id}.")
        request = dict(record.request or {})
        if request.get("pick") is not None:
            raise BlindTestError(f"Round #{round_id} was already answered ({request['pick']}).")
        order = request.get("order") or []
        twin = LETTERS[order.index(TWIN)]
        fooled = letter == twin
        record.request = {**request, "pick": letter, "fooled": fooled}
        record.feedback_at = utcnow()
        model = record.model
        document = session.get(Document, request.get("document_id") or -1)
        url = document.url if document else None
        created = document.created_at if document else None
    return RoundOutcome(round_id, letter, twin, fooled, url, created,
                        blind_test_scores(ws).get(model, BlindScore(model, 0, 0)))


def answered_rounds(ws: Workspace) -> list[GenerationRecord]:
    with ws.sessions() as session:
        rows = list(session.scalars(select(GenerationRecord)
                                    .where(GenerationRecord.endpoint == ENDPOINT)
                                    .order_by(GenerationRecord.id)))
        session.expunge_all()
    return [row for row in rows if (row.request or {}).get("pick") is not None]


def blind_test_scores(ws: Workspace) -> dict[str, BlindScore]:
    """Per model (run id or "base"): answered rounds and how many the twin won."""
    scores: dict[str, BlindScore] = {}
    for row in answered_rounds(ws):
        score = scores.setdefault(row.model, BlindScore(row.model, 0, 0))
        score.rounds += 1
        score.fooled += bool(row.request.get("fooled"))
    return scores


# -- what you already said -----------------------------------------------------------------

@dataclass
class PastPost:
    document_id: int
    platform: str
    created_at: datetime | None
    first_line: str
    url: str | None
    label: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"document_id": self.document_id, "platform": self.platform,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "first_line": self.first_line, "url": self.url, "label": self.label,
                "score": round(self.score, 4)}


MIN_PAST_WORDS = 3


def past_posts(ws: Workspace, store: VectorStore, idea: str, *, platform: str | None = None,
               k: int = 5, include_private: bool = False) -> list[PastPost]:
    """The owner's own posts on the idea's topic (hybrid search, the idea searched as typed),
    newest first: public and unlisted ones unless `include_private`; never chats."""
    from llm_twin.inference.writer import CHATS

    if len(idea.split()) < MIN_PAST_WORDS:
        return []
    filters = SearchFilters(platform=draft_platform(platform), is_owner=True, exclude_kinds=CHATS,
                            audiences=None if include_private else PUBLIC_AUDIENCES)
    found = search_writing(ws, store, SearchRequest(idea, k=max(1, min(k, 20)), filters=filters,
                                                    literal=True, expansions=0, rerank=False))
    posts = [PastPost(hit.document_id, hit.platform, found.local_time(hit),
                      _first_line(hit.text), hit.url, hit.label, hit.score) for hit in found.hits]
    floor = datetime.min
    return sorted(posts, key=lambda p: p.created_at.replace(tzinfo=None) if p.created_at else floor,
                  reverse=True)


def _first_line(text: str, limit: int = 140) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"
