"""A git repository: a local checkout (or bare repository), or a clone URL. See docs/FORMATS.md
section 10.

What carries the owner's voice: their commit messages (kind "post", tag "commit_message"), the
README and docs (kind "article"), and, for retrieval ("what did I build"), the code (kind "code").
Only the HEAD commit's tree is read, through git itself, so uncommitted files, ignored files and
symlinks pointing out of the repository never come in. Vendored, generated, binary, lock, data and
large files are skipped and counted. Every stored text passes through `redact_secrets` first.

The plain git CLI is used, not GitPython or pygit2: git must be installed to clone anyway, and
the few commands needed here do not justify another dependency.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

import charset_normalizer

from llm_twin.ingest.base import (ImportedDocument, ImporterBase, ImportFormatError, ImportOptions,
                                  ImportResult)
from llm_twin.ingest.secrets import redact_secrets
from llm_twin.storage.models import DocumentMeta

DEFAULT_MAX_FILE_BYTES = 200 * 1024
DEFAULT_CLONE_DEPTH = 200
DEFAULT_CLONE_TIMEOUT_S = 600
FALLBACK_AUTHOR = "owner"
COAUTHORED_WEIGHT = 0.5
_BINARY_SNIFF = 8192
_GENERATED_HEAD_LINES = 5
_BLOB_BATCH = 500  # blobs read per `git cat-file` call: bounds the memory one call holds
_COMMIT_FIELDS = 5

VENDORED_FOLDERS = frozenset({".git", "node_modules", "vendor", "third_party", "third-party",
                              ".venv", "venv", "site-packages", "dist", "build", "target",
                              "__pycache__", "bower_components", ".tox", ".mypy_cache"})
LOCK_FILES = frozenset({"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
                        "uv.lock", "cargo.lock", "go.sum", "pipfile.lock", "composer.lock",
                        "gemfile.lock", "npm-shrinkwrap.json", "bun.lockb", "pdm.lock"})
BOILERPLATE_STEMS = frozenset({"license", "licence", "copying", "code_of_conduct", "notice"})
_PROSE_SUFFIXES = frozenset({"", ".md", ".markdown", ".rst", ".txt"})
_GENERATED_NAME = re.compile(r"(?:\.min\.(?:js|css)|_pb2(?:_grpc)?\.pyi?|\.pb\.go|\.generated\.\w+"
                             r"|\.designer\.cs)$", re.IGNORECASE)
_GENERATED_MARKERS = ("Code generated", "DO NOT EDIT", "@generated", "auto-generated")
BINARY_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd", ".svgz",
    ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar", ".war", ".whl",
    ".so", ".dll", ".dylib", ".exe", ".o", ".a", ".class", ".pyc", ".wasm", ".bin", ".dat",
    ".pt", ".pth", ".ckpt", ".safetensors", ".onnx", ".h5", ".pkl", ".npy", ".npz", ".gguf",
    ".mp3", ".mp4", ".wav", ".mov", ".webm", ".ogg", ".flac", ".ttf", ".otf", ".woff", ".woff2",
    ".sqlite", ".db"})
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".arrow", ".feather",
                           ".avro", ".xlsx", ".xls"})
DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".adoc", ".org"})
CODE_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp",
    ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp", ".fs": "fsharp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".m": "objective-c", ".mm": "objective-c", ".sh": "shell",
    ".bash": "shell", ".zsh": "shell", ".fish": "shell", ".ps1": "powershell", ".lua": "lua",
    ".pl": "perl", ".pm": "perl", ".r": "r", ".jl": "julia", ".hs": "haskell", ".ml": "ocaml",
    ".mli": "ocaml", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".clj": "clojure",
    ".cljs": "clojure", ".dart": "dart", ".sql": "sql", ".vue": "vue", ".svelte": "svelte",
    ".zig": "zig", ".nim": "nim", ".el": "elisp", ".lisp": "lisp", ".scm": "scheme",
    ".css": "css", ".scss": "scss", ".html": "html", ".tf": "terraform", ".proto": "protobuf",
}
CODE_FILE_NAMES = {"makefile": "make", "dockerfile": "dockerfile", "cmakelists.txt": "cmake",
                   "justfile": "just", "rakefile": "ruby", "gemfile": "ruby"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?P<path>[^\s]+)$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TRAILER = re.compile(r"^(?:Signed-off-by|Co-authored-by|Change-Id|Reviewed-by|Acked-by"
                      r"|Tested-by|Reported-by|Cc):.*$", re.IGNORECASE | re.MULTILINE)
_CO_AUTHOR = re.compile(r"^Co-authored-by:", re.IGNORECASE | re.MULTILINE)
# Variables that would point git at another repository or index than the one asked for.
_GIT_LOCATION_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                           "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE")


@dataclass(frozen=True)
class _Commit:
    sha: str
    name: str
    email: str
    authored_at: datetime
    message: str


@dataclass(frozen=True)
class _TreeEntry:
    mode: str
    kind: str  # blob, commit (a submodule) or tree
    sha: str
    size: int | None
    path: str


@dataclass(frozen=True)
class _Repo:
    path: Path
    display: str  # the local path, or the clone URL without credentials
    web_base: str | None  # https://github.com/owner/name, when the URL says so


class GitRepoImporter(ImporterBase):
    format_name = "git"

    def __init__(self, options: ImportOptions | None = None, *,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 clone_depth: int = DEFAULT_CLONE_DEPTH,
                 clone_timeout_s: float = DEFAULT_CLONE_TIMEOUT_S, git: str = "git"):
        self.options = options or ImportOptions()
        self.max_file_bytes = max_file_bytes
        self.clone_depth = clone_depth
        self.clone_timeout_s = clone_timeout_s
        self.git = git

    def detect(self, location: str | Path) -> bool:
        try:
            if isinstance(location, str) and is_clone_url(location):
                return True
            return _is_repository_folder(Path(location))
        except (OSError, ValueError):
            return False

    def fingerprint(self, location: str | Path) -> str | None:
        """A local repository is identified by its HEAD, not by hashing every file under it;
        a clone URL is known only after cloning (read() sets the result's fingerprint)."""
        if isinstance(location, str) and is_clone_url(location):
            return None
        repo = _Repo(Path(location), str(Path(location).resolve()), None)
        return f"{self._head(repo)}:{repo.display}"

    def read(self, location: str | Path) -> ImportResult:
        if isinstance(location, str) and is_clone_url(location):
            with tempfile.TemporaryDirectory(prefix="twin-git-") as scratch:
                clone = self._clone(location, Path(scratch) / "repo.git")
                public = public_url(location)
                return self._read_repo(_Repo(clone, public, _web_base(public)))
        path = Path(location)
        if not _is_repository_folder(path):
            raise ImportFormatError(path, "not a git repository (no .git folder)")
        return self._read_repo(_Repo(path, str(path.resolve()), None))

    def _clone(self, url: str, target: Path) -> Path:
        protocols = self._check_clone_url(url)
        command = [self.git, "clone", "--depth", str(self.clone_depth), "--no-tags", "--bare",
                   "--quiet", "--", url, str(target)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=self.clone_timeout_s,
                           env=_git_environment(GIT_ALLOW_PROTOCOL=protocols))
        except FileNotFoundError as error:
            raise ImportFormatError(public_url(url), "git is not installed") from error
        except subprocess.TimeoutExpired as error:
            raise ImportFormatError(public_url(url), f"git clone took longer than "
                                                     f"{self.clone_timeout_s:g} s") from error
        except subprocess.CalledProcessError as error:
            raise ImportFormatError(public_url(url), f"git clone failed: "
                                                     f"{_last_line(error.stderr)}") from error
        return target

    def _check_clone_url(self, url: str) -> str:
        """The transports git may use for this URL; raises for a URL that must not be fetched."""
        if _SCP_LIKE.match(url):
            return "ssh"
        parts = urlsplit(url)
        scheme = parts.scheme.casefold()
        if scheme == "file":
            if not self.options.allow_private:
                raise ImportFormatError(public_url(url), "file:// clone URLs need --allow-private "
                                                         "(they read this machine's files)")
            return "file"
        if scheme not in ("https", "ssh"):
            raise ImportFormatError(public_url(url), "only https:// and ssh clone URLs are "
                                                     f"accepted, not {scheme}://")
        if not re.match(r"^[A-Za-z0-9]", parts.hostname or ""):
            raise ImportFormatError(public_url(url), "the clone URL has no valid host name")
        if not self.options.allow_private and _is_private_host(parts.hostname or ""):
            raise ImportFormatError(public_url(url), "refusing a private or loopback address "
                                                     "(pass --allow-private to permit it)")
        return scheme

    def _read_repo(self, repo: _Repo) -> ImportResult:
        head = self._head(repo)
        commits = self._commits(repo)
        owners = self._owner_emails(repo, commits)
        owner_name = self.options.owner_name or _owner_name(commits, owners)
        result = ImportResult(self.format_name, [], owner=owner_name,
                              fingerprint=f"{head}:{repo.display}")
        if merges := self._merge_count(repo):
            result.skip("merge_commit", merges)
        result.documents.extend(_commit_documents(commits, owners, repo, result))
        author = owner_name or FALLBACK_AUTHOR
        result.documents.extend(self._file_documents(repo, head, author, result))
        return result

    # --- git plumbing -------------------------------------------------------------------------

    def _run(self, repo: _Repo, *args: str, stdin: bytes | None = None,
             ok_codes: tuple[int, ...] = (0,)) -> bytes:
        command = [self.git, "-C", str(repo.path), "-c", "core.fsmonitor=false",
                   "-c", "core.quotepath=off", "--no-pager", *args]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True,
                                  env=_git_environment(GIT_OPTIONAL_LOCKS="0"))
        except FileNotFoundError as error:
            raise ImportFormatError(repo.display, "git is not installed") from error
        if done.returncode not in ok_codes:
            raise ImportFormatError(repo.display, f"git {args[0]} failed: "
                                                  f"{_last_line(done.stderr)}")
        return done.stdout

    def _head(self, repo: _Repo) -> str:
        output = self._run(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                           ok_codes=(0, 1))
        if not output.strip():
            raise ImportFormatError(repo.display, "the repository has no commits")
        return output.decode("ascii").strip()

    def _commits(self, repo: _Repo) -> list[_Commit]:
        output = self._run(repo, "log", "--no-merges", "-z",
                           "--format=%H%x00%an%x00%ae%x00%aI%x00%B", "HEAD")
        fields = output.decode("utf-8", errors="replace").split("\x00")
        if len(fields) % _COMMIT_FIELDS == 1 and fields[-1] == "":
            fields.pop()  # -z ends the last record with a NUL too
        if len(fields) % _COMMIT_FIELDS:
            raise ImportFormatError(repo.display, "unexpected git log output")
        return [_Commit(sha.strip(), name, email, _utc(date), message.strip("\n"))
                for sha, name, email, date, message in zip(*[iter(fields)] * _COMMIT_FIELDS)]

    def _merge_count(self, repo: _Repo) -> int:
        return int(self._run(repo, "rev-list", "--merges", "--count", "HEAD").strip() or 0)

    def _owner_emails(self, repo: _Repo, commits: list[_Commit]) -> set[str]:
        given = {entry.strip().casefold() for entry in self.options.me
                 if _EMAIL.match(entry.strip())}
        if given:
            return given
        configured = self._run(repo, "config", "user.email", ok_codes=(0, 1)).decode(
            "utf-8", errors="replace").strip()
        if configured:
            return {configured.casefold()}
        emails = Counter(commit.email.casefold() for commit in commits)
        return {emails.most_common(1)[0][0]} if emails else set()

    def _tree(self, repo: _Repo, head: str) -> list[_TreeEntry]:
        output = self._run(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", head)
        entries = []
        for record in output.split(b"\x00"):
            if not record:
                continue
            info, _tab, path = record.partition(b"\t")
            mode, kind, sha, size = info.decode("ascii").split()
            entries.append(_TreeEntry(mode, kind, sha, None if size == "-" else int(size),
                                      path.decode("utf-8", errors="replace")))
        return entries

    def _blobs(self, repo: _Repo, shas: list[str]) -> dict[str, bytes]:
        """Contents of many blobs from one `git cat-file --batch` call."""
        if not shas:
            return {}
        output = self._run(repo, "cat-file", "--batch", stdin="\n".join(shas).encode() + b"\n")
        blobs: dict[str, bytes] = {}
        position = 0
        while position < len(output):
            header_end = output.index(b"\n", position)
            header = output[position:header_end].decode("ascii").split()
            if len(header) != 3:  # "<sha> missing": absent from a damaged or partial clone
                position = header_end + 1
                continue
            sha, _kind, size = header
            start = header_end + 1
            blobs[sha] = output[start:start + int(size)]
            position = start + int(size) + 1
        return blobs

    # --- files --------------------------------------------------------------------------------

    def _file_documents(self, repo: _Repo, head: str, author: str,
                        result: ImportResult) -> list[ImportedDocument]:
        wanted: list[tuple[_TreeEntry, str, str | None]] = []
        for entry in self._tree(repo, head):
            reason, kind, language = self._classify(entry)
            if reason is not None:
                result.skip(reason)
            else:
                wanted.append((entry, kind, language))
        documents = []
        for start in range(0, len(wanted), _BLOB_BATCH):
            batch = wanted[start:start + _BLOB_BATCH]
            blobs = self._blobs(repo, sorted({entry.sha for entry, _kind, _lang in batch}))
            for entry, kind, language in batch:
                if entry.sha not in blobs:
                    result.skip("missing_object")
                    continue
                document = _file_document(entry, kind, language, blobs[entry.sha], author,
                                          head, repo, result)
                if document is not None:
                    documents.append(document)
            self.options.report(start + len(batch), len(wanted))
        return documents

    def _classify(self, entry: _TreeEntry) -> tuple[str | None, str, str | None]:
        """(skip reason, or None with the document kind and language) for one tree entry."""
        path = PurePosixPath(entry.path)
        name = path.name.casefold()
        if entry.kind == "commit":
            return "submodule", "", None
        if entry.mode == "120000":
            return "symlink", "", None
        if any(part.casefold() in VENDORED_FOLDERS for part in path.parts[:-1]):
            return "vendored", "", None
        if name in LOCK_FILES:
            return "lock_file", "", None
        if _GENERATED_NAME.search(name):
            return "generated", "", None
        if name.split(".", 1)[0] in BOILERPLATE_STEMS and path.suffix.casefold() in _PROSE_SUFFIXES:
            return "boilerplate", "", None
        kind, language = _kind_and_language(path)
        if kind is None:
            suffix = path.suffix.casefold()
            if suffix in BINARY_SUFFIXES:
                return "binary", "", None
            return ("data_file" if suffix in DATA_SUFFIXES else "not_code_or_docs"), "", None
        if entry.size is not None and entry.size > self.max_file_bytes:
            return "large_file", "", None
        return None, kind, language


def _kind_and_language(path: PurePosixPath) -> tuple[str | None, str | None]:
    name = path.name.casefold()
    suffix = path.suffix.casefold()
    folders = {part.casefold() for part in path.parts[:-1]}
    if name == ".env" or name.startswith(".env.") or suffix == ".env":
        return "code", "dotenv"
    if name in CODE_FILE_NAMES:
        return "code", CODE_FILE_NAMES[name]
    if name.split(".", 1)[0] == "readme" or suffix in DOC_SUFFIXES:
        return "article", None
    if suffix == ".txt" and folders & {"docs", "doc"}:
        return "article", None
    if suffix == ".ipynb":
        return "article", "notebook"
    if suffix in CODE_LANGUAGES:
        return "code", CODE_LANGUAGES[suffix]
    return None, None


def _file_document(entry: _TreeEntry, kind: str, language: str | None, data: bytes,
                   author: str, head: str, repo: _Repo,
                   result: ImportResult) -> ImportedDocument | None:
    if b"\x00" in data[:_BINARY_SNIFF]:
        result.skip("binary")
        return None
    text = _decode(data)
    if text is None:
        result.skip("undecodable")
        return None
    if _is_generated(text):
        result.skip("generated")
        return None
    if language == "notebook":
        text = _notebook_markdown(text)
        if text is None:
            result.skip("unreadable_notebook")
            return None
    text = redact_secrets(text, dotenv=language == "dotenv")
    if not text.strip():
        result.skip("empty")
        return None
    meta = DocumentMeta(path=entry.path)
    if kind == "code" and language is not None:  # every code file has one (_kind_and_language)
        meta["language"] = language
    metadata: dict[str, object] = {**meta, "commit": head, "repository": repo.display}
    return ImportedDocument(
        platform="code", kind=kind, author=author, is_owner=True, raw_text=text,
        title=entry.path, external_id=entry.path, language=None,
        url=f"{repo.web_base}/blob/{head}/{entry.path}" if repo.web_base else None,
        metadata=metadata)


def _commit_documents(commits: list[_Commit], owners: set[str], repo: _Repo,
                      result: ImportResult) -> list[ImportedDocument]:
    documents = []
    for commit in commits:
        if commit.email.casefold() not in owners:
            result.skip("commit_by_other_author")
            continue
        message = _TRAILER.sub("", commit.message).strip()
        if not message:
            result.skip("empty_commit_message")
            continue
        metadata: dict[str, object] = {**DocumentMeta(tag="commit_message"), "commit": commit.sha,
                                       "repository": repo.display}
        if _CO_AUTHOR.search(commit.message):
            metadata.update(coauthored=True, weight=COAUTHORED_WEIGHT)
        documents.append(ImportedDocument(
            platform="code", kind="post", author=commit.name or FALLBACK_AUTHOR, is_owner=True,
            raw_text=redact_secrets(message), created_at=commit.authored_at,
            external_id=commit.sha,
            url=f"{repo.web_base}/commit/{commit.sha}" if repo.web_base else None,
            metadata=metadata))
    return documents


def _owner_name(commits: list[_Commit], owners: set[str]) -> str | None:
    # git log lists the newest first: the owner's current spelling of their name.
    return next((commit.name for commit in commits
                 if commit.email.casefold() in owners and commit.name), None)


def _decode(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            return None
        text = str(best)
    return text.replace("\r\n", "\n")


def _is_generated(text: str) -> bool:
    head = "\n".join(text.split("\n", _GENERATED_HEAD_LINES)[:_GENERATED_HEAD_LINES])
    return any(marker in head for marker in _GENERATED_MARKERS)


def _notebook_markdown(text: str) -> str | None:
    """The markdown cells of a Jupyter notebook: the prose. Outputs and code are left out."""
    try:
        cells = json.loads(text).get("cells", [])
        sources = ["".join(cell["source"]) if isinstance(cell["source"], list)
                   else str(cell["source"])
                   for cell in cells if cell.get("cell_type") == "markdown"]
    except (ValueError, AttributeError, KeyError, TypeError):
        return None
    return "\n\n".join(source.strip() for source in sources if source.strip())


# --- locations --------------------------------------------------------------------------------

def is_clone_url(location: str) -> bool:
    """A remote a user would pass to `git clone` (https/ssh/file URL or user@host:path)."""
    text = location.strip()
    if _SCP_LIKE.match(text):
        return True
    if not _URL_SCHEME.match(text):
        return False
    scheme = text.split(":", 1)[0].casefold()
    return scheme in ("ssh", "git", "file") or text.rstrip("/").casefold().endswith(".git")


def public_url(url: str) -> str:
    """The URL without user name or password, for messages, fingerprints and metadata."""
    if _SCP_LIKE.match(url) or not _URL_SCHEME.match(url):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _web_base(url: str) -> str | None:
    parts = urlsplit(url) if _URL_SCHEME.match(url) else None
    if parts is None or parts.scheme != "https" or parts.hostname not in ("github.com",
                                                                          "gitlab.com"):
        return None
    return f"https://{parts.hostname}{parts.path.rstrip('/').removesuffix('.git')}"


def _is_repository_folder(path: Path) -> bool:
    if not path.is_dir():
        return False
    if (path / ".git").exists():
        return True
    # A bare repository: what `git clone --bare` or a server holds.
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def _is_private_host(host: str) -> bool:
    host = host.strip("[]").casefold()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _git_environment(**extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in _GIT_LOCATION_VARIABLES}
    # Never wait for a password on a terminal nobody watches.
    environment.update(GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", **extra)
    return environment


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _last_line(stderr: bytes | str | None) -> str:
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    # git echoes the URL it failed on, credentials included.
    return redact_secrets(lines[-1]) if lines else "no error message"
