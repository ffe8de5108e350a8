"""The OpenAI-compatible API, served by real uvicorn over the real SmolLM2, called with httpx and
with the official `openai` client."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import openai
import pytest
from live_server import API_KEY, DEFAULTS, MODEL_NAME, shared_backend, twin_api_server

pytestmark = pytest.mark.models

MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Name a database."}]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def server() -> str:
    with twin_api_server() as url:
        yield url


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, headers=AUTH, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=API_KEY, max_retries=0)


@pytest.fixture(scope="module")
def expected():
    """What the backend itself answers to MESSAGES with 8 greedy tokens."""
    return shared_backend().generate([MESSAGES], replace(DEFAULTS, max_new_tokens=8))[0]


def chat(http, **fields) -> httpx.Response:
    return http.post("/v1/chat/completions", json={"model": MODEL_NAME, "messages": MESSAGES, **fields})


def test_models_lists_the_served_model_with_its_window(http):
    body = http.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL_NAME]
    assert body["data"][0]["max_model_len"] == shared_backend().context_window
    assert http.get(f"/v1/models/{MODEL_NAME}").json()["id"] == MODEL_NAME
    assert http.get("/v1/models/other").status_code == 404


def test_completion_is_the_backends_answer_with_usage(http, expected):
    response = chat(http, max_tokens=8, temperature=0)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == MODEL_NAME
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": expected.text}
    assert choice["finish_reason"] == ("stop" if expected.finished else "length")
    backend = shared_backend()
    usage = body["usage"]
    assert usage["prompt_tokens"] == backend.count_tokens(backend.render_prompt(MESSAGES))
    assert usage["completion_tokens"] == expected.completion_tokens <= 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_openai_client_gets_the_same_completion(client, expected):
    response = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8,
                                              temperature=0)
    assert response.choices[0].message.content == expected.text
    assert response.usage.completion_tokens == expected.completion_tokens


def test_openai_client_streams_the_same_text_with_usage(client, expected):
    chunks = list(client.chat.completions.create(
        model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert text.strip() == expected.text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop" if expected.finished else "length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == expected.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_raw_stream_is_server_sent_events_ending_with_done(http):
    with http.stream("POST", "/v1/chat/completions",
                     json={"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 4,
                           "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    first = json.loads(lines[0].removeprefix("data: "))
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    last = json.loads(lines[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] in ("stop", "length")


def test_n_gives_several_choices(http):
    body = chat(http, max_tokens=4, n=2, temperature=0.9, seed=3).json()
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert all(c["message"]["content"] for c in body["choices"])
    assert body["usage"]["completion_tokens"] <= 8


def test_content_parts_and_developer_role_are_understood(http, expected):
    parts = [{"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
             {"role": "user", "content": [{"type": "text", "text": "Name a "},
                                          {"type": "text", "text": "database."}]}]
    body = http.post("/v1/chat/completions", json={"model": MODEL_NAME, "messages": parts,
                                                   "max_tokens": 8, "temperature": 0}).json()
    assert body["choices"][0]["message"]["content"] == expected.text


@pytest.mark.parametrize("fields, where", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"temperature": -1}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"top_p": 1.5}, "top_p"),
])
def test_invalid_requests_get_400_naming_the_field(http, fields, where):
    response = chat(http, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert where in error["message"] and error["type"] == "invalid_request_error"


def test_malformed_json_and_missing_model_get_400(http):
    broken = http.post("/v1/chat/completions", content=b"{not json",
                       headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]["message"]
    no_model = http.post("/v1/chat/completions", json={"messages": MESSAGES})
    assert no_model.status_code == 400 and "model" in no_model.json()["error"]["message"]


def test_unknown_model_is_404_for_the_openai_client(client):
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=4)


def test_a_prompt_over_the_window_is_refused(client):
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=100_000)


def test_stream_with_several_choices_reports_an_error_event(client):
    with pytest.raises(openai.APIError, match="n must be 1"):
        list(client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, n=2, stream=True))


def test_requests_need_the_bearer_key(server, http):
    assert httpx.get(f"{server}/v1/models").status_code == 401
    wrong = httpx.get(f"{server}/v1/models", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    bad_client = openai.OpenAI(base_url=f"{server}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=2)


def test_concurrent_requests_are_served_one_at_a_time_correctly(server, expected):
    def ask(_):
        with httpx.Client(base_url=server, headers=AUTH, timeout=120) as http:
            return chat(http, max_tokens=8, temperature=0).json()["choices"][0]["message"]["content"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(ask, range(3))) == [expected.text] * 3


def test_a_client_leaving_mid_stream_frees_the_model(server, http, expected):
    with httpx.Client(base_url=server, headers=AUTH, timeout=60) as leaving:
        with leaving.stream("POST", "/v1/chat/completions",
                            json={"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 64,
                                  "stream": True}) as response:
            next(response.iter_lines())  # generation has started, the lock is held
    # Without releasing the lock on disconnect, this request would wait forever.
    after = chat(http, max_tokens=8, temperature=0)
    assert after.json()["choices"][0]["message"]["content"] == expected.text


def test_tokenize_counts_with_the_models_tokenizer(http):
    backend = shared_backend()
    body = http.post("/tokenize", json={"model": MODEL_NAME, "prompt": "Boring is a feature."}).json()
    assert body == {"count": backend.count_tokens("Boring is a feature."),
                    "max_model_len": backend.context_window}
    chat_count = http.post("/tokenize", json={"messages": MESSAGES}).json()["count"]
    assert chat_count == backend.count_tokens(backend.render_prompt(MESSAGES))
    assert http.post("/tokenize", json={}).status_code == 400


def test_prepare_messages_rewrites_the_conversation_before_generation():
    persona = {"role": "system", "content": "You are Maya's writing twin. Reply in one line."}

    def as_twin(messages):
        return [persona, *[m for m in messages if m["role"] != "system"]]

    backend = shared_backend()
    with twin_api_server(prepare_messages=as_twin, api_key=None) as url:
        body = httpx.post(f"{url}/v1/chat/completions", timeout=120,
                          json={"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 4}).json()
    assert body["usage"]["prompt_tokens"] == backend.count_tokens(
        backend.render_prompt(as_twin(MESSAGES)))
