"""Compromise standard setting after a first administration (pure core): Hofstee and Beuk.

An Angoff pass mark is set before anyone sits the test; the compromise methods look at it again
against the observed score distribution, within limits the judges agreed in advance.

Conventions (every figure below is in whole raw marks, as the Angoff pass mark is):
- a candidate PASSES with a total at or above the pass mark c; the observed FAIL RATE at c is
  the percentage of candidates whose total is below c, F(c), which never falls as c rises;
- a pass mark as a percentage of the maximum score is k(c) = 100 c / max_score.

Hofstee (1983): the judges give the lowest and highest acceptable pass mark (k_min, k_max, % of
the maximum) and the lowest and highest acceptable fail rate (f_min, f_max, %); their means
make a box. The line from (k_min, f_max) to (k_max, f_min) falls across the box while F rises,
so they cross at most once. The Hofstee pass mark is the lowest whole mark within [k_min, k_max]
whose observed fail rate reaches the line (F(c) >= L(c)). When the curve passes above the box
(even the lowest acceptable mark fails more than f_max) or below it (even the highest acceptable
mark fails fewer than f_min) there is NO intersection: no Hofstee figure is given, and the
result says so and names the nearest edge of the box as a fallback for the chair to weigh, not a
figure of the method.

Beuk (1984): each judge gives the pass mark they would set (% of the maximum) and the pass rate
they expect (%). The line through the judges' mean point (k, f = 100 - pass rate) with slope
-(SD of the pass rates / SD of the pass marks) -- in fail-rate terms: the more the judges agree
on the mark than on the rate, the more the compromise moves the rate -- meets the rising curve
once; the Beuk pass mark is the lowest whole mark whose observed fail rate reaches the line.
When every judge gives the same pass mark (SD 0) the line is vertical: the Beuk mark is that
pass mark, rounded up to a whole mark, and the result says why.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

EPS = 1e-9


@dataclass(frozen=True)
class Curve:
    """The observed distribution as fail rates at every whole pass mark 0..ceil(max_score)."""

    max_score: float
    n: int
    fail: tuple[float, ...]  # fail[c] = % of candidates with a total below c

    def fail_rate(self, mark: int) -> float:
        return self.fail[max(0, min(mark, len(self.fail) - 1))]

    def pass_rate(self, mark: int) -> float:
        return 100.0 - self.fail_rate(mark)

    def percent(self, mark: float) -> float:
        """A mark as a percentage of the maximum score."""
        return 100.0 * mark / self.max_score


def curve(scores: Sequence[float], max_score: float) -> Curve:
    """The observed cumulative fail-rate curve of the totals (ValueError: no scores, a score
    outside 0..max_score, or a maximum that is not positive)."""
    if not max_score > 0:
        raise ValueError(f"The maximum score must be positive, not {max_score!r}.")
    if not scores:
        raise ValueError("There are no scores: import the form's results first.")
    values = sorted(float(s) for s in scores)
    if values[0] < 0 or values[-1] > max_score + EPS or any(v != v for v in values):
        raise ValueError(f"Every total must be a number from 0 to {max_score:g}.")
    top = math.ceil(max_score - EPS)
    n = len(values)
    fail = []
    below = 0
    for c in range(top + 1):
        while below < n and values[below] < c - EPS:
            below += 1
        fail.append(100.0 * below / n)
    return Curve(float(max_score), n, tuple(fail))


@dataclass(frozen=True)
class JudgeRange:
    """One judge's acceptable ranges and own figures (all in %)."""

    judge: str
    pass_mark_min: float
    pass_mark_max: float
    fail_rate_min: float
    fail_rate_max: float
    pass_mark: float  # the pass mark this judge would set (Beuk)
    pass_rate: float  # the pass rate this judge expects (Beuk)


def judge_range(record: Mapping[str, Any]) -> JudgeRange:
    """A ranges record (standard_setting/<exercise>/ranges/<id>.json) as a JudgeRange."""
    return JudgeRange(
        str(record["judge"]),
        float(record["pass_mark_min"]),
        float(record["pass_mark_max"]),
        float(record["fail_rate_min"]),
        float(record["fail_rate_max"]),
        float(record["pass_mark"]),
        float(record["pass_rate"]),
    )


@dataclass(frozen=True)
class Figure:
    """One method's pass mark with its pass rate, or why there is none."""

    method: str
    pass_mark: int | None
    fail_rate: float | None
    pass_rate: float | None
    note: str = ""
    fallback: int | None = None  # Hofstee without intersection: the nearest edge of the box
    inputs: dict[str, float] = field(default_factory=dict)


def _mark_range(k_min: float, k_max: float, max_score: float) -> tuple[int, int]:
    """The whole marks whose percentage lies within [k_min, k_max]."""
    low = math.ceil(k_min * max_score / 100 - EPS)
    high = math.floor(k_max * max_score / 100 + EPS)
    return low, high


def hofstee(c: Curve, ranges: Sequence[JudgeRange]) -> Figure:
    """The Hofstee pass mark from the judges' mean bounds (see the module docstring)."""
    if not ranges:
        return Figure("hofstee", None, None, None, "No judge has entered acceptable ranges.")
    k_min = statistics.fmean(r.pass_mark_min for r in ranges)
    k_max = statistics.fmean(r.pass_mark_max for r in ranges)
    f_min = statistics.fmean(r.fail_rate_min for r in ranges)
    f_max = statistics.fmean(r.fail_rate_max for r in ranges)
    inputs = {"k_min": k_min, "k_max": k_max, "f_min": f_min, "f_max": f_max, "judges": len(ranges)}
    low, high = _mark_range(k_min, k_max, c.max_score)
    box = f"{k_min:.1f}% to {k_max:.1f}% of the marks ({low} to {high})"

    def line(mark: int) -> float:
        if k_max - k_min < EPS:
            return f_min
        return f_max - (f_max - f_min) * (c.percent(mark) - k_min) / (k_max - k_min)

    if low > high:
        return Figure(
            "hofstee",
            None,
            None,
            None,
            f"The judges' acceptable pass marks ({k_min:.1f}% to {k_max:.1f}%) hold no whole "
            "mark: there is no Hofstee figure.",
            inputs=inputs,
        )
    if c.fail_rate(low) > f_max + EPS:
        return Figure(
            "hofstee",
            None,
            None,
            None,
            f"No intersection: even the lowest acceptable pass mark ({low}) fails "
            f"{c.fail_rate(low):.1f}% of candidates, more than the most the judges accept "
            f"({f_max:.1f}%). The curve passes above the box ({box}); the nearest edge is "
            f"{low} marks, given only as a fallback for the chair to weigh.",
            fallback=low,
            inputs=inputs,
        )
    if c.fail_rate(high) < f_min - EPS:
        return Figure(
            "hofstee",
            None,
            None,
            None,
            f"No intersection: even the highest acceptable pass mark ({high}) fails only "
            f"{c.fail_rate(high):.1f}% of candidates, fewer than the least the judges accept "
            f"({f_min:.1f}%). The curve passes below the box ({box}); the nearest edge is "
            f"{high} marks, given only as a fallback for the chair to weigh.",
            fallback=high,
            inputs=inputs,
        )
    for mark in range(low, high + 1):
        if c.fail_rate(mark) >= line(mark) - EPS:
            return Figure(
                "hofstee",
                mark,
                c.fail_rate(mark),
                c.pass_rate(mark),
                f"The observed fail rate reaches the judges' line at {mark} marks "
                f"(line {line(mark):.1f}%, observed {c.fail_rate(mark):.1f}%).",
                inputs=inputs,
            )
    return Figure(
        "hofstee",
        high,
        c.fail_rate(high),
        c.pass_rate(high),
        f"The curve meets the line between {high} marks and the top of the acceptable range "
        f"({k_max:.1f}%): {high} is the highest whole mark within it.",
        inputs=inputs,
    )


def beuk(c: Curve, ranges: Sequence[JudgeRange]) -> Figure:
    """The Beuk pass mark from the judges' own pass marks and expected pass rates."""
    if not ranges:
        return Figure("beuk", None, None, None, "No judge has given a pass mark and pass rate.")
    marks = [r.pass_mark for r in ranges]
    fails = [100.0 - r.pass_rate for r in ranges]
    k, f = statistics.fmean(marks), statistics.fmean(fails)
    sd_k = statistics.stdev(marks) if len(marks) > 1 else 0.0
    sd_p = statistics.stdev(fails) if len(fails) > 1 else 0.0
    inputs = {
        "mean_pass_mark": k,
        "mean_pass_rate": 100.0 - f,
        "sd_pass_mark": sd_k,
        "sd_pass_rate": sd_p,
        "judges": len(ranges),
    }
    if sd_k < EPS:
        mark = math.ceil(k * c.max_score / 100 - EPS)
        why = "one judge" if len(ranges) == 1 else "every judge gives the same pass mark"
        return Figure(
            "beuk",
            mark,
            c.fail_rate(mark),
            c.pass_rate(mark),
            f"The SD of the judges' pass marks is 0 ({why}), so the Beuk line is vertical: "
            f"the pass mark is theirs, {k:.1f}% = {mark} marks.",
            inputs=inputs,
        )
    slope = sd_p / sd_k
    top = len(c.fail) - 1
    for mark in range(top + 1):
        on_line = f - slope * (c.percent(mark) - k)
        if c.fail_rate(mark) >= on_line - EPS:
            return Figure(
                "beuk",
                mark,
                c.fail_rate(mark),
                c.pass_rate(mark),
                f"The observed fail rate reaches the Beuk line at {mark} marks "
                f"(line {on_line:.1f}%, observed {c.fail_rate(mark):.1f}%).",
                inputs=inputs,
            )
    return Figure(
        "beuk",
        None,
        None,
        None,
        "No intersection: the Beuk line stays above the observed fail rates at every mark.",
        inputs=inputs,
    )


def angoff(c: Curve, pass_mark: int | None, where: str = "") -> Figure:
    """The Angoff pass mark with the pass rate it gives on this administration."""
    if pass_mark is None:
        return Figure("angoff", None, None, None, "The exercise has no Angoff pass mark yet.")
    return Figure(
        "angoff",
        pass_mark,
        c.fail_rate(pass_mark),
        c.pass_rate(pass_mark),
        where,
        inputs={"pass_mark": float(pass_mark)},
    )


@dataclass(frozen=True)
class Compromise:
    """The three figures side by side, and the range a chair's own value must lie in."""

    curve: Curve
    figures: tuple[Figure, ...]
    acceptable: tuple[int, int] | None  # whole marks within the judges' mean acceptable range
    judges: int

    def figure(self, method: str) -> Figure:
        return next(f for f in self.figures if f.method == method)


def compromise(
    scores: Sequence[float],
    max_score: float,
    angoff_mark: int | None,
    ranges: Sequence[JudgeRange],
    angoff_note: str = "",
) -> Compromise:
    """Angoff, Hofstee and Beuk on one administration's totals."""
    c = curve(scores, max_score)
    acceptable = None
    if ranges:
        low, high = _mark_range(
            statistics.fmean(r.pass_mark_min for r in ranges),
            statistics.fmean(r.pass_mark_max for r in ranges),
            max_score,
        )
        acceptable = (low, high) if low <= high else None
    return Compromise(
        c,
        (angoff(c, angoff_mark, angoff_note), hofstee(c, ranges), beuk(c, ranges)),
        acceptable,
        len(ranges),
    )


def compromise_text(result: Compromise) -> str:
    """The side-by-side table as text (the CLI and the printable view)."""
    c = result.curve
    lines = [
        f"{c.n} candidates, maximum {c.max_score:g} marks; {result.judges} judge(s) gave ranges",
        "",
        f"{'method':<8} {'pass mark':>9} {'% of max':>8} {'pass rate':>9}",
    ]
    for f in result.figures:
        if f.pass_mark is None:
            lines.append(f"{f.method:<8} {'none':>9}")
        else:
            lines.append(
                f"{f.method:<8} {f.pass_mark:>9d} {c.percent(f.pass_mark):>7.1f}% "
                f"{f.pass_rate or 0.0:>8.1f}%"
            )
    lines.append("")
    lines += [f"{f.method}: {f.note}" for f in result.figures if f.note]
    if result.acceptable is not None:
        low, high = result.acceptable
        lines.append(f"The judges' acceptable pass marks: {low} to {high} marks.")
    return "\n".join(lines)
