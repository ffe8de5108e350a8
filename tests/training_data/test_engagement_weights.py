"""`twin dataset build --weight-by-engagement` (sample repetition) and `--era-tags` (the answer's
year in the served prompt), and what the dataset card records of them."""

from __future__ import annotations

from datetime import datetime, timezone

from llm_twin.platforms import rules_for
from llm_twin.prompts.era import era_hint
from llm_twin.training_data.builder import BuildOptions, DatasetBuild
from llm_twin.training_data.engagement_weights import weight_by_engagement
from llm_twin.training_data.samples import CONVERSATION, INSTRUCTION, SftSample
from llm_twin.training_data.served_prompts import (ContextMix, ServedPromptBuilder,
                                                   ServedPromptSettings)
from llm_twin.training_data.splits import SplitInfo
from llm_twin.training_data.store import card_markdown, dataset_card


def sample(document_id: int, *, split: str = "train", source: str = INSTRUCTION,
           year: int = 2023) -> SftSample:
    return SftSample(messages=[{"role": "system", "content": "You are Dana's twin."},
                               {"role": "user", "content": f"Write about topic {document_id}"},
                               {"role": "assistant", "content": f"My post number {document_id}."}],
                     source=source, platform="x", kind="post", document_id=document_id,
                     created_at=datetime(year, 5, 1, tzinfo=timezone.utc), split=split,
                     idea=f"topic {document_id}", rules=rules_for("x"))


def test_engaging_train_samples_are_repeated_and_nothing_else() -> None:
    samples = [sample(1), sample(2), sample(3), sample(4, split="test"),
               sample(5, source=CONVERSATION), sample(6)]
    relative = {1: 0.4, 2: 2.5, 3: 9.0, 4: 9.0, 5: 9.0}  # 6: no counts
    weighted, record = weight_by_engagement(samples, relative)
    assert [s.document_id for s in weighted] == [1, 2, 2, 3, 3, 3, 4, 5, 6]
    assert record["repeated_samples"] == 2 and record["added_samples"] == 3
    assert record["by_repeats"] == {"2": 1, "3": 1} and record["documents_with_counts"] == 5
    assert weighted[1].to_json() == weighted[2].to_json()  # a copy, marked like its original
    assert weighted[1].extra["engagement_repeats"] == 2


def test_without_counts_nothing_changes() -> None:
    samples = [sample(1), sample(2)]
    weighted, record = weight_by_engagement(samples, {})
    assert weighted == samples and record["added_samples"] == 0


def _build(samples: list[SftSample], **recorded) -> DatasetBuild:
    return DatasetBuild(sft=samples, preferences=[], options=BuildOptions(owner="Dana"),
                        instruction_writer="extractive", languages=["en"],
                        split_info=SplitInfo(), **recorded)


def test_the_card_records_the_weighting_and_its_counts() -> None:
    weighted, record = weight_by_engagement([sample(1), sample(2)], {2: 5.0})
    card = dataset_card(_build(weighted, weighting=record), "x", "test", lambda t: len(t.split()))
    assert card["weighting"]["method"] == "sample repetition"
    assert card["counts"]["sft"]["train"] == 4 and card["weighting"]["added_samples"] == 2
    assert "## Weighting" in card_markdown(card) and "2 copies added" in card_markdown(card)
    plain = dataset_card(_build([sample(1)]), "y", "test", lambda t: len(t.split()))
    assert plain["weighting"] == {"method": "none"} and plain["era_tags"] == {"enabled": False}
    assert "## Weighting" not in card_markdown(plain)


def _shaped(era_tags: bool) -> SftSample:
    shaped = sample(1, year=2019)
    settings = ServedPromptSettings(owner="Dana", mix=ContextMix(full=0, distractor=0, bare=1),
                                    era_tags=era_tags)
    builder = ServedPromptBuilder(None, settings, count_tokens=lambda t: len(t.split()),  # type: ignore[arg-type]
                                  render=lambda messages: "\n".join(m["content"] for m in messages))
    builder.apply([shaped], held_out_documents=set())
    return shaped


def test_era_tags_end_the_served_prompt_with_the_answers_year() -> None:
    tagged, untagged = _shaped(True), _shaped(False)
    assert era_hint(2019) in tagged.prompt[-1]["content"]
    assert "2019" not in untagged.prompt[-1]["content"]
    assert tagged.answer == untagged.answer == "My post number 1."
