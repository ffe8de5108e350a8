import pytest

from llm_twin.backends.base import Generation
from llm_twin.inference.query_expansion import expand_query, fallback_rewrites, fuse_rankings, stem_word

QUERIES = ["remote hiring practices", "how I think about writing tests", "career advice", "rust",
           "Building shipped products", "What do I think about the future of open source?"]


class ScriptedBackend:
    """A deterministic Backend answering a fixed text; only for the prompt/parse plumbing."""

    model_id = "scripted"
    context_window = 2048

    def __init__(self, answer: str | Exception):
        self.answer = answer
        self.conversations = []

    def load(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def render_prompt(self, messages) -> str:
        return "\n".join(m["content"] for m in messages)

    def generate(self, conversations, params):
        self.conversations.extend(conversations)
        if isinstance(self.answer, Exception):
            raise self.answer
        return [Generation(self.answer, 10, 10, True) for _ in conversations]


def keys(items: list[str]) -> list[str]:
    return [" ".join(i.split()).casefold() for i in items]


# --- fallback ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_fallback_properties(query, n):
    expanded = expand_query(query, n=n)
    assert expanded[0] == query
    assert len(set(keys(expanded))) == len(expanded)
    assert len(expanded) <= n + 1
    assert expanded == expand_query(query, n=n)  # deterministic


def test_fallback_gives_the_three_kinds_of_rewrite():
    assert expand_query("remote hiring practices") == [
        "remote hiring practices",
        "remote hire practice",        # stemmed (no stopword to drop, so (a) equals the query)
        "practices remote hiring",     # longest terms first
    ]
    assert expand_query("how I think about writing tests") == [
        "how I think about writing tests",
        "think writing tests",         # without stopwords
        "how I think about write test",
        "writing think tests",
    ]


def test_fallback_rewrites_all_differ_from_the_query():
    for query in QUERIES:
        assert query.casefold() not in keys(fallback_rewrites(query))
    assert expand_query("the") == ["the"]
    assert expand_query("   ") == ["   "]


@pytest.mark.parametrize(("word", "stem"), [
    ("shipped", "ship"), ("hiring", "hire"), ("writing", "write"), ("falling", "fall"),
    ("stories", "story"), ("classes", "class"), ("boxes", "box"), ("posts", "post"),
    ("bus", "bus"), ("analysis", "analysis"), ("tested", "test"), ("opened", "open"),
    ("AI", "AI"), ("C++", "C++"),
])
def test_stem_word(word, stem):
    assert stem_word(word) == stem


# --- the model path ------------------------------------------------------------------------------

def test_model_lines_are_cleaned_and_deduplicated():
    query = "remote hiring practices"
    answer = ('1. "How to hire remotely"\n'
              "\n"
              "2) Remote Hiring Practices\n"       # the query again: dropped
              "- best practices for distributed recruiting\n"
              "* " + "very long " * 20 + "\n"      # over 3x the query: dropped
              "• how to hire remotely\n"           # a duplicate: dropped
              "'hiring people who work from home'\n")
    backend = ScriptedBackend(answer)
    assert expand_query(query, n=3, backend=backend) == [
        query, "How to hire remotely", "best practices for distributed recruiting",
        "hiring people who work from home"]
    [messages] = backend.conversations
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "3 short alternative phrasings" in messages[1]["content"] and query in messages[1]["content"]


def test_model_respects_n():
    backend = ScriptedBackend("one way\ntwo ways\nthree ways\nfour ways")
    assert expand_query("some query here", n=2, backend=backend) == ["some query here", "one way", "two ways"]


def test_too_few_model_lines_are_topped_up_by_the_fallback():
    expanded = expand_query("remote hiring practices", n=3, backend=ScriptedBackend("hiring remotely"))
    assert expanded == ["remote hiring practices", "hiring remotely", "remote hire practice",
                        "practices remote hiring"]


@pytest.mark.parametrize("answer", ["", "\n\n", RuntimeError("model crashed")])
def test_model_failure_falls_back(answer):
    query = "how I think about writing tests"
    assert expand_query(query, backend=ScriptedBackend(answer)) == expand_query(query)


# --- fusion --------------------------------------------------------------------------------------

def test_reciprocal_rank_fusion_by_hand():
    rankings = [["a", "b", "c"], ["b", "c", "d"], ["c", "a"]]
    # k = 60, ranks from 1:
    #   a: 1/61 + 1/62          b: 1/62 + 1/61 (same as a: a appeared first)
    #   c: 1/63 + 1/62 + 1/61   d: 1/63
    a = 1 / 61 + 1 / 62
    c = 1 / 63 + 1 / 62 + 1 / 61
    fused = fuse_rankings(rankings)
    assert [item for item, _ in fused] == ["c", "a", "b", "d"]
    assert [score for _, score in fused] == pytest.approx([c, a, a, 1 / 63])


def test_fusion_with_k_zero_and_repeats():
    # k = 0: x = 1/1 + 1/2 = 1.5; y = 1/2 + 1/1 = 1.5 (tie, x first); z = 1/3 (its repeat is ignored)
    fused = fuse_rankings([["x", "y", "z", "z"], ["y", "x"]], k=0)
    assert fused == [("x", 1.5), ("y", 1.5), ("z", pytest.approx(1 / 3))]
    assert fuse_rankings([]) == []
    with pytest.raises(ValueError):
        fuse_rankings([["a"]], k=-1)
