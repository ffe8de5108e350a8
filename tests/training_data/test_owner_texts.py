from datetime import datetime, timezone

from sqlalchemy import select

from llm_twin.storage.models import Document
from llm_twin.training_data.owner_texts import (length_limits, load_owner_documents, owner_texts,
                                                section_slices)
from conftest import make_doc


def test_sections_are_verbatim_slices_cut_at_headings_and_paragraphs():
    text = ("Intro paragraph one.\n\nIntro paragraph two.\n\n## Part A\n\nBody of A.\n\n"
            "## Part B\n\nBody of B that is a little longer than the others.")
    pieces = section_slices(text, max_chars=60)
    assert all(piece in text for piece in pieces)
    assert any(piece.startswith("## Part A") for piece in pieces)
    assert any(piece.startswith("## Part B") for piece in pieces)
    assert all(len(piece) <= 60 for piece in pieces)


def test_a_fenced_code_block_with_blank_lines_is_never_cut():
    code = "```python\ndef a():\n    pass\n\n\ndef b():\n    pass\n```"
    text = f"Look at this.\n\n{code}\n\nThat was it."
    pieces = section_slices(text, max_chars=len(code) + 2)
    assert code in pieces


def test_long_article_becomes_sections_and_a_too_long_paragraph_is_counted(ingest, sessions):
    long_paragraph = "word " * 500  # 2500 characters, no break: over the 2000 per section
    article = "\n\n".join([f"Paragraph {i} " + "text " * 100 for i in range(12)] + [long_paragraph])
    ingest(make_doc(article, kind="article", title="Big one",
                    created_at=datetime(2024, 1, 1, tzinfo=timezone.utc)))
    with sessions() as session:
        (document,) = load_owner_documents(session)
        units, too_long = owner_texts(document)
    assert len(units) > 1 and too_long == 1
    assert all(unit.text in document.raw_text for unit in units)
    assert [u.section for u in units] == list(range(len(units)))
    assert all(u.sections == len(units) and u.title == "Big one" for u in units)


def test_chat_messages_and_other_people_are_not_owner_documents(ingest, sessions):
    ingest(make_doc("mine, a post of my own", platform="x"),
           make_doc("someone else's post here", platform="x", is_owner=False, author="Other"),
           make_doc("my chat message to a friend", platform="whatsapp", kind="message"))
    with sessions() as session:
        texts = [d.raw_text for d in load_owner_documents(session)]
        assert session.scalar(select(Document.id).where(Document.is_owner.is_(False)))
    assert texts == ["mine, a post of my own"]


def test_length_limits_follow_platform_and_kind():
    assert length_limits("x", "post").max_chars == 4000
    assert length_limits("instagram", "post").max_chars == 2200
    assert length_limits("linkedin", "post").max_chars == 3000
    assert length_limits("blog", "article").max_chars == 2000
    assert length_limits("code", "post", "commit_message").min_chars == 15
