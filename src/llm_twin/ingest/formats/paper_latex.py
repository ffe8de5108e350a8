"""arXiv LaTeX source: a .tar.gz/.tgz/.tar (or bzip2/xz) archive, a gzipped single .tex, a zip
(Overleaf), a folder, or one .tex file. See docs/FORMATS.md section 9: the source is cleaner
than the PDF.

The main file is the one with both \\documentclass and \\begin{document}. Its \\input/\\include
files are inlined (never from outside the source, never in a cycle), comments are stripped first
so commented-out inputs stay out, and everything from the bibliography on is dropped. The rest is
turned into text by pylatexenc (MIT): math becomes "[math]", citations, references and labels go,
figures and tables go, \\section{X} becomes "## X", and the source's line breaks inside a
paragraph are joined, as LaTeX itself does.

Archives are read in memory, never extracted: a member with an absolute or `..` path rejects the
archive, links and devices are skipped, and sizes are capped (declared, decompressed and inlined).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import charset_normalizer
from pylatexenc import latexwalker
from pylatexenc.latex2text import (EnvironmentTextSpec, LatexNodes2Text, MacroTextSpec,
                                   get_default_latex_context_db)
from pylatexenc.macrospec import MacroSpec, std_environment, std_macro

from llm_twin.ingest.archive import ArchiveImporter
from llm_twin.ingest.base import (MAX_LATEX_BYTES, ImportedDocument, ImportFormatError,
                                  ImportOptions, ImportResult, too_large)
from llm_twin.ingest.safe_zip import ExportTree

TEX_SUFFIXES = (".tex", ".ltx", ".latex")
PREFERRED_MAIN_NAMES = ("ms.tex", "main.tex")
COAUTHORED_WEIGHT = 0.5
FALLBACK_AUTHOR = "owner"
MATH_PLACEHOLDER = "[math]"
DEFAULT_MAX_TOTAL_BYTES = 256 * 1024 ** 2
DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 2
DEFAULT_MAX_MEMBERS = 20_000
_DETECT_BYTES = 16 * 1024 ** 2
_DETECT_SAMPLE = 50
_MAX_INPUT_DEPTH = 16
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_DOCUMENTCLASS = re.compile(r"\\documentclass\b")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
# A % comment runs to the end of the line and, as in TeX, eats the newline and the next line's
# indent (but not a following blank line, which still ends the paragraph). It is escaped only by
# an odd number of backslashes ("\%" is a percent sign, "\\%" is a line break, then a comment).
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*+(?!\n))?")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{([^{}]*)\}|\\input\s+([^\s{}\\%]+)")
_BIBLIOGRAPHY = re.compile(
    r"\\begin\s*\{thebibliography\}|\\bibliography\s*\{|\\printbibliography\b")
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:,|;|\band\b)\s*")
_LIST_OR_HEADING = re.compile(r"^\s*(?:\*|#|\d+\.)\s")
_LIST_ITEM = re.compile(r"^\s*(?:\*|\d+\.)\s")
# The tie or space before a dropped citation or reference would be left before the punctuation.
_SPACE_BEFORE_REFERENCE = re.compile(
    # (?<![ \t]): a run of blanks is tried once from its start, not from each of its characters
    # (quadratic on megabytes of spaces).
    r"(?:~|(?<![ \t])[ \t]+)(?=\\(?:cite[a-z]*|nocite|ref|autoref|[cC]ref|eqref|pageref|nameref)\b)")
_BLANK_LINES = re.compile(r"\n\s*\n")
_FIRST_SECTION = re.compile(r"\\(?:part|chapter|section)\b")

# Discarded with their arguments: references to things outside the running text.
_DROPPED_MACROS = ("cite", "citet", "citep", "citealt", "citealp", "citeauthor", "citeyear",
                   "citeyearpar", "citenum", "nocite", "ref", "autoref", "cref", "Cref", "eqref",
                   "pageref", "nameref", "label", "includegraphics", "bibliographystyle",
                   "thanks", "maketitle", "vspace", "hspace", "newpage", "clearpage")
_DROPPED_ENVIRONMENTS = ("figure", "figure*", "table", "table*", "tabular", "tabular*",
                         "wrapfigure", "algorithm", "algorithmic", "lstlisting", "verbatim",
                         "tikzpicture", "thebibliography")
_HEADINGS = {"part": "#", "chapter": "#", "section": "##", "subsection": "###",
             "subsubsection": "####", "paragraph": "####"}


@dataclass
class _Source:
    """The text files of one LaTeX source, by posix name relative to its root."""

    location: Path
    files: dict[str, str] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)

    def where(self, name: str) -> str:
        return self.display.get(name, str(self.location / name))

    def lookup(self, name: str) -> str | None:
        if name in self.files:
            return name
        folded = name.casefold()
        return next((known for known in self.files if known.casefold() == folded), None)


class LatexPaperImporter(ArchiveImporter):
    format_name = "arxiv-latex"
    # A truncated or corrupt compressed source fails in its decompressor while being sniffed.
    detect_errors = (*ArchiveImporter.detect_errors, EOFError, zlib.error, lzma.LZMAError)

    def __init__(self, options: ImportOptions | None = None, *,
                 max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 max_members: int = DEFAULT_MAX_MEMBERS):
        super().__init__(options, max_total_bytes=max_total_bytes)
        self.max_file_bytes = max_file_bytes
        self.max_members = max_members

    def _detect(self, path: Path) -> bool:
        if path.is_dir():
            return self._folder_has_main(path)
        if not path.is_file():
            return False
        with path.open("rb") as file:
            head = file.read(6)
        if head.startswith(_ZIP_MAGIC):
            return self._folder_has_main(path)
        return _looks_like_main(_detect_bytes(path, head))

    def read(self, location: str | Path) -> ImportResult:
        result = ImportResult(self.format_name, [], owner=self.options.owner_name)
        source = self._load(Path(location), result)
        main = _main_file(source)
        # Stops as soon as the text passes the cap: before any pylatexenc pass over it, and
        # before a file \input thousands of times is expanded into megabytes.
        text = _inline(source, main, result, MAX_LATEX_BYTES)
        preamble, body = _split_document(text, source.where(main))
        title, authors = _title_and_authors(preamble + _front_matter(body), source.where(main))
        raw_text = _to_text(_cut_bibliography(body), source.where(main))
        if not raw_text:
            result.skip("empty")
            return result
        metadata: dict[str, Any] = {"file": main, "authors": authors}
        if len(authors) > 1:
            metadata.update(coauthored=True, weight=COAUTHORED_WEIGHT)
        result.documents.append(ImportedDocument(
            platform="paper", kind="paper",
            author=self.options.owner_name or ", ".join(authors) or FALLBACK_AUTHOR,
            is_owner=True, raw_text=raw_text, title=title, external_id=main, metadata=metadata))
        return result

    def _folder_has_main(self, path: Path) -> bool:
        """A main .tex file at the top, or one folder down: a paper's source, not a project
        (or a home folder) with a paper somewhere deep inside."""
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            names = [name for name in tree.list()
                     if name.casefold().endswith(TEX_SUFFIXES) and name.count("/") <= 1]
            return any(_looks_like_main(tree.read_head(name, 64 * 1024))
                       for name in names[:_DETECT_SAMPLE])

    def _load(self, path: Path, result: ImportResult) -> _Source:
        if not path.exists():
            raise ImportFormatError(path, "does not exist")
        if path.is_dir():
            return self._load_tree(path, result)
        with path.open("rb") as file:
            head = file.read(512)
        if head.startswith(_ZIP_MAGIC):
            return self._load_tree(path, result)
        if _is_tar(path):
            return self._load_tar(path, result)
        return self._load_single(path, head)

    def _load_tree(self, path: Path, result: ImportResult) -> _Source:
        source = _Source(path)
        with ExportTree(path, max_total_bytes=self.max_total_bytes) as tree:
            for name in tree.list():
                if not _is_text_candidate(name):
                    continue
                # Read at most one byte past the cap: enough to tell, never a whole huge file.
                data = tree.read_head(name, self.max_file_bytes + 1)
                if self._too_large(len(data), result):
                    continue
                source.display[name] = tree.display_name(name)
                source.files[name] = _decode(data, source.display[name])
        return source

    def _load_tar(self, path: Path, result: ImportResult) -> _Source:
        source = _Source(path)
        total = 0
        try:
            with tarfile.open(path, mode="r:*") as archive:
                for count, member in enumerate(archive, 1):
                    if count > self.max_members:
                        raise ImportFormatError(path, f"more than {self.max_members} members")
                    name = _safe_member_name(member.name, path)
                    if not member.isfile():
                        if not member.isdir():
                            result.skip("link_or_special_file")
                        continue
                    if not _is_text_candidate(name) or self._too_large(member.size, result):
                        continue
                    total += member.size
                    if total > self.max_total_bytes:
                        raise ImportFormatError(path, "text members exceed the limit of "
                                                      f"{self.max_total_bytes} bytes")
                    stream = archive.extractfile(member)
                    data = stream.read(self.max_file_bytes + 1) if stream else b""
                    source.display[name] = str(path / name)  # as ExportTree names members
                    source.files[name] = _decode(data, source.display[name])
        except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as error:
            raise ImportFormatError(path, f"not a readable tar archive, or a truncated one "
                                          f"({error})") from error
        return source

    def _load_single(self, path: Path, head: bytes) -> _Source:
        try:
            with _open_content(path, head) as stream:
                data = stream.read(self.max_file_bytes + 1)
        except (EOFError, zlib.error, lzma.LZMAError, OSError) as error:
            raise ImportFormatError(path, f"cannot decompress ({error})") from error
        if len(data) > self.max_file_bytes:
            raise ImportFormatError(path, f"larger than the limit of {self.max_file_bytes} bytes")
        name = re.sub(r"\.(?:gz|bz2|xz)$", "", path.name, flags=re.IGNORECASE)
        if not name.casefold().endswith(TEX_SUFFIXES):
            name = "main.tex"
        source = _Source(path, display={name: str(path)})
        source.files[name] = _decode(data, str(path))
        return source

    def _too_large(self, size: int, result: ImportResult) -> bool:
        if size > self.max_file_bytes:
            result.skip("large_file")
            return True
        return False


def _open_content(path: Path, head: bytes) -> io.BufferedIOBase:
    """The file, decompressed when gzip, bzip2 or xz magic says it is compressed."""
    if head.startswith(_GZIP_MAGIC):
        return gzip.open(path, "rb")
    if head.startswith(_BZIP2_MAGIC):
        return bz2.open(path, "rb")
    if head.startswith(_XZ_MAGIC):
        return lzma.open(path, "rb")
    return path.open("rb")


def _detect_bytes(path: Path, head: bytes) -> bytes:
    with _open_content(path, head) as stream:
        return stream.read(_DETECT_BYTES)


def _looks_like_main(data: bytes) -> bool:
    text = data.decode("latin-1")
    return bool(_DOCUMENTCLASS.search(text) and _BEGIN_DOCUMENT.search(text))


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)  # reads the first header, through any compression
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        return False  # reported as damage when the file is read as a single .tex


def _is_text_candidate(name: str) -> bool:
    """.tex files, and suffix-less files that an \\input{name} may mean."""
    suffix = PurePosixPath(name).suffix.casefold()
    return suffix in TEX_SUFFIXES or suffix == ""


def _safe_member_name(raw: str, archive: Path) -> str:
    name = raw.replace("\\", "/")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ImportFormatError(archive, f"unsafe absolute member path {raw!r}")
    if ".." in parts:
        raise ImportFormatError(archive, f"unsafe member path {raw!r} escapes the archive")
    return "/".join(parts)


def _decode(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older arXiv sources are often Latin-1; TeX reads bytes, so any 8-bit encoding occurs.
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise ImportFormatError(where, "not text in any encoding that could be recognised") from None
        text = str(best)
    return text.replace("\r\n", "\n")


def _strip_comments(text: str) -> str:
    return _COMMENT.sub(r"\1", text)


def _main_file(source: _Source) -> str:
    mains = [name for name in source.files
             if name.casefold().endswith(TEX_SUFFIXES)
             and _DOCUMENTCLASS.search(stripped := _strip_comments(source.files[name]))
             and _BEGIN_DOCUMENT.search(stripped)]
    if not mains:
        raise ImportFormatError(source.location, "no main .tex file (one with \\documentclass "
                                                 "and \\begin{document})")
    return min(mains, key=lambda name: (PurePosixPath(name).name.casefold()
                                        not in PREFERRED_MAIN_NAMES,
                                        name.count("/"), -len(source.files[name]), name))


def _inline(source: _Source, main: str, result: ImportResult, max_bytes: int) -> str:
    """The main file with its \\input files inlined, comments stripped; over `max_bytes` of
    text so far, the paper is refused (`too_large`)."""
    base = posixpath.dirname(main)
    budget = [max_bytes]
    stripped: dict[str, str] = {}  # each file stripped once, however often it is \input

    def expand(name: str, stack: tuple[str, ...]) -> str:
        if name not in stripped:
            stripped[name] = _strip_comments(source.files[name])
        text = stripped[name]
        budget[0] -= len(text)
        if budget[0] < 0:
            raise too_large(source.where(main), "papers (LaTeX text, \\input files included)",
                            max_bytes - budget[0], max_bytes)

        def replace(match: re.Match[str]) -> str:
            target = _resolve(source, base, match[1] or match[2], result)
            if target is None:
                return ""
            if target in stack or len(stack) >= _MAX_INPUT_DEPTH:
                result.skip("input_cycle")
                return ""
            return expand(target, (*stack, target))

        return _INPUT.sub(replace, text)

    return expand(main, (main,))


def _resolve(source: _Source, base: str, target: str, result: ImportResult) -> str | None:
    """The source file an \\input{target} means, or None (counted) when it cannot be used."""
    target = target.strip().strip('"').replace("\\", "/")
    joined = posixpath.normpath(posixpath.join(base, target))
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target) or \
            joined == ".." or joined.startswith("../"):
        result.skip("input_outside_source")
        return None
    for candidate in (f"{joined}.tex", joined):
        found = source.lookup(candidate)
        if found is not None:
            return found
    result.skip("input_missing")
    return None


def _split_document(text: str, where: str) -> tuple[str, str]:
    begin = _BEGIN_DOCUMENT.search(text)
    if begin is None:
        raise ImportFormatError(where, "no \\begin{document}")
    end = _END_DOCUMENT.search(text, begin.end())
    return text[:begin.start()], text[begin.end():end.start() if end else len(text)]


def _front_matter(body: str) -> str:
    """The body up to its first section: where \\title and \\author sit when not in the preamble.
    Parsing only this much keeps a long paper from being parsed twice."""
    found = _FIRST_SECTION.search(body)
    return body[:found.start()] if found else body


def _cut_bibliography(body: str) -> str:
    found = _BIBLIOGRAPHY.search(body)
    return body[:found.start()] if found else body


class _PaperText(LatexNodes2Text):
    """pylatexenc's converter with every kind of math replaced by one placeholder."""

    def math_node_to_text(self, node: Any) -> str:
        return MATH_PLACEHOLDER


@lru_cache(maxsize=1)
def _parse_context() -> Any:
    context = latexwalker.get_default_latex_context_db()
    context.add_context_category("paper", prepend=True, macros=[
        # pylatexenc 2.x knows \href's rendering but not its arguments; it would crash on it.
        MacroSpec("href", "{{"),
        std_macro("nocite", False, 1), std_macro("pageref", False, 1),
        std_macro("nameref", False, 1), std_macro("bibliographystyle", False, 1),
        std_macro("thanks", False, 1), std_macro("includegraphics", "[{"),
    ], environments=[std_environment("wrapfigure", "[{{")])
    return context


@lru_cache(maxsize=1)
def _text_context() -> Any:
    context = get_default_latex_context_db()
    macros = [MacroTextSpec(name, discard=True) for name in _DROPPED_MACROS]
    macros += [MacroTextSpec(name, simplify_repl=_heading(marks))
               for name, marks in _HEADINGS.items()]
    macros.append(MacroTextSpec("href", simplify_repl="%(2)s"))
    environments = [EnvironmentTextSpec(name, discard=True) for name in _DROPPED_ENVIRONMENTS]
    context.add_context_category("paper", prepend=True, macros=macros,
                                 environments=environments)
    return context


def _heading(marks: str) -> Any:
    # pylatexenc passes the converter only to a parameter named `l2tobj`.
    def render(node: Any, l2tobj: LatexNodes2Text) -> str:
        # Argument 2 of `\section*[short]{Title}` is the title.
        return f"\n\n{marks} {' '.join(l2tobj.node_arg_to_text(node, 2).split())}\n\n"
    return render


def _walk(text: str, where: str) -> list[Any]:
    if len(text) > MAX_LATEX_BYTES:  # pylatexenc converts ~100 KB a second
        raise too_large(where, "papers (LaTeX text, \\input files included)", len(text),
                        MAX_LATEX_BYTES)
    try:
        walker = latexwalker.LatexWalker(text, latex_context=_parse_context(),
                                         tolerant_parsing=True)
        return walker.get_latex_nodes()[0]
    except Exception as error:
        raise ImportFormatError(where, f"cannot parse the LaTeX ({error})") from error


def _to_text(body: str, where: str) -> str:
    converter = _PaperText(latex_context=_text_context(), math_mode="text")
    try:
        text = converter.nodelist_to_text(_walk(_SPACE_BEFORE_REFERENCE.sub("", body), where))
    except Exception as error:
        raise ImportFormatError(where, f"cannot convert the LaTeX to text ({error})") from error
    return _rebuild_paragraphs(text.replace("\xa0", " "))


def _rebuild_paragraphs(text: str) -> str:
    """Join a paragraph's source lines with spaces, as LaTeX does; keep list items and headings."""
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        joined = lines[0]
        for line in lines[1:]:
            joined += ("\n" if _LIST_OR_HEADING.match(line) else " ") + line
        joined = re.sub(r"[ \t]{2,}", " ", joined)
        last_line = paragraphs[-1].rsplit("\n", 1)[-1] if paragraphs else ""
        if _LIST_ITEM.match(joined) and _LIST_ITEM.match(last_line):
            paragraphs[-1] += "\n" + joined  # items of one list stay together
        else:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def _title_and_authors(text: str, where: str) -> tuple[str | None, list[str]]:
    title: str | None = None
    authors: list[str] = []
    converter = _PaperText(latex_context=_text_context(), math_mode="text")
    for node in _macro_nodes(_walk(text, where), {"title", "author"}):
        argument = node.nodeargd.argnlist[-1] if node.nodeargd and node.nodeargd.argnlist else None
        if argument is None:
            continue
        if node.macroname == "title" and title is None:
            title = " ".join(converter.nodelist_to_text([argument]).split()) or None
        elif node.macroname == "author":
            authors.extend(_author_names(argument, converter))
    return title, authors


def _macro_nodes(nodes: list[Any], names: set[str]) -> list[Any]:
    found = []
    for node in nodes:
        if node is None:
            continue
        if node.isNodeType(latexwalker.LatexMacroNode) and node.macroname in names:
            found.append(node)
        elif hasattr(node, "nodelist") and node.nodelist:
            found.extend(_macro_nodes(node.nodelist, names))
    return found


def _author_names(argument: Any, converter: LatexNodes2Text) -> list[str]:
    """Names in one \\author{...}: people are split by \\and, commas and "and"; the first line of
    each is the name (the rest is affiliation)."""
    nodes = argument.nodelist if argument.isNodeType(latexwalker.LatexGroupNode) else [argument]
    chunks: list[list[Any]] = [[]]
    for node in nodes:
        if node.isNodeType(latexwalker.LatexMacroNode) and node.macroname == "and":
            chunks.append([])
        else:
            chunks[-1].append(node)
    names: list[str] = []
    for chunk in chunks:
        lines = [line.strip() for line in converter.nodelist_to_text(chunk).splitlines()]
        first = next((line for line in lines if line), "")
        names.extend(name for name in _AUTHOR_SEPARATORS.split(first) if name)
    return names
