"""Hand-made inputs for the letters: decisions, subscores, points, learning points and employer
aggregates of a small administration of the sample bank's form 1, as the decision, subscore and
learning steps will give them (issue 13). A `Sources` for the Letters service without those
steps, so letters, reports and the release are tested on their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itembank.results.outcomes import (
    AdoptedPassMark,
    Decision,
    EmployerReport,
    LearningText,
    Point,
    PracticeMark,
    Subscore,
    ThemeRow,
)

FORM = "practitioner-knowledge-live-2026-1"
ADMIN = f"{FORM}-2026-11-30"


def adopted(commit: str = "a" * 40, mark: float = 18.0) -> AdoptedPassMark:
    return AdoptedPassMark(FORM, mark, 30.0, "angoff", "Joanne Kelly <joanne.kelly@example.org>",
                           "The Angoff mark stands: the score distribution gives no reason to move it.",
                           "knowledge-live-2026", "standard_setting/knowledge-live-2026/adoption.json",
                           commit)  # fmt: skip


def practice(met: bool | None) -> tuple[PracticeMark, ...]:
    band = None if met is None else (2 if met else 1)
    return (
        PracticeMark("SIM-0001", "MC1", "Purposeful relationship-building with Craig and Ellie",
                     (2, 2), ("A1", "A2"), 2, True),
        PracticeMark("SIM-0001", "MC2", "Communicating with Ellie in a way that suits her age",
                     (band or 1, 2 if met is None else band or 1), ("A1", "A2"), band, met),
    )  # fmt: skip


def decision(cand: str, score: float, met: bool | None, mark: AdoptedPassMark) -> Decision:
    knowledge = score >= mark.pass_mark
    return Decision(cand, FORM, ADMIN, score, 30.0, mark, knowledge, practice(met), met,
                    "You meet the standard when your knowledge score is at or above the pass mark "
                    "and every simulated practice criterion is met.",
                    () if met is not None else ("third mark needed for SIM-0001/MC2",))  # fmt: skip


SUBSCORES = (
    Subscore("PR-05", "Abuse and neglect of children", ("PR-05",), 6, 6.0, 0.71, 0.62, True,
             "adds value over the total score"),
    Subscore("law-and-decisions", "The law and decision-making", ("PR-07", "PR-08"), 8, 8.0,
             0.74, 0.66, True, "adds value over the total score"),
    Subscore("PR-03", "Child development", ("PR-03",), 2, 2.0, None, None, False,
             "too few items to say anything reliable on its own"),
)  # fmt: skip

LEARNING = (  # not in id order: letters must order them
    LearningText("LP-0004", "Using legal planning meetings well",
                 "Prepare a case summary for a legal planning meeting and discuss it.",
                 ("PR-07",)),
    LearningText("LP-0003", "Thresholds for intervention",
                 "Revisit how the significant harm threshold is reached and who decides it, "
                 "with your supervisor, using a recent case you know well.", ("PR-08",)),
    LearningText("LP-0002", "Writing a chronology that shows cumulative harm",
                 "Practise building a chronology that shows the cumulative impact on a child.",
                 ("PR-05", "PR-06")),
    LearningText("LP-0001", "Recognising neglect over time",
                 "Look at chronologies: neglect is often seen in a pattern, not a single event.",
                 ("PR-05",)),
    LearningText("LP-0009", "Unrelated", "Nothing to do with these standards.", ("PR-10",)),
)  # fmt: skip

WEAK = Point("PR-05", "Abuse and neglect of children",
             "Your answers on this standard were clearly below your own overall level; with a "
             "test this short that is a likely, not a certain, gap.")  # fmt: skip
WEAK_LAW = Point("law-and-decisions", "The law and decision-making",
                 "Your answers in this area were below the standard expected; the evidence is "
                 "moderate.")  # fmt: skip
STRONG = Point("law-and-decisions", "The law and decision-making",
               "Your answers in this area were clearly above your own overall level.")


@dataclass
class HandMade:
    """A Sources of made-up inputs; `candidates` is (id, score, met, employer)."""

    candidates: list[tuple[str, float, bool | None, str]]
    mark: AdoptedPassMark = field(default_factory=adopted)
    learning_texts: tuple[LearningText, ...] = LEARNING
    min_group: int = 10

    def adopted(self, form: str) -> AdoptedPassMark | None:
        return self.mark if form == FORM else None

    def decisions(self, form: str, results: object) -> list[Decision]:
        return [decision(c, s, m, self.mark) for c, s, m, _ in self.candidates]

    def subscores(self, form: str, results: object) -> tuple[Subscore, ...]:
        return SUBSCORES

    def points(self, form: str, results: object) -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        for cand, score, _met, _ in self.candidates:
            if score >= 27:  # far above the pass mark: no spurious gap
                out[cand] = ((STRONG,), (), ())
            elif score < 18:
                out[cand] = ((), (WEAK, WEAK_LAW), ("Child development is reported with the "
                                                    "other standards: too few items.",))
            else:
                out[cand] = ((), (WEAK,), ())
        return out

    def learning(self) -> tuple[LearningText, ...]:
        return self.learning_texts

    def employers(self, form: str, results: object) -> list[str | None]:
        return [e for *_, e in sorted(self.candidates)]

    def employer(self, employer: str, form: str, met: Mapping[str, bool | None],
                 results: object) -> EmployerReport:  # fmt: skip
        staff = [c for c, *_, e in self.candidates if e == employer]
        n = len(staff)
        small = n < self.min_group
        rows = (
            ThemeRow("PR-05", "Abuse and neglect of children", None if small else n,
                     None if small else 0.4, 0.62, None if small else -0.05,
                     "" if small else "development", small),
            ThemeRow("PR-03", "Child development", None, None, 0.7, None, "", True),
            ThemeRow("law-and-decisions", "The law and decision-making", None if small else n,
                     None if small else 0.8, 0.6, None, "" if small else "strength", small),
        )  # fmt: skip
        return EmployerReport(
            employer, (ADMIN,), None if small else n,
            None if small else sum(1 for c in staff if met.get(c)), rows,
            () if small else ("The law and decision-making",),
            () if small else ("Abuse and neglect of children",),
            self.min_group, ("Child development: fewer than 10 candidates answered enough items.",),
        )  # fmt: skip


def cohort(n: int = 14) -> list[tuple[str, float, bool | None, str]]:
    """`n` candidates: a spread of scores, one pending, two employers (one under 10)."""
    out: list[tuple[str, float, bool | None, str]] = []
    for k in range(1, n + 1):
        score = float(10 + (k * 7) % 21)
        met: bool | None = score >= 18
        if k == 3:
            met = None
        employer = "Saltmarsh Unitary Authority" if k <= 11 else "Northwold County Council"
        out.append((f"CAND-{k:05d}", score, met, employer))
    return out
