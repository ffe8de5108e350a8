"""Support: the share of a draft's factual claims that the owner's writing or the prompt backs.

Claims and their checks are the grounding check's (`inference.grounding`: first-person sentences
with a number, a name or an anecdote). The evidence for prompt i is what a system could know when
it answered: the prompt's own texts (the request, and for RAG the notes and examples it was shown)
and the owner's training texts; never the held-out post itself, so the real posts get no free pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llm_twin.inference.grounding import Evidence, find_claims, find_unsupported_claims


@dataclass(frozen=True)
class SupportCount:
    claims: int
    supported: int

    @property
    def share(self) -> float | None:
        return self.supported / self.claims if self.claims else None


def support_counts(drafts: Sequence[str], prompt_texts: Sequence[Sequence[str]],
                   owner: Evidence) -> list[SupportCount]:
    """Per draft: its claims, and how many have every fact found in its prompt's texts or in
    `owner` (build it once: `Evidence(owner_training_texts)`)."""
    if len(drafts) != len(prompt_texts):
        raise ValueError(f"{len(drafts)} drafts for {len(prompt_texts)} prompts' texts.")
    counts = []
    for draft, sources in zip(drafts, prompt_texts):
        claims = len(find_claims(draft))
        unsupported = len(find_unsupported_claims(draft, sources, owner_documents=owner)) if claims else 0
        counts.append(SupportCount(claims, claims - unsupported))
    return counts
