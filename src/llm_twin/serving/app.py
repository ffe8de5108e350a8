"""`twin serve`: the REST API, the OpenAI-compatible API and the web app, in one FastAPI app.

    /                      the web app (static files, strict Content-Security-Policy)
    /api/...               REST: status, sources, ingest (upload), forget, index, search, write
                           (server-sent events), feedback, history, models, datasets, train, jobs
                           blind test and past posts (serving.blind_test_api)
    /v1/models, /v1/chat/completions, /tokenize      OpenAI-compatible, answering as the twin
    /docs, /openapi.json   the API's documentation

Security: with a token configured every /api, /v1 and /tokenize request needs
`Authorization: Bearer <token>` (`twin serve` refuses a non-loopback address without one); uploads
are capped; CORS headers only for configured origins; the web app only puts text into the page
as text, and its CSP forbids inline scripts.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from collections.abc import AsyncIterator, Generator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from llm_twin.errors import InputError
from llm_twin.ingest.timezones import zone_info
from llm_twin.backends.base import Backend
from llm_twin.app.workspace import Workspace
from llm_twin.app.write import (PRIVATE_WARNING, Sampling, WriteRequest, needs_voice_fit,
                                parse_as_of)
from llm_twin.platforms import DRAFT_PLATFORMS
from llm_twin.serving import tasks
from llm_twin.serving.blind_test_api import blind_test_router
from llm_twin.storage import history
from llm_twin.serving.openai_api import (ChatService, ClosingStreamingResponse, ErrorBody,
                                        add_openai_routes, bearer_check,
                                        openai_validation_error)
from llm_twin.serving.twin import ServeConfig, TwinService
from llm_twin.storage.vector_store import SearchFilters
from llm_twin.storage.warehouse import summarize

WEB_DIR = Path(str(resources.files("llm_twin.serving") / "web"))
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
WEB_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
UPLOAD_CHUNK = 1 << 20


class InsecureBinding(InputError):
    """Serving beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(config: ServeConfig) -> None:
    if not is_loopback(config.host) and not config.token:
        raise InsecureBinding(f"Binding to {config.host} exposes your writing to the network: set a "
                              "token (--token or TWIN_SERVE_TOKEN) that clients send as "
                              "'Authorization: Bearer <token>'.")


class Problem(BaseModel):
    """What every /api error answers: one readable sentence (the web app shows it as it is)."""

    detail: str


# Declared in the OpenAPI document in place of FastAPI's default 422 (a list of validation
# errors): /api answers its validation errors, like every other error, as {"detail": "..."};
# a wrong or missing token gets the OpenAI-shaped error the /v1 routes use.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": Problem, "description": text}
       for status, text in ((400, "The request cannot be done"), (404, "Not found"),
                            (409, "Conflicts with the workspace's state"),
                            (411, "Upload without a Content-Length"),
                            (413, "Upload over the size limit"), (422, "Invalid request"))},
    401: {"model": ErrorBody, "description": "Invalid or missing token"}}


# -- request bodies ------------------------------------------------------------------------------
class WriteBody(BaseModel):
    idea: str = Field(min_length=1, max_length=4000)
    platform: str = "linkedin"
    n: int = Field(1, ge=1, le=8)
    max_new_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    seed: int | None = None
    model: str | None = None
    stream: bool = True
    like_my_best: bool = Field(False, description="Style examples from your posts with the most "
                                                  "engagement on the platform (twin write "
                                                  "--like-my-best)")
    as_of: str | None = Field(None, max_length=10, description="Notes and examples only from "
                                                               "what you wrote up to this year "
                                                               "(2021) or date (2021-06-30)")
    include_private: bool = Field(False, description="Also draw on followers-only posts, direct "
                                                     "messages and drafts (never chats)")


class PreviewBody(BaseModel):
    text: str = Field(max_length=100_000)
    platform: str = "linkedin"
    numbering: str | None = Field(None, description="A thread's numbering style when the text "
                                                    "carries none: i/n, i/, (i/n) or none")


class FeedbackBody(BaseModel):
    rating: Literal["up", "down"] | None = None
    edited_text: str | None = Field(None, max_length=100_000)


class IndexBody(BaseModel):
    rebuild: bool = False


class UseModelBody(BaseModel):
    id: str


class DatasetBody(BaseModel):
    instructions: Literal["extractive", "model"] = "extractive"
    preferences: bool = True
    max_pairs: int = Field(50, ge=1, le=2000)
    seed: int = 0


class TrainBody(BaseModel):
    kind: Literal["sft", "dpo"] = "sft"
    steps: int = Field(20, ge=1, le=100_000)
    batch_size: int | None = Field(None, ge=1, le=256)
    max_length: int = Field(512, ge=32, le=8192)
    impostor_docs: int = Field(0, ge=0, le=1000)
    use: bool = True


# a row id in a path: SQLite's INTEGER range (a larger number was an OverflowError, a 500)
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


# -- the app -------------------------------------------------------------------------------------
def create_app(workspace: Workspace, config: ServeConfig | None = None, *,
               base_backend: Backend | None = None) -> FastAPI:
    """Nothing loads here: the model on the first generation (or `twin serve --preload`), the
    vector store on the first search."""
    config = config or ServeConfig()
    check_binding(config)
    twin = TwinService(workspace, config, base_backend=base_backend)
    app = FastAPI(title="LLM Twin", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Your writing twin: drafts in your voice, grounded in what you wrote. "
                              "It never posts anything; you edit and publish.")
    app.state.twin = twin
    app.router.add_event_handler("shutdown", twin.close)
    authorised = Depends(bearer_check(config.token))
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    _add_upload_cap(app, config.max_upload_mb)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        if not request.url.path.startswith("/api/"):
            return openai_validation_error(error)
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: "
                             f"{e.get('msg', 'invalid')}" for e in error.errors())
        return JSONResponse({"detail": f"Invalid request: {problems}"}, status_code=422)

    chat = ChatService(twin.chat_backend, config.model_name,
                       twin.generation_params(), twin.prepare_chat,
                       lock=twin.generation_lock, on_served=twin.log_chat,
                       max_batch=config.max_batch)
    add_openai_routes(app, chat, authorised)
    app.include_router(_api_router(twin), prefix="/api", dependencies=[authorised],
                       responses=API_ERRORS)
    app.include_router(blind_test_router(twin), prefix="/api", dependencies=[authorised],
                       responses=API_ERRORS)
    _add_web_app(app)
    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI from the swagger-ui-bundle package: FastAPI's default page loads it from a CDN,
    which an offline machine cannot reach."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="LLM Twin API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="data:,")


def _add_upload_cap(app: FastAPI, max_mb: int) -> None:
    limit = max_mb * 1024 * 1024

    @app.middleware("http")
    async def cap(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.url.path == "/api/ingest" and request.method == "POST" and not length:
            return JSONResponse({"detail": "Uploads need a Content-Length header (the size is "
                                           "checked against max_upload_mb before reading)."},
                                status_code=411)
        if length and length.isdigit() and int(length) > limit + 64 * 1024:
            return JSONResponse({"detail": f"The upload is larger than the {max_mb} MB limit "
                                           "(max_upload_mb); import big exports with `twin ingest`."},
                                status_code=413)
        return await call_next(request)


def _add_web_app(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers=WEB_HEADERS)

    class _Static(StaticFiles):
        async def get_response(self, path: str, scope):
            response = await super().get_response(path, scope)
            response.headers.update(WEB_HEADERS)
            return response

    app.mount("/static", _Static(directory=WEB_DIR), name="static")


def _api_router(twin: TwinService) -> APIRouter:
    router = APIRouter()
    ws = twin.ws

    def start(kind: str, description: str, work) -> dict[str, Any]:
        return {"job": twin.jobs.submit(kind, description, work).as_dict()}

    @router.get("/status", summary="Workspace, index and model in use")
    def status() -> dict[str, Any]:
        with ws.sessions() as session:
            summary = summarize(session)
        return {"owner": ws.owner_name(), "documents": summary.documents,
                "owner_documents": summary.owner_documents, "sources": summary.sources,
                "chunks": summary.chunks, "indexed": bool(summary.chunks),
                "model": {"id": twin.model_key(), "label": _model_label(twin)},
                "voice_model": ws.voice_scorer_exists(), "platforms": list(DRAFT_PLATFORMS),
                "auth_required": bool(twin.config.token),
                "max_upload_mb": twin.config.max_upload_mb, "jobs_running": twin.jobs.busy()}

    @router.get("/sources", summary="Imported sources with document counts")
    def sources() -> dict[str, Any]:
        from llm_twin.app.sources import list_sources

        return {"sources": [{"id": s.id, "format": s.format_name, "name": Path(s.path).name,
                             "imported_at": s.imported_at.isoformat(), "owner": s.owner,
                             "timezone": s.timezone,
                             "documents": s.total,
                             "by_kind": {f"{platform} {kind}": count
                                         for (platform, kind), count in s.documents.items()}}
                            for s in list_sources(ws)]}

    @router.get("/sources/audit", summary="Per source, counts by audience and what each is used "
                                          "for (`twin sources --audit --json`)")
    def sources_audit() -> dict[str, Any]:
        from llm_twin.app.sources import audit_sources

        return {"sources": [use.as_dict() for use in audit_sources(ws)]}

    @router.post("/ingest", status_code=202, summary="Upload exports; imports (and indexes) them "
                                                     "in a background job")
    async def ingest(files: list[UploadFile] = File(...), me: str | None = Form(None),
                     index: bool = Form(True),
                     timezone: str | None = Form(None, description=(
                         "IANA zone chats' local times were written in (the web app sends the "
                         "browser's); default the server's"))) -> dict[str, Any]:
        if timezone:
            try:
                timezone = zone_info(timezone).key
            except InputError as unknown:
                raise HTTPException(422, str(unknown)) from None
        spec = await _save_uploads(twin, files, me, index, timezone or None)
        await anyio.to_thread.run_sync(_check_uploads, spec)
        return start("ingest", ", ".join(Path(name).name for name in spec.files),
                     lambda job: tasks.ingest_uploads(twin, spec, job))

    @router.delete("/sources/{source_id}", summary="Forget a source completely")
    def forget(source_id: RowId) -> dict[str, Any]:
        from llm_twin.app.sources import forget_source

        if twin.jobs.busy():
            raise HTTPException(409, "A job is running; forget the source when it has finished.")
        try:
            with twin.store() as store:
                report = forget_source(ws, store, source_id)
        except LookupError as missing:
            raise HTTPException(404, str(missing)) from None
        return {"forgotten": source_id, "documents": report.source.documents,
                "dataset_builds_removed": report.dataset_builds_removed,
                "generations_removed": report.generations_removed}

    @router.post("/index", status_code=202, summary="Chunk and embed new documents (a job)")
    def index(body: IndexBody | None = None) -> dict[str, Any]:
        rebuild = bool(body and body.rebuild)
        return start("index", "rebuild the index" if rebuild else "index new documents",
                     lambda job: tasks.index_workspace(twin, job, rebuild=rebuild))

    @router.get("/search", summary="Search what you wrote (hybrid dense + BM25)")
    def search(q: str, k: int = 5, platform: str | None = None, kind: str | None = None,
               mine: bool = False, literal: bool = False) -> dict[str, Any]:
        from contextlib import ExitStack

        from llm_twin.app.search import SearchRequest, search_writing

        if not q.strip():
            raise HTTPException(422, "The query is empty.")
        if ws.built_embedding_model() is None:
            raise HTTPException(409, "Nothing is indexed yet: import something, then index it.")
        explicit = SearchFilters(platform=platform, kind=kind, is_owner=True if mine else None)
        request = SearchRequest(q, k=max(1, min(k, 50)), filters=explicit, literal=literal,
                                expansions=0)
        with ExitStack() as held:
            backend = None
            if ws.settings.llm_query_tools:  # the model in memory reads the query
                held.enter_context(twin.generation_lock)
                backend = twin.backend()
            found = search_writing(ws, held.enter_context(twin.store()), request, backend=backend)
        return {"topic": found.topic, "filters": found.applied_filters(),
                "hits": [{"chunk_id": h.chunk_id, "document_id": h.document_id, "label": h.label,
                          "url": h.url, "platform": h.platform, "kind": h.kind,
                          "created_at": (when.isoformat()  # in the source's zone
                                         if (when := found.local_time(h)) else None),
                          "score": h.score, "text": h.text} for h in found.hits]}

    @router.post("/write", summary="Drafts in your voice: server-sent events (start, token, "
                                   "drafts, error, done), or JSON with stream=false")
    async def write(body: WriteBody):
        request = _write_request(twin, body)
        if not body.stream:
            return await anyio.to_thread.run_sync(_write_all, twin, request)
        return ClosingStreamingResponse(_write_stream(twin, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/platforms", summary="The draft platforms and the limits their previews are "
                                      "checked against")
    def platforms() -> dict[str, Any]:
        from llm_twin.inference.preview import preview_rules

        return {"platforms": [preview_rules(name) for name in DRAFT_PLATFORMS]}

    @router.post("/preview", summary="What a platform will show of a draft's text: X posts with "
                                     "their counts, LinkedIn's fold, a caption's hashtags, an "
                                     "article's title and subtitle")
    def preview(body: PreviewBody) -> dict[str, Any]:
        from llm_twin.inference.preview import preview_text

        if body.platform not in DRAFT_PLATFORMS:
            raise HTTPException(422, f"platform: unknown platform {body.platform!r}; choose one "
                                     f"of {', '.join(DRAFT_PLATFORMS)}.")
        return preview_text(body.text, body.platform, numbering=body.numbering).to_json()

    @router.post("/generations/{generation_id}/feedback", summary="Rate a draft and/or save your edit")
    def feedback(generation_id: RowId, body: FeedbackBody) -> dict[str, Any]:
        changes = {name: getattr(body, name) for name in body.model_fields_set}
        try:
            with ws.sessions.begin() as session:
                record = history.set_feedback(session, generation_id, **changes)
                return {"generation": history.as_dict(record)}
        except LookupError as missing:
            raise HTTPException(404, str(missing)) from None

    @router.get("/history", summary="Served drafts and answers, newest first")
    def generations(limit: int = 50, offset: int = 0) -> dict[str, Any]:
        with ws.sessions() as session:
            rows = history.recent_generations(session, limit=max(1, min(limit, 500)),
                                              offset=max(0, min(offset, 2**62)))
            return {"generations": [history.as_dict(r) for r in rows]}

    @router.get("/models", summary="Fine-tuned runs and the one in use")
    def models() -> dict[str, Any]:
        from llm_twin.training.registry import list_runs, mark_interrupted

        with ws.sessions() as session:
            mark_interrupted(session)
            runs = list_runs(session)
        active = next((r.id for r in runs if r.is_active), None)
        return {"active": active, "base_model": ws.settings.generation_model,
                "runs": [_run_dict(r) for r in runs]}

    @router.post("/models/use", summary="Use a fine-tuned run (or 'base') for drafts and chat")
    def use_model(body: UseModelBody) -> dict[str, Any]:
        from llm_twin.training.registry import UnknownModel, use_run

        try:
            with ws.sessions() as session:
                run = use_run(session, body.id)
        except UnknownModel as unknown:
            raise HTTPException(404, str(unknown)) from None
        except ValueError as not_finished:
            raise HTTPException(409, str(not_finished)) from None
        return {"active": run.id if run else None}

    @router.get("/datasets", summary="Dataset builds, newest first")
    def datasets() -> dict[str, Any]:
        from llm_twin.app.dataset import dataset_counts
        from llm_twin.training_data.store import list_builds

        return {"builds": [{"id": b.id, "created": b.card.get("created_at"),
                            **dataset_counts(b.card)} for b in list_builds(ws.settings.workspace)]}

    @router.post("/datasets", status_code=202, summary="Build the training datasets (a job)")
    def build_dataset(body: DatasetBody) -> dict[str, Any]:
        spec = tasks.DatasetJob(**body.model_dump())
        return start("dataset", f"dataset build ({spec.instructions} instructions)",
                     lambda job: tasks.build_dataset(twin, spec, job))

    @router.post("/train", status_code=202, summary="Fine-tune (LoRA SFT or DPO) in a background job")
    def train(body: TrainBody) -> dict[str, Any]:
        spec = tasks.TrainJob(**body.model_dump())
        return start("train", f"{spec.kind.upper()}, {spec.steps} steps",
                     lambda job: tasks.train(twin, spec, job))

    @router.post("/voice", status_code=202, summary="Fit the voice model that scores drafts (a job)")
    def voice() -> dict[str, Any]:
        return start("voice", "fit the voice model", lambda job: tasks.fit_voice(twin, job))

    @router.get("/jobs", summary="Background jobs, newest first")
    def jobs() -> dict[str, Any]:
        return {"jobs": [job.as_dict() for job in twin.jobs.jobs()]}

    @router.get("/jobs/{job_id}", summary="One background job and its progress")
    def job(job_id: str) -> dict[str, Any]:
        found = twin.jobs.get(job_id)
        if found is None:
            raise HTTPException(404, f"No job {job_id!r}.")
        return found.as_dict()

    return router


# -- helpers ---------------------------------------------------------------------------------------
def _model_label(twin: TwinService) -> str:
    key = twin.model_key()
    return f"{key} (fine-tuned)" if key != "base" else f"{twin.ws.settings.generation_model} (base)"


def _run_dict(run) -> dict[str, Any]:
    return {"id": run.id, "kind": run.kind, "status": run.status, "base_model": run.base_model,
            "dataset_id": run.dataset_id, "parent_id": run.parent_id,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "duration_s": run.duration_s, "is_active": run.is_active, "metrics": run.metrics or {}}


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(name: str | None, index: int) -> str:
    """`<index>/<name>`: the browser's file name, reduced to safe characters (the extension is
    what format detection looks at), in a folder of its own so two uploads never collide."""
    base = _SAFE_NAME.sub("_", Path(name or "").name).strip("._") or "upload"
    return f"{index:02d}/{base[-120:]}"


async def _save_uploads(twin: TwinService, files: list[UploadFile], me: str | None,
                        index: bool, timezone: str | None = None) -> tasks.IngestJob:
    limit = twin.config.max_upload_mb * 1024 * 1024
    folder = twin.ws.settings.workspace / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    names, total = [], 0
    try:
        for i, upload in enumerate(files):
            name = _safe_name(upload.filename, i)
            (folder / name).parent.mkdir()
            with (folder / name).open("wb") as out:
                while chunk := await upload.read(UPLOAD_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise HTTPException(413, f"The upload is larger than the "
                                                 f"{twin.config.max_upload_mb} MB limit "
                                                 "(max_upload_mb); import big exports with "
                                                 "`twin ingest`.")
                    out.write(chunk)
            names.append(name)
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    me_names = tuple(n.strip() for n in (me or "").split(",") if n.strip())
    return tasks.IngestJob(folder, names, me_names, index, timezone)


def _check_uploads(spec: tasks.IngestJob) -> None:
    """A 422 at once, and nothing kept, when no upload is an export an importer recognises (a
    corrupt or truncated zip, a zip bomb, a file of no known format): the same checks the import
    job would make first, so the client hears of it from the upload, not from a failed job."""
    import shutil

    from llm_twin.ingest.base import ImportFormatError
    from llm_twin.ingest.registry import detect_importer
    from llm_twin.ingest.safe_zip import ExportTree

    problems = []
    for name in spec.files:
        path = spec.folder / name
        try:
            if path.suffix.casefold() == ".zip":
                ExportTree(path).close()  # corrupt archive, zip bomb, unsafe member names
            detect_importer(path)
            return
        except ImportFormatError as error:
            problems.append(str(error).replace(f"{path.parent}/", "").replace(f"{spec.folder}/", ""))
    shutil.rmtree(spec.folder, ignore_errors=True)
    raise HTTPException(422, "Nothing to import: " + "; ".join(problems))


def _write_request(twin: TwinService, body: WriteBody) -> WriteRequest:
    if not body.idea.strip():
        raise HTTPException(422, "The idea is empty: say in a few words what the post should be about.")
    if body.platform not in DRAFT_PLATFORMS:
        raise HTTPException(422, f"Unknown platform {body.platform!r}; choose one of "
                                 f"{', '.join(DRAFT_PLATFORMS)}.")
    if body.model:
        try:
            twin.model_key(body.model)
        except ValueError as unknown:
            raise HTTPException(404, str(unknown)) from None
    sampling = Sampling(body.max_new_tokens or twin.config.max_new_tokens, body.temperature,
                        body.seed)
    try:
        as_of = parse_as_of(body.as_of) if body.as_of else None
    except InputError:
        raise HTTPException(422, f"as_of: {body.as_of!r} is not a year (2021) or a date "
                                 "(2021-06-30).") from None
    return WriteRequest(body.idea, body.platform, body.n, sampling=sampling, model=body.model,
                        include_private=body.include_private, like_my_best=body.like_my_best,
                        as_of=as_of)


def _write_all(twin: TwinService, request: WriteRequest) -> dict[str, Any]:
    from llm_twin.errors import USER_ERRORS

    try:
        for event, payload in _write_events(twin, request):
            if event == "drafts":
                return payload
    except USER_ERRORS as error:
        raise HTTPException(400, str(error)) from None
    raise HTTPException(500, "The write produced no drafts.")


async def _write_stream(twin: TwinService, request: WriteRequest) -> AsyncIterator[str]:
    from llm_twin.errors import USER_ERRORS

    events = _write_events(twin, request)
    try:
        while (item := await anyio.to_thread.run_sync(next, events, None)) is not None:
            yield _sse(*item)
    except USER_ERRORS as error:
        yield _sse("error", {"detail": str(error)})
    except Exception as error:  # headers are sent: the error goes in the stream
        yield _sse("error", {"detail": f"Generation failed: {type(error).__name__}: {error}"})
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)  # releases the model if the client left
    yield _sse("done", {})


VOICE_POLL_S = 0.5


def _write_events(twin: TwinService, request: WriteRequest
                  ) -> Generator[tuple[str, dict[str, Any]], None, None]:
    """The write's events, after the voice model is fitted when N > 1 drafts are to be ranked and
    none is fitted yet (as `twin write -n N` does): the fit runs as the background "voice" job
    (`GET /api/jobs` lists it), or joins the one already running, and its progress comes as
    "voice" events (the job as `GET /api/jobs/{id}` shows it) until it has finished. A failed fit
    is said in a "notice" event and the drafts come without voice scores."""
    if request.include_private:
        yield "notice", {"detail": PRIVATE_WARNING}
    if needs_voice_fit(twin.ws, request):
        job = next((j for j in twin.jobs.jobs()
                    if j.kind == "voice" and j.status in ("queued", "running")), None)
        if job is None:
            job = twin.jobs.submit("voice", "fit the voice model to rank the drafts",
                                   lambda job: tasks.fit_voice(twin, job))
        yield "voice", job.as_dict()
        while job.status in ("queued", "running"):
            time.sleep(VOICE_POLL_S)
            yield "voice", job.as_dict()
        if job.status != "succeeded":
            why = job.error or job.status
            yield "notice", {"detail": f"The voice model could not be fitted ({why}); the drafts "
                                       "are ranked without voice scores."}
    yield from twin.write_events(request)


def _sse(event: str, payload: dict[str, Any]) -> str:
    import json

    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
