from datetime import datetime, timedelta, timezone

from llm_twin.training_data.quality import QualityReport
from llm_twin.training_data.samples import INSTRUCTION, SftSample
from llm_twin.training_data.splits import remove_test_leaks, split_by_time

DAY0 = datetime(2023, 1, 1, tzinfo=timezone.utc)


def sample(doc: int, day: int | None, platform: str = "x", answer: str | None = None) -> SftSample:
    return SftSample(messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                               {"role": "assistant", "content": answer or f"post number {doc} here"}],
                     source=INSTRUCTION, platform=platform, kind="post", document_id=doc,
                     created_at=None if day is None else DAY0 + timedelta(days=day))


def test_newest_share_of_each_platform_is_test_and_undated_train():
    samples = [sample(i, i) for i in range(20)] + [sample(100 + i, 50 - i, "linkedin") for i in range(10)]
    samples.append(sample(999, None))
    info = split_by_time(samples, 0.1)
    test = {(s.platform, s.document_id) for s in samples if s.split == "test"}
    assert test == {("x", 18), ("x", 19), ("linkedin", 100)}  # linkedin 100 is its newest
    assert info.platforms["x"]["undated"] == 1
    assert info.platforms["x"]["test_from"] > info.platforms["x"]["train_until"]


def test_sections_of_one_document_stay_together():
    samples = [sample(i, i) for i in range(9)] + [sample(9, 9), sample(9, 9)]
    split_by_time(samples, 0.1)
    assert [s.split for s in samples if s.document_id == 9] == ["test", "test"]


def test_platforms_with_few_documents_keep_everything_for_training():
    samples = [sample(i, i, "instagram") for i in range(4)]
    split_by_time(samples, 0.5)
    assert {s.split for s in samples} == {"train"}


def test_train_items_that_nearly_contain_a_test_answer_are_removed():
    newest = ("Postgres advisory locks are the simplest leader election you will ever ship, "
              "and they die with the session that held them.")
    quote = "Wrote this up: " + newest
    unrelated = "Completely different thoughts about cycling to work in the rain every day."
    samples = [sample(1, 1, answer=quote), sample(2, 2, answer=unrelated)]
    samples += [sample(i, i) for i in range(3, 10)] + [sample(10, 10, answer=newest)]
    split_by_time(samples, 0.1)
    report = QualityReport()
    kept = remove_test_leaks(samples, report)
    assert quote not in [s.answer for s in kept] and unrelated in [s.answer for s in kept]
    assert report.dropped == {"near_duplicate_of_test": 1}
