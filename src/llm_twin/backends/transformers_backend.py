"""Generation with Hugging Face transformers (CPU or CUDA), batched, via the chat template."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from llm_twin.backends.base import (Generation, GenerationParams, GenerationStream, Message,
                                    TokenizerPrompts, completion_token_ids)
from llm_twin.backends.loading import (LoadOptions, ModelLocation, load_base_model, load_tuned_model,
                                      locate_model)


class TransformersBackend(TokenizerPrompts):
    """Loads lazily; `load_seconds` tells how long the load took (for `twin write --timings`)."""

    name = "transformers"

    def __init__(self, model: str, *, gguf_file: str | None = None, device: str = "auto",
                 cache_dir: Path | None = None, tuned_run=None):
        # tuned_run: a registry TrainingRun whose adapters go on top of its own base model.
        self.tuned_run = tuned_run
        if tuned_run is not None:
            model, gguf_file = tuned_run.base_model, tuned_run.gguf_file
        self.model_id = tuned_run.id if tuned_run is not None else model
        self.base_model, self.gguf_file = model, gguf_file
        self.location: ModelLocation = locate_model(model, gguf_file)
        self.device = device
        self.cache_dir = cache_dir
        self.load_seconds = 0.0
        self._model: Any | None = None  # a transformers model (untyped), None until load()
        self._tokenizer: Any | None = None

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        if self._model is not None:
            return
        started = time.perf_counter()
        options = LoadOptions(cache_dir=self.cache_dir, device=self.device)
        if self.tuned_run is not None:
            model, tokenizer = load_tuned_model(self.tuned_run, options)
        else:
            model, tokenizer = load_base_model(options, model=self.base_model,
                                               gguf_file=self.gguf_file)
        tokenizer.padding_side = "left"  # batched generation appends to the right edge
        self._model, self._tokenizer = model.eval(), tokenizer
        self.load_seconds = time.perf_counter() - started

    @property
    def tokenizer(self) -> Any:
        self.load()
        assert self._tokenizer is not None
        return self._tokenizer

    @property
    def model(self) -> Any:
        self.load()
        assert self._model is not None
        return self._model

    @property
    def context_window(self) -> int:
        self.load()
        return int(getattr(self.model.config, "max_position_embeddings", 2048) or 2048)

    # -- generation ----------------------------------------------------------------------
    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Generation]:
        import torch

        self.load()
        prompts = [self.render_prompt(messages) for messages in conversations]
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True,
                                add_special_tokens=False).to(self.model.device)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **self._sampling_kwargs(params))
        prompt_length = inputs["input_ids"].shape[1]
        return [self._decode(row[prompt_length:], int(mask.sum()), params)
                for row, mask in zip(output, inputs["attention_mask"])]

    def stream(self, messages: list[Message], params: GenerationParams) -> GenerationStream:
        return GenerationStream(self._stream_pieces(messages, params))

    def _stream_pieces(self, messages: list[Message], params: GenerationParams):
        """model.generate runs in a thread and feeds a TextIteratorStreamer; closing the stream
        early stops generation at the next token."""
        import threading

        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        self.load()
        inputs = self.tokenizer(self.render_prompt(messages), return_tensors="pt",
                                add_special_tokens=False).to(self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancelled = threading.Event()
        outcome: dict = {}

        def run() -> None:
            try:
                with torch.inference_mode():
                    outcome["output"] = self.model.generate(
                        **inputs, streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_cancel_criterion(cancelled)]),
                        **self._sampling_kwargs(params))
            except Exception as error:  # re-raised in the consumer's thread below
                outcome["error"] = error
                streamer.end()

        if params.seed is not None:
            torch.manual_seed(params.seed)
        worker = threading.Thread(target=run, name="twin-stream", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            cancelled.set()
            worker.join()
        if "error" in outcome:
            raise outcome["error"]
        prompt_length = inputs["input_ids"].shape[1]
        return self._decode(outcome["output"][0][prompt_length:], prompt_length, params)

    def stream_batch(self, conversations, params: GenerationParams, max_new_tokens):
        """The conversations as one batch, each streamed on its own (backends.batch_stream)."""
        import threading

        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        from llm_twin.backends.batch_stream import BatchRun, RowStreamer

        self.load()
        prompts = [self.render_prompt(messages) for messages in conversations]
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True,
                                add_special_tokens=False).to(self.model.device)
        streamer = RowStreamer(self.tokenizer, max_new_tokens, {self.tokenizer.eos_token_id})

        class AllRowsClosed(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), streamer.all_closed(), dtype=torch.bool,
                                  device=input_ids.device)

        outcome: dict = {}
        sampling = {**self._sampling_kwargs(params), "max_new_tokens": max(max_new_tokens)}

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**inputs, streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([AllRowsClosed()]),
                                        **sampling)
            except Exception as error:  # raised to every reader
                outcome["error"] = error
            finally:
                streamer.end()

        if params.seed is not None:
            torch.manual_seed(params.seed)
        worker = threading.Thread(target=run, name="twin-batch", daemon=True)
        prompt_tokens = [int(mask.sum()) for mask in inputs["attention_mask"]]
        run_ = BatchRun(streamer, prompt_tokens, worker, outcome)
        worker.start()
        return run_

    # -- scoring -------------------------------------------------------------------------
    def score(self, prompts: list[list[Message]], completions: list[str],
              batch_size: int = 4) -> list[float | None]:
        """Mean log-probability per completion token given its prompt: one forward pass per
        batch of pairs, no gradients (backends.base.ScoringBackend)."""
        self.load()
        rows = [completion_token_ids(self.tokenizer, self.render_prompt(messages), completion)
                for messages, completion in zip(prompts, completions, strict=True)]
        scores: list[float | None] = []
        for start in range(0, len(rows), batch_size):
            scores += self._score_rows(rows[start:start + batch_size])
        return scores

    def _score_rows(self, rows: list[tuple[list[int], int]]) -> list[float | None]:
        import torch

        width = max(len(ids) for ids, _ in rows)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows],
                                 device=self.model.device)
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows],
                            device=self.model.device)
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits
        scores: list[float | None] = []
        for row, (ids, start) in enumerate(rows):
            if len(ids) <= start or start == 0:
                scores.append(None)
                continue
            # logits at position i predict token i + 1
            log_probs = torch.log_softmax(logits[row, start - 1:len(ids) - 1].float(), dim=-1)
            targets = input_ids[row, start:len(ids)].unsqueeze(-1)
            scores.append(float(log_probs.gather(-1, targets).mean()))
        return scores

    def _sampling_kwargs(self, params: GenerationParams) -> dict:
        kwargs = {"max_new_tokens": params.max_new_tokens,
                  "repetition_penalty": params.repetition_penalty,
                  "pad_token_id": self.tokenizer.pad_token_id,
                  "eos_token_id": self.tokenizer.eos_token_id}
        if params.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = params.no_repeat_ngram_size
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False)
        return kwargs

    def _decode(self, new_tokens, prompt_tokens: int, params: GenerationParams) -> Generation:
        ids = new_tokens.tolist()
        eos = self.tokenizer.eos_token_id
        finished = eos in ids
        if finished:
            ids = ids[:ids.index(eos)]
        text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
        return Generation(text, prompt_tokens, len(ids), finished)


def _cancel_criterion(cancelled):
    """A stopping criterion that ends generation once `cancelled` (a threading.Event) is set."""
    import torch
    from transformers import StoppingCriteria

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool,
                              device=input_ids.device)

    return Cancelled()

