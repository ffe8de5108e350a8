"""ArchiveImporter: the options and byte cap every archive importer shares, and a `detect` that
answers False on foreign or damaged input but lets a real bug through."""

from __future__ import annotations

import zlib
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import ImportFormatError, ImportOptions, ImportResult
from llm_twin.ingest.chat_common import ChatExportImporter
from llm_twin.ingest.formats.paper_latex import LatexPaperImporter
from llm_twin.ingest.registry import default_importers
from llm_twin.ingest.safe_zip import DEFAULT_MAX_TOTAL_BYTES


class RaisingImporter(ArchiveImporter):
    format_name = "raising"

    def __init__(self, error: Exception | None, **kwargs):
        super().__init__(**kwargs)
        self.error = error
        self.seen: list[Path] = []

    def _detect(self, path: Path) -> bool:
        self.seen.append(path)
        if self.error is not None:
            raise self.error
        return True

    def read(self, path: Path) -> ImportResult:
        return ImportResult(self.format_name, [])


def test_defaults_and_explicit_options() -> None:
    plain = RaisingImporter(None)
    assert plain.options == ImportOptions() and plain.max_total_bytes == DEFAULT_MAX_TOTAL_BYTES
    options = ImportOptions(owner_name="Dana", me=("dana",))
    chosen = RaisingImporter(None, options=options, max_total_bytes=10)
    assert chosen.options is options and chosen.max_total_bytes == 10


def test_detect_hands_a_path_to_the_format_check() -> None:
    importer = RaisingImporter(None)
    assert importer.detect("some/export.zip") is True
    assert importer.seen == [Path("some/export.zip")]


@pytest.mark.parametrize("error", [ImportFormatError("x.zip", "not a zip"), OSError("unreadable"),
                                   ValueError("bad JSON"),
                                   UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")])
def test_foreign_or_damaged_input_is_not_this_format(error: Exception) -> None:
    assert RaisingImporter(error).detect(Path("x.zip")) is False


def test_a_bug_in_the_format_check_is_not_hidden() -> None:
    with pytest.raises(KeyError):
        RaisingImporter(KeyError("bug")).detect(Path("x.zip"))


def test_an_importer_without_a_format_check_cannot_be_made() -> None:
    class Incomplete(ArchiveImporter):
        format_name = "incomplete"

        def read(self, path: Path) -> ImportResult:
            return ImportResult(self.format_name, [])

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_latex_sniffing_also_survives_broken_compression(tmp_path: Path) -> None:
    assert zlib.error in LatexPaperImporter.detect_errors
    assert LatexPaperImporter.detect_errors[:len(ArchiveImporter.detect_errors)] == \
        ArchiveImporter.detect_errors
    broken = tmp_path / "paper.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"not deflate data at all")
    assert LatexPaperImporter().detect(broken) is False


def test_chat_importers_keep_region_and_local_timezone() -> None:
    class Chat(ChatExportImporter):
        format_name = "chat"

        def _detect(self, path: Path) -> bool:
            return False

        def read(self, path: Path) -> ImportResult:
            return ImportResult(self.format_name, [])

    zone = timezone(timedelta(hours=2))
    chat = Chat(ImportOptions(me=("me",)), region="DE", local_timezone=zone, max_total_bytes=5)
    assert (chat.region, chat.local_timezone, chat.max_total_bytes) == ("DE", zone, 5)
    assert chat.options.me == ("me",)
    assert (Chat().region, Chat().local_timezone) == ("US", timezone.utc)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated zip", b"\xff\xfe\x00 binary",
                                     b"{\"not\": \"an export\"}"])
def test_no_built_in_importer_raises_on_foreign_files(tmp_path: Path, content: bytes) -> None:
    for name in ("export.zip", "export.json", "export.txt", "export.pdf", "export.tar.gz"):
        foreign = tmp_path / name
        foreign.write_bytes(content)
        claimed = [importer.format_name for importer in default_importers()
                   if importer.detect(foreign)]
        assert claimed == [], (name, claimed)
