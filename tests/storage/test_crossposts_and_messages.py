"""Cross-posts are linked rather than counted twice; repeated chat lines stay separate messages."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from llm_twin.features.cleaning import crosspost_key
from llm_twin.ingest.base import ImportedDocument, ImportResult
from llm_twin.ingest.pipeline import store_import
from llm_twin.storage.models import Document

POST = "Boring is a feature. We kept our job queue in Postgres and nobody was paged for a year."
WHEN = datetime(2024, 3, 1, tzinfo=timezone.utc)


def _doc(platform: str, text: str, kind: str = "post", **extra) -> ImportedDocument:
    return ImportedDocument(platform, kind, "maya", True, text, created_at=WHEN, **extra)


def test_the_same_post_on_another_platform_is_linked_to_the_first(sessions, tmp_path):
    store_import(tmp_path / "x", "h1", ImportResult("x-archive", [_doc("x", POST)]), sessions)
    copy = f"{POST}\n\nhttps://mayabuilds.dev/boring"  # a URL added on LinkedIn
    report = store_import(tmp_path / "li", "h2", ImportResult("linkedin", [_doc("linkedin", copy)]),
                          sessions)
    assert report.new_documents == 1 and report.crossposts == 1
    with sessions() as session:
        first, second = session.scalars(select(Document).order_by(Document.id)).all()
    assert second.crosspost_of_id == first.id and first.crosspost_of_id is None


def test_similar_words_on_the_same_platform_are_not_linked(sessions, tmp_path):
    report = store_import(tmp_path, "h1", ImportResult("x-archive", [
        _doc("x", POST), _doc("x", POST + " !!")]), sessions)
    assert report.crossposts == 0


def test_short_texts_get_no_crosspost_key():
    assert crosspost_key("thanks, see you soon") is None
    assert crosspost_key(POST) == crosspost_key(POST.upper() + " https://t.co/x")


def test_repeated_chat_lines_are_separate_messages(sessions, tmp_path):
    messages = [ImportedDocument("whatsapp", "message", "maya", True, "ok", created_at=WHEN,
                                 external_id=f"chat:{i}") for i in range(3)]
    report = store_import(tmp_path, "h1", ImportResult("whatsapp", messages), sessions)
    assert report.new_documents == 3
    again = store_import(tmp_path, "h2", ImportResult("whatsapp", messages), sessions)
    assert again.new_documents == 0 and again.duplicates == 3
