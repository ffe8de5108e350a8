"""The importer protocol: every built-in importer implements all of it, fingerprint included."""

from __future__ import annotations

from pathlib import Path

from llm_twin.ingest.base import Importer, ImporterBase, ImportResult, file_fingerprint
from llm_twin.ingest.formats.git_repo import GitRepoImporter
from llm_twin.ingest.registry import default_importers


def test_every_built_in_importer_has_the_whole_protocol() -> None:
    for importer in default_importers():
        assert isinstance(importer, ImporterBase) and isinstance(importer, Importer)
        assert callable(importer.fingerprint)


def test_an_importer_without_fingerprint_does_not_satisfy_the_protocol() -> None:
    class OldStyle:
        format_name = "old"

        def detect(self, path: Path) -> bool:
            return True

        def read(self, path: Path) -> ImportResult:
            return ImportResult(self.format_name, [])

    assert not isinstance(OldStyle(), Importer)


def test_base_fingerprint_hashes_local_exports_and_leaves_urls_to_reading(tmp_path: Path) -> None:
    export = tmp_path / "export.zip"
    export.write_bytes(b"PK-ish bytes")
    other = tmp_path / "other.zip"
    other.write_bytes(b"PK-ish bytes, changed")
    for importer in default_importers():
        if type(importer).fingerprint is ImporterBase.fingerprint:
            assert importer.fingerprint(export) == file_fingerprint(export)
            assert importer.fingerprint(export) != importer.fingerprint(other)
            assert importer.fingerprint(tmp_path) == file_fingerprint(tmp_path)
            assert importer.fingerprint("https://example.org/") is None


def test_git_identifies_a_clone_url_only_after_reading() -> None:
    assert type(GitRepoImporter()).fingerprint is not ImporterBase.fingerprint
    assert GitRepoImporter().fingerprint("https://github.com/someone/repo.git") is None
