"""Code is chunked by definition: whole functions and classes, verbatim, each within max_chars."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import make_doc
from llm_twin.features.chunking import chunk_document, code_family
from llm_twin.features.indexing import index_documents
from llm_twin.storage.models import Chunk

HEADER = '''"""Tools for the bakery."""

import os
from pathlib import Path'''

KNEAD = '''# Knead until the dough passes the windowpane test.
@retry(times=3)
@logged
def knead(dough, minutes=10):
    """Work the gluten."""
    for _ in range(minutes):
        dough = fold(dough)
    return dough'''

PROOF = '''def proof(dough, hours=2):
    while hours:
        dough = rest(dough)
        hours -= 1
    return dough'''

BAKE = '''async def bake(dough, degrees=250):
    await oven.heat(degrees)
    return await oven.bake(dough)'''

OVEN_HEAD = '''@dataclass
class Oven:
    """A wood-fired oven."""

    temperature: int = 250'''

OVEN_METHODS = ['''    def heat(self, degrees):
        self.temperature = degrees
        return self''', '''    # Hot enough for pizza?
    @property
    def hot(self):
        return self.temperature > 300''']

OVEN = "\n\n".join([OVEN_HEAD, *OVEN_METHODS])
PYTHON_FILE = "\n\n\n".join([HEADER, KNEAD, PROOF, BAKE, OVEN]) + "\n"


def texts(text: str, max_chars: int, language: str | None) -> list[str]:
    chunks = chunk_document("code", text, max_chars=max_chars, overlap_chars=100, language=language)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(0 < len(c.text) <= max_chars for c in chunks)
    return [c.text for c in chunks]


def code_lines(pieces: list[str]) -> list[str]:
    return [line for piece in pieces for line in piece.split("\n") if line.strip()]


def assert_verbatim(text: str, pieces: list[str]) -> None:
    """Every non-blank line of the source, in order, indentation included, exactly once."""
    assert code_lines(pieces) == code_lines([text])


def test_python_chunks_are_aligned_to_top_level_definitions() -> None:
    pieces = texts(PYTHON_FILE, max_chars=400, language="python")
    assert len(PYTHON_FILE) > 400
    assert pieces == [HEADER, KNEAD, PROOF, BAKE, OVEN]  # decorators and comment stay with knead


def test_a_class_over_max_chars_is_split_by_its_methods() -> None:
    pieces = texts(PYTHON_FILE, max_chars=len(OVEN) - 1, language="py")
    assert pieces == [HEADER, KNEAD, PROOF, BAKE, OVEN_HEAD, *OVEN_METHODS]
    assert pieces[-1].startswith("    # Hot enough")  # indentation kept on the first line too


def test_a_huge_function_is_split_under_max_chars_by_lines() -> None:
    body = "\n".join(f"    step_{i} = mix(step_{i - 1}, flour={i}, water={i * 2})"
                     for i in range(1, 60))
    huge = f"def huge(step_0):\n{body}\n    return step_59"
    text = f"{HEADER}\n\n\n{huge}\n\n\n{PROOF}\n"
    pieces = texts(text, max_chars=500, language="python")
    assert pieces[0] == HEADER and pieces[-1] == PROOF
    assert len(pieces) > 4 and pieces[1].startswith("def huge(step_0):")
    assert_verbatim(text, pieces)
    assert all(p.startswith("    step_") for p in pieces[2:-2])  # cut between whole lines


def test_a_syntax_error_falls_back_to_packing_by_blank_lines() -> None:
    broken = PYTHON_FILE.replace("def proof(dough, hours=2):", "def proof(dough, hours=2:")
    pieces = texts(broken, max_chars=300, language="python")
    assert len(pieces) > 1
    assert_verbatim(broken, pieces)
    blocks = [b.strip("\n") for b in broken.split("\n\n") if b.strip()]
    for piece in pieces:  # cut only at blank lines: each piece is a run of whole blocks
        assert piece in broken
        assert all(b.strip("\n") in blocks for b in piece.split("\n\n") if b.strip())


GO_PACKAGE = '''package bakery

import "fmt"'''
GO_DEFINITIONS = ['''// Loaf is one baked bread.
type Loaf struct {
	Name  string
	Grams int
}''', '''func NewLoaf(name string) *Loaf {
	return &Loaf{Name: name, Grams: 800}
}''', '''// String prints the loaf.
func (l *Loaf) String() string {
	return fmt.Sprintf("%s (%dg)", l.Name, l.Grams)
}''']

JS_HEADER = '''import { oven } from "./oven.js";'''
JS_DEFINITIONS = ['''/**
 * Knead the dough.
 */
function knead(dough) {
  return dough.map((x) => x * 2);
}''', '''export class Bakery {
  constructor(name) {
    this.name = name;
  }
}''', '''const bake = async (dough) => {
  await oven.heat(250);
  return dough;
};''', '''export default function open() {
  return new Bakery("corner");
}''']

RUST_DEFINITIONS = ['''use std::fmt;''', '''#[derive(Debug)]
pub struct Loaf {
    grams: u32,
}''', '''impl fmt::Display for Loaf {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}g", self.grams)
    }
}''', '''pub(crate) fn bake(grams: u32) -> Loaf {
    Loaf { grams }
}''']

JAVA_DEFINITIONS = ['''package bakery;

import java.util.List;''', '''/** A bakery. */
public class Bakery {
    private final List<String> breads;''', '''    public Bakery(List<String> breads) {
        this.breads = breads;
    }''', '''    @Override
    public String toString() {
        return "Bakery " + breads;
    }
}''']

C_DEFINITIONS = ['''#include <stdio.h>''', '''/* Sum two weights. */
static int
add(int a,
    int b)
{
    return a + b;
}''', '''struct loaf {
    int grams;
};''', '''int main(void) {
    if (add(1, 2) == 3) {
        printf("ok\\n");
    }
    return 0;
}''']


@pytest.mark.parametrize(("language", "definitions"), [
    ("go", [GO_PACKAGE, *GO_DEFINITIONS]),
    (".js", [JS_HEADER, *JS_DEFINITIONS]),
    ("typescript", [JS_HEADER, *JS_DEFINITIONS]),
    ("rust", RUST_DEFINITIONS),
    ("java", JAVA_DEFINITIONS),
    ("c", C_DEFINITIONS),
])
def test_other_languages_are_split_at_definitions(language: str, definitions: list[str]) -> None:
    text = "\n\n".join(definitions) + "\n"
    max_chars = max(map(len, definitions)) + 5
    assert len(text) > max_chars
    assert texts(text, max_chars, language) == definitions


def test_long_definitions_in_other_languages_are_packed_by_lines() -> None:
    body = "\n".join(f"\tx{i} := weigh(x{i - 1}, {i})" for i in range(1, 80))
    text = f"{GO_PACKAGE}\n\nfunc Long(x0 int) int {{\n{body}\n\treturn x79\n}}\n\n" \
           + GO_DEFINITIONS[1]
    pieces = texts(text, max_chars=300, language="go")
    assert pieces[0] == GO_PACKAGE and pieces[-1] == GO_DEFINITIONS[1]
    assert pieces[1].startswith("func Long(") and pieces[2].startswith("\tx")
    assert_verbatim(text, pieces)


def test_a_minified_line_is_cut_without_loss() -> None:
    line = "var a=" + ";".join(f"f{i}(x)" for i in range(300))
    pieces = texts(line, max_chars=200, language="javascript")
    assert "".join(pieces) == line


def test_short_files_and_unknown_languages_keep_the_old_behaviour() -> None:
    assert texts(PROOF, max_chars=1000, language="python") == [PROOF]
    for language in (None, "cobol"):
        old = texts(PYTHON_FILE, max_chars=400, language=None)
        assert texts(PYTHON_FILE, max_chars=400, language=language) == old
        assert all(p == p.strip() for p in old)


def test_language_names_and_suffixes() -> None:
    assert [code_family(x) for x in ("python", ".py", "PYI", ".tsx", "rs", ".kt", ".hpp")] == \
        ["python", "python", "python", "javascript", "rust", "jvm", "c"]
    assert code_family(None) is None and code_family(".md") is None


def test_indexing_chunks_code_by_definition(ingest, sessions, store, embedder) -> None:
    """The language comes from the path's suffix, or from the importer's `language`."""
    kitchen = PYTHON_FILE.replace("bakery", "kitchen")
    ingest(make_doc(PYTHON_FILE, platform="code", kind="code", title="bakery/tools.py",
                    metadata={"path": "bakery/tools.py"}),
           make_doc(kitchen, platform="code", kind="code", title="Makefile",
                    metadata={"path": "Makefile", "language": "python"}))
    index_documents(sessions, store, embedder, max_chars=400, overlap_chars=50)
    with sessions() as session:
        rows = list(session.scalars(select(Chunk).order_by(Chunk.document_id, Chunk.position)))
    expected = [HEADER, KNEAD, PROOF, BAKE, OVEN]
    assert [r.text for r in rows] == expected + [e.replace("bakery", "kitchen") for e in expected]
    assert store.all_ids() == {r.id for r in rows}
