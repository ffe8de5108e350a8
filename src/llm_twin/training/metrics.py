"""Held-out perplexity: the author's test split and an impostor corpus, under base and tuned models.

Perplexity is token-weighted over the assistant tokens only (the same labels as training), so a
long post counts by its length. The impostor corpus (another author's Markdown posts, shown to the
model in the same prompt format) tells a gain in the author's voice from a gain in the genre: the
author's perplexity should fall clearly more than the impostor's.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

from llm_twin.backends.base import Message
from llm_twin.training.chat_tokens import IGNORE, tokenize_conversation

IMPOSTOR_DOCUMENTS = 40
IMPOSTOR_CORPUS = "jbranchaud_til"


def default_impostor_folder() -> Path:
    corpora = os.environ.get("TWIN_CORPORA") or "../shared/corpora"
    return Path(corpora) / IMPOSTOR_CORPUS


@dataclass
class Perplexity:
    value: float
    tokens: int
    samples: int


def perplexity(model, tokenizer, conversations: list[list[Message]], *, max_length: int = 512,
               batch_size: int = 4) -> Perplexity:
    """exp(mean negative log-likelihood of the assistant tokens), weighted by token."""
    import torch

    samples = [tokenize_conversation(tokenizer, messages, max_length) for messages in conversations]
    samples = [s for s in samples if s.target_count]
    if not samples:
        return Perplexity(float("nan"), 0, 0)
    samples.sort(key=lambda s: len(s.input_ids))  # similar lengths per batch: less padding
    total_nll, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            batch = samples[start:start + batch_size]
            width = max(len(s.input_ids) for s in batch)
            ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
            labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, sample in enumerate(batch):
                n = len(sample.input_ids)
                ids[row, :n] = torch.tensor(sample.input_ids)
                labels[row, :n] = torch.tensor(sample.labels)
                mask[row, :n] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            shifted = labels[:, 1:].to(device)
            nll = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), shifted,
                                                    ignore_index=IGNORE, reduction="sum")
            total_nll += float(nll)
            total_tokens += int((shifted != IGNORE).sum())
    model.train(was_training)
    return Perplexity(math.exp(total_nll / total_tokens), total_tokens, len(samples))


def impostor_conversations(folder: Path, system: str, *, documents: int = IMPOSTOR_DOCUMENTS,
                           seed: int = 0) -> list[list[Message]]:
    """A fixed sample of another author's posts as answers to the same kind of prompt."""
    import frontmatter

    files = sorted(Path(folder).glob("**/*.md"))
    chosen = random.Random(seed).sample(files, min(documents, len(files)))
    conversations = []
    for file in chosen:
        post = frontmatter.load(file)
        body = post.content.strip()
        if not body:
            continue
        title = str(post.get("title") or file.stem.replace("-", " "))
        conversations.append([{"role": "system", "content": system},
                              {"role": "user", "content": f"Write a post about: {title}"},
                              {"role": "assistant", "content": body}])
    return conversations


def heldout_metrics(models: dict[str, tuple], test: list[list[Message]], *,
                    impostor_folder: Path | None, max_length: int = 512,
                    impostor_documents: int = IMPOSTOR_DOCUMENTS) -> dict:
    """Perplexities of the test split and the impostor corpus under each named (model, tokenizer),
    e.g. {"base": ..., "tuned": ...}. Flat keys, ready for the run's metrics."""
    metrics: dict = {}
    impostor, note = _impostor_set(impostor_folder, test, impostor_documents)
    metrics.update({"impostor_corpus": str(impostor_folder)} if impostor else {"impostor_note": note})
    for name, (model, tokenizer) in models.items():
        if test:
            author = perplexity(model, tokenizer, test, max_length=max_length)
            metrics[f"perplexity_author_{name}"] = author.value
            metrics["perplexity_author_tokens"] = author.tokens
        if impostor:
            other = perplexity(model, tokenizer, impostor, max_length=max_length)
            metrics[f"perplexity_impostor_{name}"] = other.value
            metrics["perplexity_impostor_tokens"] = other.tokens
    return metrics


def _impostor_set(folder: Path | None, test: list[list[Message]], documents: int):
    """The impostor conversations (with the author's own system message), or why there are none."""
    if documents <= 0 or folder is None:
        return [], "impostor corpus skipped"
    if not test:
        return [], "no test split to compare the impostor corpus with"
    if not Path(folder).is_dir():
        return [], f"impostor corpus not found at {folder}; pass --impostor PATH"
    return impostor_conversations(Path(folder), test[0][0]["content"], documents=documents), ""


def relative_change(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or not before or math.isnan(before) or math.isnan(after):
        return None
    return (after - before) / before
