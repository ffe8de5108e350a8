"""Era tags: the year a post's prompt asks the voice of (`twin dataset build --era-tags`, `twin
write --as-of`).

A dataset built with era tags ends each post sample's habits line with the year its answer was
written, so the model learns how the owner wrote that year; `twin write --as-of YEAR` then asks
for that year's voice with the same words, but only when the model in use was trained on such a
build (its dataset card's `era_tags`): to a model that never saw the tag it is noise.
"""

from __future__ import annotations


def era_hint(year: int) -> str:
    """The habits line's last hint: the same words in training and serving."""
    return f"Write as I wrote in {year}."
