"""Tokenising chat samples for training and scoring, with the loss on the assistant's words only.

The text is the tokenizer's own chat template, exactly as serving renders it
(`TransformersBackend.render_prompt`: `apply_chat_template(..., add_generation_prompt=True)`) plus
the answer. Labels are built from the assistant spans, found by rendering the conversation up to
each answer with and without it, so the answer's end-of-turn token is a target. SmolLM2 pads with
that same token, so a collator that masked "pad" ids would hide the stop token; TRL's collator pads
labels by length, and the labels here never depend on the pad id.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_twin.backends.base import Message
from llm_twin.errors import ModelError

IGNORE = -100


@dataclass
class TokenizedSample:
    input_ids: list[int]
    labels: list[int]

    @property
    def target_count(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def render(tokenizer, messages: list[Message], *, add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer, messages: list[Message]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans the model must learn to write: each
    assistant answer through its end-of-turn token (the newline after it is never generated)."""
    text = render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(tokenizer, messages[:i], add_generation_prompt=True)
        with_answer = render(tokenizer, messages[:i + 1])
        if not (with_answer.startswith(prompt) and text.startswith(with_answer)):
            raise ModelError("The chat template renders a conversation's beginning differently when "
                             "more turns follow; twin cannot align training with serving for it.")
        answer = with_answer[len(prompt):]
        eos = tokenizer.eos_token or ""
        end = answer.rfind(eos) + len(eos) if eos and eos in answer else len(answer)
        spans.append((len(prompt), len(prompt) + end))
    return text, spans


def tokenize_conversation(tokenizer, messages: list[Message],
                          max_length: int | None = None) -> TokenizedSample:
    """input_ids of the rendered conversation; labels = ids inside assistant spans, else -100.

    Too long: older turns of a conversation are dropped first (the system message and the last
    answer stay), then the sequence is cut at max_length (the answer's start is kept)."""
    sample = _tokenize(tokenizer, messages)
    while max_length and len(sample.input_ids) > max_length and _droppable_turns(messages):
        messages = [messages[0], *messages[3:]]  # drop the oldest user/assistant exchange
        sample = _tokenize(tokenizer, messages)
    if max_length and len(sample.input_ids) > max_length:
        sample = TokenizedSample(sample.input_ids[:max_length], sample.labels[:max_length])
    return sample


def _droppable_turns(messages: list[Message]) -> bool:
    return len(messages) > 3 and messages[0]["role"] == "system" and messages[2]["role"] == "assistant"


def _tokenize(tokenizer, messages: list[Message]) -> TokenizedSample:
    text, spans = assistant_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoded["input_ids"]
    labels = [token if any(start <= begin < end for start, end in spans) else IGNORE
              for token, (begin, _) in zip(ids, encoded["offset_mapping"])]
    return TokenizedSample(ids, labels)


def tokenized_dataset(tokenizer, conversations: list[list[Message]], max_length: int | None):
    """A `datasets.Dataset` with input_ids and labels; TRL's SFTTrainer takes it as prepared."""
    import datasets

    samples = [tokenize_conversation(tokenizer, messages, max_length) for messages in conversations]
    samples = [s for s in samples if s.target_count]  # an answer cut off entirely teaches nothing
    return datasets.Dataset.from_dict({"input_ids": [s.input_ids for s in samples],
                                       "labels": [s.labels for s in samples]})
