"""Kill -9 at any point: the real `twin` CLI in a subprocess, SIGKILLed at random moments.

For each stage an uninterrupted reference run is timed first; each kill then starts the same
command on a fresh copy of the stage's starting workspace, sends SIGKILL to its process group
after a random delay within the reference run's duration (seeded), and checks the workspace:

- `PRAGMA integrity_check` is ok;
- no source is half-imported: each source holds as many documents as the reference run stored for
  it (and as its own `document_count` says), or the source is absent;
- every chunk row has its vector in the vector store (vectors without a chunk row may remain after
  a kill, since the two stores cannot share a transaction: `twin index` removes them; they must be
  gone after the rerun);
- the same command, rerun, exits 0 and leaves the same counts as the reference run (sources,
  documents per source, chunk rows, vectors, and vectors == chunk rows).

    .venv/bin/python benchmarks/crash_soak.py [--kills 20] [--stages ingest,index,dataset]
        [--tweets 50000] [--index-tweets 300] [--seed 17]

Stages: `ingest` (a large X archive), `ingest-folder` (a folder of several exports), `index`
(first index), `index-incremental` (after a second ingest); `ingest` and `index` in --stages
expand to both of theirs. `dataset` runs `twin dataset build` on an indexed workspace (no half
build in place after a kill, the rerun's build id the reference's); `train-sft` and `train-dpo`
(`train` expands to both) train 6 tiny steps of the default model with a checkpoint every 2: after
a kill `twin models` must show the run interrupted, `twin train --resume` continues it from its last
checkpoint (a run killed before its first starts afresh) and it ends at the reference's step count;
`export` exports the trained run (adapter, merged): no half export in place, the rerun's files
those of the reference. `serve` kills `twin serve` in turn mid-job (an uploaded X archive being
imported and indexed) and mid-stream (a streamed /api/write after its first token): the restarted
server must answer and search, list the killed job failed or interrupted (none running), and
finish the upload to the uninterrupted run's counts. --max-minutes caps a stage's kills by time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_x_large import build_archive

REPO = Path(__file__).resolve().parents[1]
TWIN = REPO / ".venv" / "bin" / "twin"
STAGE_GROUPS = {"ingest": ("ingest", "ingest-folder"), "index": ("index", "index-incremental"),
                "dataset": ("dataset",), "train": ("train-sft", "train-dpo")}
EXPORT_FORMATS = "adapter,merged"  # gguf (and the Modelfile that points at it) needs a base GGUF


# -- what a workspace holds ----------------------------------------------------------------

@dataclass
class Counts:
    """What a finished run leaves: documents per source (by path), chunk rows, vectors."""

    sources: dict[str, int] = field(default_factory=dict)
    documents: int = 0
    chunks: int = 0
    vectors: int = 0

    def differences(self, other: Counts) -> list[str]:
        found = []
        if self.sources != other.sources:
            found.append(f"sources {self.sources} != reference {other.sources}")
        for name in ("documents", "chunks", "vectors"):
            if getattr(self, name) != getattr(other, name):
                found.append(f"{name} {getattr(self, name)} != reference {getattr(other, name)}")
        return found


@dataclass
class Snapshot:
    counts: Counts
    failures: list[str]
    orphan_vectors: int = 0


def read_workspace(ws: Path) -> Snapshot:
    """The workspace as stored, and every broken invariant (except orphan vectors, counted)."""
    failures: list[str] = []
    counts = Counts()
    db = ws / "twin.db"
    chunk_ids: set[str] = set()
    if db.exists():
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA integrity_check").fetchall()
            if status != [("ok",)]:
                failures.append(f"integrity_check: {status[:3]}")
            tables = {name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if {"sources", "documents"} <= tables:
                rows = connection.execute(
                    "SELECT s.path, s.document_count, (SELECT count(*) FROM documents d "
                    "WHERE d.source_id = s.id) FROM sources s").fetchall()
                for path, recorded, stored in rows:
                    if recorded != stored:
                        failures.append(f"source {Path(path).name}: {stored} documents stored, "
                                        f"{recorded} recorded")
                    counts.sources[Path(path).name] = stored
                counts.documents = connection.execute(
                    "SELECT count(*) FROM documents").fetchone()[0]
            if "chunks" in tables:
                chunk_ids = {cid for (cid,) in connection.execute("SELECT id FROM chunks")}
                counts.chunks = len(chunk_ids)
        finally:
            connection.close()
    vector_ids = stored_vector_ids(ws / "vectors")
    counts.vectors = len(vector_ids)
    missing = chunk_ids - vector_ids
    if missing:
        failures.append(f"{len(missing)} chunk rows without a vector")
    return Snapshot(counts, failures, orphan_vectors=len(vector_ids - chunk_ids))


def stored_vector_ids(path: Path) -> set[str]:
    """The point ids in the embedded Qdrant shard, through the store's own API."""
    from llm_twin.storage.qdrant_edge_store import META_FILE, QdrantEdgeStore

    meta_path = path / META_FILE
    if not meta_path.exists():
        return set()
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with QdrantEdgeStore(path, embedding_model=meta["embedding_model"],
                         dimension=meta["dimension"]) as store:
        return store.all_ids()


def check_after_kill(ws: Path, reference: Counts) -> list[str]:
    """Invariants that must hold at any moment: no half source (against the reference)."""
    try:
        snapshot = read_workspace(ws)
    except Exception as error:  # a store that cannot be opened is a failure, not a harness crash
        return [f"reading the workspace: {type(error).__name__}: {error}"]
    failures = list(snapshot.failures)
    for name, stored in snapshot.counts.sources.items():
        if stored != reference.sources.get(name):
            failures.append(f"source {name} half-imported: {stored} of "
                            f"{reference.sources.get(name)} documents")
    return failures


def check_after_rerun(ws: Path, reference: Counts) -> list[str]:
    try:
        snapshot = read_workspace(ws)
    except Exception as error:
        return [f"reading the workspace: {type(error).__name__}: {error}"]
    failures = list(snapshot.failures) + snapshot.counts.differences(reference)
    if snapshot.orphan_vectors:
        failures.append(f"{snapshot.orphan_vectors} vectors without a chunk row after the rerun")
    return failures


# -- running twin ---------------------------------------------------------------------------

def twin_env(cache_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env.update(COLUMNS="200", TOKENIZERS_PARALLELISM="false")
    if cache_dir is not None:
        env["TWIN_CACHE_DIR"] = str(cache_dir)
    return env


def run_twin(ws: Path, args: list[str], env: dict[str, str], *,
             kill_after: float | None = None,
             kill_when: Callable[[], bool] | None = None,
             send: signal.Signals = signal.SIGKILL) -> tuple[int, str, float]:
    """Run `twin --workspace ws *args`; send `send` (SIGKILL) to its process group after
    `kill_after` seconds, or as soon as `kill_when()` (polled every 20 ms) is true. Returns (exit
    code, output, seconds); the code is -9 when a SIGKILL landed, 130 when a SIGINT (Ctrl-C) was
    handled by the command."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([str(TWIN), "--workspace", str(ws), *args], env=env,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            if kill_when is None:
                process.wait(timeout=kill_after)
            else:
                while process.poll() is None and not kill_when():
                    time.sleep(0.02)
                if process.poll() is None:
                    raise subprocess.TimeoutExpired(process.args, 0)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, send)
            process.wait()
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return process.returncode, text, seconds


# -- stages ---------------------------------------------------------------------------------

@dataclass
class Stage:
    name: str
    args: list[str]
    prepare: Callable[[Path], None]  # builds the starting workspace in an empty folder
    # What the stage leaves beyond the warehouse counts (dataset builds, runs' step counts,
    # export files): compared between the reference run and each rerun.
    outcome: Callable[[Path], object] = lambda ws: None
    # Invariants right after a kill, beyond the warehouse's (no half build, run marked, ...).
    after_kill: Callable[[Path], list[str]] = lambda ws: []
    # The command that finishes the work after a kill (default: the same command again).
    rerun: Callable[[Path], list[str]] | None = None


@dataclass
class StageResult:
    name: str
    kills: int = 0  # kills that landed while the command ran
    finished_first: int = 0  # the command ended before its kill time (not counted as a kill)
    survived: int = 0
    failures: list[str] = field(default_factory=list)
    reference_seconds: float = 0.0


INTERRUPTED = 130  # what `twin` exits with after Ctrl-C (one line, no traceback)


def interrupt_landed(send: signal.Signals, code: int, output: str) -> tuple[bool, list[str]]:
    """Whether the signal stopped the command, and what is wrong with how it stopped. A SIGINT
    that lands before the CLI's handler is in place (Python still importing) or after its work
    (exiting) ends the process by the default handler (-2): landed, and reported."""
    if send == signal.SIGKILL:
        return code == -signal.SIGKILL, []
    if code == INTERRUPTED:
        return True, ["a traceback on Ctrl-C"] if "Traceback" in output else []
    if code == -send:
        return True, [f"stopped by the default {send.name} handler (outside the command's work)"]
    return False, []


def soak(stage: Stage, kills: int, rng: random.Random, scratch: Path, env: dict[str, str],
         log: Callable[[str], None] = print, max_seconds: float | None = None,
         send: signal.Signals = signal.SIGKILL) -> StageResult:
    result = StageResult(stage.name)
    start = scratch / f"{stage.name}-start"
    stage.prepare(start)
    reference_ws = scratch / f"{stage.name}-reference"
    shutil.copytree(start, reference_ws)
    code, output, seconds = run_twin(reference_ws, stage.args, env)
    if code != 0:
        raise SystemExit(f"{stage.name}: the uninterrupted run failed ({code}):\n{output}")
    reference = read_workspace(reference_ws)
    if reference.failures or reference.orphan_vectors:
        raise SystemExit(f"{stage.name}: the uninterrupted run is inconsistent: {reference}")
    expected = stage.outcome(reference_ws)
    result.reference_seconds = seconds
    log(f"{stage.name}: reference run {seconds:.1f} s, {reference.counts}, {expected}")
    attempt, deadline = 0, time.monotonic() + (max_seconds or float("inf"))
    while result.kills < kills and attempt < kills * 3 and time.monotonic() < deadline:
        attempt += 1
        delay = rng.uniform(0.05, seconds)
        ws = scratch / f"{stage.name}-kill"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(start, ws)
        code, output, _ = run_twin(ws, stage.args, env, kill_after=delay, send=send)
        landed, how = interrupt_landed(send, code, output)
        if not landed:
            result.finished_first += 1
            if code != 0:
                result.failures.append(f"kill at {delay:.2f} s: exited {code} before the kill: "
                                       f"{output[-300:]}")
            continue
        result.kills += 1
        failures = how + [f"after the kill: {f}" for f in
                          check_after_kill(ws, reference.counts) + stage.after_kill(ws)]
        code, output, _ = run_twin(ws, stage.rerun(ws) if stage.rerun else stage.args, env)
        if code != 0:
            failures.append(f"rerun exited {code}: {output[-400:]}")
        else:
            failures += [f"after the rerun: {f}" for f in check_after_rerun(ws, reference.counts)]
            if (found := stage.outcome(ws)) != expected:
                failures.append(f"after the rerun: {found} != reference {expected}")
        if failures:
            result.failures.append(f"kill at {delay:.2f} s: " + "; ".join(failures))
            log(f"  {stage.name} kill {result.kills} at {delay:.2f} s: FAILED {failures}")
        else:
            result.survived += 1
            log(f"  {stage.name} kill {result.kills} at {delay:.2f} s: ok")
    return result


# -- dataset builds, training runs, exports --------------------------------------------------

DATASET_ARGS = ["dataset", "build", "--instructions", "extractive", "--max-pairs", "4"]
# The training tests' tiny settings: a handful of steps, a checkpoint every 2.
TRAIN_ARGS = ["--steps", "6", "--max-length", "128", "--eval-steps", "2", "--patience", "0",
              "--batch-size", "2", "--report-to", "none"]
BUILD_FILES = ("train.jsonl", "test.jsonl", "preference_train.jsonl", "preference_test.jsonl",
               "card.json", "README.md", "hf/dataset_dict.json")


def dataset_failures(ws: Path) -> list[str]:
    """Every build in place is complete, and LATEST names one of them (or is absent)."""
    root = ws / "datasets"
    if not root.is_dir():
        return []
    failures = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        missing = [name for name in BUILD_FILES if not (folder / name).exists()]
        if missing:
            failures.append(f"half dataset build {folder.name} in place, lacking {missing}")
    latest = root / "LATEST"
    if latest.exists():
        named = latest.read_text(encoding="utf-8").strip()
        if not (root / named / "card.json").exists():
            failures.append(f"LATEST names {named!r}, not a complete build")
    return failures


def dataset_outcome(ws: Path) -> tuple[list[str], str | None]:
    """The builds in place and the one LATEST names."""
    root = ws / "datasets"
    builds = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "card.json").exists())
    latest = root / "LATEST"
    return builds, latest.read_text(encoding="utf-8").strip() if latest.exists() else None


def training_runs(ws: Path) -> list[tuple[str, str, str, int | None]]:
    """(id, kind, status, steps) of every run in the registry, oldest first."""
    connection = sqlite3.connect(f"file:{ws / 'twin.db'}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT id, kind, status, metrics FROM training_runs "
                                  "ORDER BY started_at, id").fetchall()
    finally:
        connection.close()
    return [(i, k, status, json.loads(m or "{}").get("steps")) for i, k, status, m in rows]


def last_checkpoint(ws: Path, run_id: str) -> Path | None:
    """The newest complete checkpoint (its trainer_state.json is written last) of a run."""
    found = [(int(p.name.rsplit("-", 1)[1]), p)
             for p in (ws / "models" / run_id / "checkpoints").glob("checkpoint-*")
             if (p / "trainer_state.json").exists()]
    return max(found)[1] if found else None


def training_outcome(kind: str) -> Callable[[Path], object]:
    def outcome(ws: Path) -> object:
        runs = [r for r in training_runs(ws) if r[1] == kind]
        finished = [r for r in runs if r[2] == "finished"]
        adapter = bool(finished) and (ws / "models" / finished[-1][0] / "adapter"
                                      / "adapter_config.json").exists()
        return {"finished runs": len(finished), "steps": finished[-1][3] if finished else None,
                "adapter": adapter}
    return outcome


def training_after_kill(kind: str, started: set[str], env: dict[str, str]) -> Callable[[Path], list[str]]:
    """`twin models` (which marks runs whose process is gone) shows the killed run interrupted
    (or finished, when the kill came after the run was recorded finished); none stays running."""
    def check(ws: Path) -> list[str]:
        code, output, _ = run_twin(ws, ["models"], env)
        if code != 0:
            return [f"twin models exited {code}: {output[-300:]}"]
        return [f"run {run_id} is {status} after the kill, not interrupted"
                for run_id, run_kind, status, _ in training_runs(ws)
                if run_id not in started and run_kind == kind
                and status not in ("interrupted", "finished")]
    return check


def training_rerun(kind: str, started: set[str]) -> Callable[[Path], list[str]]:
    """Resume the killed run from its last checkpoint; a run killed before its first checkpoint
    (or before it was recorded) is started afresh."""
    def rerun(ws: Path) -> list[str]:
        for run_id, run_kind, status, _ in reversed(training_runs(ws)):
            if run_id not in started and run_kind == kind and status != "finished" \
                    and last_checkpoint(ws, run_id) is not None:
                return ["train", kind, "--resume", "--run", run_id, "--steps", TRAIN_ARGS[1]]
        return ["train", kind, *TRAIN_ARGS]
    return rerun


def export_failures(ws: Path) -> list[str]:
    """Every export folder in place is complete: its manifest lists files of the sizes written.
    Work in progress lives in `<name>.partial` beside it, never in place."""
    root = ws / "exports"
    if not root.is_dir():
        return []
    failures = []
    for folder in sorted(root.iterdir()):
        if folder.name.endswith((".partial", ".old")):
            continue
        manifest = folder / "export.json"
        if not manifest.exists():
            failures.append(f"half-written export {folder.name} in place (no export.json)")
            continue
        for name, size in json.loads(manifest.read_text(encoding="utf-8"))["files"].items():
            path = folder / name
            found = (path.stat().st_size if path.is_file() else
                     sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                     if path.exists() else None)
            if found != size:
                failures.append(f"export {folder.name}/{name}: {found} bytes, manifest says {size}")
    return failures


def export_outcome(ws: Path) -> object:
    """What exports/ holds: every entry, and every file with its size (the manifest's time aside)."""
    root = ws / "exports"
    if not root.is_dir():
        return None
    return {"entries": sorted(p.name for p in root.iterdir()),
            "files": sorted((str(p.relative_to(root)), p.stat().st_size if p.name != "export.json"
                             else 0) for p in root.rglob("*") if p.is_file())}


def run_ids(ws: Path) -> set[str]:
    return {r[0] for r in training_runs(ws)} if (ws / "twin.db").exists() else set()


def x_archive(target: Path, tweets: int) -> Path:
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        build_archive(target, tweets)
    return target


def export_folder(target: Path, tweets: int) -> Path:
    """Several exports in one folder: an X archive, Markdown posts, Mastodon, Bluesky and
    LinkedIn exports from the test fixtures."""
    if not target.exists():
        target.mkdir(parents=True)
        x_archive(target / "twitter-soak.zip", tweets)
        shutil.copytree(REPO / "demo" / "blog", target / "blog")
        fixtures = REPO / "tests" / "fixtures"
        for name in ("mastodon", "bluesky"):
            shutil.copytree(fixtures / name, target / name)
        shutil.copytree(fixtures / "linkedin" / "export", target / "linkedin")
    return target


def stages(names: list[str], data: Path, tweets: int, index_tweets: int,
           env: dict[str, str]) -> list[Stage]:
    small = x_archive(data / f"x-{index_tweets}.zip", index_tweets)
    second = data / "second" / f"x-second-{index_tweets}.zip"
    if not second.exists():  # another account's archive: new documents for the incremental index
        second.parent.mkdir(parents=True, exist_ok=True)
        build_archive(second, index_tweets // 2)
        _rename_account(second)

    def empty(ws: Path) -> None:
        ws.mkdir(parents=True)

    def ingested(ws: Path) -> None:
        _must(run_twin(ws, ["ingest", str(small)], env))

    def indexed_then_more(ws: Path) -> None:
        ingested(ws)
        _must(run_twin(ws, ["index"], env))
        _must(run_twin(ws, ["ingest", str(second)], env))

    def indexed(ws: Path) -> None:
        ingested(ws)
        _must(run_twin(ws, ["index"], env))

    def built(ws: Path) -> None:  # bare prompts: retrieved context overfills TRAIN_ARGS' 128 tokens
        indexed(ws)
        _must(run_twin(ws, [*DATASET_ARGS, "--bare-prompts"], env))

    def trained(ws: Path) -> None:
        built(ws)
        _must(run_twin(ws, ["train", "sft", *TRAIN_ARGS], env))

    def training_stage(kind: str, prepare: Callable[[Path], None]) -> Stage:
        started: set[str] = set()

        def prepare_and_note(ws: Path) -> None:
            prepare(ws)
            started.update(run_ids(ws))

        return Stage(f"train-{kind}", ["train", kind, *TRAIN_ARGS], prepare_and_note,
                     outcome=training_outcome(kind),
                     after_kill=training_after_kill(kind, started, env),
                     rerun=training_rerun(kind, started))

    folder = data / "exports"

    def folder_ingest_start(ws: Path) -> None:
        export_folder(folder, max(tweets // 10, 100))
        empty(ws)

    known = {
        "ingest": Stage("ingest", ["ingest", str(data / f"x-{tweets}.zip")],
                        lambda ws: (x_archive(data / f"x-{tweets}.zip", tweets), empty(ws))[1]),
        "ingest-folder": Stage("ingest-folder", ["ingest", str(folder)], folder_ingest_start),
        "index": Stage("index", ["index"], ingested),
        "index-incremental": Stage("index-incremental", ["index"], indexed_then_more),
        "dataset": Stage("dataset", DATASET_ARGS, indexed, outcome=dataset_outcome,
                         after_kill=dataset_failures),
        "export": Stage("export", ["export", "--format", EXPORT_FORMATS, "--force"], trained,
                        outcome=export_outcome, after_kill=export_failures),
    }
    if "train-sft" in names:
        known["train-sft"] = training_stage("sft", built)
    if "train-dpo" in names:
        known["train-dpo"] = training_stage("dpo", trained)
    return [known[name] for name in names]


# -- twin serve ------------------------------------------------------------------------------

SERVE_IDEA = "Why small teams should write down their decisions"


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path


def start_server(ws: Path, env: dict[str, str], timeout: float = 600) -> Server:
    """`twin serve --no-preload` on a free loopback port, answering /api/status."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = ws.with_name(ws.name + "-serve.log")
    with open(log, "a") as output:
        process = subprocess.Popen([str(TWIN), "--workspace", str(ws), "serve", "--port", str(port),
                                    "--no-preload", "--max-new-tokens", "64"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"twin serve exited {process.returncode}: "
                               f"{log.read_text(errors='replace')[-400:]}")
        try:
            if httpx.get(f"{server.url}/api/status", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    kill_server(server)
    raise RuntimeError("twin serve did not answer /api/status in time")


def kill_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


def stop_server(server: Server) -> None:
    """SIGTERM (uvicorn's graceful shutdown), SIGKILL after 60 s."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(60)
        except subprocess.TimeoutExpired:
            kill_server(server)


def upload_job(server: Server, archive: Path) -> str:
    """POST /api/ingest (import and index in one background job); the job's id."""
    import httpx

    with open(archive, "rb") as body:
        response = httpx.post(f"{server.url}/api/ingest", timeout=120,
                              files={"files": (archive.name, body, "application/zip")})
    response.raise_for_status()
    return response.json()["job"]["id"]


def job_status(server: Server, job_id: str) -> str | None:
    import httpx

    for job in httpx.get(f"{server.url}/api/jobs", timeout=30).json()["jobs"]:
        if job["id"] == job_id:
            return job["status"]
    return None


def wait_jobs(server: Server, timeout: float = 1800) -> list[dict]:
    """Every job listed once none is queued or running."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        jobs = httpx.get(f"{server.url}/api/jobs", timeout=30).json()["jobs"]
        if all(j["status"] not in ("queued", "running") for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs still running after {timeout:.0f} s: {jobs}")
        time.sleep(0.5)


def finish_upload(server: Server, archive: Path) -> list[str]:
    """The upload again, then an index job (a killed job may have stored the import and not its
    index); every job must succeed."""
    import httpx

    upload_job(server, archive)
    wait_jobs(server)
    httpx.post(f"{server.url}/api/index", timeout=30).raise_for_status()
    return [f"job {j['id']} ({j['kind']}) {j['status']}: {j.get('error')}"
            for j in wait_jobs(server)[:2] if j["status"] != "succeeded"]


def stream_until_first_token(client, server: Server, hold: float) -> bool:
    """Open a streamed /api/write and return (leaving it open) `hold` seconds after its first
    token event; False when the stream ended first."""
    response = client.send(client.build_request("POST", f"{server.url}/api/write", json={
        "idea": SERVE_IDEA, "max_new_tokens": 64, "seed": 7}), stream=True)
    lines = response.iter_lines()
    for line in lines:
        if line.startswith("event: token"):
            started = time.monotonic()
            for line in lines:  # keep reading while the hold lasts: the server keeps streaming
                if time.monotonic() - started >= hold:
                    return True
                if line.startswith("event: done"):
                    return False
            return False
        if line.startswith("event: done"):
            return False
    return False


def serve_soak(kills: int, rng: random.Random, scratch: Path, data: Path, index_tweets: int,
               env: dict[str, str], log: Callable[[str], None] = print,
               max_seconds: float | None = None) -> StageResult:
    """kill -9 `twin serve` in turn in the middle of an upload job (import + index of an X
    archive) and of a streamed /api/write. After each kill: the workspace checks, then the server
    restarted must answer, list the killed job failed or interrupted (never running), search, and
    finish the upload to the uninterrupted run's counts."""
    import httpx

    result = StageResult("serve")
    start = scratch / "serve-start"
    small = x_archive(data / f"x-{index_tweets}.zip", index_tweets)
    start.mkdir(parents=True)
    _must(run_twin(start, ["ingest", str(small)], env))
    _must(run_twin(start, ["index"], env))
    upload = data / "upload" / f"x-upload-{index_tweets}.zip"
    if not upload.exists():
        upload.parent.mkdir(parents=True, exist_ok=True)
        build_archive(upload, max(index_tweets // 2, 10))
        _rename_account(upload)

    reference_ws = scratch / "serve-reference"
    shutil.copytree(start, reference_ws)
    server = start_server(reference_ws, env)
    began = time.perf_counter()
    failures = finish_upload(server, upload)
    job_seconds = time.perf_counter() - began
    stop_server(server)
    reference = read_workspace(reference_ws)
    if failures or reference.failures or reference.orphan_vectors:
        raise SystemExit(f"serve: the uninterrupted upload failed: {failures} {reference}")
    result.reference_seconds = job_seconds
    log(f"serve: reference upload + index {job_seconds:.1f} s, {reference.counts}")
    attempt, deadline = 0, time.monotonic() + (max_seconds or float("inf"))
    while result.kills < kills and attempt < kills * 3 and time.monotonic() < deadline:
        attempt += 1
        mode = "job" if attempt % 2 else "stream"
        ws = scratch / "serve-kill"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(start, ws)
        server = start_server(ws, env)
        job_id, delay = None, rng.uniform(0.05, job_seconds if mode == "job" else 3.0)
        try:
            if mode == "job":
                job_id = upload_job(server, upload)
                time.sleep(delay)
                landed = job_status(server, job_id) in ("queued", "running")
            else:
                with httpx.Client(timeout=600) as client:  # the kill lands with it open
                    landed = stream_until_first_token(client, server, delay)
                    kill_server(server)
        except (httpx.HTTPError, RuntimeError) as error:
            kill_server(server)
            result.failures.append(f"{mode} kill {attempt}: the request failed before the kill: "
                                   f"{error}")
            continue
        kill_server(server)
        if not landed:
            result.finished_first += 1
            continue
        result.kills += 1
        found = [f"after the kill: {f}" for f in check_after_kill(ws, reference.counts)]
        try:
            server = start_server(ws, env)
        except RuntimeError as error:
            found.append(f"restart: {error}")
        else:
            try:
                jobs = httpx.get(f"{server.url}/api/jobs", timeout=30).json()["jobs"]
                found += [f"job {j['id']} ({j['kind']}) {j['status']} after the restart"
                          for j in jobs if j["status"] in ("queued", "running")]
                if job_id is not None:
                    status = next((j["status"] for j in jobs if j["id"] == job_id), None)
                    if status not in ("failed", "interrupted"):
                        found.append(f"the killed job is {status or 'not listed'} after the "
                                     "restart, not failed or interrupted")
                search = httpx.get(f"{server.url}/api/search", params={"q": "decisions"},
                                   timeout=300)
                if search.status_code != 200:
                    found.append(f"search after the restart: {search.status_code}")
                if mode == "job":
                    found += finish_upload(server, upload)
            except httpx.HTTPError as error:
                found.append(f"after the restart: {type(error).__name__}: {error}")
            stop_server(server)
            if mode == "job":
                found += [f"after the rerun: {f}" for f in check_after_rerun(ws, reference.counts)]
            else:
                found += [f"after the restart: {f}" for f in read_workspace(ws).failures]
        if found:
            result.failures.append(f"{mode} kill at {delay:.2f} s: " + "; ".join(found))
            log(f"  serve {mode} kill {result.kills} at {delay:.2f} s: FAILED {found}")
        else:
            result.survived += 1
            log(f"  serve {mode} kill {result.kills} at {delay:.2f} s: ok")
    return result


def _rename_account(archive: Path) -> None:
    """Rewrite the tweets' text so none is a duplicate of the first archive's."""
    import zipfile

    with zipfile.ZipFile(archive) as source:
        items = {name: source.read(name) for name in source.namelist()}
    tweets = items["data/tweets.js"].decode("utf-8").replace("#", "#second-")
    items["data/tweets.js"] = tweets.encode("utf-8")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in items.items():
            target.writestr(name, body)


def _must(outcome: tuple[int, str, float]) -> None:
    code, output, _ = outcome
    if code != 0:
        raise SystemExit(f"preparing a workspace failed ({code}):\n{output}")


def print_table(results: list[StageResult]) -> None:
    print(f"\n{'stage':<18} {'kills':>5} {'survived':>8} {'ended first':>11} {'ref. s':>7}  failures")
    for r in results:
        print(f"{r.name:<18} {r.kills:>5} {r.survived:>8} {r.finished_first:>11} "
              f"{r.reference_seconds:>7.1f}  {len(r.failures)}")
    for r in results:
        for failure in r.failures:
            print(f"  {r.name}: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="kills per stage")
    parser.add_argument("--stages", default="ingest,index", help="ingest,index,dataset or single "
                        "stages: ingest-folder, index-incremental")
    parser.add_argument("--tweets", type=int, default=50_000, help="tweets in the ingested archive")
    parser.add_argument("--index-tweets", type=int, default=300,
                        help="tweets in the archive the index stages embed")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop a stage's kills after this long (the table shows how many ran)")
    parser.add_argument("--signal", choices=("kill", "int"), default="kill",
                        help="kill: SIGKILL (a power cut); int: SIGINT, as Ctrl-C in a terminal "
                             "(the command must exit 130 without a traceback and leave the same "
                             "guarantees). The serve stage always uses SIGKILL.")
    args = parser.parse_args()
    send = signal.SIGINT if args.signal == "int" else signal.SIGKILL
    names: list[str] = []
    for item in args.stages.split(","):
        names += [n for n in STAGE_GROUPS.get(item.strip(), (item.strip(),)) if n not in names]
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="twin-crash-"))
    env = twin_env()
    try:
        limit = args.max_minutes * 60 if args.max_minutes else None
        serve = "serve" in names
        names = [n for n in names if n != "serve"]
        results = [soak(stage, args.kills, rng, scratch, env, max_seconds=limit, send=send)
                   for stage in stages(names, scratch / "data", args.tweets, args.index_tweets, env)]
        if serve:
            results.append(serve_soak(args.kills, rng, scratch, scratch / "data",
                                      args.index_tweets, env, max_seconds=limit))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(results)
    sys.exit(1 if any(r.failures for r in results) else 0)


if __name__ == "__main__":
    main()
