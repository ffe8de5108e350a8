"""The base of importers that read one local export: a zip, a folder, or a single export file."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from llm_twin.ingest.base import ImporterBase, ImportOptions
from llm_twin.ingest.safe_zip import DEFAULT_MAX_TOTAL_BYTES


class ArchiveImporter(ImporterBase):
    """Holds the import options and the cap on bytes read from the export (see safe_zip), and
    makes `detect` answer False, never raise, on foreign or damaged input."""

    # What sniffing a foreign file may raise: a bad zip, JSON or encoding is a ValueError (as is
    # ImportFormatError), an unreadable file an OSError.
    detect_errors: tuple[type[Exception], ...] = (ValueError, OSError)

    def __init__(self, options: ImportOptions | None = None, *,
                 max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES):
        self.options = options or ImportOptions()
        self.max_total_bytes = max_total_bytes

    def detect(self, location: str | Path) -> bool:
        try:
            return self._detect(Path(location))
        except self.detect_errors:
            return False

    @abstractmethod
    def _detect(self, path: Path) -> bool:
        """True when `path` holds this format; may raise on foreign input."""
