"""Parallelism as the objective of form assembly: what "parallel" is measured on, the rows that
bound every form's deviation by one auxiliary column, and the report of how parallel the forms
came out.

Forms are parallel when no form strays far from the others. The programme minimises ``t``, the
largest absolute deviation of any form from the target on any measure (minimax, linear):

* mean difficulty (expected facility): the target is the blueprint's ``difficulty.target``;
  when the blueprint sets none, a free column ``mu`` is the target, so the solver centres the
  forms wherever the pool allows and ``t`` is half the spread between forms;
* once every item in the pool has 2PL parameters of its current version (statistics records,
  ``irt.a`` and ``irt.d`` in slope-intercept form), the test characteristic curve (expected
  proportion correct) and the test information (relative to the pool's average item, so 0.01
  is 1% of the information of a typical form) at a few abilities around the pass mark, each
  against its own free centre ``mu``. The abilities are the blueprint's ``parity.theta``; else,
  when a pass mark is known, theta_cut - 0.5, theta_cut and theta_cut + 0.5, where theta_cut is
  the ability whose expected score is the pass mark (`theta_cut`: the characteristic curve of
  the form the mark was adopted on, else the pool's average item, inverted at the cut); else
  -0.5, 0 and 0.5 logits.

All measures are proportions, so one ``t`` bounds them all. Seeded randomisation is only a tie
breaker: a random cost on every item column, weighted so that all of it together is worth at
most TIE_SHARE (a twentieth) of the parity tolerance.

Pure: records in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.core.workflow import content_hash
from itembank.forms.pool import EMPIRICAL_MIN_N, Pool
from itembank.forms.programme import Programme

#: the default parity tolerance: the largest deviation of any form from the target that is
#: good enough (mean difficulty 0.002 from the target: a spread of at most 0.004 between forms)
DEFAULT_TOLERANCE = 0.002
#: the share of the tolerance that all the seeded tie-break costs together may be worth
TIE_SHARE = 0.05
#: default abilities (logits) at which the curves are matched when the blueprint names none
#: and no pass mark is known
DEFAULT_THETA = (-0.5, 0.0, 0.5)
#: the abilities around theta_cut: where a pass/fail decision needs its precision
AROUND_CUT = (-0.5, 0.0, 0.5)
#: the ability range a blueprint may name (schemas/blueprint.schema.json), and theta_cut's
THETA_RANGE = (-4.0, 4.0)


@dataclass(frozen=True)
class Cut:
    """A pass mark as a proportion of the form's marks, where it came from, and the items of
    the form it was set on (None: a planning figure, not tied to a form)."""

    proportion: float
    source: str
    items: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Measure:
    """One thing forms are matched on: each item's contribution (summed over the form and
    divided by its length) and the target (None: a free centre the solver chooses)."""

    name: str
    values: Mapping[str, float]
    target: float | None


@dataclass(frozen=True)
class ParitySpec:
    """What parity means for one assembly and how close is close enough."""

    measures: tuple[Measure, ...]
    tolerance: float
    theta: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()
    theta_from: str = ""


@dataclass
class ParityColumns:
    """The columns the parity rows added: t (largest deviation) and each measure's centre."""

    t: int
    centres: dict[str, int] = field(default_factory=dict)


def irt_parameters(
    items: Iterable[Mapping[str, Any]], statistics: Iterable[Mapping[str, Any]]
) -> dict[str, tuple[float, float]]:
    """Item id -> (a, d), 2PL slope-intercept, from the newest statistics of the item's CURRENT
    version with at least EMPIRICAL_MIN_N candidates (as `empirical_difficulty` chooses)."""
    newest: dict[tuple[str, str], tuple[tuple[str, str], tuple[float, float]]] = {}
    for record in statistics:
        irt = record.get("irt")
        if not isinstance(irt, Mapping) or int(record.get("n", 0)) < EMPIRICAL_MIN_N:
            continue
        if "a" not in irt or ("d" not in irt and "b" not in irt):
            continue
        a = float(irt["a"])
        d = float(irt["d"]) if "d" in irt else -a * float(irt["b"])
        key = (str(record["item"]), str(record["content_hash"]))
        stamp = (str(record["analysed_at"]), str(record["administration"]))
        if key not in newest or stamp > newest[key][0]:
            newest[key] = (stamp, (a, d))
    out = {}
    for item in items:
        found = newest.get((str(item["id"]), content_hash("item", item)))
        if found is not None:
            out[str(item["id"])] = found[1]
    return out


def _curves(a: float, d: float, theta: float) -> tuple[float, float]:
    """P(correct) and item information of a 2PL item at theta."""
    p = 1.0 / (1.0 + math.exp(-(a * theta + d)))
    return p, a * a * p * (1.0 - p)


def pass_mark_cut(
    blueprint: Mapping[str, Any],
    adoptions: Iterable[Mapping[str, Any]],
    forms: Iterable[Mapping[str, Any]],
) -> Cut | None:
    """The pass mark the curves are matched around: the newest adopted for a form of this
    blueprint (adoption records, form manifests), else the blueprint's `parity.pass_mark` (a
    proportion of the marks), else None."""
    mine = {str(f["id"]): f for f in forms if str(f.get("blueprint")) == str(blueprint.get("id"))}
    adopted = [a for a in adoptions if str(a.get("form")) in mine]
    if adopted:
        a = max(adopted, key=lambda r: (str(r.get("date", "")), str(r.get("form"))))
        form = mine[str(a["form"])]
        items = tuple(str(e["id"]) for s in form.get("sections", []) for e in s.get("items", []))
        return Cut(
            float(a["pass_mark"]) / float(a["max_score"]),
            f"the pass mark {float(a['pass_mark']):g} of {float(a['max_score']):g} adopted for "
            f"{a['form']} (exercise {a.get('exercise')}, {a.get('method')})",
            items,
        )
    own = blueprint.get("parity", {}).get("pass_mark")
    if own is not None:
        return Cut(float(own), f"the blueprint's pass mark ({float(own):g} of the marks)")
    return None


def theta_cut(params: Sequence[tuple[float, float]], proportion: float) -> float:
    """The ability at which the expected proportion correct on these items (their test
    characteristic curve) equals `proportion`, by bisection (the curve rises with ability);
    clipped to THETA_RANGE."""
    low, high = THETA_RANGE

    def expected(theta: float) -> float:
        return sum(_curves(a, d, theta)[0] for a, d in params) / len(params)

    if proportion <= expected(low):
        return low
    if proportion >= expected(high):
        return high
    for _ in range(60):
        mid = (low + high) / 2
        if expected(mid) < proportion:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _abilities(
    options: Mapping[str, Any],
    pool: Pool,
    irt: Mapping[str, tuple[float, float]],
    cut: Cut | None,
) -> tuple[tuple[float, ...], str]:
    """The abilities the curves are matched at and where they came from (see the module)."""
    if "theta" in options:
        return tuple(float(t) for t in options["theta"]), "the blueprint (parity.theta)"
    if cut is None:
        return DEFAULT_THETA, "the default (no pass mark is known for this blueprint)"
    # the cut is on the scale of the form it was set on; a planning figure (or a form whose
    # items lack parameters of their current version) falls back on the pool's average item
    on_form = bool(cut.items) and all(i in irt for i in cut.items or ())
    ids = list(cut.items or ()) if on_form else list(pool.items)
    centre = round(theta_cut([irt[i] for i in ids], cut.proportion), 2)
    curve = (
        f"the characteristic curve of that form's {len(ids)} items"
        if on_form
        else f"the pool's average characteristic curve ({len(ids)} items)"
    )
    low, high = THETA_RANGE
    theta = tuple(round(min(high, max(low, centre + k)), 2) for k in AROUND_CUT)
    return theta, f"theta_cut {centre:g} from {cut.source}, inverted on {curve}"


def parity_spec(
    blueprint: Mapping[str, Any],
    pool: Pool,
    irt: Mapping[str, tuple[float, float]] | None = None,
    tolerance: float | None = None,
    cut: Cut | None = None,
) -> ParitySpec:
    """The measures for this blueprint and pool: difficulty always; the curves at the blueprint's
    abilities (else around the pass mark `cut`, else the defaults) when every pool item has
    parameters (a form's curve needs all of its items')."""
    options = blueprint.get("parity", {})
    tol = float(tolerance if tolerance is not None else options.get("tolerance", DEFAULT_TOLERANCE))
    difficulty = blueprint.get("difficulty") or {}
    target = float(difficulty["target"]) if "target" in difficulty else None
    measures = [Measure("difficulty", {i: c.difficulty for i, c in pool.items.items()}, target)]
    notes: list[str] = []
    irt = irt or {}
    missing = [i for i in pool.items if i not in irt]
    theta: tuple[float, ...] = ()
    source = ""
    if irt and not missing and options.get("curves", True):
        theta, source = _abilities(options, pool, irt, cut)
        for k in theta:
            p = {i: _curves(*irt[i], k)[0] for i in pool.items}
            info = {i: _curves(*irt[i], k)[1] for i in pool.items}
            scale = float(np.mean(list(info.values()))) or 1.0
            measures.append(Measure(f"tcc@{k:g}", p, None))
            measures.append(Measure(f"tif@{k:g}", {i: v / scale for i, v in info.items()}, None))
        notes.append(f"curves matched at abilities {', '.join(f'{k:g}' for k in theta)}: {source}")
    elif irt and missing:
        notes.append(
            f"parity on difficulty only: {len(missing)} pool item(s) have no 2PL parameters of "
            f"their current version (e.g. {', '.join(sorted(missing)[:5])}), so the forms' "
            "characteristic and information curves cannot be compared"
        )
    return ParitySpec(tuple(measures), tol, theta, tuple(notes), source)


def add_parity(m: Programme, spec: ParitySpec, n: int) -> ParityColumns:
    """Append t (cost 1) and each free centre, and two rows per form and measure:
    -t <= form mean - target <= t."""
    t = m.var(1.0, upper=math.inf, integer=False)
    cols = ParityColumns(t)
    for measure in spec.measures:
        centre = None
        if measure.target is None:
            low, high = min(measure.values.values()), max(measure.values.values())
            centre = m.var(0.0, upper=high, integer=False)
            m.lower[centre] = low
            cols.centres[measure.name] = centre
        for f in range(n):
            coefs = {
                m.x[(f, si, i)]: measure.values[i] / m.length
                for si in range(len(m.sections))
                for i in m.eligible[si]
                if (f, si, i) in m.x
            }
            target = 0.0 if measure.target is None else measure.target
            if centre is not None:
                coefs[centre] = -1.0
            m.row({**coefs, t: -1.0}, -math.inf, target)
            m.row({**coefs, t: 1.0}, target, math.inf)
    return cols


@dataclass(frozen=True)
class ParityReport:
    """How parallel the forms are: per measure, each form's mean, its deviation from the target
    (the blueprint's, else the mean of the forms), and the spread (max - min of form means)."""

    measures: dict[str, dict[str, Any]]
    largest_deviation: float
    theta: tuple[float, ...] = ()
    theta_from: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "largest_deviation": self.largest_deviation,
            "measures": self.measures,
        }
        if self.theta:
            out.update(theta=list(self.theta), theta_from=self.theta_from)
        return out


def parity_report(spec: ParitySpec, forms: Sequence[Sequence[str]]) -> ParityReport:
    """The achieved parity of the forms (lists of item ids), measure by measure."""
    out: dict[str, dict[str, Any]] = {}
    worst = 0.0
    for measure in spec.measures:
        means = [float(np.mean([measure.values[i] for i in ids])) for ids in forms]
        target = measure.target if measure.target is not None else float(np.mean(means))
        deviations = [m - target for m in means]
        worst = max(worst, *(abs(d) for d in deviations))
        out[measure.name] = {
            "target": round(target, 6),
            "target_from": "blueprint" if measure.target is not None else "mean of the forms",
            "means": [round(v, 6) for v in means],
            "deviations": [round(v, 6) for v in deviations],
            "spread": round(max(means) - min(means), 6),
        }
    return ParityReport(out, round(worst, 6), spec.theta, spec.theta_from)


__all__ = [
    "AROUND_CUT",
    "DEFAULT_THETA",
    "DEFAULT_TOLERANCE",
    "THETA_RANGE",
    "TIE_SHARE",
    "Cut",
    "Measure",
    "ParityColumns",
    "ParityReport",
    "ParitySpec",
    "add_parity",
    "irt_parameters",
    "parity_report",
    "parity_spec",
    "pass_mark_cut",
    "theta_cut",
]
