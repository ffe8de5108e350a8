"""HTML to Markdown-ish text shared by the HTML importers (Medium, Substack)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.html_text import decode_text, html_to_text


def test_paragraphs_are_separated_by_one_blank_line() -> None:
    assert html_to_text("<p>One.</p>\n\n  <p>Two.</p><p></p><p> </p><p>Three.</p>") == \
        "One.\n\nTwo.\n\nThree."


def test_br_is_a_line_break_and_html_spacing_collapses() -> None:
    html = "<p>First   line\n  continues <br> second line<br><br>after a gap</p>"
    assert html_to_text(html) == "First line continues\nsecond line\n\nafter a gap"


def test_inline_markup_keeps_only_its_text_and_the_punctuation_stays() -> None:
    html = ("<p>It wasn’t <strong>burnout</strong> — it was <em>noise</em>… "
            "<a href='https://example.org'>see</a>! *stars* and _underscores_ 🐢</p>")
    assert html_to_text(html) == \
        "It wasn’t burnout — it was noise… see! *stars* and _underscores_ 🐢"


def test_non_breaking_spaces_are_kept() -> None:
    assert html_to_text("<p>wait&nbsp;&nbsp;for it</p>") == "wait\xa0\xa0for it"


def test_headings_become_markdown_headings_on_one_line() -> None:
    html = "<h1>Top</h1><h2>Two</h2><h3>Three<br>lines</h3><h4>Small</h4><h6>Tiny</h6>"
    assert html_to_text(html) == "## Top\n\n## Two\n\n## Three lines\n\n### Small\n\n### Tiny"
    assert html_to_text("<h2> <img src='x'> </h2><p>after</p>") == "after"


def test_unordered_lists_with_nested_lists() -> None:
    html = ("<ul><li>one</li><li><p>two</p><p>more of two</p>"
            "<ul><li>two-a</li></ul></li><li>three</li></ul>")
    assert html_to_text(html) == "- one\n- two\n  more of two\n  - two-a\n- three"


def test_a_nested_list_outside_its_li_still_nests() -> None:
    assert html_to_text("<ul><li>a</li><ul><li>b</li></ul></ul>") == "- a\n  - b"


def test_ordered_lists_are_numbered_from_their_start() -> None:
    assert html_to_text("<ol><li>Draft.</li><li>Wait.</li></ol>") == "1. Draft.\n2. Wait."
    assert html_to_text('<ol start="4"><li>Cut.</li></ol>') == "4. Cut."


def test_blockquotes_prefix_every_line() -> None:
    html = "<blockquote><p>one</p><p>two<br>three</p></blockquote>"
    assert html_to_text(html) == "> one\n>\n> two\n> three"


def test_inline_quote_text_directly_in_blockquote() -> None:
    assert html_to_text("<blockquote>Fast is a feeling;<br>slow is a result.</blockquote>") == \
        "> Fast is a feeling;\n> slow is a result."


def test_pre_with_br_becomes_a_fenced_block_with_its_indentation() -> None:
    html = '<pre class="graf graf--pre">while True:<br>    write()<br>    wait(days=7)</pre>'
    assert html_to_text(html) == "```\nwhile True:\n    write()\n    wait(days=7)\n```"


def test_pre_code_keeps_newlines_and_its_language() -> None:
    html = '<pre><code class="language-python">def f():\n    return  1\n</code></pre>'
    assert html_to_text(html) == "```python\ndef f():\n    return  1\n```"
    medium = ('<pre data-code-block-lang="js"><span class="pre--content">'
              '<span class="hljs-keyword">let</span> a = 1;</span></pre>')
    assert html_to_text(medium) == "```js\nlet a = 1;\n```"


def test_code_containing_a_fence_gets_a_longer_fence() -> None:
    assert html_to_text("<pre>```\nx\n```</pre>") == "````\n```\nx\n```\n````"


def test_inline_code_gets_backticks() -> None:
    assert html_to_text("<p>Run <code>make test</code> first.</p>") == "Run `make test` first."


def test_images_scripts_forms_and_embeds_are_dropped_but_captions_stay() -> None:
    html = ("<figure><img src='a.png' alt='ALT'><figcaption>My  desk</figcaption></figure>"
            "<script>alert(1)</script><style>p{}</style><iframe src='x'>IFRAME</iframe>"
            "<form><input value='Subscribe'><button>Go</button></form>"
            "<!-- a comment --><noscript>NOSCRIPT</noscript><p>Body.</p>")
    assert html_to_text(html) == "My desk\n\nBody."


def test_horizontal_rules_only_separate_blocks() -> None:
    assert html_to_text("<p>before</p><hr><p>after</p>") == "before\n\nafter"
    assert html_to_text("<div>loose text<hr>more</div>") == "loose text\n\nmore"


def test_loose_text_between_blocks_becomes_its_own_paragraph() -> None:
    assert html_to_text("<div>intro <b>bold</b><p>para</p>outro</div>") == \
        "intro bold\n\npara\n\noutro"


def test_tables_become_one_line_per_row() -> None:
    html = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
    assert html_to_text(html) == "a | b\n1 | 2"


def test_accepts_a_tag_and_leaves_it_unchanged() -> None:
    soup = BeautifulSoup("<div id='x'><p>one</p><p>two</p></div><p>outside</p>", "lxml")
    element = soup.select_one("#x")
    assert html_to_text(element) == "one\n\ntwo"
    assert str(element) == "<div id=\"x\"><p>one</p><p>two</p></div>"


def test_empty_input_gives_empty_text() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<div><img src='x'></div>") == ""


def test_decode_text_drops_bom_and_normalises_line_ends() -> None:
    assert decode_text("\ufeffa,b\r\nc\rd".encode("utf-8"), "x.csv") == "a,b\nc\nd"


def test_decode_text_falls_back_to_a_detected_western_encoding() -> None:
    text = "Café notes. Où l’on parle de crème brûlée — a naïve résumé, déjà vu."
    assert decode_text(text.encode("cp1252"), "posts/x.html") == text


def test_decode_text_names_the_file_when_no_encoding_fits() -> None:
    with pytest.raises(ImportFormatError) as raised:
        decode_text(bytes(range(256)) * 4, "export.zip/posts/x.html")
    assert raised.value.file == "export.zip/posts/x.html"
    assert "UTF-8" in raised.value.problem


@pytest.mark.parametrize("tag", ["div", "ul", "blockquote", "span", "h2"])
def test_hostile_nesting_is_flattened_instead_of_overflowing_the_stack(tag: str) -> None:
    html = f"<{tag}>" * 5000 + "deep <b>text</b>" + f"</{tag}>" * 5000
    assert "deep text" in html_to_text(html)


def test_inline_code_spanning_source_lines_stays_on_one_line() -> None:
    assert html_to_text("<p>Call <code>f(\n  x)</code> and <code></code>go.</p>") == \
        "Call `f( x)` and go."
