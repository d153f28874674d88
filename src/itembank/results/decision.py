"""The met / not met decision for each candidate: the knowledge score against the ADOPTED pass
mark, and the simulated-practice criteria against a band, combined by the rule in bank.json
(``results.decision``). Never a grade; never guessed: while a mark the rule needs is missing
the decision is pending (met None) and `pending` says what is missing.

How a criterion's band is agreed (the same words are in docs/results.md and bank.schema.json):
- two marks within the tolerance (``assessor_tolerance`` bands): the mean of the two, rounded
  down (with tolerance 1: the lower band), so a criterion is not met on one assessor's word;
- two marks further apart: a third mark is needed; without it the criterion is pending;
- with a third mark (needed or not): ``third_mark`` "median", the median of the three bands
  (the two assessors who agree best carry it); "moderator", the third (moderator's) band.
Only the first three marks count (import order, then file order).

Pure: marks, the bank's settings and an AdoptedPassMark in; Decision values out.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from itembank.core.errors import ItembankError
from itembank.results.outcomes import AdoptedPassMark, Decision, PracticeMark
from itembank.results.practice import MarkRow, Schemes, group_marks

Rule = Literal["knowledge-and-every-criterion", "knowledge-and-criteria-count"]
ThirdMark = Literal["median", "moderator"]
RULES: tuple[Rule, ...] = ("knowledge-and-every-criterion", "knowledge-and-criteria-count")
EPSILON = 1e-9  # a score equal to the pass mark in floating point is at the pass mark


class NoAdoptedPassMarkError(ItembankError):
    """Decisions (and letters) are made only from a pass mark the chair adopted."""

    def __init__(self, form: str) -> None:
        super().__init__(
            f"No pass mark has been adopted for form {form}, and decisions and letters are "
            "made only from an adopted one: adopt a pass mark first: itembank "
            f"standard-setting adopt EXERCISE --form {form} --pass-mark X --method ... "
            "--reason ... --as 'CHAIR <EMAIL>' (the standard-setting chair)."
        )


@dataclass(frozen=True)
class DecisionRules:
    """bank.json "results"."decision", these defaults where it says nothing."""

    met_band: int = 2
    assessor_tolerance: int = 1
    third_mark: ThirdMark = "median"
    rule: Rule = "knowledge-and-every-criterion"
    min_criteria_met: int | None = None  # knowledge-and-criteria-count: per scenario

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> DecisionRules:
        given = dict(((settings or {}).get("results") or {}).get("decision") or {})
        rules = cls(**{k: v for k, v in given.items() if k in cls.__dataclass_fields__})
        if rules.rule not in RULES or rules.third_mark not in ("median", "moderator"):
            raise ItembankError(
                f"bank.json results.decision: rule must be one of {', '.join(RULES)} and "
                "third_mark median or moderator (itembank validate says more)."
            )
        if rules.rule == "knowledge-and-criteria-count" and not rules.min_criteria_met:
            raise ItembankError(
                "bank.json results.decision: the rule knowledge-and-criteria-count needs "
                "min_criteria_met (how many criteria of each scenario must be met)."
            )
        return rules

    def words(self, pass_mark: AdoptedPassMark) -> str:
        """The rule in words a candidate reads."""
        practice = (
            f"every simulated-practice criterion is at band {self.met_band} or above"
            if self.rule == "knowledge-and-every-criterion"
            else f"at least {self.min_criteria_met} criteria of each simulated-practice "
            f"scenario are at band {self.met_band} or above"
        )
        agreed = (
            "the median of the three bands"
            if self.third_mark == "median"
            else "the third (moderating) assessor's band"
        )
        return (
            f"Met when both hold: the knowledge score is at or above the pass mark "
            f"({_marks(pass_mark.pass_mark)} of {_marks(pass_mark.max_score)} marks), and "
            f"{practice}. Two assessors mark each criterion independently; where their bands "
            f"are at most {self.assessor_tolerance} apart the band used is the mean of the two, "
            f"rounded down; where they are further apart a third assessor marks it and the band "
            f"used is {agreed}."
        )


def _marks(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def agreed_band(bands: Sequence[int], rules: DecisionRules) -> int | None:
    """The band a criterion counts at (see the module docstring); None while it cannot be
    agreed (fewer than two marks, or two too far apart and no third)."""
    if len(bands) < 2:
        return None
    if len(bands) == 2:
        first, second = bands
        if abs(first - second) > rules.assessor_tolerance:
            return None
        return math.floor((first + second) / 2)
    three = list(bands[:3])
    return three[2] if rules.third_mark == "moderator" else sorted(three)[1]


def practice_marks(
    marks: Mapping[tuple[str, str], Sequence[tuple[str, int]]],
    schemes: Schemes,
    rules: DecisionRules,
) -> tuple[tuple[PracticeMark, ...], tuple[str, ...]]:
    """One candidate's criteria (every criterion of each scenario they have marks in, in
    marking-scheme order) and what is still missing, in words."""
    out: list[PracticeMark] = []
    pending: list[str] = []
    for scenario in sorted({s for s, _ in marks}):
        if scenario not in schemes:
            pending.append(f"{scenario} is no longer an approved scenario: no marking scheme")
        for criterion, spec in schemes.get(scenario, {}).items():
            given = list(marks.get((scenario, criterion), []))
            bands = tuple(b for _, b in given)
            agreed = agreed_band(bands, rules)
            where = f"{scenario}/{criterion}"
            if not bands:
                pending.append(f"no marks for {where}")
            elif len(bands) == 1:
                pending.append(f"second mark needed for {where}")
            elif agreed is None:
                pending.append(
                    f"third mark needed for {where} (bands {bands[0]} and {bands[1]} are more "
                    f"than {rules.assessor_tolerance} apart)"
                )
            out.append(
                PracticeMark(
                    scenario,
                    criterion,
                    spec.title,
                    bands,
                    tuple(a for a, _ in given),
                    agreed,
                    None if agreed is None else agreed >= rules.met_band,
                )
            )
    return tuple(out), tuple(pending)


def practice_met(practice: Sequence[PracticeMark], rules: DecisionRules) -> bool:
    """Whether the practice part of the rule holds (every criterion known)."""
    if rules.rule == "knowledge-and-every-criterion":
        return all(p.met for p in practice)
    need = rules.min_criteria_met or 0
    scenarios = {p.scenario for p in practice}
    return all(sum(1 for p in practice if p.scenario == s and p.met) >= need for s in scenarios)


def decide(
    form: str,
    administration: str,
    knowledge: Mapping[str, tuple[float, float]],
    rows: Sequence[MarkRow],
    schemes: Schemes,
    settings: Mapping[str, Any] | None,
    pass_mark: AdoptedPassMark | None,
) -> list[Decision]:
    """A Decision for each candidate with knowledge results (`knowledge`: candidate ->
    (score, max)), sorted by candidate. Refused without an adopted pass mark."""
    if pass_mark is None:
        raise NoAdoptedPassMarkError(form)
    if pass_mark.form != form:
        raise ItembankError(
            f"The adopted pass mark given is for form {pass_mark.form}, not {form}."
        )
    rules = DecisionRules.from_settings(settings)
    words = rules.words(pass_mark)
    by_candidate: dict[str, dict[tuple[str, str], list[tuple[str, int]]]] = {}
    for key, people in group_marks(rows).items():
        for candidate, given in people.items():
            by_candidate.setdefault(candidate, {})[key] = given
    out = []
    for candidate in sorted(knowledge):
        score, maximum = knowledge[candidate]
        knowledge_met = score >= pass_mark.pass_mark - EPSILON
        marks = by_candidate.get(candidate, {})
        practice, pending = practice_marks(marks, schemes, rules)
        if not marks:
            pending = ("no simulated-practice marks have been imported for this candidate",)
        met = None if pending else knowledge_met and practice_met(practice, rules)
        out.append(
            Decision(
                candidate,
                form,
                administration,
                float(score),
                float(maximum),
                pass_mark,
                knowledge_met,
                practice,
                met,
                words,
                pending,
            )
        )
    return out


DECISION_COLUMNS = (
    "candidate",
    "form",
    "administration",
    "knowledge_score",
    "knowledge_max",
    "pass_mark",
    "knowledge_met",
    "practice",
    "decision",
    "pending",
)


def outcome_word(decision: Decision) -> str:
    """ "met", "not met" or "pending": the only words a decision has."""
    return "pending" if decision.met is None else "met" if decision.met else "not met"


def decisions_csv(decisions: Sequence[Decision]) -> bytes:
    """The decisions as a CSV for the results team (candidate-level: kept out of the bank)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(DECISION_COLUMNS)
    for d in decisions:
        scenarios = sorted({p.scenario for p in d.practice})
        practice = "; ".join(
            f"{s}: {sum(1 for p in d.practice if p.scenario == s and p.met)} of "
            f"{sum(1 for p in d.practice if p.scenario == s)} criteria met"
            for s in scenarios
        )
        writer.writerow(
            [
                d.candidate,
                d.form,
                d.administration,
                _marks(d.knowledge_score),
                _marks(d.knowledge_max),
                _marks(d.pass_mark.pass_mark),
                "yes" if d.knowledge_met else "no",
                practice,
                outcome_word(d),
                "; ".join(d.pending),
            ]
        )
    return text.getvalue().encode("utf-8")


__all__ = [
    "DECISION_COLUMNS",
    "RULES",
    "DecisionRules",
    "NoAdoptedPassMarkError",
    "agreed_band",
    "decide",
    "decisions_csv",
    "outcome_word",
    "practice_marks",
    "practice_met",
]
