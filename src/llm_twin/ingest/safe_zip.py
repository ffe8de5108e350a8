"""Read an export the same way whether it is a zip or an unzipped folder.

Every zip is treated as hostile: a member with an absolute or `..` path rejects the whole archive,
and the total uncompressed size is capped both by the sizes the archive declares and by the bytes
actually decompressed (declared sizes can lie). Media files are left out by default: importers
only need text, and media is most of an export's size.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any, TypeVar
from collections.abc import Callable

from llm_twin.ingest.base import ImportFormatError

DEFAULT_MAX_TOTAL_BYTES = 2 * 1024 ** 3
# Text compresses ~10x, JSON maybe 30x; a member claiming far more is a zip bomb.
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 1 << 20  # tiny members (a repeated-space file) may legitimately compress hard
MEDIA_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff",
    ".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp",
    ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".flac",
})
# Resource-fork folders that macOS adds to zips; they would also hide a single wrapping folder.
_IGNORED_TOP_FOLDERS = frozenset({"__macosx"})
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20
T = TypeVar("T")


class ExportTree:
    """The files of one export, by relative posix name, with case-insensitive lookup.

    Use as a context manager, or call `close()`, so a zip's file handle is released.
    """

    def __init__(self, path: str | Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
                 skip_media: bool = True, unwrap: bool = True):
        self.path = Path(path)
        self.max_total_bytes = max_total_bytes
        self._bytes_read = 0
        self._zip: zipfile.ZipFile | None = None
        if not self.path.exists():
            raise ImportFormatError(self.path, "does not exist")
        if self.path.is_dir():
            originals = _folder_files(self.path)
        else:
            self._zip = _open_zip(self.path)
            originals = _zip_members(self._zip, self.path)
        originals = [name for name in originals if not (skip_media and _is_media(name))]
        self._members = _relative_names(originals, unwrap)
        self._by_folded: dict[str, str] = {}
        for name in sorted(self._members):
            self._by_folded.setdefault(name.casefold(), name)
        if self._zip is not None:
            self._check_declared_size()

    @classmethod
    def of_file(cls, path: str | Path, *,
                max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> ExportTree:
        """A tree of one plain (not zipped) file, named by its file name: a bare export file
        such as one chat's message_1.json. Reads go through the same size cap."""
        path = Path(path)
        if not path.is_file() or path.is_symlink():
            raise ImportFormatError(path, "is not a plain file")
        tree = cls.__new__(cls)
        tree.path = path.parent
        tree.max_total_bytes = max_total_bytes
        tree._bytes_read = 0
        tree._zip = None
        tree._members = {path.name: path.name}
        tree._by_folded = {path.name.casefold(): path.name}
        return tree

    def __enter__(self) -> ExportTree:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    def list(self) -> list[str]:
        """Relative posix names of every (non-media, by default) file, sorted."""
        return sorted(self._members)

    def find(self, name: str) -> str | None:
        """The stored spelling of `name`, matched case-insensitively, or None."""
        return self._by_folded.get(name.replace("\\", "/").strip("/").casefold())

    def display_name(self, name: str) -> str:
        """Where a file really is, for error messages: the zip or folder path plus the member."""
        return str(self.path / self._original(name))

    def read_bytes(self, name: str) -> bytes:
        with self._open(name) as stream:
            return self._read_capped(stream, name)

    def read_head(self, name: str, size: int) -> bytes:
        """The first `size` bytes of a file, for cheap format detection."""
        with self._open(name) as stream:
            return self._guarded(name, stream.read, size)

    def read_text(self, name: str) -> str:
        """The file decoded as UTF-8 (a BOM is dropped), CRLF line ends turned into LF."""
        data = self.read_bytes(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportFormatError(self.display_name(name),
                                    f"not valid UTF-8 (byte offset {error.start})",
                                    line=data.count(b"\n", 0, error.start) + 1) from error
        return text.replace("\r\n", "\n")

    def _original(self, name: str) -> str:
        try:
            return self._members[name]
        except KeyError:
            raise ImportFormatError(self.path, f"no file named {name!r} in this export") from None

    def _open(self, name: str) -> IO[bytes]:
        original = self._original(name)
        if self._zip is None:
            return (self.path / original).open("rb")
        return self._guarded(name, self._zip.open, original)

    def _read_capped(self, stream: IO[bytes], name: str) -> bytes:
        chunks = []
        while chunk := self._guarded(name, stream.read, _CHUNK):
            self._bytes_read += len(chunk)
            if self._bytes_read > self.max_total_bytes:
                raise ImportFormatError(self.path, "uncompressed content exceeds the limit of "
                                                   f"{self.max_total_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _guarded(self, name: str, call: Callable[..., T], *args: Any) -> T:
        """Run a zip read, turning the many ways a damaged member fails into ImportFormatError."""
        try:
            return call(*args)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError, ValueError) as error:
            # RuntimeError: an encrypted member; OSError/ValueError: a header offset that points
            # before the start of the file (seek fails with EINVAL)
            raise ImportFormatError(self.display_name(name), f"cannot read: {error}") from error

    def _check_declared_size(self) -> None:
        assert self._zip is not None
        wanted = set(self._members.values())
        declared = sum(info.file_size for info in self._zip.infolist()
                       if _normalized(info.filename) in wanted)
        if declared > self.max_total_bytes:
            raise ImportFormatError(self.path, f"declares {declared} bytes uncompressed, over the "
                                               f"limit of {self.max_total_bytes} bytes")
        for info in self._zip.infolist():
            if info.file_size > _RATIO_FLOOR_BYTES and \
                    info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                raise ImportFormatError(self.path / info.filename,
                                        f"expands {info.file_size // max(info.compress_size, 1)}x "
                                        "when decompressed: refusing a likely zip bomb")


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ImportFormatError(path, f"not a zip archive, or a corrupt one ({error})") from error
    except OSError as error:
        raise ImportFormatError(path, f"cannot open: {error.strerror or error}") from error


def _zip_members(archive: zipfile.ZipFile, path: Path) -> list[str]:
    names = []
    for info in archive.infolist():
        name = _normalized(info.filename)
        _reject_unsafe(name, info.filename, path)
        if not info.is_dir() and name:
            names.append(name)
    return names


def _normalized(member: str) -> str:
    parts = [part for part in member.replace("\\", "/").split("/") if part not in ("", ".")]
    prefix = "/" if member.startswith(("/", "\\")) else ""
    return prefix + "/".join(parts)


def _reject_unsafe(name: str, raw: str, path: Path) -> None:
    if name.startswith("/") or _DRIVE_LETTER.match(name):
        raise ImportFormatError(path, f"unsafe absolute member path {raw!r}")
    if ".." in name.split("/"):
        raise ImportFormatError(path, f"unsafe member path {raw!r} escapes the archive")


def _folder_files(root: Path) -> list[str]:
    names = []
    # Symlinks are not followed, so a folder export cannot pull in files from elsewhere.
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for file in files:
            full = Path(folder) / file
            if full.is_file() and not full.is_symlink():
                names.append(full.relative_to(root).as_posix())
    return names


def _is_media(name: str) -> bool:
    return PurePosixPath(name).suffix.casefold() in MEDIA_SUFFIXES


def _relative_names(originals: list[str], unwrap: bool) -> dict[str, str]:
    """Map each public name to its original path, dropping one folder that wraps everything."""
    kept = [name for name in originals
            if name.split("/", 1)[0].casefold() not in _IGNORED_TOP_FOLDERS]
    tops = {name.split("/", 1)[0] for name in kept}
    wrapped = unwrap and len(tops) == 1 and all("/" in name for name in kept)
    if wrapped:
        return {name.split("/", 1)[1]: name for name in kept}
    return {name: name for name in kept}


def files_of_one_format(path: Path, looks_right: Callable[[bytes], bool], *, head: int | None,
                        detect_bytes: int, max_total_bytes: int) -> list[tuple[str, str, bytes]]:
    """(name inside the export, name for messages, bytes) of each file of a one-format export.

    The export is a single file, or a zip/folder in which every visible file passes
    `looks_right` on its first `detect_bytes` (a split WordPress or Ghost export). With `head`
    set only that many bytes of each file are returned (for detection); else whole files.
    """
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        data = _read_plain_file(path, head, max_total_bytes)
        return [(path.name, str(path), data)] if looks_right(data[:detect_bytes]) else []
    with ExportTree(path, max_total_bytes=max_total_bytes) as tree:
        names = [name for name in tree.list() if not PurePosixPath(name).name.startswith(".")]
        heads = {name: tree.read_head(name, detect_bytes) for name in names}
        if not names or not all(looks_right(data) for data in heads.values()):
            return []
        return [(name, tree.display_name(name),
                 heads[name] if head else tree.read_bytes(name)) for name in names]


def _read_plain_file(path: Path, head: int | None, limit: int) -> bytes:
    """The first `head` bytes, or the whole file when `head` is None."""
    with path.open("rb") as stream:
        if head is not None:
            return stream.read(head)
        if path.stat().st_size > limit:
            raise ImportFormatError(path, f"larger than the limit of {limit} bytes")
        return stream.read()
