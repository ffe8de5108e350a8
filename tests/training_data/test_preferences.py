from datetime import datetime, timezone

import pytest

from llm_twin.backends.base import GenerationParams
from llm_twin.prompts.wording import system_message
from llm_twin.training_data.preferences import BaseModelRejections, _spread
from llm_twin.training_data.samples import INSTRUCTION, PreferencePair, SftSample


def sample(answer: str, split: str = "train", doc: int = 1) -> SftSample:
    return SftSample(messages=[{"role": "system", "content": system_message("Dana")},
                               {"role": "user", "content": "Write a short post about queues."},
                               {"role": "assistant", "content": answer}],
                     source=INSTRUCTION, platform="x", kind="post", document_id=doc,
                     created_at=datetime(2024, 1, doc, tzinfo=timezone.utc), split=split)


def test_pair_json_is_trl_conversational_preference_format():
    pair = PreferencePair.from_sample(sample("My real post.", split="test"), "A generic post.",
                                      "base_model")
    record = pair.to_json()
    assert record["prompt"][0]["role"] == "system" and record["prompt"][-1]["role"] == "user"
    assert record["chosen"] == [{"role": "assistant", "content": "My real post."}]
    assert record["rejected"] == [{"role": "assistant", "content": "A generic post."}]
    assert pair.split == "test" and record["origin"] == "base_model"


def test_spread_takes_evenly_from_the_whole_list():
    items = [sample(f"post {i}", doc=i + 1) for i in range(10)]
    assert [s.document_id for s in _spread(items, 3)] == [1, 4, 7]
    assert len(_spread(items, 20)) == 10


@pytest.mark.models
def test_base_model_rejections_pair_the_real_text_with_the_models_own(generation_backend):
    samples = [sample("Postgres is my queue now. SKIP LOCKED, one table, zero pages at 3am.", "train", 1),
               sample("Queues in Postgres: boring, fast enough, one less thing to run.", "test", 2)]
    source = BaseModelRejections(generation_backend,
                                 GenerationParams(max_new_tokens=16, temperature=0.7, seed=3))
    pairs = list(source.pairs(samples))
    assert len(pairs) == 2
    by_split = {p.split: p for p in pairs}
    assert by_split["train"].chosen == samples[0].answer and by_split["test"].chosen == samples[1].answer
    assert all(p.rejected and p.rejected != p.chosen and p.prompt == samples[0].prompt for p in pairs)
