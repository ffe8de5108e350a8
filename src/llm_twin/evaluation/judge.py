"""An optional LLM judge: any OpenAI-compatible chat model grades each output against the real
held-out post, accuracy and style each on 1-3. Small judges often answer with junk, so answers
are parsed leniently and the ones that still cannot be read are counted, never guessed."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from llm_twin.errors import ModelError

JUDGE_SYSTEM = ("You are a strict editor. You compare a draft with the real post its author wrote "
                "for the same request, and answer with JSON only.")
JUDGE_TEMPLATE = """Real post by the author:
<<<
{reference}
>>>

Draft to grade:
<<<
{candidate}
>>>

Grade the draft on two scales from 1 to 3.
accuracy: 3 = makes the same points as the real post and contradicts nothing; 2 = partly the same, or adds claims the real post does not support; 1 = off topic or contradicts it.
style: 3 = reads as if the same author wrote it; 2 = somewhat like the author; 1 = a different voice.
Answer with only this JSON: {{"accuracy": <1-3>, "style": <1-3>}}"""
REFERENCE_MAX_CHARS = 2000
_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.S)
_SCALES = ("accuracy", "style")


@dataclass
class Grade:
    accuracy: int | None
    style: int | None
    raw: str

    @property
    def parsed(self) -> bool:
        return self.accuracy is not None and self.style is not None


@dataclass
class JudgeSummary:
    accuracy: float | None
    style: float | None
    graded: int
    unparsable: int
    grades: list[Grade] = field(default_factory=list, repr=False)


def parse_grade(answer: str) -> Grade:
    """{"accuracy": n, "style": n} anywhere in the answer; failing that, 'accuracy ... n' and
    'style ... n' phrases. Scores outside 1-3 count as unparsable."""
    for match in _JSON_OBJECT.finditer(answer or ""):
        try:
            loaded = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(loaded, dict):
            values = {k.lower(): v for k, v in loaded.items() if isinstance(k, str)}
            grade = Grade(_score(values.get("accuracy")), _score(values.get("style")), answer)
            if grade.parsed:
                return grade
    found: dict[str, int | None] = {}
    for scale in _SCALES:
        phrase = re.search(rf"\b{scale}\b\W{{0,12}}([1-3])(?!\d)", answer or "", re.I)
        found[scale] = int(phrase.group(1)) if phrase else None
    return Grade(found["accuracy"], found["style"], answer)


def _score(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer() and 1 <= value <= 3:
        return int(value)
    if isinstance(value, str) and value.strip() in ("1", "2", "3"):
        return int(value.strip())
    return None


class LLMJudge:
    """Grades through the `openai` client; `base_url` like http://localhost:8000/v1."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *,
                 max_tokens: int = 40, timeout: float = 120.0):
        from openai import OpenAI

        self.model = model
        self.max_tokens = max_tokens
        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout,
                             max_retries=1)

    def grade(self, candidate: str, reference: str) -> Grade:
        from openai import OpenAIError

        prompt = JUDGE_TEMPLATE.format(reference=reference[:REFERENCE_MAX_CHARS],
                                       candidate=candidate[:REFERENCE_MAX_CHARS])
        try:
            response = self.client.chat.completions.create(
                model=self.model, temperature=0, max_tokens=self.max_tokens,
                messages=[{"role": "system", "content": JUDGE_SYSTEM},
                          {"role": "user", "content": prompt}])
        except OpenAIError as error:
            raise ModelError(f"The judge at {self.client.base_url} (model {self.model!r}) failed: "
                             f"{error}") from error
        return parse_grade(response.choices[0].message.content or "")

    def grade_all(self, candidates: list[str], references: list[str]) -> JudgeSummary:
        return summarize([self.grade(c, r) for c, r in zip(candidates, references)])


def summarize(grades: list[Grade]) -> JudgeSummary:
    readable = [g for g in grades if g.parsed]

    def mean(values: Sequence[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return JudgeSummary(accuracy=mean([g.accuracy for g in readable if g.accuracy is not None]),
                        style=mean([g.style for g in readable if g.style is not None]),
                        graded=len(readable), unparsable=len(grades) - len(readable), grades=grades)
