"""DocumentMeta: the Document.extra keys read after ingest, read back only with their declared types."""

from __future__ import annotations

import pytest

from llm_twin.storage.models import _META_CHECKS, Document, DocumentMeta, document_meta

WELL_FORMED: DocumentMeta = {"conversation": "chat-1", "position": 3, "posts": ["one", "two"],
                             "language": "python", "path": "src/app.py", "tag": "commit_message",
                             "draft": True, "engagement": {"likes": 31, "reposts": 5}}


def test_every_declared_key_is_checked() -> None:
    assert set(_META_CHECKS) == set(DocumentMeta.__annotations__)


def test_well_formed_keys_come_back_and_format_keys_are_left_out() -> None:
    stored = {**WELL_FORMED, "file": "tweets.js", "hashtags": ["x"], "visibility": "public"}
    assert document_meta(stored) == WELL_FORMED
    assert document_meta(Document(extra=stored).extra) == WELL_FORMED


@pytest.mark.parametrize("extra", [None, [], "text", 3, ["conversation", "chat-1"]])
def test_anything_but_a_json_object_reads_as_empty(extra: object) -> None:
    assert document_meta(extra) == {}


@pytest.mark.parametrize("key, bad", [("conversation", 7), ("position", "3"), ("posts", "one"),
                                      ("posts", ["one", 2]), ("language", None), ("path", ["a"]),
                                      ("tag", {"name": "x"}), ("draft", "yes"), ("draft", 1),
                                      ("engagement", {"likes": "31"}), ("engagement", {"views": 9}),
                                      ("engagement", {"likes": -1}), ("engagement", {"likes": True}),
                                      ("engagement", [31, 5])])
def test_a_value_of_the_wrong_type_is_left_out(key: str, bad: object) -> None:
    meta = document_meta({**WELL_FORMED, key: bad})
    assert key not in meta
    assert len(meta) == len(WELL_FORMED) - 1
