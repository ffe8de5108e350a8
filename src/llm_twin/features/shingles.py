"""How much two texts share: their words, word 3-grams (shingles) and MinHash signatures of them.

The dataset's duplicate filters and leak removal (`training_data`) and the novelty check on drafts
(`inference.novelty`) measure overlap the same way, with these.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MINHASH_PERMUTATIONS = 128
_WORD = re.compile(r"\w+(?:'\w+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = 3) -> set[str]:
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def minhash_of(grams: Iterable[str]):
    """The MinHash signature of a set of shingles (datasketch, imported on first use)."""
    from datasketch import MinHash

    signature = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)
    signature.update_batch([g.encode("utf-8") for g in grams])
    return signature
