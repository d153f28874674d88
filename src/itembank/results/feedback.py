"""What one candidate's letter says, composed from the parts other steps decided: the decision
(met / not met), the strengths and development points the data can defend (subscores), and the
approved learning points a development point is pointed at.

Pure and deterministic: the same inputs give the same CandidateFeedback, so letters regenerate
byte for byte. The words come from the decision rule, the framework's headings, the subscore
step's findings and reviewed learning points; never from item text (the letters' item-text
scan checks it). A candidate whose decision is pending gets no letter at all (`pending`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from itembank.results.outcomes import (
    CandidateFeedback,
    Decision,
    LearningText,
    Point,
    Subscore,
)

#: at most this many learning points per development point: a pointer, not a reading list
MAX_LEARNING = 2

HOW_TO_READ = (
    "Met or not met is the result. It comes from the pass mark that two independent panels of "
    "practitioners set for the knowledge assessment, and from the marks of two assessors for "
    "each part of the simulated practice. It is not a grade, and it does not compare you with "
    "other candidates.",
    "A strength or a development point is reported only where the assessment holds enough "
    "evidence on that area to say something reliable about you. Where it does not, we report "
    "at a broader level, or say nothing, rather than guess.",
    "A development point is a pointer, not a verdict: it says where your answers on an area "
    "were clearly below your own overall level or the standard expected, given the "
    "uncertainty of a short test. It is a place to start a conversation with your supervisor "
    "and to plan learning, not a finding that you cannot practise in that area.",
    "No individual question is shown or discussed in this letter, and none can be: the "
    "questions are used again in later assessments. The suggested learning is written for "
    "each standard by practitioners and reviewed before use.",
)


def pending(decisions: Iterable[Decision]) -> tuple[Decision, ...]:
    """The candidates who get no letter yet (a third mark or another input is missing), by id."""
    return tuple(sorted((d for d in decisions if d.met is None), key=lambda d: d.candidate))


def statements_of(subscores: Iterable[Subscore]) -> dict[str, tuple[str, ...]]:
    """Group (or statement) id -> the framework statements it covers."""
    return {s.group: s.statements for s in subscores}


def learning_for(
    statements: Sequence[str], learning: Iterable[LearningText], most: int = MAX_LEARNING
) -> tuple[LearningText, ...]:
    """The approved learning points serving any of `statements`, first `most` by id (fixed
    order, so the same bank gives the same letter)."""
    wanted = set(statements)
    serving = [t for t in learning if wanted.intersection(t.standards)]
    return tuple(sorted(serving, key=lambda t: t.id)[:most])


def assessed_headings(
    subscores: Sequence[Subscore], scenarios: Sequence[Sequence[str]] = ()
) -> tuple[str, ...]:
    """What was assessed, as a candidate reads it: the heading of each standard or group the
    knowledge assessment covered (their own order), then each simulated-practice scenario by
    number with the headings of the standards it assesses (never the case's title or text)."""
    heads = [s.title for s in subscores]
    for n, standards in enumerate(scenarios, 1):
        named = "; ".join(standards)
        heads.append(f"Simulated practice, scenario {n}" + (f": {named}" if named else ""))
    return tuple(dict.fromkeys(heads))


def compose(
    decision: Decision,
    strengths: Sequence[Point],
    development: Sequence[Point],
    notes: Sequence[str],
    learning: Iterable[LearningText],
    subscores: Sequence[Subscore],
    assessed: Sequence[str] | None = None,
    most: int = MAX_LEARNING,
) -> CandidateFeedback:
    """One candidate's letter content. Each development point gets the approved learning points
    whose standards meet the point's statements (its group's, from `subscores`; a point whose
    group is a single statement uses that id). Refuses a pending decision: no letter is written
    until the result is known (ValueError, a programming error: `pending` lists them)."""
    if decision.met is None:
        raise ValueError(f"{decision.candidate}: the decision is pending; no letter is composed")
    covers: Mapping[str, tuple[str, ...]] = statements_of(subscores)
    texts = tuple(learning)
    points = tuple(
        replace(p, learning=learning_for(covers.get(p.group, (p.group,)), texts, most))
        for p in development
    )
    return CandidateFeedback(
        decision=decision,
        assessed=tuple(assessed) if assessed is not None else assessed_headings(subscores),
        strengths=tuple(strengths),
        development=points,
        notes=tuple(notes),
        how_to_read="\n\n".join(HOW_TO_READ),
    )


__all__ = [
    "HOW_TO_READ",
    "MAX_LEARNING",
    "assessed_headings",
    "compose",
    "learning_for",
    "pending",
    "statements_of",
]
