"""Generation with CTranslate2: the default where it runs the model (3-8x transformers on a CPU).

The model is converted on first use and cached (`backends.ct2_convert`): the base model once per
machine, a fine-tuned run (its adapters merged) once per run, beside it. Prompts go through the
same Hugging Face tokenizer and chat template as the transformers backend; CTranslate2 gets the
prompt's token strings and returns token ids, which that tokenizer decodes.

Sampling settings map one to one, with two documented differences:
- `top_k` is fixed at 50, the value transformers' `generate` uses by default (the transformers
  backend does not set it either);
- the repetition penalty and `no_repeat_ngram_size` count the generated tokens only; transformers
  also counts the prompt's. Greedy output without them is the same token for token (float32).

Batches of prompts of different lengths: CTranslate2 forwards a batch's prompts at once only up to
the shortest one; the rest of each longer prompt is fed one token per decoding step (its issue
#1349). A batch of retrieval prompts 400 tokens apart then spends 400 steps on prompt tokens, which
made a concurrent server slower than transformers. So rows are run in groups of similar prompt
length (`length_groups`), one `generate_batch` per group.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator as PyGenerator, Sequence
from pathlib import Path
from typing import Any

from llm_twin.backends.base import (BackendError, Generation, GenerationParams, GenerationStream,
                                    Message, TokenizerPrompts, completion_token_ids)
from llm_twin.backends.ct2_convert import ConversionSource, convert, source_key, weight_files
from llm_twin.backends.loading import (LoadOptions, ModelLocation, ModelNotFoundError, adapter_folders,
                                      load_tokenizer, load_tuned_model, local_weights, locate_model)
from llm_twin.errors import InputError

TOP_K = 50  # transformers' default for sampling, which the other backends use
COMPUTE_TYPES = ("auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                 "float16", "bfloat16", "float32")
INSTALL_HINT = "pip install ctranslate2"


def import_ctranslate2():
    try:
        import ctranslate2
    except ImportError as error:
        raise BackendError(f"The ctranslate2 backend needs CTranslate2: {INSTALL_HINT}.") from error
    return ctranslate2


def resolve_ct2_device(device: str) -> str:
    ctranslate2 = import_ctranslate2()
    if device == "auto":
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        raise BackendError("device is 'cuda' but CTranslate2 sees no CUDA GPU; "
                           "set device to 'auto' or 'cpu'.")
    return device


def resolve_compute_type(compute_type: str, device: str) -> str:
    """"auto": int8 weights with float32 maths on a CPU, int8 with float16 on a GPU."""
    if compute_type not in COMPUTE_TYPES:
        raise InputError(f"Unknown ct2_compute_type {compute_type!r}; choose one of "
                         f"{', '.join(COMPUTE_TYPES)}.")
    if compute_type == "auto":
        return "int8_float16" if device == "cuda" else "int8"
    supported = import_ctranslate2().get_supported_compute_types(device)
    if compute_type not in supported:
        raise InputError(f"ct2_compute_type {compute_type!r} does not run on this {device}; "
                         f"it supports {', '.join(sorted(supported))}.")
    return compute_type


class CTranslate2Backend(TokenizerPrompts):
    """Loads (and converts, the first time) lazily; `load_seconds` includes a conversion."""

    name = "ctranslate2"

    def __init__(self, model: str, *, gguf_file: str | None = None, device: str = "auto",
                 compute_type: str = "auto", threads: int | None = None,
                 cache_dir: Path | None = None, tuned_run=None,
                 on_converted: Callable[[str, str], None] | None = None):
        # tuned_run: a registry TrainingRun, converted with its adapters merged into its base.
        # on_converted(run_id, path): told where a run's conversion lives (the registry keeps it).
        self.tuned_run = tuned_run
        if tuned_run is not None:
            model, gguf_file = tuned_run.base_model, tuned_run.gguf_file
        self.model_id = tuned_run.id if tuned_run is not None else model
        self.location: ModelLocation = locate_model(model, gguf_file)
        self.device = device
        self.compute_type = compute_type
        self.threads = threads
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.on_converted = on_converted
        self.load_seconds = 0.0
        self.model_path: Path | None = None
        self._generator: Any | None = None  # a ctranslate2.Generator (untyped), None until load()
        self._tokenizer: Any | None = None
        self._end_tokens: list[str] = []
        self._end_ids: set[int] = set()
        self._context_window = 2048
        self._lock = threading.Lock()
        self._sampled = False  # whether the generator's worker has seeded its sampler yet

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            if self._generator is not None:
                return
            started = time.perf_counter()
            device = resolve_ct2_device(self.device)
            compute_type = resolve_compute_type(self.compute_type, device)
            try:
                self.model_path = self._converted(compute_type)
                tokenizer = load_tokenizer(str(self.model_path))
            except OSError as error:
                raise ModelNotFoundError(
                    f"Cannot load generation model {self.model_id!r}: {error}. Use 'smollm2' "
                    "(bundled), a local folder, or a Hugging Face id this machine can download.") from error
            self._device, self.compute_type_used = device, compute_type
            self._tokenizer, self._generator = tokenizer, self._new_generator()
            self._end_tokens = [tokenizer.eos_token]
            self._end_ids = set(tokenizer.convert_tokens_to_ids(self._end_tokens))
            self._context_window = _context_window(self.model_path)
            self.load_seconds = time.perf_counter() - started

    def prepare(self) -> Path:
        """Convert now if needed, without loading: a finished training run is made ready to serve
        while its job still runs, so the first draft does not wait for it."""
        device = resolve_ct2_device(self.device)
        return self._converted(resolve_compute_type(self.compute_type, device))

    def _new_generator(self):
        return import_ctranslate2().Generator(
            str(self.model_path), device=self._device, compute_type=self.compute_type_used,
            intra_threads=self.threads or os.cpu_count() or 0)

    def _converted(self, compute_type: str) -> Path:
        if self.tuned_run is not None:
            return ensure_run_converted(self.tuned_run, self.cache_dir, compute_type,
                                        on_converted=self.on_converted)
        return ensure_base_converted(self.location, self.cache_dir, compute_type)

    @property
    def tokenizer(self) -> Any:
        self.load()
        assert self._tokenizer is not None
        return self._tokenizer

    @property
    def generator(self) -> Any:
        """The loaded `ctranslate2.Generator` (e.g. `score_batch` for log-likelihoods)."""
        self.load()
        assert self._generator is not None
        return self._generator

    @property
    def context_window(self) -> int:
        self.load()
        return self._context_window

    # -- prompting (count_tokens and render_prompt: TokenizerPrompts) ----------------------------
    def _prompt_tokens(self, messages: list[Message]) -> list[str]:
        ids = self.tokenizer(self.render_prompt(messages), add_special_tokens=False)["input_ids"]
        return self.tokenizer.convert_ids_to_tokens(ids)

    # -- generation ----------------------------------------------------------------------------
    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Generation]:
        self.load()
        prompts = [self._prompt_tokens(messages) for messages in conversations]
        self._seed(params)
        generations: dict[int, Generation] = {}  # by row
        for group in length_groups([len(p) for p in prompts], params.max_new_tokens):
            results = self.generator.generate_batch([prompts[row] for row in group],
                                                    include_prompt_in_result=False,
                                                    return_end_token=True, **self._options(params))
            for row, result in zip(group, results):
                generations[row] = self._generation(result.sequences_ids[0], len(prompts[row]))
        return [generations[row] for row in range(len(prompts))]  # every row is in one group

    def stream(self, messages: list[Message], params: GenerationParams) -> GenerationStream:
        return GenerationStream(self._stream_pieces(messages, params))

    def _stream_pieces(self, messages: list[Message], params: GenerationParams
                       ) -> PyGenerator[str, None, Generation]:
        """Closing the stream early stops CTranslate2 at its next step."""
        self.load()
        prompt = self._prompt_tokens(messages)
        self._seed(params)
        steps = self.generator.generate_tokens(prompt, **self._options(params))
        ids: list[int] = []
        emitted = ""
        try:
            for step in steps:
                ids.append(step.token_id)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                if not text.endswith("\ufffd"):  # a character still incomplete: wait for its next byte
                    if text[len(emitted):]:
                        yield text[len(emitted):]
                    emitted = text
        finally:
            steps.close()
        return self._generation(ids, len(prompt))

    def stream_batch(self, conversations: Sequence[list[Message]], params: GenerationParams,
                     max_new_tokens: Sequence[int]):
        """The conversations as one batch, each streamed on its own (backends.batch_stream): a row
        stops at its own limit or end-of-turn, or when its reader goes away."""
        from llm_twin.backends.batch_stream import BatchRun, RowStreamer

        self.load()
        prompts = [self._prompt_tokens(messages) for messages in conversations]
        streamer = RowStreamer(self.tokenizer, max_new_tokens, self._end_ids)
        options = {**self._options(params), "max_length": max(max_new_tokens)}
        outcome: dict = {}

        def run_group(group: list[int]) -> None:
            def on_step(step) -> bool:
                row = group[step.batch_id]
                if streamer.open[row]:
                    streamer.add(row, step.token_id)
                return not streamer.open[row]  # True stops this row

            longest = max(max_new_tokens[row] for row in group)
            self.generator.generate_batch([prompts[row] for row in group],
                                          include_prompt_in_result=False, callback=on_step,
                                          **{**options, "max_length": longest})

        def run() -> None:
            try:
                for group in length_groups([len(p) for p in prompts], max(max_new_tokens)):
                    if any(streamer.open[row] for row in group):
                        run_group(group)
            except Exception as error:  # raised to every reader
                outcome["error"] = error
            finally:
                streamer.end()

        self._seed(params)
        worker = threading.Thread(target=run, name="twin-ct2-batch", daemon=True)
        batch = BatchRun(streamer, [len(p) for p in prompts], worker, outcome)
        worker.start()
        return batch

    # -- scoring -------------------------------------------------------------------------------
    def score(self, prompts: list[list[Message]], completions: list[str],
              batch_size: int = 4) -> list[float | None]:
        """Mean log-probability per completion token given its prompt, from
        `Generator.score_batch` (backends.base.ScoringBackend)."""
        self.load()
        rows = [completion_token_ids(self.tokenizer, self.render_prompt(messages), completion)
                for messages, completion in zip(prompts, completions, strict=True)]
        scored = [(ids, start) for ids, start in rows if 0 < start < len(ids)]
        results = iter(self.generator.score_batch(
            [self.tokenizer.convert_ids_to_tokens(ids) for ids, _ in scored],
            max_batch_size=batch_size, max_input_length=0) if scored else [])
        scores: list[float | None] = []
        for ids, start in rows:
            if not 0 < start < len(ids):
                scores.append(None)
                continue
            # log_probs[i] scores token i + 1: the completion's tokens are log_probs[start - 1:]
            completion = next(results).log_probs[start - 1:]
            scores.append(sum(completion) / len(completion))
        return scores

    def _options(self, params: GenerationParams) -> dict:
        options = {"max_length": params.max_new_tokens, "end_token": self._end_tokens,
                   "repetition_penalty": params.repetition_penalty,
                   "no_repeat_ngram_size": params.no_repeat_ngram_size}
        if params.temperature > 0:
            options.update(sampling_topk=TOP_K, sampling_topp=params.top_p,
                           sampling_temperature=params.temperature)
        else:
            options.update(sampling_topk=1)
        return options

    def _seed(self, params: GenerationParams) -> None:
        """CTranslate2 seeds each worker thread's sampler once, when the thread first samples; a
        seeded request after that gets a fresh generator (~0.1 s for the 135M model) so the same
        seed gives the same text in a long-running server too."""
        if params.temperature <= 0:
            return  # greedy: nothing random
        with self._lock:
            if params.seed is not None:
                import_ctranslate2().set_random_seed(params.seed)
                if self._sampled:
                    self._generator = self._new_generator()
            self._sampled = True

    def _generation(self, ids: list[int], prompt_tokens: int) -> Generation:
        finished = bool(ids) and ids[-1] in self._end_ids
        if finished:
            ids = ids[:-1]
        text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
        return Generation(text, prompt_tokens, len(ids), finished)


def length_groups(lengths: Sequence[int], max_new_tokens: int) -> list[list[int]]:
    """Row indices grouped by prompt length, shortest first, so that within a group the longest
    prompt exceeds the shortest by at most half the token budget. Within a group the extra prompt
    tokens cost a decoding step each (while the shorter rows already generate); a separate group
    costs a whole decoding loop, so a spread of ~max_new_tokens is where splitting starts to pay;
    half of it keeps first tokens prompt for streaming readers."""
    max_spread = max(8, max_new_tokens // 2)
    groups: list[list[int]] = []
    shortest = 0
    for row in sorted(range(len(lengths)), key=lambda index: lengths[index]):
        if not groups or lengths[row] - shortest > max_spread:
            groups.append([])
            shortest = lengths[row]
        groups[-1].append(row)
    return groups


def _context_window(folder: Path) -> int:
    import json

    marker = json.loads((folder / "twin-ct2.json").read_text(encoding="utf-8"))
    return int(marker.get("context_window") or 2048)


# -- conversions ----------------------------------------------------------------------------------
def base_ct2_folder(location: ModelLocation, cache_dir: Path | None,
                    compute_type: str) -> tuple[Path, str, Callable]:
    """(folder, key, make_source) of the base model's conversion in the cache."""
    cache_root = cache_dir or _default_cache()
    stem = Path(location.gguf_file or location.name_or_path).name.replace("/", "--")
    if location.gguf_file:  # a packaged file: its name and size, wherever it is installed
        gguf = Path(location.name_or_path) / location.gguf_file
        key = source_key([], compute_type, extra=f"{gguf.name}|{gguf.stat().st_size}")
    elif Path(location.name_or_path).is_dir():
        key = source_key(weight_files(Path(location.name_or_path)), compute_type)
    else:  # a hub id: converted from what transformers downloads for it
        key = source_key([], compute_type, extra=location.name_or_path)

    def make_source(_scratch: Path) -> ConversionSource:
        return ConversionSource(Path(local_weights(location, cache_root).name_or_path))

    return cache_root / "ct2" / f"{stem}-{compute_type}", key, make_source


def ensure_base_converted(location: ModelLocation, cache_dir: Path | None, compute_type: str) -> Path:
    folder, key, make_source = base_ct2_folder(location, cache_dir, compute_type)
    return convert(make_source, folder, key=key, quantization=compute_type,
                   label=Path(location.gguf_file or location.name_or_path).name)


def ensure_run_converted(run, cache_dir: Path | None, compute_type: str, *,
                         on_converted: Callable[[str, str], None] | None = None) -> Path:
    """A registry run converted beside its adapter (merged base + adapters), made once per run
    and compute type; `on_converted(run_id, folder)` hears it (the registry's ct2_path)."""
    files = [f for folder in adapter_folders(run) for f in weight_files(folder)]
    base = locate_model(run.base_model, run.gguf_file)
    key = source_key(files, compute_type, extra=f"{run.id}|{base.cache_key}")
    folder = Path(run.adapter_path).parent / f"ct2-{compute_type}"
    options = LoadOptions(cache_dir=cache_dir or _default_cache(), device="cpu")

    def make_source(scratch: Path) -> ConversionSource:
        import torch

        model, tokenizer = load_tuned_model(run, options, dtype=torch.float32)
        model.config.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        return ConversionSource(scratch, model)

    converted = convert(make_source, folder, key=key, quantization=compute_type,
                        label=f"model {run.id}")
    if on_converted is not None:
        on_converted(run.id, str(converted))
    return converted


def _default_cache() -> Path:
    from llm_twin.config import default_cache_dir

    return default_cache_dir()
