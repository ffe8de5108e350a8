"""Chunking by kind: posts whole, threads by post, long texts by heading/paragraph, nothing lost."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from llm_twin.features.chunking import chunk_document

_counter = itertools.count()


def words(n: int) -> list[str]:
    """n globally unique words, so 'this word is in some chunk' means this exact occurrence."""
    return [f"w{next(_counter):05d}" for _ in range(n)]


def sentence(n_words: int) -> str:
    return " ".join(words(n_words)).capitalize() + "."


def paragraph(n_sentences: int, n_words: int = 8) -> str:
    return " ".join(sentence(n_words) for _ in range(n_sentences))


def tokens(text: str) -> list[str]:
    return re.findall(r"w\d{5}", text, flags=re.IGNORECASE)


def assert_nothing_lost(text: str, chunks) -> None:
    found = set(t.lower() for c in chunks for t in tokens(c.text))
    missing = [t for t in tokens(text) if t.lower() not in found]
    assert not missing, f"{len(missing)} words lost, first: {missing[:5]}"


def assert_well_formed(chunks, max_chars: int) -> None:
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == c.text.strip() and c.text
        assert len(c.text) <= max_chars, f"chunk {c.position} has {len(c.text)} chars"


@pytest.mark.parametrize("kind", ["post", "message"])
def test_posts_and_messages_stay_whole_even_when_long(kind: str) -> None:
    text = "\n\n".join(paragraph(4) for _ in range(8))
    assert len(text) > 1000
    chunks = chunk_document(kind, text, max_chars=1000, overlap_chars=150)
    assert [(c.position, c.text) for c in chunks] == [(0, text)]


def test_short_article_is_one_chunk_stripped() -> None:
    text = "# Title\n\nA short article.\n"
    chunks = chunk_document("article", f"\n  {text}  ", max_chars=1000)
    assert [c.text for c in chunks] == [text.strip()]


def test_blank_text_gives_no_chunks() -> None:
    assert chunk_document("post", "  \n\n ") == []
    assert chunk_document("article", "") == []


def test_article_is_split_by_headings_and_paragraphs() -> None:
    sections = []
    for title in ("# Intro", "## Method", "## Results"):
        body = "\n\n".join(paragraph(3) for _ in range(4))
        sections.append(f"{title}\n\n{body}")
    text = "\n\n".join(sections)
    max_chars = 500
    chunks = chunk_document("article", text, max_chars=max_chars, overlap_chars=120)
    assert_well_formed(chunks, max_chars)
    assert_nothing_lost(text, chunks)
    # No chunk straddles two sections, and every section starts a fresh chunk with its heading.
    heading = re.compile(r"^#{1,6} ", re.MULTILINE)
    for c in chunks:
        assert len(heading.findall(c.text)) <= 1
        assert not heading.search(c.text) or heading.match(c.text)
    assert [c.text.split("\n")[0] for c in chunks if heading.match(c.text)] == \
        ["# Intro", "## Method", "## Results"]
    # Paragraph boundaries are kept: a chunk never starts or ends in the middle of a word.
    for c in chunks:
        assert c.text[-1] in ".!?" or heading.match(c.text.splitlines()[-1])


def test_text_before_the_first_heading_is_kept() -> None:
    preface = paragraph(6)
    text = preface + "\n\n# Part one\n\n" + paragraph(6) + "\n\n# Part two\n\n" + paragraph(6)
    chunks = chunk_document("article", text, max_chars=600, overlap_chars=0)
    assert_well_formed(chunks, 600)
    assert_nothing_lost(text, chunks)
    assert chunks[0].text.startswith(preface[:40])


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    # One section of short sentences: every cut should carry the last sentence(s) forward.
    text = "\n\n".join(paragraph(2, n_words=6) for _ in range(12))
    chunks = chunk_document("article", text, max_chars=300, overlap_chars=100)
    assert len(chunks) >= 3
    assert_well_formed(chunks, 300)
    for prev, nxt in zip(chunks, chunks[1:]):
        carried = nxt.text.split("\n\n")[0]  # the overlap tail is its own leading block
        assert 0 < len(carried) <= 100
        assert prev.text.endswith(carried), (prev.text, nxt.text)
        assert carried[0].isupper() and carried[-1] == "."  # whole sentences, not a cut mid-way


def test_zero_overlap_repeats_nothing() -> None:
    text = "\n\n".join(paragraph(2, n_words=6) for _ in range(12))
    chunks = chunk_document("article", text, max_chars=300, overlap_chars=0)
    all_tokens = [t for c in chunks for t in tokens(c.text)]
    assert all_tokens == tokens(text)  # every word exactly once, in order


def test_thread_is_chunked_by_posts() -> None:
    posts = [paragraph(2, n_words=7) for _ in range(12)]
    text = "\n\n".join(posts)
    assert len(text) > 600
    chunks = chunk_document("thread", text, max_chars=600, overlap_chars=150, thread_posts=posts)
    assert len(chunks) > 1
    assert_well_formed(chunks, 600)
    # Each chunk is a run of whole posts, in order, with no overlap between chunks.
    regrouped = [c.text.split("\n\n") for c in chunks]
    assert [p for group in regrouped for p in group] == posts


def test_short_thread_stays_whole() -> None:
    posts = ["1/ first", "2/ second"]
    chunks = chunk_document("thread", "1/ first\n\n2/ second", max_chars=1000, thread_posts=posts)
    assert [c.text for c in chunks] == ["1/ first\n\n2/ second"]


def test_code_is_packed_by_blank_lines_without_overlap() -> None:
    blocks = [f"def f{i}():\n    return {i}  # " + " ".join(words(6)) for i in range(30)]
    text = "\n\n".join(blocks)
    chunks = chunk_document("code", text, max_chars=400, overlap_chars=150)
    assert_well_formed(chunks, 400)
    assert [b for c in chunks for b in c.text.split("\n\n")] == blocks


@pytest.mark.parametrize("punctuated", [True, False])
def test_a_5000_char_single_paragraph_is_split_within_max(punctuated: bool) -> None:
    if punctuated:
        text = paragraph(80, n_words=9)
    else:  # one enormous sentence: must be cut at spaces
        text = " ".join(words(850))
    assert len(text) >= 5000 and "\n" not in text
    chunks = chunk_document("article", text, max_chars=1000, overlap_chars=150)
    assert len(chunks) >= 5
    assert_well_formed(chunks, 1000)
    assert_nothing_lost(text, chunks)
    for c in chunks:  # words are never cut in half
        assert all(re.fullmatch(r"w\d{5}\.?", t, flags=re.IGNORECASE) for t in c.text.split())


def test_word_longer_than_max_is_hard_cut_without_loss() -> None:
    blob = "x" * 2500
    chunks = chunk_document("article", f"start {blob} end", max_chars=1000, overlap_chars=0)
    assert_well_formed(chunks, 1000)
    assert "".join(c.text for c in chunks).replace(" ", "") == f"start{blob}end"


@pytest.mark.parametrize("seed", range(12))
def test_random_long_texts_respect_max_and_lose_nothing(seed: int) -> None:
    rng = random.Random(seed)
    max_chars = rng.choice([200, 350, 600, 1000])
    overlap = rng.choice([0, 50, 150, 400])
    parts = []
    for _ in range(rng.randint(3, 25)):
        roll = rng.random()
        if roll < 0.15:
            parts.append("#" * rng.randint(1, 3) + " " + " ".join(words(rng.randint(1, 5))))
        elif roll < 0.25:  # an over-long paragraph
            parts.append(paragraph(rng.randint(10, 40), n_words=rng.randint(3, 30)))
        elif roll < 0.3:  # an over-long sentence
            parts.append(" ".join(words(rng.randint(50, 300))))
        else:
            parts.append("\n".join(paragraph(rng.randint(1, 4), n_words=rng.randint(2, 14))
                                   for _ in range(rng.randint(1, 2))))
    text = "\n\n".join(parts)
    kind = rng.choice(["article", "paper", "thread", "code"])
    chunks = chunk_document(kind, text, max_chars=max_chars, overlap_chars=overlap)
    assert_well_formed(chunks, max_chars)
    assert_nothing_lost(text, chunks)
