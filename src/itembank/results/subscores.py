"""Feedback the data can defend: which subscores add value over the total, and which of a
candidate's areas are clearly stronger or weaker than the rest of their paper.

Why: vendors report raw percentages per category ("below 60% is at risk") on a handful of
items, which mostly reports measurement error. Here a subscore is reported only when it
predicts the candidate's TRUE subscore better than the total does (Haberman 2008, PRMSE), and
a development point is named only when the gap is larger than measurement error explains.

Value added (Haberman 2008; Sinharay, Haberman & Puhan 2007; Sinharay 2010), classical test
theory with errors uncorrelated between disjoint sets of items; s = subscore, r = rest of the
paper, x = s + r the total:
    PRMSE_s = reliability of s (Cronbach's alpha on this administration)
    Var(t_s) = alpha_s Var(s);  Cov(t_s, x) = Var(t_s) + Cov(s, r)
    PRMSE_x = Cov(t_s, x)^2 / (Var(t_s) Var(x))   (squared correlation of true s with x)
and the subscore is reported only when PRMSE_s > PRMSE_x and it has at least `min_items`.

Gaps (documented in docs/results.md): under the hypothesis that the candidate's area is in line
with the rest of their paper (true s and true r perfectly correlated), s given r has mean
mu_s + b0 (r - mu_r), b0 = sqrt(alpha_s alpha_r Var(s) / Var(r)), and variance
Var(s) (1 - alpha_s alpha_r); z_own is the standardised difference. The standard's expectation
is the pass mark spread evenly over the paper (a candidate exactly at the pass mark earns that
share of every area); z_exp = (s - e max_s) / SEM_s with SEM_s = sqrt((1 - alpha_s) Var(s)).
One-sided tests: "clearly" at `clear_level`, "somewhat ... a pointer" at `pointer_level`.
Pure: numbers and records in, frozen results out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from itembank.results.matrix import ScoredMatrix
from itembank.results.outcomes import Point, Subscore
from itembank.results.reliability import cronbach_alpha

MIN_GROUP_SIZE = 10
MIN_ITEMS = 6
POINTER_LEVEL = 0.05
CLEAR_LEVEL = 0.01

Feedback = tuple[tuple[Point, ...], tuple[Point, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Group:
    """A group of framework statements reported together, in words candidates understand."""

    id: str
    title: str
    statements: tuple[str, ...]


@dataclass(frozen=True)
class FeedbackSettings:
    """bank.json "results"."feedback", with these defaults when absent."""

    groups: tuple[Group, ...] = ()
    min_group_size: int = MIN_GROUP_SIZE
    min_items: int = MIN_ITEMS
    pointer_level: float = POINTER_LEVEL
    clear_level: float = CLEAR_LEVEL
    theme_level: float = 0.01

    @classmethod
    def from_bank(cls, settings: Mapping[str, Any] | None) -> FeedbackSettings:
        """Read bank.json's "results"."feedback" (the schema has checked the types)."""
        given = ((settings or {}).get("results") or {}).get("feedback") or {}
        groups = tuple(
            Group(str(g["id"]), str(g["title"]), tuple(str(s) for s in g["statements"]))
            for g in given.get("groups", ())
        )
        return cls(
            groups=groups,
            min_group_size=max(int(given.get("min_group_size", MIN_GROUP_SIZE)), MIN_GROUP_SIZE),
            min_items=int(given.get("min_items", MIN_ITEMS)),
            pointer_level=float(given.get("pointer_level", POINTER_LEVEL)),
            clear_level=float(given.get("clear_level", CLEAR_LEVEL)),
            theme_level=float(given.get("theme_level", 0.01)),
        )


@dataclass(frozen=True)
class Prmse:
    """The value-added figures of one subscore (see the module docstring)."""

    prmse_subscore: float | None
    prmse_total: float | None


def prmse(scores: NDArray[np.float64], columns: Sequence[int]) -> Prmse:
    """PRMSE of the observed subscore (its alpha) and of the total, for the true subscore on
    `columns` of `scores` (candidates x items); None where a figure does not exist (fewer than
    2 items, no variance, alpha <= 0)."""
    cols = list(columns)
    rest = [j for j in range(scores.shape[1]) if j not in set(cols)]
    if len(cols) < 2 or not rest:
        return Prmse(None, None)
    sub = scores[:, cols]
    alpha = cronbach_alpha(sub)
    if alpha is None or alpha <= 0:
        return Prmse(alpha, None)
    s = sub.sum(axis=1)
    r = scores[:, rest].sum(axis=1)
    var_s = float(np.var(s, ddof=1))
    var_x = float(np.var(s + r, ddof=1))
    cov_sr = float(np.cov(s, r, ddof=1)[0, 1])
    var_true = alpha * var_s
    cov_true_x = var_true + cov_sr
    return Prmse(alpha, min(cov_true_x**2 / (var_true * var_x), 1.0))


def statement_items(statements: Sequence[str | None], wanted: Sequence[str]) -> list[int]:
    """The columns whose primary statement is one of `wanted`."""
    keep = set(wanted)
    return [j for j, s in enumerate(statements) if s in keep]


def value_added(
    matrix: ScoredMatrix,
    statements: Sequence[str | None],
    titles: Mapping[str, str],
    settings: FeedbackSettings,
) -> tuple[Subscore, ...]:
    """For each statement on the form, then each group: PRMSE and whether it is reported.

    `statements[j]` is item j's primary statement. A statement is reported on its own when it
    has enough items and adds value; otherwise its group is tried; a group is reported when it
    adds value and covers a statement not reported on its own; the rest is said at the overall
    level only (the reason says which)."""
    out: list[Subscore] = []
    own: set[str] = set()
    present = [s for s in dict.fromkeys(statements) if s is not None]
    grouped = {s for g in settings.groups for s in g.statements}
    order = [s for g in settings.groups for s in g.statements if s in present]
    order += sorted(s for s in present if s not in grouped)
    for statement in order:
        cols = statement_items(statements, [statement])
        sub = _subscore(matrix, statement, titles.get(statement, statement), (statement,), cols)
        reported, reason = _decide(sub, len(cols), settings, "this standard")
        if reported:
            own.add(statement)
        out.append(_with(sub, reported, reason))
    for group in settings.groups:
        cols = statement_items(statements, group.statements)
        if not cols:
            continue
        sub = _subscore(matrix, group.id, group.title, group.statements, cols)
        reported, reason = _decide(sub, len(cols), settings, "this group of standards")
        fallen = [s for s in group.statements if s in present and s not in own]
        if reported and not fallen:
            reported = False
            reason = "each of its standards is reported on its own"
        elif reported and own & set(group.statements):
            reason += f" (for {', '.join(fallen)}; the others are reported on their own)"
        out.append(_with(sub, reported, reason))
    return tuple(out)


def _subscore(
    matrix: ScoredMatrix, ident: str, title: str, statements: tuple[str, ...], cols: list[int]
) -> Subscore:
    figures = prmse(matrix.scores, cols)
    return Subscore(
        group=ident,
        title=title,
        statements=statements,
        n_items=len(cols),
        max_score=float(matrix.max_scores[cols].sum()) if cols else 0.0,
        prmse_subscore=figures.prmse_subscore,
        prmse_total=figures.prmse_total,
        reported=False,
        reason="",
    )


def _decide(sub: Subscore, n: int, settings: FeedbackSettings, what: str) -> tuple[bool, str]:
    if n < settings.min_items:
        return False, (
            f"too few questions: {n} on this paper, at least {settings.min_items} are needed for "
            f"any statement about {what}"
        )
    ps, px = sub.prmse_subscore, sub.prmse_total
    if ps is None or px is None:
        return False, f"the answers on {what} do not hang together enough to measure it"
    if ps > px:
        return True, (
            f"adds value: the score on {what} predicts the true score on it better than the "
            f"total does (PRMSE {ps:.2f} against {px:.2f})"
        )
    return False, (
        f"adds no value: the total predicts the true score on {what} at least as well as the "
        f"score on it does (PRMSE {ps:.2f} against {px:.2f}), so it is reported at a broader level"
    )


def _with(sub: Subscore, reported: bool, reason: str) -> Subscore:
    return Subscore(**{**sub.__dict__, "reported": reported, "reason": reason})


@dataclass(frozen=True)
class Gap:
    """One candidate's standardised differences on one reported subscore."""

    z_own: float
    z_expectation: float | None


def gap_statistics(
    scores: NDArray[np.float64], columns: Sequence[int], expectation: float | None, max_s: float
) -> list[Gap]:
    """z_own and z_exp for every candidate on the subscore over `columns` (module docstring);
    an empty list when the figures do not exist (no variance, alpha <= 0)."""
    cols = list(columns)
    rest = [j for j in range(scores.shape[1]) if j not in set(cols)]
    alpha_s = cronbach_alpha(scores[:, cols]) if len(cols) > 1 else None
    alpha_r = cronbach_alpha(scores[:, rest]) if len(rest) > 1 else None
    if not alpha_s or not alpha_r or alpha_s <= 0 or alpha_r <= 0:
        return []
    s = scores[:, cols].sum(axis=1)
    r = scores[:, rest].sum(axis=1)
    var_s, var_r = float(np.var(s, ddof=1)), float(np.var(r, ddof=1))
    b0 = math.sqrt(alpha_s * alpha_r * var_s / var_r)
    sd0 = math.sqrt(var_s * (1 - alpha_s * alpha_r))
    predicted = np.clip(s.mean() + b0 * (r - r.mean()), 0.0, max_s)
    z_own = (s - predicted) / sd0
    sem = math.sqrt((1 - alpha_s) * var_s)
    z_exp = None if expectation is None else (s - expectation * max_s) / sem
    return [Gap(float(z_own[i]), None if z_exp is None else float(z_exp[i])) for i in range(len(s))]


def _words(gap: Gap, settings: FeedbackSettings, below: bool) -> str:
    """The finding with its uncertainty in words; "" when the data say nothing either way."""
    clear = float(stats.norm.isf(settings.clear_level))
    pointer = float(stats.norm.isf(settings.pointer_level))
    sign = -1.0 if below else 1.0
    side = "below" if below else "above"
    parts = []
    own = sign * gap.z_own
    if own >= clear:
        parts.append(
            f"Clearly {side} your own overall level in this area: the difference from the rest "
            "of your paper is larger than chance on these questions would explain."
        )
    elif own >= pointer:
        parts.append(
            f"Somewhat {side} your own overall level in this area - treat this as a pointer, "
            "not a firm finding: on this number of questions it could partly be chance."
        )
    exp = None if gap.z_expectation is None else sign * gap.z_expectation
    if exp is not None and exp >= clear:
        parts.append(f"Clearly {side} what the standard expects in this area.")
    elif exp is not None and exp >= pointer:
        parts.append(f"Somewhat {side} what the standard expects here - treat it as a pointer.")
    return " ".join(parts)


def candidate_points(
    matrix: ScoredMatrix,
    statements: Sequence[str | None],
    subscores: Sequence[Subscore],
    settings: FeedbackSettings,
    expectation: float | None,
) -> dict[str, Feedback]:
    """Per candidate: (strengths, development points, notes) over the REPORTED subscores only.

    `expectation` is the share of marks the standard expects in every area (the pass mark over
    the maximum), or None to test against the candidate's own level only. A development point
    takes precedence over a strength on the same area. Point.learning is left empty: the
    letters attach approved learning points by statement."""
    notes = tuple(_notes(subscores, settings))
    per: dict[str, tuple[list[Point], list[Point]]] = {c: ([], []) for c in matrix.candidates}
    for sub in subscores:
        if not sub.reported:
            continue
        cols = statement_items(statements, sub.statements)
        gaps = gap_statistics(matrix.scores, cols, expectation, sub.max_score)
        for candidate, gap in zip(matrix.candidates, gaps, strict=True):
            weak = _words(gap, settings, below=True)
            strong = "" if weak else _words(gap, settings, below=False)
            if weak:
                per[candidate][1].append(Point(sub.group, sub.title, weak))
            elif strong:
                per[candidate][0].append(Point(sub.group, sub.title, strong))
    return {c: (tuple(s), tuple(d), notes) for c, (s, d) in per.items()}


def _notes(subscores: Sequence[Subscore], settings: FeedbackSettings) -> list[str]:
    """What the letter says about the areas it gives no separate finding for."""
    notes = []
    reported = {s for sub in subscores if sub.reported for s in sub.statements}
    for sub in subscores:
        if sub.reported or len(sub.statements) != 1 or sub.statements[0] in reported:
            continue
        if sub.n_items < settings.min_items:
            notes.append(
                f"{sub.title}: nothing is said about this standard on its own - the paper had "
                f"{_count(sub.n_items)} on it, too few for a fair statement."
            )
        else:
            notes.append(
                f"{sub.title}: reported only as part of your overall result - on this paper a "
                "separate figure would not tell you more than your total does."
            )
    return notes


def _count(n: int) -> str:
    words = ["no questions", "one question", "two questions", "three questions"]
    return words[n] if n < len(words) else f"{n} questions"


def at_expectation(
    matrix: ScoredMatrix, statements: Sequence[str | None], sub: Subscore, expectation: float
) -> tuple[bool, ...]:
    """Per candidate: whether their observed score on `sub` is at or above the expectation
    (the share of its marks the standard expects), for the employer themes."""
    cols = statement_items(statements, sub.statements)
    s = matrix.scores[:, cols].sum(axis=1)
    return tuple(bool(v) for v in s >= expectation * sub.max_score - 1e-9)


__all__ = [
    "CLEAR_LEVEL",
    "MIN_GROUP_SIZE",
    "MIN_ITEMS",
    "POINTER_LEVEL",
    "Feedback",
    "FeedbackSettings",
    "Gap",
    "Group",
    "Prmse",
    "at_expectation",
    "candidate_points",
    "gap_statistics",
    "prmse",
    "statement_items",
    "value_added",
]
