"""HTML to plain, Markdown-ish text that keeps a writer's layout (Medium, Substack, other HTML).

Paragraphs become blocks separated by one blank line, `<br>` a line break, headings `## ` (h4-h6
`### `), list items `- ` (`1. ` in ordered lists, nested ones indented), block quotes `> `, and
`<pre>` a fenced code block with its line breaks and indentation. Emphasis and links keep only their
text; images, scripts, forms and embeds are dropped, while a figure's caption stays as a paragraph.

Hand-written on BeautifulSoup rather than html2text (GPL) or markdownify (not a dependency): both
escape `*` and `_` and emit `**bold**` markers, which would change the writer's own punctuation.
Deeper than MAX_DEPTH, nesting is flattened to plain text so hostile HTML cannot exhaust the stack.

`decode_text` turns an export file's bytes into text: UTF-8 first, then a detected encoding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

import charset_normalizer
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from llm_twin.ingest.base import (MAX_HTML_BYTES, MAX_HTML_TAGS, ImportFormatError,
                                  check_markup)

DROPPED_TAGS = frozenset({
    "head", "title", "meta", "link", "script", "style", "noscript", "template",
    "img", "picture", "source", "svg", "video", "audio", "track", "canvas", "iframe", "object",
    "embed", "form", "button", "input", "select", "textarea",
})
CONTAINER_TAGS = frozenset({
    "html", "body", "article", "section", "div", "main", "header", "footer", "aside", "nav",
    "figure", "figcaption", "p", "address", "center", "details", "summary", "dl", "dt", "dd",
    "li", "caption", "fieldset", "hgroup",
})
HEADING_PREFIXES = {"h1": "## ", "h2": "## ", "h3": "## ", "h4": "### ", "h5": "### ",
                    "h6": "### "}
# Windows code pages that exports re-saved on a Western PC usually are; charset-normalizer often
# ranks a Baltic or Central European page first on short text, which garbles é, è, ’.
_PREFERRED_FALLBACK = "cp1252"
_FALLBACK_CHAOS_MARGIN = 0.1
# Deeper nesting is flattened to plain text; real posts nest a dozen levels at most.
MAX_DEPTH = 150
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_SPACE_RUN = re.compile(r" {2,}")
_CODE_LANGUAGE = re.compile(r"\blang(?:uage)?-([\w+#.-]+)")


def parse_html(text: str, where: str, what: str = "HTML pages") -> BeautifulSoup:
    """BeautifulSoup (lxml) of one HTML page or field, refused with ImportFormatError naming
    `where` when it is over `MAX_HTML_BYTES` or `MAX_HTML_TAGS` (BeautifulSoup takes seconds per
    hundred thousand tags)."""
    check_markup(where, what, text, max_bytes=MAX_HTML_BYTES, max_tags=MAX_HTML_TAGS)
    return BeautifulSoup(text, "lxml")


def html_to_text(element: Tag | str, where: str | None = None) -> str:
    """The text of an element (or an HTML string), laid out as described in the module docstring.

    An HTML string over the caps of `parse_html` raises ImportFormatError naming `where`; without
    `where` (an HTML field deep in an export), its text is taken by stripping the tags instead,
    which is linear time, keeping the words but not the layout.
    """
    if isinstance(element, str):
        if where is None and (len(element) > MAX_HTML_BYTES
                              or element.count("<") > MAX_HTML_TAGS):
            return strip_tags(element)
        element = parse_html(element, where or "HTML")
    writer = _Writer()
    writer.walk_children(element)
    return "\n\n".join(writer.finish())


_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^<>]*>", re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


def strip_tags(html: str) -> str:
    """The text of oversized HTML in linear time: tags and comments dropped, entities decoded,
    white space collapsed within lines."""
    text = unescape(_TAG_OR_COMMENT.sub(" ", html))
    lines = (_HTML_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 (a BOM is dropped); otherwise the encoding charset-normalizer finds; CRLF becomes LF.

    Raises ImportFormatError naming `where` when no encoding fits (binary data).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        encoding = _guess_encoding(data)
        if encoding is None:
            raise ImportFormatError(where, "not valid UTF-8 (byte offset "
                                           f"{error.start}) and no other encoding fits") from error
        text = data.decode(encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _guess_encoding(data: bytes) -> str | None:
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    for match in matches:
        if match.encoding == _PREFERRED_FALLBACK and match.chaos <= best + _FALLBACK_CHAOS_MARGIN:
            return match.encoding
    return matches[0].encoding


class _Writer:
    """Collects finished blocks, plus the inline text of the block being written."""

    def __init__(self, depth: int = 0) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.depth = depth

    def finish(self) -> list[str]:
        self.flush()
        return self.blocks

    def flush(self) -> None:
        text = _tidy_inline("".join(self.inline))
        self.inline.clear()
        if text:
            self.blocks.append(text)

    def add_block(self, text: str) -> None:
        self.flush()
        if text.strip():
            self.blocks.append(text)

    def walk_children(self, element: Tag) -> None:
        if self.depth >= MAX_DEPTH:
            # Hostile nesting would exhaust Python's stack; get_text() walks it without recursion.
            self.inline.append(_HTML_SPACE.sub(" ", element.get_text()))
            return
        self.depth += 1
        try:
            for child in element.children:
                self.walk(child)
        finally:
            self.depth -= 1

    def nested(self) -> _Writer:
        """A writer for the inside of a list item, quote, heading or table cell."""
        return _Writer(self.depth + 1)

    def walk(self, node: PageElement) -> None:
        if isinstance(node, PreformattedString):  # comments, CDATA, doctype
            return
        if isinstance(node, NavigableString):
            self.inline.append(_HTML_SPACE.sub(" ", str(node)))
            return
        if not isinstance(node, Tag):
            return
        name = node.name.lower()
        if name in DROPPED_TAGS:
            return
        handler = _BLOCK_HANDLERS.get(name)
        if handler is not None:
            self.flush()
            handler(self, node)
        elif name in CONTAINER_TAGS:
            self.flush()
            self.walk_children(node)
            self.flush()
        elif name == "br":
            self.inline.append("\n")
        elif name == "code":
            code = _HTML_SPACE.sub(" ", node.get_text())
            if code.strip():
                self.inline.append(f"`{code}`")
        else:
            self.walk_children(node)


def _tidy_inline(text: str) -> str:
    """Collapse HTML spacing, but keep the line breaks that came from `<br>`."""
    lines = [_SPACE_RUN.sub(" ", line).strip(" ") for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _sub_blocks(parent: _Writer, element: Tag, separator: str) -> str:
    writer = parent.nested()
    writer.walk_children(element)
    return separator.join(writer.finish())


def _rendered(parent: _Writer, element: Tag) -> str:
    writer = parent.nested()
    writer.walk(element)
    return "\n\n".join(writer.finish())


def _write_heading(writer: _Writer, element: Tag) -> None:
    text = " ".join(_sub_blocks(writer, element, " ").split("\n"))
    if text:
        writer.add_block(HEADING_PREFIXES[element.name.lower()] + text)


def _write_list(writer: _Writer, element: Tag) -> None:
    marker = "- "
    number = _list_start(element)
    items: list[str] = []
    for child in element.children:
        if not isinstance(child, Tag) or child.name.lower() in DROPPED_TAGS:
            continue
        if child.name.lower() in ("ul", "ol") and items:  # a nested list left outside its <li>
            items[-1] += "\n" + _indented(_rendered(writer, child), "  ")
            continue
        text = _sub_blocks(writer, child, "\n")
        if not text:
            continue
        if element.name.lower() == "ol":
            marker = f"{number}. "
            number += 1
        first, _, rest = text.partition("\n")
        items.append(marker + first + ("\n" + _indented(rest, " " * len(marker)) if rest else ""))
    writer.add_block("\n".join(items))


def _indented(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in text.split("\n"))


def _list_start(element: Tag) -> int:
    try:
        return int(str(element.get("start", "1")))
    except ValueError:
        return 1


def _write_quote(writer: _Writer, element: Tag) -> None:
    text = _sub_blocks(writer, element, "\n\n")
    writer.add_block("\n".join(f"> {line}" if line else ">" for line in text.split("\n")))


def _write_code(writer: _Writer, element: Tag) -> None:
    code = "".join(_pre_pieces(element)).strip("\n")
    if not code.strip():
        return
    fence = "```"
    while fence in code:
        fence += "`"
    writer.add_block(f"{fence}{_code_language(element)}\n{code}\n{fence}")


def _pre_pieces(element: Tag) -> Iterable[str]:
    for node in element.descendants:
        if isinstance(node, Tag) and node.name.lower() == "br":
            yield "\n"
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            yield str(node)


def _code_language(element: Tag) -> str:
    declared = element.get("data-code-block-lang")  # Medium
    if declared:
        return str(declared).strip()
    for tag in (element, element.find("code")):
        if isinstance(tag, Tag):
            match = _CODE_LANGUAGE.search(" ".join(tag.get("class") or []))
            if match:
                return match.group(1)
    return ""


def _write_table(writer: _Writer, element: Tag) -> None:
    rows = []
    for row in element.find_all("tr"):
        cells = [" ".join(_sub_blocks(writer, cell, " ").split("\n"))
                 for cell in row.find_all(["td", "th"])]
        if any(cells):
            rows.append(" | ".join(cells))
    writer.add_block("\n".join(rows))


def _write_rule(writer: _Writer, element: Tag) -> None:
    """A horizontal rule only ends the current paragraph; section dividers are layout, not text."""


_BLOCK_HANDLERS = {
    "ul": _write_list, "ol": _write_list, "blockquote": _write_quote, "pre": _write_code,
    "table": _write_table, "hr": _write_rule,
    **{heading: _write_heading for heading in HEADING_PREFIXES},
}
