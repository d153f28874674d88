"""Modified Angoff standard setting with two independent panels (pure core).

Each judge rates each item as the probability that a minimally competent candidate answers it
correctly (for partial-credit items, the expected proportion of its marks). A judge's cut is the
sum over items of rating x the item's maximum marks (expected marks). A panel's cut is the mean
of its judges' cuts, with standard error SD/sqrt(n). The two panels' cuts are compared with
Welch's t-test; the recommended pass mark is the mean of the panel cuts, rounded up to a whole
mark. Outlying judges are flagged within their panel by the robust modified z-score
(Iglewicz and Hoaglin): |0.6745 (x - median) / MAD| > 3.5, which works with panels of four,
where an ordinary |z| > 2 can never be reached.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
OUTLIER_LIMIT = 3.5
MIN_JUDGES = 5  # bank.json's min_judges_per_panel when it does not say


@dataclass(frozen=True)
class JudgeCut:
    judge: str
    panel: str
    cut: float
    robust_z: float
    outlier: bool


@dataclass(frozen=True)
class PanelCut:
    panel: str
    judges: tuple[JudgeCut, ...]
    cut: float
    sd: float
    se: float

    @property
    def n(self) -> int:
        return len(self.judges)


@dataclass
class Results:
    """Everything the facilitator's summary shows for one round."""

    exercise: str
    round: int
    max_marks: float
    panels: list[PanelCut]
    difference: float | None = None
    t: float | None = None
    df: float | None = None
    p: float | None = None
    combined_cut: float | None = None
    combined_se: float | None = None
    pass_mark: int | None = None
    correlation: float | None = None
    item_means: dict[str, dict[str, float]] = field(default_factory=dict)
    spread: list[dict[str, Any]] = field(default_factory=list)  # per panel per round
    incomplete: list[str] = field(default_factory=list)  # judges left out, and why
    warnings: list[str] = field(default_factory=list)  # what makes the cut less trustworthy


def latest(ratings: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, int], Mapping[str, Any]]:
    """The record that counts for each (panel, judge, round): the last one submitted."""
    out: dict[tuple[str, str, int], Mapping[str, Any]] = {}
    for record in sorted(ratings, key=lambda r: (str(r["submitted"]), str(r["id"]))):
        out[(str(record["panel"]), str(record["judge"]).lower(), int(record["round"]))] = record
    return out


def judge_cut(record: Mapping[str, Any], max_marks: Mapping[str, float]) -> float:
    """Expected marks of a minimally competent candidate, by this judge's ratings."""
    return sum(float(r["value"]) * float(max_marks[r["item"]]) for r in record["ratings"])


def robust_z(values: Mapping[str, float]) -> dict[str, float]:
    """Modified z-scores 0.6745 (x - median) / MAD; when MAD is 0, 0.7979 (x - median) / mean
    absolute deviation; 0 for everyone when all agree."""
    if not values:
        return {}
    median = statistics.median(values.values())
    deviations = [abs(v - median) for v in values.values()]
    mad = statistics.median(deviations)
    if mad > 0:
        return {k: 0.6745 * (v - median) / mad for k, v in values.items()}
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return {k: (v - median) / (1.253314 * mean_ad) for k, v in values.items()}
    return dict.fromkeys(values, 0.0)


def panel_cut(panel: str, cuts: Mapping[str, float], judges: Mapping[str, str]) -> PanelCut:
    """Mean of the judges' cuts, SD (n-1) and standard error SD/sqrt(n); outliers flagged."""
    values = list(cuts.values())
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    zs = robust_z(cuts)
    return PanelCut(
        panel=panel,
        judges=tuple(
            JudgeCut(judges[k], panel, cuts[k], zs[k], abs(zs[k]) > OUTLIER_LIMIT)
            for k in sorted(cuts)
        ),
        cut=statistics.fmean(values),
        sd=sd,
        se=sd / math.sqrt(len(values)),
    )


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float] | None:
    """Welch's t, its Welch-Satterthwaite degrees of freedom and the two-sided p, or None when
    either panel has fewer than two judges or neither varies."""
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return None
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    from scipy import stats

    p = float(2 * stats.t.sf(abs(t), df))
    return t, df, p


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than three pairs, or no variation)."""
    if len(x) < 3 or len(x) != len(y):
        return None
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def results(
    exercise: Mapping[str, Any],
    ratings: Sequence[Mapping[str, Any]],
    max_marks: Mapping[str, float],
    round_no: int | None = None,
    min_judges: int = MIN_JUDGES,
) -> Results:
    """The results of one round (default: the latest round anyone has rated), with a warning
    for each panel whose cut rests on fewer than `min_judges` judges."""
    items = [str(i) for i in exercise["items"]]
    counted = latest(ratings)
    rounds = sorted({r for _, _, r in counted})
    chosen = round_no if round_no is not None else (rounds[-1] if rounds else 1)
    out = Results(str(exercise["id"]), chosen, sum(float(max_marks[i]) for i in items), [])
    for panel in exercise["panels"]:
        cuts: dict[str, float] = {}
        names: dict[str, str] = {}
        values: dict[str, list[float]] = {i: [] for i in items}
        for (p, key, r), record in sorted(counted.items()):
            if p != panel or r != chosen:
                continue
            rated = {x["item"]: float(x["value"]) for x in record["ratings"]}
            if set(rated) != set(items):
                out.incomplete.append(
                    f"{record['judge']} ({panel}): rated {len(rated)} of {len(items)} items"
                )
                continue
            cuts[key], names[key] = judge_cut(record, max_marks), str(record["judge"])
            for item, value in rated.items():
                values[item].append(value)
        if cuts:
            out.panels.append(panel_cut(str(panel), cuts, names))
            out.item_means[str(panel)] = {i: statistics.fmean(v) for i, v in values.items()}
    for panel in exercise["panels"]:
        for r in rounds:
            cuts_r = [
                judge_cut(rec, max_marks)
                for (p, _, rr), rec in counted.items()
                if p == panel and rr == r and {x["item"] for x in rec["ratings"]} == set(items)
            ]
            if cuts_r:
                out.spread.append(
                    {
                        "panel": panel,
                        "round": r,
                        "n": len(cuts_r),
                        "cut": statistics.fmean(cuts_r),
                        "sd": statistics.stdev(cuts_r) if len(cuts_r) > 1 else 0.0,
                    }
                )
    if len(out.panels) == 2:
        first, second = out.panels
        out.difference = first.cut - second.cut
        test = welch([j.cut for j in first.judges], [j.cut for j in second.judges])
        if test is not None:
            out.t, out.df, out.p = test
        means = [out.item_means[first.panel], out.item_means[second.panel]]
        out.correlation = pearson([means[0][i] for i in items], [means[1][i] for i in items])
    for panel in exercise["panels"]:
        n = next((p.n for p in out.panels if p.panel == str(panel)), 0)
        if n < min_judges:
            out.warnings.append(
                f"Panel {panel} has {n} judge(s) with complete ratings in round {chosen}, fewer "
                f"than the {min_judges} the bank asks for: its cut is not reliable enough to "
                "set a pass mark on."
            )
    if out.panels:
        out.combined_cut = statistics.fmean(p.cut for p in out.panels)
        out.combined_se = math.sqrt(sum(p.se**2 for p in out.panels)) / len(out.panels)
        out.pass_mark = math.ceil(out.combined_cut - 1e-9)
    return out


def feedback(
    exercise: Mapping[str, Any],
    ratings: Sequence[Mapping[str, Any]],
    max_marks: Mapping[str, float],
    panel: str,
    round_no: int,
) -> dict[str, Any]:
    """What a judge sees between rounds: their OWN panel's spread in a round (per item: lowest,
    mean, highest rating; the panel's cuts). Never another panel's ratings."""
    counted = [rec for (p, _, r), rec in latest(ratings).items() if p == panel and r == round_no]
    items: dict[str, list[float]] = {str(i): [] for i in exercise["items"]}
    for record in counted:
        for x in record["ratings"]:
            if x["item"] in items:
                items[x["item"]].append(float(x["value"]))
    cuts = sorted(judge_cut(rec, max_marks) for rec in counted)
    return {
        "panel": panel,
        "round": round_no,
        "judges": len(counted),
        "items": {
            i: {"low": min(v), "mean": statistics.fmean(v), "high": max(v)}
            for i, v in items.items()
            if v
        },
        "cuts": cuts,
    }


def summary_text(r: Results) -> str:
    """A printable summary of one round's results."""
    lines = [
        f"Standard setting: {r.exercise}, round {r.round} (modified Angoff)",
        f"Maximum marks: {r.max_marks:g}",
        "",
    ]
    if r.warnings:
        lines += [f"WARNING: {x}" for x in r.warnings] + [""]
    for panel in r.panels:
        lines.append(
            f"Panel {panel.panel}: cut {panel.cut:.2f} ± {panel.se:.2f} (SE; SD {panel.sd:.2f}, "
            f"{panel.n} judges)"
        )
        for j in panel.judges:
            flag = "  OUTLIER" if j.outlier else ""
            lines.append(f"  {j.judge}: {j.cut:.2f} (robust z {j.robust_z:+.2f}){flag}")
    if r.difference is not None:
        lines.append("")
        lines.append(f"Difference between panels: {r.difference:+.2f} marks")
        if r.t is not None and r.df is not None and r.p is not None:
            lines.append(f"Welch's t = {r.t:.2f}, df = {r.df:.1f}, p = {r.p:.3f}")
        else:
            lines.append(
                "Welch's t-test: not computed (it needs at least two judges in each panel, and "
                "judges' cuts that vary)."
            )
    if r.correlation is not None:
        lines.append(f"Correlation of mean item ratings between panels: r = {r.correlation:.2f}")
    if r.combined_cut is not None and r.pass_mark is not None:
        se = f" ± {r.combined_se:.2f}" if r.combined_se is not None else ""
        percent = 100 * r.pass_mark / r.max_marks if r.max_marks else 0
        lines += [
            "",
            f"Combined cut: {r.combined_cut:.2f}{se} marks",
            f"Recommended pass mark: {r.pass_mark} of {r.max_marks:g} ({percent:.0f}%)",
        ]
    if r.spread:
        lines += ["", "Spread by round (panel, round: cut, SD of judges' cuts):"]
        lines += [
            f"  {s['panel']}, round {s['round']}: {s['cut']:.2f}, SD {s['sd']:.2f} "
            f"({s['n']} judges)"
            for s in r.spread
        ]
    if r.incomplete:
        lines += ["", "Left out (incomplete ratings):", *[f"  {x}" for x in r.incomplete]]
    lines.append(f"Outliers: robust modified z-score within the panel, |z| > {OUTLIER_LIMIT}.")
    return "\n".join(lines)
