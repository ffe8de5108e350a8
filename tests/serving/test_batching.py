"""Batched streaming (backends.batch_stream) and the request batcher of the OpenAI-compatible API,
with the real SmolLM2: rows of a batch equal the backend's own batched generation, each row keeps
its own limit, concurrent requests share batches, and a failing request fails alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import openai
import pytest

from live_server import DEFAULTS, MODEL_NAME, shared_backend, twin_api_server
from llm_twin.serving.batching import RequestBatcher

pytestmark = pytest.mark.models

GREEDY = replace(DEFAULTS, max_new_tokens=12, temperature=0.0)
CONVERSATIONS = [[{"role": "user", "content": question}] for question in
                 ("Say hi.", "Explain Postgres in one sentence.", "Name a colour.")]


def read_all(streams):
    texts = [None] * len(streams)

    def read(row):
        texts[row] = "".join(streams[row])

    threads = [threading.Thread(target=read, args=(row,)) for row in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return texts


def test_batch_rows_are_the_batched_generation_streamed_per_row():
    backend = shared_backend()
    expected = backend.generate(CONVERSATIONS, GREEDY)
    run = backend.stream_batch(CONVERSATIONS, GREEDY, [12, 12, 12])
    streamed = read_all(run.streams)
    run.join()
    for text, stream, generation in zip(streamed, run.streams, expected):
        assert stream.result.text == generation.text
        assert text.strip() == generation.text
        assert stream.result.completion_tokens == generation.completion_tokens
        assert stream.result.prompt_tokens == generation.prompt_tokens


def test_each_row_stops_at_its_own_limit_and_dropped_rows_end_the_batch():
    backend = shared_backend()
    run = backend.stream_batch(CONVERSATIONS, GREEDY, [3, 12, 1])
    read_all(run.streams)
    run.join()
    assert [s.result.completion_tokens for s in run.streams] == [3, 12, 1]

    long = backend.stream_batch(CONVERSATIONS, replace(GREEDY, max_new_tokens=400), [400] * 3)
    for stream in long.streams:
        next(stream)
        stream.close()
    long.join()  # returns: no row wants more tokens, so generation stopped early


class CountingBackend:
    """The real backend, counting how its batches were made (not a mock: it generates)."""

    def __init__(self, backend):
        self.backend = backend
        self.batches: list[int] = []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def stream_batch(self, conversations, params, limits):
        self.batches.append(len(conversations))
        return self.backend.stream_batch(conversations, params, limits)


def test_concurrent_requests_share_batches_and_errors_stay_with_their_request():
    counting = CountingBackend(shared_backend())
    batcher = RequestBatcher(lambda: counting, threading.Lock(), max_batch=4, gather_s=0.2)

    def params(backend, tokens=6):
        return replace(GREEDY, max_new_tokens=tokens)

    def too_long(backend):
        raise ValueError("over the window")

    def ask(index):
        maker = too_long if index == 2 else params
        try:
            (stream,) = batcher.submit(CONVERSATIONS[index % 3], 1, maker)
        except ValueError as error:
            return str(error)
        return stream.finish().text

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, range(6)))
    assert answers[2] == "over the window"
    alone = shared_backend().generate([CONVERSATIONS[0]], replace(GREEDY, max_new_tokens=6))[0]
    assert answers[0] == alone.text and answers[3] == alone.text
    assert 2 <= max(counting.batches) <= 4  # batched, never over max_batch
    assert sum(counting.batches) <= 5  # a request left alone runs on its own


def test_different_sampling_settings_are_not_batched_together():
    counting = CountingBackend(shared_backend())
    batcher = RequestBatcher(lambda: counting, threading.Lock(), max_batch=8, gather_s=0.2)

    def ask(seed):
        (stream,) = batcher.submit(CONVERSATIONS[0], 1,
                                   lambda backend: replace(GREEDY, max_new_tokens=4, seed=seed))
        return stream.finish()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(ask, [1, 2, 1, 2]))
    assert sorted(counting.batches) == [2, 2]


def test_openai_clients_streaming_at_once_all_get_answers():
    with twin_api_server(api_key=None) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)

        def ask(index):
            stream = client.chat.completions.create(
                model=MODEL_NAME, messages=CONVERSATIONS[index % 3], max_tokens=6 + index,
                temperature=0, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(ask, range(6)))
        assert all(answer.strip() for answer in answers)
        # A client that leaves mid-stream does not hold the others up.
        with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=60,
                          json={"model": MODEL_NAME, "messages": CONVERSATIONS[1],
                                "max_tokens": 200, "stream": True}) as response:
            next(response.iter_lines())
        after = client.chat.completions.create(model=MODEL_NAME, messages=CONVERSATIONS[0],
                                               max_tokens=4, temperature=0)
        assert after.choices[0].message.content
