from datetime import UTC, date, datetime, timedelta

import pytest

from llm_twin.backends.base import Generation, GenerationParams, Message
from llm_twin.inference.self_query import ParsedQuery, parse_query, parse_query_rules
from llm_twin.storage.vector_store import SearchFilters

TODAY = date(2024, 6, 15)  # a Saturday


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def year(y: int) -> tuple[datetime, datetime]:
    return utc(y, 1, 1), utc(y, 12, 31, 23, 59, 59)


# (request, topic, platform, kind, since, until, owner_only)
CASES = [
    ("my LinkedIn posts from 2023 about hiring", "hiring", "linkedin", "post", *year(2023), True),
    ("tweets since March 2022 about rust", "rust", "x", None, utc(2022, 3, 1), None, False),
    ("my Twitter threads about remote work", "remote work", "x", "thread", None, None, True),
    ("posts before 2021 on hiring", "hiring", None, "post", None, utc(2020, 12, 31, 23, 59, 59), False),
    ("what did I write about burnout last year", "burnout", None, None, *year(2023), True),
    ("Medium articles after 2020 about leadership", "leadership", "medium", "article",
     utc(2021, 1, 1), None, False),
    ("whatsapp chats with family in May 2024", "family", "whatsapp", "message",
     utc(2024, 5, 1), utc(2024, 5, 31, 23, 59, 59), False),
    ("my posts in the last 6 months about AI", "AI", None, "post", utc(2023, 12, 15), None, True),
    ("papers between 2019 and 2021 about transformers", "transformers", "paper", "paper",
     utc(2019, 1, 1), utc(2021, 12, 31, 23, 59, 59), False),
    ("commits this year touching the parser", "touching the parser", "code", "post", *year(2024), False),
    ("posts about my dog", "my dog", None, "post", None, None, False),
    ("my posts about code review", "code review", None, "post", None, None, True),
    ("blog posts from 2022-03-01 about travel", "travel", "blog", None,
     utc(2022, 3, 1), utc(2022, 3, 1, 23, 59, 59), False),
    ("posts about hiring on LinkedIn", "hiring", "linkedin", "post", None, None, False),
    ("toots about open source last month", "open source", "mastodon", "post",
     utc(2024, 5, 1), utc(2024, 5, 31, 23, 59, 59), False),
    ("Instagram captions about food from 2019-2021", "food", "instagram", "post",
     utc(2019, 1, 1), utc(2021, 12, 31, 23, 59, 59), False),
    ("find my newsletter about pricing since 2023-05", "pricing", "substack", None,
     utc(2023, 5, 1), None, True),
    ("what I've written about product strategy on Bluesky", "product strategy", "bluesky", None,
     None, None, True),
    ("my X posts about X-ray imaging", "X-ray imaging", "x", "post", None, None, True),
    ("show me telegram messages about the move this year", "move", "telegram", "message",
     *year(2024), False),
    ("messenger conversations regarding the wedding before May 2023", "wedding", "messenger",
     "message", None, utc(2023, 4, 30, 23, 59, 59), False),
    ("my code about parsing dates", "parsing dates", "code", "code", None, None, True),
    ("skeets about climate in 2022", "climate", "bluesky", None, *year(2022), False),
    ("articles I wrote about remote teams until 2020", "remote teams", None, "article",
     None, utc(2020, 12, 31, 23, 59, 59), True),
    ("release notes from 2021 to 2022", "release notes", None, None,
     utc(2021, 1, 1), utc(2022, 12, 31, 23, 59, 59), False),
    ("my posts since March", "my posts since March", None, "post", utc(2024, 3, 1), None, True),
    ("posts about hiring after September", "hiring", None, "post", utc(2023, 10, 1), None, False),
    ("the past year of notes on sleep", "notes on sleep", None, None, utc(2023, 6, 15), None, False),
    ("LinkedIn posts on May 5, 2024", "LinkedIn posts on May 5, 2024", "linkedin", "post",
     utc(2024, 5, 5), utc(2024, 5, 5, 23, 59, 59), False),
    ("hiring", "hiring", None, None, None, None, False),
]


@pytest.mark.parametrize(("text", "topic", "platform", "kind", "since", "until", "owner_only"), CASES,
                         ids=[c[0] for c in CASES])
def test_rules_parse_table(text, topic, platform, kind, since, until, owner_only):
    parsed = parse_query_rules(text, today=TODAY)
    assert parsed == ParsedQuery(topic, platform, kind, since, until, owner_only)


def test_all_dates_are_utc_aware():
    for text, *_ in CASES:
        parsed = parse_query_rules(text, today=TODAY)
        for value in (parsed.since, parsed.until):
            assert value is None or value.utcoffset() == timedelta(0)


def test_topic_is_never_empty():
    assert parse_query_rules("my posts", today=TODAY).topic == "my posts"
    parsed = parse_query_rules("  show me   my LinkedIn posts ", today=TODAY)
    assert parsed.topic == "show me my LinkedIn posts"


def test_last_week_is_the_previous_monday_to_sunday():
    parsed = parse_query_rules("posts from last week", today=TODAY)
    assert (parsed.since, parsed.until) == (utc(2024, 6, 3), utc(2024, 6, 9, 23, 59, 59))


def test_to_filters():
    parsed = parse_query_rules("my LinkedIn posts from 2023 about hiring", today=TODAY)
    assert parsed.to_filters() == SearchFilters(platform="linkedin", kind="post", is_owner=True,
                                                since=utc(2023, 1, 1), until=utc(2023, 12, 31, 23, 59, 59))
    assert ParsedQuery("x").to_filters() == SearchFilters()


# --- the LLM path --------------------------------------------------------------------------------

class ScriptedBackend:
    """A deterministic Backend: answers every conversation with a fixed text, records the calls.
    Only here to test the prompt/parse plumbing of the model path."""

    model_id = "scripted"
    context_window = 2048

    def __init__(self, answer: str | Exception):
        self.answer = answer
        self.calls: list[tuple[list[list[Message]], GenerationParams]] = []

    def load(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def render_prompt(self, messages: list[Message]) -> str:
        return "\n".join(m["content"] for m in messages)

    def generate(self, conversations, params):
        self.calls.append((conversations, params))
        if isinstance(self.answer, Exception):
            raise self.answer
        return [Generation(self.answer, 10, 10, True) for _ in conversations]


REQUEST = "my LinkedIn posts from 2023 about hiring"


def test_model_answer_is_used_when_valid():
    backend = ScriptedBackend('Sure! {"topic": "hiring engineers", "platform": "LinkedIn", '
                              '"kind": "article", "since": "2023-02-01", "until": "2023-03-31"} done')
    parsed = parse_query(REQUEST, backend, today=TODAY)
    assert parsed == ParsedQuery("hiring engineers", "linkedin", "article", utc(2023, 2, 1),
                                 utc(2023, 3, 31, 23, 59, 59), owner_only=True)
    [(conversations, params)] = backend.calls
    [messages] = conversations
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "JSON" in messages[0]["content"] and "2024-06-15" in messages[0]["content"]
    assert "linkedin" in messages[0]["content"] and messages[1]["content"] == REQUEST
    assert params.no_repeat_ngram_size == 0  # JSON repeats n-grams by nature


def test_invalid_fields_fall_back_one_by_one():
    backend = ScriptedBackend('{"topic": "", "platform": "myspace", "kind": "article", '
                              '"since": "last spring", "until": null}')
    parsed = parse_query(REQUEST, backend, today=TODAY)
    rules = parse_query_rules(REQUEST, today=TODAY)
    assert parsed == ParsedQuery(rules.topic, rules.platform, "article", rules.since, rules.until, True)
    assert parsed.platform == "linkedin"


def test_reversed_dates_fall_back_to_the_rules():
    backend = ScriptedBackend('{"since": "2023-05-01", "until": "2023-01-01"}')
    parsed = parse_query(REQUEST, backend, today=TODAY)
    assert (parsed.since, parsed.until) == year(2023)


@pytest.mark.parametrize("answer", ["I am not sure what you mean.", "{not json at all", "[1, 2]",
                                    '"just a string"', RuntimeError("model crashed")])
def test_garbage_or_failure_falls_back_entirely(answer):
    parsed = parse_query(REQUEST, ScriptedBackend(answer), today=TODAY)
    assert parsed == parse_query_rules(REQUEST, today=TODAY)


def test_without_backend_it_is_the_rules():
    assert parse_query(REQUEST, today=TODAY) == parse_query_rules(REQUEST, today=TODAY)
