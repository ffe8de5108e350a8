"""Another author's texts (an "impostor" corpus): one loader for training metrics and evaluation.

An impostor folder holds someone else's posts as `.md`, `.markdown` or `.txt` files; YAML front
matter is removed (a `title`, `platform` or `kind` in it is kept, the way the Markdown folder
importer reads it). A folder that yields fewer than 2 texts is an error naming what it found,
never a silently empty comparison. `impostor_units` cuts the texts into answer units exactly as
the owner's own documents are cut, so both get prompts built the same way.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from llm_twin.errors import InputError
from llm_twin.ingest.formats.markdown_folder import DEFAULT_KIND, DEFAULT_PLATFORM
from llm_twin.platforms import KINDS, SOURCE_PLATFORMS
from llm_twin.storage.models import Document
from llm_twin.training_data import quality
from llm_twin.training_data.owner_texts import OwnerText, owner_texts

IMPOSTOR_SUFFIXES = (".md", ".markdown", ".txt")
MIN_IMPOSTOR_TEXTS = 2
DEFAULT_IMPOSTOR_CORPUS = "jbranchaud_til"


class ImpostorFolderError(InputError):
    """An impostor folder that is missing or holds too few usable texts (the CLI prints it)."""


@dataclass(frozen=True)
class ImpostorText:
    path: Path
    text: str  # the body, front matter removed
    title: str | None = None
    platform: str = DEFAULT_PLATFORM
    kind: str = DEFAULT_KIND


def default_impostor_folder() -> Path:
    corpora = os.environ.get("TWIN_CORPORA") or "../shared/corpora"
    return Path(corpora) / DEFAULT_IMPOSTOR_CORPUS


def load_impostor_texts(folder: Path, *, limit: int | None = None, seed: int = 0) -> list[ImpostorText]:
    """Up to `limit` non-empty texts of the folder, in a fixed random order (by `seed`)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ImpostorFolderError(f"Impostor corpus {folder} {what}; pass --impostor DIR, a folder "
                                  f"of another author's {'/'.join(IMPOSTOR_SUFFIXES)} posts.")
    files = impostor_files(folder)
    texts: list[ImpostorText] = []
    empty = 0
    for path in random.Random(seed).sample(files, len(files)):
        if limit is not None and len(texts) >= limit:
            break
        text = read_impostor_file(path)
        if text.text:
            texts.append(text)
        else:
            empty += 1
    if len(texts) < MIN_IMPOSTOR_TEXTS:
        raise ImpostorFolderError(_too_few(folder, files, empty))
    return texts


def impostor_files(folder: Path) -> list[Path]:
    return sorted(p for p in _visible_files(folder) if p.suffix.lower() in IMPOSTOR_SUFFIXES)


def read_impostor_file(path: Path) -> ImpostorText:
    import frontmatter

    raw = path.read_text(encoding="utf-8", errors="replace")
    try:
        post = frontmatter.loads(raw)
    except Exception:  # malformed front matter: the whole file is the text
        return ImpostorText(path, raw.strip())
    meta = post.metadata
    title = meta.get("title")
    return ImpostorText(path, post.content.strip(), title=None if title is None else str(title),
                        platform=_choice(meta.get("platform"), SOURCE_PLATFORMS, DEFAULT_PLATFORM),
                        kind=_choice(meta.get("kind"), KINDS, DEFAULT_KIND))


def impostor_units(texts: list[ImpostorText]) -> list[OwnerText]:
    """Answer units cut and length-filtered as the owner's documents are (sections of long
    articles; too short or too long pieces dropped)."""
    units: list[OwnerText] = []
    for text in texts:
        # A transient document (never stored) so the owner's own cutting rules apply unchanged.
        document = Document(platform=text.platform, kind=text.kind, raw_text=text.text,
                            title=text.title, created_at=None, language=None,
                            extra={"path": str(text.path)})
        units.extend(owner_texts(document)[0])
    return quality.apply_length_limits(units, quality.QualityReport())


def _visible_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)]


def _choice(value, allowed: tuple[str, ...], default: str) -> str:
    return value if isinstance(value, str) and value in allowed else default


def _too_few(folder: Path, files: list[Path], empty: int) -> str:
    others = Counter(p.suffix.lower() or "(no suffix)" for p in _visible_files(folder)
                     if p.suffix.lower() not in IMPOSTOR_SUFFIXES)
    found = f"{len(files)} {'/'.join(IMPOSTOR_SUFFIXES)} file(s)"
    if empty:
        found += f", {empty} of them empty"
    if others:
        found += "; other files: " + ", ".join(f"{n} {suffix}" for suffix, n in others.most_common(5))
    return (f"Impostor corpus {folder} holds fewer than {MIN_IMPOSTOR_TEXTS} usable texts (found "
            f"{found}); pass --impostor DIR, a folder of another author's posts.")
