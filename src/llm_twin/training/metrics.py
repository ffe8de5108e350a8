"""Held-out perplexity: the author's test split and an impostor corpus, under base and tuned models.

Perplexity is token-weighted over the assistant tokens only (the same labels as training), so a
long post counts by its length. The impostor corpus (another author's posts) tells a gain in the
author's voice from a gain in the genre: the author's perplexity should fall clearly more than the
impostor's. Like for like, the impostor's texts are cut into answer units as the owner's are and
get the owner's system message and a user message from the same builder (`instruction_messages`,
extractive ideas: deterministic, no model needed at training time).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from llm_twin.backends.base import Message
from llm_twin.training.chat_tokens import IGNORE, tokenize_conversation
from llm_twin.training.dataset_build import DatasetBuild
from llm_twin.training_data.impostors import (MIN_IMPOSTOR_TEXTS, ImpostorFolderError,
                                              default_impostor_folder, impostor_units,
                                              load_impostor_texts)
from llm_twin.training_data.instructions import ExtractiveInstructionWriter, instruction_messages
from llm_twin.training_data.samples import INSTRUCTION
from llm_twin.training_data.store import CARD_FILE, read_jsonl

IMPOSTOR_DOCUMENTS = 40  # answer units of the impostor author scored per model


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


@dataclass
class ImpostorSet:
    """The impostor author's conversations, prompted like the owner's test samples, or why there
    are none (`note`)."""

    conversations: list[list[Message]] = field(default_factory=list)
    folder: Path | None = None
    instructions: str = ""  # the instruction writer that built the impostor prompts
    note: str = ""

    def metrics(self) -> dict:
        if not self.conversations:
            return {"impostor_note": self.note}
        return {"impostor_corpus": str(self.folder), "impostor_instructions": self.instructions,
                **({"impostor_note": self.note} if self.note else {})}


def load_impostor_set(folder: Path | None, build: DatasetBuild, *,
                      documents: int = IMPOSTOR_DOCUMENTS, seed: int = 0) -> ImpostorSet:
    """The impostor conversations for a build's held-out comparison. `folder` None means the
    default corpus, skipped with a note when absent; a given folder that is unusable raises."""
    if documents <= 0:
        return ImpostorSet(note="impostor corpus skipped")
    if folder is None:
        folder = default_impostor_folder()
        if not folder.is_dir():
            return ImpostorSet(note=f"impostor corpus not found at {folder}; pass --impostor PATH")
    system = owner_system_message(read_jsonl(build.path("test.jsonl")))
    if system is None:
        return ImpostorSet(note="no test split to compare the impostor corpus with")
    extractive = ExtractiveInstructionWriter().name
    writer = build_instruction_writer(build)
    note = "" if writer in (None, extractive) else (
        f"impostor prompts use {extractive} instructions (the build's were written by {writer})")
    conversations = impostor_conversations(folder, system, documents=documents, seed=seed)
    return ImpostorSet(conversations, Path(folder), extractive, note)


def impostor_conversations(folder: Path, system: str, *, documents: int = IMPOSTOR_DOCUMENTS,
                           seed: int = 0) -> list[list[Message]]:
    """A fixed sample of another author's answer units, each with the owner's system message and a
    user message built as the owner's are (`instruction_messages`, the extractive writer fitted on
    the impostor's own texts)."""
    units = impostor_units(load_impostor_texts(folder))
    if len(units) < MIN_IMPOSTOR_TEXTS:
        raise ImpostorFolderError(
            f"Impostor corpus {folder}: only {len(units)} of its texts fit the length limits of a "
            "training answer; pass --impostor DIR with more (or longer) posts.")
    chosen = random.Random(seed).sample(units, min(documents, len(units)))
    ideas = ExtractiveInstructionWriter().fit(units).ideas(chosen)
    return [[{"role": "system", "content": system},
             instruction_messages(unit, idea, owner="")[1],  # the user message; system is the owner's
             {"role": "assistant", "content": unit.text}]
            for unit, idea in zip(chosen, ideas)]


def owner_system_message(test_rows: list[dict]) -> str | None:
    """The system message of the owner's post samples in a test split (the most common one)."""
    posts = [r for r in test_rows if r.get("source", INSTRUCTION) == INSTRUCTION
             and r.get("kind") not in ("code", "commit") and r.get("messages")]
    systems = Counter(r["messages"][0]["content"] for r in posts
                      if r["messages"][0].get("role") == "system")
    return systems.most_common(1)[0][0] if systems else None


def build_instruction_writer(build: DatasetBuild) -> str | None:
    """The instruction writer recorded in the build's card, when it has one."""
    try:
        card = json.loads(build.path(CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    instructions = card.get("instructions") if isinstance(card, dict) else None
    return instructions.get("writer") if isinstance(instructions, dict) else None


def heldout_metrics(models: dict[str, tuple], test: list[list[Message]], *,
                    impostor: ImpostorSet | None = None, max_length: int = 512) -> dict:
    """Perplexities of the test split and the impostor conversations under each named
    (model, tokenizer), e.g. {"base": ..., "tuned": ...}. Flat keys, ready for the run's metrics."""
    impostor = impostor or ImpostorSet(note="impostor corpus skipped")
    metrics: dict = impostor.metrics()
    for name, (model, tokenizer) in models.items():
        if test:
            author = perplexity(model, tokenizer, test, max_length=max_length)
            metrics[f"perplexity_author_{name}"] = author.value
            metrics["perplexity_author_tokens"] = author.tokens
        if impostor.conversations:
            other = perplexity(model, tokenizer, impostor.conversations, max_length=max_length)
            metrics[f"perplexity_impostor_{name}"] = other.value
            metrics["perplexity_impostor_tokens"] = other.tokens
    return metrics


def relative_change(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or not before or math.isnan(before) or math.isnan(after):
        return None
    return (after - before) / before
