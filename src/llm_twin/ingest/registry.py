"""Which importer reads a given export: each one is asked in turn, most specific first.

A location is a local path or, for the web and git importers, a URL string. A folder that no
importer claims as a whole is treated as a folder *of* exports: each entry is detected on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llm_twin.ingest.base import Importer, ImportFormatError, ImportOptions
from llm_twin.ingest.formats.bluesky import BlueskyImporter
from llm_twin.ingest.formats.feed import FeedImporter
from llm_twin.ingest.formats.ghost import GhostImporter
from llm_twin.ingest.formats.git_repo import GitRepoImporter, is_clone_url
from llm_twin.ingest.formats.instagram import InstagramImporter
from llm_twin.ingest.formats.linkedin import LinkedInImporter
from llm_twin.ingest.formats.mastodon import MastodonImporter
from llm_twin.ingest.formats.markdown_folder import MarkdownFolderImporter
from llm_twin.ingest.formats.medium import MediumImporter
from llm_twin.ingest.formats.paper_latex import LatexPaperImporter
from llm_twin.ingest.formats.paper_pdf import PdfPaperImporter
from llm_twin.ingest.formats.messenger import MessengerImporter
from llm_twin.ingest.formats.substack import SubstackImporter
from llm_twin.ingest.formats.telegram import TelegramImporter
from llm_twin.ingest.formats.web import WebImporter
from llm_twin.ingest.formats.whatsapp import WhatsAppImporter
from llm_twin.ingest.formats.wordpress import WordPressImporter
from llm_twin.ingest.safe_zip import ExportTree
from llm_twin.ingest.formats.x_archive import XArchiveImporter

Location = str | Path
REMOTE_PREFIXES = ("http://", "https://", "git@", "ssh://", "file://")


def default_importers(owner: str | None = None, options: ImportOptions | None = None) -> list[Importer]:
    """Every built-in importer; the loosest matches (a folder of Markdown, any URL) go last."""
    options = options or ImportOptions(owner_name=owner)
    owner = owner or options.owner_name
    return [GitRepoImporter(options), XArchiveImporter(options), LinkedInImporter(options),
            MediumImporter(options),
            SubstackImporter(options), InstagramImporter(options), MessengerImporter(options),
            TelegramImporter(options), WhatsAppImporter(options),
            MastodonImporter(options), BlueskyImporter(options), WordPressImporter(options),
            GhostImporter(options), LatexPaperImporter(options), PdfPaperImporter(options),
            FeedImporter(options),
            MarkdownFolderImporter(owner=owner), WebImporter(options)]


def is_remote(location: Location) -> bool:
    return isinstance(location, str) and (location.startswith(REMOTE_PREFIXES)
                                          or (not Path(location).exists() and is_clone_url(location)))


def as_location(argument: str | Path) -> Location:
    """What the user typed: a URL stays a string, anything else is a path."""
    text = str(argument)
    return text if is_remote(text) else Path(text).expanduser()


def detect_importer(location: Location, importers: Sequence[Importer] | None = None) -> Importer:
    location = as_location(location) if isinstance(location, str) else location
    candidates = default_importers() if importers is None else importers
    found = _first_match(location, candidates)
    if found is not None:
        return found
    if isinstance(location, Path) and location.is_file() and location.suffix.casefold() == ".zip":
        ExportTree(location).close()  # a damaged zip is better reported as such than as unknown
    supported = ", ".join(importer.format_name for importer in candidates)
    raise ImportFormatError(location, f"no importer recognises this export; supported: {supported}")


# Importers that claim almost any folder of text; a folder they match may still hold real exports.
LOOSE_FORMATS = frozenset({"markdown-folder"})


def plan_imports(location: Location,
                 importers: Sequence[Importer]) -> Sequence[tuple[Location, Importer]]:
    """The (location, importer) pairs to run: the export itself, or each export inside a folder.

    A folder is a folder *of* exports (a Downloads folder) when two or more of its entries are
    specific exports (an X archive, a LinkedIn zip...), or when one is and the folder as a whole
    is only a loose match (Markdown); then every recognised entry is imported with its own
    importer. Otherwise the folder is one export (an unzipped archive, a blog with sections).
    """
    location = as_location(location) if isinstance(location, str) else location
    whole = _first_match(location, importers)
    if isinstance(location, Path) and location.is_dir():
        entries = _recognised_entries(location, importers)
        specific = sum(found.format_name not in LOOSE_FORMATS for _, found in entries)
        whole_is_loose = whole is None or whole.format_name in LOOSE_FORMATS
        if specific >= 2 or (specific == 1 and whole_is_loose):
            return entries
    if whole is not None:
        return [(location, whole)]
    return [(location, detect_importer(location, importers))]


# A single Markdown file is never an export of its own; skipping them keeps planning a big blog fast.
_NEVER_AN_EXPORT = frozenset({".md", ".markdown"})


def _recognised_entries(folder: Path, importers: Sequence[Importer]) -> list[tuple[Path, Importer]]:
    return [(entry, found) for entry in sorted(folder.iterdir())
            if not entry.name.startswith(".") and entry.suffix.casefold() not in _NEVER_AN_EXPORT
            and (found := _first_match(entry, importers)) is not None]


def _first_match(location: Location, importers: Sequence[Importer]) -> Importer | None:
    if isinstance(location, Path) and not location.exists():
        raise ImportFormatError(location, "does not exist")
    for importer in importers:
        try:
            if importer.detect(location):
                return importer
        except (OSError, ValueError, TypeError):  # detection must never abort the search
            continue
    return None
