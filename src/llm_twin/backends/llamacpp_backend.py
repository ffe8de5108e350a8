"""Generation with llama.cpp (llama-cpp-python) on a GGUF file: several times faster on CPU.

llama-cpp-python is the optional `fast` extra (`pip install '.[fast]'`; no binary wheel here, so
pip builds llama.cpp from source, ~8 minutes). Prompts go through the GGUF's own chat template,
with the explicit system message in the messages, exactly as in the transformers backend.
llama.cpp has no `no_repeat_ngram_size`; the repetition penalty is its `repeat_penalty`.
"""

from __future__ import annotations

import os
import time
import weakref
from pathlib import Path
from typing import Any

from llm_twin.backends.base import (BackendError, Generation, GenerationParams, GenerationStream,
                                    Message)
from llm_twin.backends.loading import ModelNotFoundError

INSTALL_HINT = "pip install '.[fast]' (builds llama.cpp from source, ~8 min)"


def import_llama_cpp():
    # llama.cpp's OpenMP threads spin while waiting by default; on a busy CPU that starves the
    # thread doing the work (measured here: 6-21 tok/s spinning, 35 tok/s passive, one thread).
    # Only effective before the process's first OpenMP runtime loads; the user's value wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as error:
        raise BackendError(f"The llamacpp backend needs llama-cpp-python: {INSTALL_HINT}.") from error
    return llama_cpp


class LlamaCppBackend:
    """Loads lazily; conversations are generated one after another (llama.cpp keeps one context)."""

    name = "llamacpp"

    def __init__(self, gguf_path: Path | str, *, n_ctx: int = 2048, n_threads: int | None = None):
        self.gguf_path = Path(gguf_path).expanduser()
        self.model_id = str(self.gguf_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.load_seconds = 0.0
        self._llama: Any | None = None  # a llama_cpp.Llama, None until load()
        self._formatter: Any | None = None  # its chat formatter

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        if self._llama is not None:
            return
        llama_cpp = import_llama_cpp()
        if not self.gguf_path.is_file():
            raise ModelNotFoundError(f"GGUF file {self.gguf_path} does not exist; set "
                                     "llamacpp_model_path to a .gguf file or export a model first.")
        started = time.perf_counter()
        try:
            # "chat_template.default" is the GGUF's own template (not a built-in guessed from it).
            llama = llama_cpp.Llama(model_path=str(self.gguf_path), n_ctx=self.n_ctx,
                                    n_threads=self.n_threads, chat_format="chat_template.default",
                                    verbose=False)
        except ValueError as error:  # llama-cpp-python's "Failed to load model from file"
            raise ModelNotFoundError(f"llama.cpp cannot load {self.gguf_path}: {error}") from error
        self._formatter = _chat_formatter(llama_cpp, llama, self.gguf_path)
        self._llama = llama
        # Free it before interpreter shutdown: Llama.__del__ during teardown prints a traceback.
        weakref.finalize(self, llama.close)
        self.load_seconds = time.perf_counter() - started

    @property
    def llama(self) -> Any:
        self.load()
        assert self._llama is not None
        return self._llama

    @property
    def context_window(self) -> int:
        return int(self.llama.n_ctx())

    # -- prompting -----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Special-token text such as <|im_start|> counts as one token, as the model sees it."""
        self.load()
        if not text:
            return 0
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render_prompt(self, messages: list[Message]) -> str:
        """The prompt create_chat_completion builds: the GGUF's chat template, same formatter."""
        self.load()
        assert self._formatter is not None
        return self._formatter(messages=messages).prompt

    # -- generation ----------------------------------------------------------------------------
    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Generation]:
        self.load()
        return [self._complete(messages, params) for messages in conversations]

    def _complete(self, messages: list[Message], params: GenerationParams) -> Generation:
        response = self.llama.create_chat_completion(messages=messages, **_sampling(params))
        choice = response["choices"][0]
        usage = response["usage"]
        return Generation((choice["message"]["content"] or "").strip(), usage["prompt_tokens"],
                          usage["completion_tokens"], choice["finish_reason"] == "stop")

    def stream(self, messages: list[Message], params: GenerationParams) -> GenerationStream:
        return GenerationStream(self._stream_pieces(messages, params))

    def _stream_pieces(self, messages: list[Message], params: GenerationParams):
        """llama.cpp reports no usage while streaming: the counts come from its tokenizer."""
        self.load()
        chunks = self.llama.create_chat_completion(messages=messages, stream=True,
                                                   **_sampling(params))
        pieces: list[str] = []
        finish_reason = None
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                finish_reason = choice.get("finish_reason") or finish_reason
                content = choice.get("delta", {}).get("content")
                if content:
                    pieces.append(content)
                    yield content
        finally:
            chunks.close()
        text = "".join(pieces)
        completion_tokens = len(self.llama.tokenize(text.encode("utf-8"), add_bos=False,
                                                    special=False)) if text else 0
        return Generation(text.strip(), self.count_tokens(self.render_prompt(messages)),
                          completion_tokens, finish_reason == "stop")


def _sampling(params: GenerationParams) -> dict:
    sampling = {"max_tokens": params.max_new_tokens, "temperature": params.temperature,
                "top_p": params.top_p, "repeat_penalty": params.repetition_penalty}
    if params.seed is not None:
        sampling["seed"] = params.seed
    return sampling


def _chat_formatter(llama_cpp, llama, gguf_path: Path):
    """The Jinja2 formatter llama-cpp-python itself builds from the GGUF's chat template."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelNotFoundError(f"{gguf_path} has no chat template (tokenizer.chat_template); "
                                 "the llamacpp backend needs an instruction-tuned GGUF with one.")

    def token_text(token_id: int) -> str:
        return llama._model.token_get_text(token_id) if token_id != -1 else ""

    return llama_cpp.llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()), add_generation_prompt=True)
