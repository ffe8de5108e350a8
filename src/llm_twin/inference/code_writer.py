"""`twin code`: code in the owner's style, drawing on their own repositories.

The last user turn is `prompts.wording.code_request(...)` after the twin's system message, exactly as
the instruction dataset trains code samples. Retrieved pieces of the owner's code (kind "code",
from `twin ingest <git repo>`) go before it as earlier request/answer turns in that same format.
The answer is returned as one fenced code block.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import func, select

from llm_twin.backends.base import Backend, GenerationParams, Message
from llm_twin.errors import InputError, WorkspaceError
from llm_twin.features.chunking import code_family
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.reply import (ExampleTurns, ModeResult, ModeStream, ModeTimings,
                                      example_turns_budget)
from llm_twin.inference.retrieval import Retriever, Searcher
from llm_twin.ingest.formats.git_repo import CODE_LANGUAGES
from llm_twin.prompts.budget import fit_example_turns
from llm_twin.prompts.wording import code_request, system_message
from llm_twin.storage.models import Chunk, Document, document_meta
from llm_twin.storage.vector_store import SearchFilters

EXAMPLE_MAX_CHARS = 900
SEARCH_DEPTH = 4  # candidates per wanted example, so a language filter still finds enough
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


@dataclass
class CodeOptions:
    owner: str
    retrieval_k: int = 3
    context_tokens: int = 2048
    generation: GenerationParams = field(default_factory=GenerationParams)


def language_of_path(path: str | None) -> str | None:
    suffix = PurePosixPath(path).suffix.casefold() if path else ""
    return CODE_LANGUAGES.get(suffix)


def same_language(wanted: str, found: str | None) -> bool:
    """"python" matches python; "ts" or "typescript" match typescript; families for the rest."""
    wanted_name, found_name = wanted.casefold().lstrip("."), (found or "").casefold()
    if wanted_name == found_name or CODE_LANGUAGES.get(f".{wanted_name}") == found_name:
        return True
    family = code_family(wanted_name)  # javascript/typescript; "c" and "jvm" mix languages
    return family not in (None, "c", "jvm") and family == code_family(found_name)


def without_fences(pieces: Iterable[str]) -> Iterator[str]:
    """Stream text with the model's own ``` fence lines removed (we add our own), line by line."""
    pending = ""
    for piece in pieces:
        pending += piece
        *lines, pending = pending.split("\n")
        for line in lines:
            if not _FENCE.match(line):
                yield line + "\n"
    if pending and not _FENCE.match(pending):
        yield pending


def fenced(code: str, language: str | None) -> str:
    return f"```{language or ''}\n{code.strip(chr(10))}\n```"


def retrieve_code_examples(retriever: Searcher, request: str, language: str | None,
                           k: int) -> ExampleTurns:
    """Pieces of the owner's code like `request` (in `language` when given) as earlier
    request/answer turns (`twin code` and its training samples alike)."""
    hits = retriever.search(request, k=k * SEARCH_DEPTH if language else k,
                            filters=SearchFilters(kind="code", is_owner=True))
    languages = document_languages(retriever, [hit.document_id for hit in hits])
    if language:
        hits = [h for h in hits if same_language(language, languages.get(h.document_id))][:k]
    return [(hit, _example_turns(hit, languages.get(hit.document_id))) for hit in hits]


def document_languages(retriever: Searcher, document_ids: list[int]) -> dict[int, str | None]:
    """The language recorded at import for each code document."""
    with retriever.sessions() as session:
        rows = session.execute(select(Document.id, Document.extra)
                               .where(Document.id.in_(document_ids))).tuples().all()
    return {doc_id: document_meta(extra).get("language") for doc_id, extra in rows}


class CodeWriter:
    def __init__(self, retriever: Retriever, backend: Backend, options: CodeOptions):
        self.retriever = retriever
        self.backend = backend
        self.options = options

    def stream(self, request: str, *, language: str | None = None,
               path: str | None = None) -> ModeStream:
        """The code as text pieces (fence lines removed) while it is generated; the result's
        text is the whole answer as one fenced block."""
        if not request.strip():
            raise InputError("The request is empty: say what the code should do.")
        language = (language or language_of_path(path) or "").strip().casefold() or None
        self._require_code()
        return ModeStream(self._pieces(request, language, path))

    def write(self, request: str, **options) -> ModeResult:
        return self.stream(request, **options).finish()

    def _pieces(self, request: str, language: str | None,
                path: str | None) -> Generator[str, None, ModeResult]:
        timings = ModeTimings()
        started = time.perf_counter()
        self.backend.load()
        timings.model_load = time.perf_counter() - started

        started = time.perf_counter()
        examples = retrieve_code_examples(self.retriever, request, language,
                                          self.options.retrieval_k)
        timings.retrieval = time.perf_counter() - started
        notes = [] if examples or not language else [
            f"no {language} code of yours is indexed; wrote without examples of your code"]

        started = time.perf_counter()
        request_turn = {"role": "user", "content": code_request(request, language, path)}
        messages, tokens, used = self._fit(request_turn, examples)
        timings.prompt_building = time.perf_counter() - started

        started = time.perf_counter()
        stream = self.backend.stream(messages, self.options.generation)
        try:
            yield from without_fences(stream)
        finally:
            stream.close()
        timings.generation = time.perf_counter() - started
        generation = stream.final()
        code = "".join(without_fences([generation.text]))
        return ModeResult(fenced(code, language), [chunk for chunk, _ in used], messages, tokens,
                          generation, timings, notes)

    def _require_code(self) -> None:
        with self.retriever.sessions() as session:
            files = session.scalar(select(func.count()).select_from(Document).where(
                Document.kind == "code"))
            indexed = session.scalar(select(func.count()).select_from(Chunk).join(Document).where(
                Document.kind == "code"))
        if not files:
            raise WorkspaceError("No code of yours is imported. Import a git repository first, e.g. "
                                 "`twin ingest ~/src/project --me you@example.org`, then `twin "
                                 "index`.")
        if not indexed:
            raise WorkspaceError(f"{files} code files are imported but not indexed yet: run "
                                 "`twin index` first.")

    def _fit(self, request_turn: Message, examples: ExampleTurns):
        """Examples before the request, the best nearest it; the lowest ranked are dropped while
        the prompt is over the token budget."""
        budget = example_turns_budget(self.options.context_tokens,
                                      self.options.generation.max_new_tokens,
                                      self.backend.context_window)
        system = {"role": "system", "content": system_message(self.options.owner)}
        return fit_example_turns([system], examples, [request_turn],
                                 count_tokens=self.backend.count_tokens,
                                 render=self.backend.render_prompt, budget_tokens=budget,
                                 too_long="The request needs")


def _example_turns(hit: RetrievedChunk, language: str | None) -> list[Message]:
    """A piece of the owner's code as the answer to a request in the training format."""
    code = hit.text
    if len(code) > EXAMPLE_MAX_CHARS:
        cut = code.rfind("\n", 0, EXAMPLE_MAX_CHARS)
        code = code[:cut if cut > EXAMPLE_MAX_CHARS // 2 else EXAMPLE_MAX_CHARS]
    first_line = next((line.strip() for line in code.splitlines() if line.strip()), "")
    idea = f"the part that starts with `{first_line[:80]}`"
    return [{"role": "user", "content": code_request(idea, language, hit.title)},
            {"role": "assistant", "content": code.rstrip()}]
