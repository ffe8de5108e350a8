"""Chunking by kind: short posts whole, threads whole or by post, long texts by section/paragraph,
code by top-level definition, chat messages as a window of the conversation before them."""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass

_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class TextChunk:
    position: int
    text: str


def chunk_document(kind: str, text: str, *, max_chars: int = 1000, overlap_chars: int = 150,
                   thread_posts: list[str] | None = None,
                   language: str | None = None) -> list[TextChunk]:
    """`language` (a name such as "python" or a file suffix such as ".go") matters for code only:
    known languages are cut at definitions and keep their indentation."""
    if kind == "code" and len(text) > max_chars and code_family(language):
        pieces = [_trim_blank_lines(p) for p in split_code(text, max_chars, language)]
        return [TextChunk(i, piece) for i, piece in enumerate(p for p in pieces if p)]
    if kind in ("post", "message") or len(text) <= max_chars:
        pieces = [text]
    elif kind == "thread" and thread_posts:
        pieces = _pack(thread_posts, max_chars, overlap_chars=0)
    elif kind == "code":
        pieces = _pack(_PARAGRAPH_BREAK.split(text), max_chars, overlap_chars=0)
    else:
        pieces = _split_long_text(text, max_chars, overlap_chars)
    return [TextChunk(i, piece.strip()) for i, piece in enumerate(pieces) if piece.strip()]


def chat_window(messages: list[tuple[str, str]], max_chars: int, *, size: int = 6) -> str:
    """The last message with up to `size` messages before it, one "Author: text" line each;
    the oldest lines go first when over max_chars (the last message always stays, whole)."""
    lines = [f"{author}: {text}" for author, text in messages[-(size + 1):]]
    while len(lines) > 1 and len("\n".join(lines)) > max_chars:
        lines.pop(0)
    return "\n".join(lines)


def _split_long_text(text: str, max_chars: int, overlap_chars: int) -> list[str]:
    chunks: list[str] = []
    for section in _sections(text):
        paragraphs = [p for p in _PARAGRAPH_BREAK.split(section) if p.strip()]
        chunks.extend(_pack(paragraphs, max_chars, overlap_chars))
    return chunks


def _sections(text: str) -> list[str]:
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]


def _pack(units: list[str], max_chars: int, overlap_chars: int) -> list[str]:
    """Greedily pack units (paragraphs or posts) into chunks; split any unit that is too long."""
    pieces: list[str] = []
    current = ""
    for unit in _fit_units(units, max_chars):
        candidate = f"{current}\n\n{unit}" if current else unit
        if len(candidate) <= max_chars:
            current = candidate
            continue
        pieces.append(current)
        tail = _overlap_tail(current, overlap_chars)
        current = f"{tail}\n\n{unit}" if tail and len(tail) + len(unit) + 2 <= max_chars else unit
    if current:
        pieces.append(current)
    return pieces


def _fit_units(units: list[str], max_chars: int) -> list[str]:
    fitted: list[str] = []
    for unit in units:
        unit = unit.strip()
        if len(unit) <= max_chars:
            fitted.append(unit)
            continue
        fitted.extend(_pack_words(_SENTENCE_END.split(unit), max_chars))
    return fitted


def _pack_words(sentences: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # a sentence longer than a chunk: cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        candidate = f"{current} {sentence}".strip()
        if len(candidate) <= max_chars:
            current = candidate
        else:
            out.append(current)
            current = sentence
    if current:
        out.append(current)
    return out


def _overlap_tail(text: str, overlap_chars: int) -> str:
    """The last sentences of a chunk, up to overlap_chars, so context carries across a cut."""
    if overlap_chars <= 0:
        return ""
    sentences = _SENTENCE_END.split(text)
    tail = ""
    for sentence in reversed(sentences):
        candidate = f"{sentence} {tail}".strip()
        if len(candidate) > overlap_chars:
            break
        tail = candidate
    return tail


# --- Code -------------------------------------------------------------------------------------

_FAMILIES = {
    "python": {"python", "py", "pyi"},
    "javascript": {"javascript", "typescript", "js", "mjs", "cjs", "jsx", "ts", "tsx", "mts",
                   "cts"},
    "go": {"go", "golang"},
    "rust": {"rust", "rs"},
    "jvm": {"java", "kotlin", "kt", "kts", "csharp", "cs", "c#", "scala"},
    "c": {"c", "h", "cpp", "c++", "cc", "cxx", "hpp", "hh", "hxx"},
}
_MODIFIERS = (r"(?:public|private|protected|internal|static|final|abstract|sealed|override|virtual"
              r"|async|open|data|inline|suspend|partial|synchronized|native|readonly|unsafe"
              r"|extern|lateinit|const|operator|infix|tailrec|enum|value|inner|companion)")
_DEFINITION_STARTS = {
    "javascript": re.compile(
        r"^(?:export\b|(?:async\s+)?function\b|(?:abstract\s+)?class\b|interface\s|enum\s"
        r"|declare\s|type\s+\w+|(?:const|let|var)\s+[\w$]+\s*(?::[^=]*)?=\s*(?:async\s*)?"
        r"(?:\(|function\b|[\w$]+\s*=>))"),
    "go": re.compile(r"^(?:func|type)\b"),
    "rust": re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?"
                       r'(?:(?:async|const|unsafe|default|extern\s+"\w*")\s+)*'
                       r"(?:fn|impl|struct|enum|trait|mod|union|macro_rules!)\b"),
    # Types at any depth; methods one level in, recognised by a modifier (or Kotlin's `fun`).
    "jvm": re.compile(rf"^[ \t]*(?:{_MODIFIERS}\s+)*(?:class|interface|enum|record|struct|object"
                      rf"|namespace)\s+\w"
                      rf"|^[ \t]*(?:{_MODIFIERS}\s+)*fun\s"
                      rf"|^[ \t]+(?:{_MODIFIERS}\s+)+"
                      rf"(?:[\w<>\[\],.? ]*?\w[\w<>\[\]?]*\s+)?\w+\s*\("),
}
# Comments, decorators, annotations and attributes belong to the definition below them.
_PREAMBLE_LINE = re.compile(r"^\s*(?://|/\*|\*|#\[|@|template\b)")
_C_TYPE = re.compile(r"^(?:typedef\s+)?(?:struct|class|enum|union|namespace)\b[^;]*$")
_C_RETURN_TYPE = re.compile(r"^[A-Za-z_][\w \t*&:<>,]*$")
_C_CONTROL = re.compile(r"^(?:if|else|for|while|switch|do|return)\b")
_BLANK_LINES_AT_START = re.compile(r"\A(?:[ \t]*\n)+")


def code_family(language: str | None) -> str | None:
    """The chunking family of a language name or file suffix ("python", ".tsx"…), if known."""
    name = (language or "").strip().lower().lstrip(".")
    return next((family for family, names in _FAMILIES.items() if name in names), None)


def split_code(text: str, max_chars: int, language: str | None) -> list[str]:
    """Verbatim pieces of source, each at most max_chars, cut at top-level definitions."""
    family = code_family(language)
    if family == "python":
        units = _python_units(text, max_chars)
    elif family is not None:
        lines = text.split("\n")
        units = _cut_lines(lines, _attach_preambles(lines, _definition_lines(family, lines)))
    else:
        units = [text]
    return [piece for unit in units for piece in _pack_lines(unit, max_chars)]


def _python_units(text: str, max_chars: int) -> list[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return [text]  # packed by blank lines
    lines = text.split("\n")
    return _python_spans(tree.body, lines, 0, len(lines), max_chars)


def _python_spans(body: list[ast.stmt], lines: list[str], lo: int, hi: int,
                  max_chars: int) -> list[str]:
    """Lines lo..hi cut into definitions (with decorators and comments right above) and the
    code between them; a definition over max_chars that is a class is cut by its methods."""
    units: list[str] = []
    cursor = lo
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        start = _comments_above(lines, start, cursor)
        end = node.end_lineno or node.lineno
        units.append("\n".join(lines[cursor:start]))
        unit = "\n".join(lines[start:end])
        if isinstance(node, ast.ClassDef) and len(unit) > max_chars:
            units.extend(_python_spans(node.body, lines, start, end, max_chars))
        else:
            units.append(unit)
        cursor = end
    units.append("\n".join(lines[cursor:hi]))
    return [unit for unit in units if unit.strip()]


def _comments_above(lines: list[str], start: int, floor: int) -> int:
    while start > floor and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def _definition_lines(family: str, lines: list[str]) -> list[int]:
    if family == "c":
        return _c_definition_lines(lines)
    pattern = _DEFINITION_STARTS[family]
    return [i for i, line in enumerate(lines) if pattern.match(line)]


def _c_definition_lines(lines: list[str]) -> list[int]:
    """Types at column 0, and functions: a signature ending in `)` then `{` (same or next line)."""
    starts: list[int] = []
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        next_opens = i + 1 < len(lines) and lines[i + 1].startswith("{")
        is_function = ((stripped.endswith(")") and next_opens)
                       or (re.search(r"\)\s*(?:const\s*)?\{$", stripped) and line[:1].strip()))
        if _C_TYPE.match(line) or is_function:
            start = _signature_start(lines, i)
            if not _C_CONTROL.match(lines[start]) and (not starts or start > starts[-1]):
                starts.append(start)
    return starts


def _signature_start(lines: list[str], i: int) -> int:
    """A multi-line signature starts at the nearest line above that begins at column 0, or at the
    return type line above that (GNU style)."""
    while i > 0 and lines[i][:1] in (" ", "\t") and lines[i - 1].strip():
        i -= 1
    if i > 0 and _C_RETURN_TYPE.match(lines[i - 1]):
        i -= 1
    return i


def _attach_preambles(lines: list[str], starts: list[int]) -> list[int]:
    moved: list[int] = []
    for start in starts:
        floor = moved[-1] + 1 if moved else 0
        while start > floor and _PREAMBLE_LINE.match(lines[start - 1]):
            start -= 1
        moved.append(start)
    return moved


def _cut_lines(lines: list[str], starts: list[int]) -> list[str]:
    bounds = sorted({0, *starts, len(lines)})
    units = ["\n".join(lines[a:b]) for a, b in itertools.pairwise(bounds)]
    return [unit for unit in units if unit.strip()]


def _pack_lines(text: str, max_chars: int) -> list[str]:
    """Greedily pack whole lines up to max_chars, cutting at the last blank line if there is one."""
    pieces: list[str] = []
    current: list[str] = []
    for line in _wrap_long_lines(text.split("\n"), max_chars):
        while current and len("\n".join([*current, line])) > max_chars:
            cut = _last_blank(current) or len(current)
            pieces.append("\n".join(current[:cut]))
            current = current[cut + 1:]
        current.append(line)
    pieces.append("\n".join(current))
    return [piece for piece in pieces if piece.strip()]


def _last_blank(lines: list[str]) -> int:
    return next((i for i in range(len(lines) - 1, 0, -1) if not lines[i].strip()), 0)


def _wrap_long_lines(lines: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        start = 0
        while len(line) - start > max_chars:  # a minified line: cut at a space if there is one
            cut = line.rfind(" ", start + 1, start + max_chars)
            cut = cut if cut > start else start + max_chars
            out.append(line[start:cut])
            start = cut
        out.append(line[start:])
    return out


def _trim_blank_lines(piece: str) -> str:
    """Strip surrounding blank lines and trailing space, but keep the first line's indentation."""
    return _BLANK_LINES_AT_START.sub("", piece).rstrip()
