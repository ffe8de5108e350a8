"""`twin code`: the training prompt format, language filtering, fences, and the real model."""

from __future__ import annotations

import pytest
from conftest import make_doc

from llm_twin.backends.base import GenerationParams
from llm_twin.errors import WorkspaceError
from llm_twin.features.indexing import index_documents
from llm_twin.inference.code_writer import (CodeOptions, CodeWriter, fenced, same_language,
                                            without_fences)
from llm_twin.prompts.wording import code_request, system_message

RETRY_PY = '''def retry(fn, attempts=3):
    """Call fn until it works, doubling the wait each time."""
    for attempt in range(attempts):
        try:
            return fn()
        except OSError:
            time.sleep(2 ** attempt)
'''
RETRY_GO = "func Retry(fn func() error, attempts int) error {\n\tfor i := 0; i < attempts; i++ {\n\t\tif err := fn(); err == nil {\n\t\t\treturn nil\n\t\t}\n\t}\n\treturn errors.New(\"gave up\")\n}\n"


def code_doc(text: str, path: str, language: str):
    return make_doc(text, platform="code", kind="code", title=path,
                    metadata={"path": path, "language": language})


def test_model_fences_are_removed_while_streaming_and_one_fence_is_added():
    pieces = ["```py", "thon\ndef f():\n", "    return 1\n``", "`\n"]
    assert "".join(without_fences(pieces)) == "def f():\n    return 1\n"
    assert fenced("x = 1\n", "python") == "```python\nx = 1\n```"


def test_language_names_match_by_name_suffix_or_family():
    assert same_language("python", "python") and same_language("py", "python")
    assert same_language("ts", "typescript") and same_language("javascript", "typescript")
    assert not same_language("go", "python") and not same_language("java", "kotlin")


@pytest.mark.models
def test_code_uses_the_owners_code_in_the_requested_language(ingest, sessions, workspace, store,
                                                             generation_backend):
    writer = CodeWriter(workspace.retriever(store, expansions=0, rerank=False), generation_backend,
                        CodeOptions("Dana", generation=GenerationParams(max_new_tokens=10, seed=1)))
    with pytest.raises(WorkspaceError, match="No code of yours is imported"):
        writer.write("a retry helper")
    ingest(code_doc(RETRY_PY, "src/retry.py", "python"), code_doc(RETRY_GO, "retry.go", "go"))
    index_documents(sessions, store, workspace.embedder)

    result = writer.write("a retry helper with exponential backoff", path="lib/backoff.py")
    assert [s.title for s in result.sources] == ["src/retry.py"]
    assert result.text.startswith("```python\n") and result.text.endswith("\n```")
    assert result.messages[0] == {"role": "system", "content": system_message("Dana")}
    assert result.messages[-1]["content"] == code_request(
        "a retry helper with exponential backoff", "python", "lib/backoff.py")
    assert result.messages[-2]["content"].startswith("def retry(fn, attempts=3):")

    go = writer.write("a retry helper", language="go")
    assert [s.title for s in go.sources] == ["retry.go"]
    rust = writer.write("a retry helper", language="rust")
    assert rust.sources == [] and "no rust code of yours" in rust.notes[0]
