"""Which importer reads a given export: each one is asked in turn, most specific first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llm_twin.ingest.base import Importer, ImportFormatError
from llm_twin.ingest.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.ingest.x_archive import XArchiveImporter


def default_importers(owner: str | None = None) -> list[Importer]:
    """Every built-in importer; the loosest match (a folder of Markdown) goes last."""
    return [XArchiveImporter(), MarkdownFolderImporter(owner=owner)]


def detect_importer(path: str | Path, importers: Sequence[Importer] | None = None) -> Importer:
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(path, "does not exist")
    candidates = default_importers() if importers is None else importers
    for importer in candidates:
        if importer.detect(path):
            return importer
    if path.is_file() and path.suffix.casefold() == ".zip":
        ExportTree(path).close()  # a damaged zip is better reported as such than as unknown
    supported = ", ".join(importer.format_name for importer in candidates)
    raise ImportFormatError(path, f"no importer recognises this export; supported: {supported}")
