"""An embedding model that cannot be found is a ModelError naming it, not a library OSError."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.errors import ModelError
from llm_twin.features.embeddings import SentenceTransformerEmbedder


def test_a_missing_local_embedding_model_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    embedder = SentenceTransformerEmbedder(str(missing))
    with pytest.raises(ModelError, match="Cannot load the embedding model .*no-such-model.*"
                                         "set embedding_model") as failed:
        embedder.dimension
    assert isinstance(failed.value.__cause__, OSError)
