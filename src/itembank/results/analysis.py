"""Classical item and test analysis of one administration (a ScoredMatrix), and the flag rules.

Why here and pure: the same numbers feed the statistics records, the psychometrician's app and
the technical report, and they are tested against published figures (LSAT7, SAT12, HCI), so
they are computed in one place from the matrix alone, vectorised so 30,000 x 60 takes well
under a second. Conventions (stated once, used everywhere):

- an omitted response scores 0 (it is in ``m.scores`` as 0) and counts in every denominator;
- variances and SDs are sample ones (n - 1), as R's ``var``/``sd`` and mirt's ``itemstats``
  print them; alpha does not depend on the choice;
- score groups (upper/lower 27 %, thirds, quintiles) are ranges of rank positions after sorting
  by total. Candidates tied on a total that straddles a boundary are shared between the two
  groups in proportion to how much of their tie block falls on each side, so every group has
  exactly its nominal size (27 % of n is 0.27 n, not "270 or so") and the result never depends
  on the order candidates happen to be listed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import (
    AnalysisInputError,
    DecisionConsistency,
    cronbach_alpha,
    csem_at,
    feldt_interval,
    rounded,
    subkoviak,
)

#: fraction of candidates in each of the upper and lower groups (Kelley 1939)
UPPER_LOWER = 0.27
#: labels of the score groups for option proportions, by number of groups
GROUP_LABELS = {3: ("low", "middle", "high"), 5: ("q1", "q2", "q3", "q4", "q5")}


def group_weights(totals: NDArray[np.float64], bounds: tuple[float, ...]) -> NDArray[np.float64]:
    """Weight of each candidate (rows) in each score group (columns).

    `bounds` are fractions 0 <= b0 < b1 < ... <= 1 of the rank positions sorted from the lowest
    total; group g covers positions [b_g n, b_{g+1} n). A block of candidates tied on one total
    occupies a range of positions; each of them gets, in group g, the share of that range that
    falls inside group g. Columns sum to the group's size (b_{g+1} - b_g) n exactly.
    """
    n = totals.shape[0]
    values, inverse, counts = np.unique(totals, return_inverse=True, return_counts=True)
    end = np.cumsum(counts).astype(np.float64)
    start = end - counts
    edges = np.asarray(bounds, dtype=np.float64) * n
    low, high = edges[:-1], edges[1:]
    overlap = np.clip(
        np.minimum(end[:, None], high[None, :]) - np.maximum(start[:, None], low[None, :]), 0, None
    )
    per_value = overlap / counts[:, None]
    del values
    return np.asarray(per_value[inverse.ravel()], dtype=np.float64)


@dataclass(frozen=True)
class OptionStats:
    """One response (an option, or a whole response pattern on a multiple-response item)."""

    option: str
    is_key: bool
    proportion: float
    by_group: tuple[float, ...]
    option_rest_r: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "is_key": self.is_key,
            "proportion": rounded(self.proportion, 4),
            "by_group": [rounded(p, 4) for p in self.by_group],
            "option_rest_r": rounded(self.option_rest_r, 4),
        }


@dataclass(frozen=True)
class ItemStats:
    """Classical statistics of one item (one column of the matrix).

    facility = mean / max_score, which is (mean - min) / (max - min) since a ScoredMatrix's
    lowest score is 0; upper_lower = facility in the top 27 % minus facility in the bottom 27 %
    (ties shared, see the module); item_rest_r = r(item, total - item); alpha_if_deleted is None
    with fewer than 3 items. options, groups and omitted_by_group are empty without raw choices.
    """

    item: str
    n: int
    max_score: float
    mean: float
    facility: float
    item_rest_r: float | None
    upper_lower: float
    omit_rate: float
    alpha_if_deleted: float | None
    groups: tuple[str, ...] = ()
    options: tuple[OptionStats, ...] = ()
    omitted_by_group: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item": self.item,
            "n": self.n,
            "max_score": rounded(self.max_score, 4),
            "mean": rounded(self.mean),
            "facility": rounded(self.facility),
            "item_rest_r": rounded(self.item_rest_r),
            "upper_lower": rounded(self.upper_lower),
            "omit_rate": rounded(self.omit_rate),
            "alpha_if_deleted": rounded(self.alpha_if_deleted),
        }
        if self.options:
            out["groups"] = list(self.groups)
            out["options"] = [o.to_dict() for o in self.options]
            out["omitted_by_group"] = [rounded(p, 4) for p in self.omitted_by_group]
        return out


def _options(
    column: NDArray[np.str_],
    key: str | None,
    weights: NDArray[np.float64],
    rest: NDArray[np.float64],
) -> tuple[tuple[OptionStats, ...], tuple[float, ...]]:
    """Option proportions by score group and option-rest correlations of one item, from its
    choices as strings ("" when omitted); the key is listed even when nobody chose it."""
    labels, inverse = np.unique(column, return_inverse=True)
    codes, size = inverse.ravel(), labels.size
    n = column.shape[0]
    share = np.bincount(codes, minlength=size) / n
    by_group = np.stack(  # groups x labels, by counting each group's weights per label
        [np.bincount(codes, weights=w, minlength=size) / w.sum() for w in weights.T]
    )
    mean_rest = float(rest.mean())
    cov = np.bincount(codes, weights=rest, minlength=size) / n - share * mean_rest
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(share * (1 - share) * float(np.mean((rest - mean_rest) ** 2)))
    found = {str(label): i for i, label in enumerate(labels)}
    out = []
    for option in sorted((set(found) - {""}) | ({key} if key else set())):
        i = found.get(option)
        out.append(
            OptionStats(
                option=option,
                is_key=option == key,
                proportion=0.0 if i is None else float(share[i]),
                by_group=tuple(0.0 if i is None else float(v) for v in by_group[:, i]),
                option_rest_r=None if i is None or not np.isfinite(r[i]) else float(r[i]),
            )
        )
    gone = found.get("")
    omitted = (0.0,) * by_group.shape[0] if gone is None else tuple(map(float, by_group[:, gone]))
    return tuple(out), omitted


def _check(m: ScoredMatrix, pass_mark: float | None = None) -> None:
    if len(m.candidates) < 2 or len(m.items) < 2:
        raise AnalysisInputError(
            f"item analysis needs at least 2 candidates and 2 items; this matrix has "
            f"{len(m.candidates)} candidates and {len(m.items)} items"
        )
    if pass_mark is not None and not 0 < pass_mark <= float(m.max_scores.sum()):
        raise AnalysisInputError(
            f"the pass mark {pass_mark} is outside the possible totals 0..{m.max_scores.sum():g}:"
            " give it in raw marks on this form"
        )


def item_analysis(
    m: ScoredMatrix, *, pass_mark: float | None = None, groups: int = 3
) -> tuple[ItemStats, ...]:
    """Per-item facility, item-rest r, upper-lower D, omit rate, alpha if deleted and (when raw
    choices are known) option proportions by score group (`groups` = 3 thirds or 5 quintiles)
    with each option's option-rest point-biserial. `pass_mark` is accepted for symmetry with
    test_analysis and checked, but no item statistic depends on it."""
    _check(m, pass_mark)
    if groups not in GROUP_LABELS:
        raise AnalysisInputError(f"score groups must be 3 (thirds) or 5 (quintiles), not {groups}")
    x = m.scores
    n, k = x.shape
    total = m.totals
    mean = x.mean(axis=0)
    xc = x - mean
    tc = total - total.mean()
    var_i = (xc * xc).sum(axis=0) / (n - 1)
    var_t = float(tc @ tc) / (n - 1)
    cov_it = (xc.T @ tc) / (n - 1)
    var_rest = var_t - 2 * cov_it + var_i
    cov_rest = cov_it - var_i
    with np.errstate(divide="ignore", invalid="ignore"):
        item_rest = cov_rest / np.sqrt(var_i * var_rest)
        alpha_del = (
            (k - 1) / (k - 2) * (1 - (var_i.sum() - var_i) / var_rest)
            if k > 2
            else np.full(k, np.nan)
        )
    ul = group_weights(total, (0.0, 1 - UPPER_LOWER, 1.0))  # (lower+middle, upper)
    lower = group_weights(total, (0.0, UPPER_LOWER, 1.0))[:, 0]
    size = UPPER_LOWER * n
    p_upper = (ul[:, 1] @ x) / size / m.max_scores
    p_lower = (lower @ x) / size / m.max_scores
    omit_rate = m.omitted.mean(axis=0)
    bounds = tuple(i / groups for i in range(groups + 1))
    weights = group_weights(total, bounds) if m.choices is not None else None
    text = None
    if m.choices is not None:  # None (omitted) becomes "", every choice a string
        missing = np.equal(m.choices, np.array(None, dtype=object))
        text = np.where(missing, "", m.choices).astype(str)
    out = []
    for j in range(k):
        options: tuple[OptionStats, ...] = ()
        omitted_by: tuple[float, ...] = ()
        if weights is not None and text is not None:
            key = m.keys[j] if m.keys is not None else None
            options, omitted_by = _options(text[:, j], key, weights, total - x[:, j])
        out.append(
            ItemStats(
                item=str(m.items[j]),
                n=n,
                max_score=float(m.max_scores[j]),
                mean=float(mean[j]),
                facility=float(mean[j] / m.max_scores[j]),
                item_rest_r=float(item_rest[j]) if np.isfinite(item_rest[j]) else None,
                upper_lower=float(p_upper[j] - p_lower[j]),
                omit_rate=float(omit_rate[j]),
                alpha_if_deleted=float(alpha_del[j]) if np.isfinite(alpha_del[j]) else None,
                groups=GROUP_LABELS[groups] if weights is not None else (),
                options=options,
                omitted_by_group=omitted_by,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class TestStats:
    """Test-level statistics of one administration."""

    __test__ = False  # a name pytest would otherwise try to collect
    n: int
    k: int
    max_total: float
    mean: float
    sd: float
    variance: float
    alpha: float | None
    alpha_ci: tuple[float, float] | None
    sem: float | None
    pass_mark: float | None = None
    pass_rate: float | None = None
    csem_at_pass: float | None = None
    csem_method: str | None = None
    decision_consistency: DecisionConsistency | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "k": self.k,
            "max_total": rounded(self.max_total, 4),
            "mean": rounded(self.mean),
            "sd": rounded(self.sd),
            "variance": rounded(self.variance),
            "sd_kind": "sample (n - 1)",
            "alpha": rounded(self.alpha),
            "alpha_ci95": None if self.alpha_ci is None else [rounded(v) for v in self.alpha_ci],
            "alpha_ci_method": "Feldt (1965) F interval",
            "sem": rounded(self.sem),
            "pass_mark": rounded(self.pass_mark, 4),
            "pass_rate": rounded(self.pass_rate, 4),
            "csem_at_pass": rounded(self.csem_at_pass),
            "csem_method": self.csem_method,
            "decision_consistency": (
                None if self.decision_consistency is None else self.decision_consistency.to_dict()
            ),
            "notes": list(self.notes),
        }


def test_analysis(m: ScoredMatrix, *, pass_mark: float | None = None) -> TestStats:
    """n, k, mean, SD, alpha with Feldt's 95 % interval, SEM and, given a pass mark in raw marks
    (pass = total >= pass mark), the conditional SEM there and decision consistency."""
    _check(m, pass_mark)
    x = m.scores
    n, k = x.shape
    total = m.totals
    variance = float(np.var(total, ddof=1))
    alpha = cronbach_alpha(x)
    notes: list[str] = []
    binary = bool(np.all(m.max_scores == 1))
    csem = method = None
    consistency = None
    rate = None
    if pass_mark is not None:
        rate = float((total >= pass_mark - 1e-9).mean())
        csem, method = csem_at(x, m.max_scores, pass_mark)
        if binary:
            consistency = subkoviak(total, k, pass_mark)
        else:
            notes.append(
                "decision consistency is not estimated: Subkoviak's binomial model needs 0/1 "
                "items and this form has items worth more than 1 mark"
            )
    if alpha is None:
        notes.append("alpha does not exist: every candidate has the same total")
    return TestStats(
        n=n,
        k=k,
        max_total=float(m.max_scores.sum()),
        mean=float(total.mean()),
        sd=math.sqrt(variance),
        variance=variance,
        alpha=alpha,
        alpha_ci=None if alpha is None else feldt_interval(alpha, n, k),
        sem=None if alpha is None else math.sqrt(variance) * math.sqrt(max(1 - alpha, 0.0)),
        pass_mark=pass_mark,
        pass_rate=rate,
        csem_at_pass=csem,
        csem_method=method,
        decision_consistency=consistency,
        notes=tuple(notes),
    )


test_analysis.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the item flags: bank.json "results"."flags", these defaults when absent."""

    facility_below: float = 0.2
    facility_above: float = 0.95
    item_rest_below: float = 0.15
    omit_rate_above: float = 0.05
    distractor_margin: float = 0.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> FlagRules:
        """The rules in a bank.json (the whole settings dict), defaults for what it leaves out."""
        given = ((settings or {}).get("results") or {}).get("flags") or {}
        return cls(
            **{name: float(given[name]) for name in cls.__dataclass_fields__ if name in given}
        )

    def to_dict(self) -> dict[str, float]:
        """The thresholds applied (for the record and the technical report)."""
        return asdict(self)


@dataclass(frozen=True, order=True)
class ItemFlag:
    """One reason to look again at an item, in plain words."""

    item: str
    code: str
    reason: str
    value: float
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "code": self.code,
            "reason": self.reason,
            "value": rounded(self.value, 4),
            "threshold": rounded(self.threshold, 4),
        }


def flags(items: tuple[ItemStats, ...] | list[ItemStats], rules: FlagRules) -> tuple[ItemFlag, ...]:
    """The flags raised by the item statistics under `rules`, item by item in the given order.

    A distractor (an option that is not the key) is flagged when the high score group chose it
    more often than the low group by more than `distractor_margin`: the highest and lowest of
    the score groups used in item_analysis (thirds by default)."""
    out: list[ItemFlag] = []
    for s in items:
        fac, rest, omit = s.facility, s.item_rest_r, s.omit_rate
        checks = [  # (raised, code, value, threshold, reason)
            (
                fac < rules.facility_below,
                "facility-low",
                fac,
                rules.facility_below,
                f"only {fac:.0%} of the marks were earned (facility {fac:.3f} < "
                f"{rules.facility_below:g}): check the key and whether the content is taught",
            ),
            (
                fac > rules.facility_above,
                "facility-high",
                fac,
                rules.facility_above,
                f"almost everyone earned the marks (facility {fac:.3f} > "
                f"{rules.facility_above:g}): it separates candidates little",
            ),
            (
                rest is not None and rest < rules.item_rest_below,
                "item-rest-low",
                rest if rest is not None else math.nan,
                rules.item_rest_below,
                f"the item agrees little with the rest of the test (item-rest r "
                f"{rest if rest is not None else math.nan:.3f} < {rules.item_rest_below:g}): "
                "check the key and for ambiguity",
            ),
            (
                omit > rules.omit_rate_above,
                "omit-rate-high",
                omit,
                rules.omit_rate_above,
                f"{omit:.1%} of candidates gave no answer (more than {rules.omit_rate_above:.0%}):"
                " check the wording, the time allowed and the delivery",
            ),
        ]
        for o in s.options:
            if not o.is_key and len(o.by_group) >= 2:
                low, high = o.by_group[0], o.by_group[-1]
                checks.append(
                    (high - low > rules.distractor_margin, "distractor-high-group", high - low,
                     rules.distractor_margin,
                     f"option {o.option} is not the key but the high group chose it more often "
                     f"than the low group ({high:.0%} against {low:.0%}): it may be defensible "
                     "or the key may be wrong")
                )  # fmt: skip
        out += [ItemFlag(s.item, code, why, v, limit) for hit, code, v, limit, why in checks if hit]
    return tuple(out)


@dataclass(frozen=True)
class FormAnalysis:
    """Everything the classical analysis says about one administration of one form."""

    items: tuple[ItemStats, ...]
    test: TestStats
    flags: tuple[ItemFlag, ...]
    rules: FlagRules

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test.to_dict(),
            "items": [i.to_dict() for i in self.items],
            "flags": [f.to_dict() for f in self.flags],
            "flag_rules": self.rules.to_dict(),
        }


def analyse(
    m: ScoredMatrix,
    *,
    pass_mark: float | None = None,
    settings: Mapping[str, Any] | None = None,
    groups: int = 3,
) -> FormAnalysis:
    """Item analysis, test analysis and flags under the bank's rules (`settings` is bank.json
    as a dict; its "results"."flags", else the defaults): the one call a command or app needs."""
    items = item_analysis(m, pass_mark=pass_mark, groups=groups)
    rules = FlagRules.from_settings(settings)
    return FormAnalysis(items, test_analysis(m, pass_mark=pass_mark), flags(items, rules), rules)


__all__ = [
    "AnalysisInputError",
    "DecisionConsistency",
    "FlagRules",
    "FormAnalysis",
    "ItemFlag",
    "ItemStats",
    "OptionStats",
    "TestStats",
    "analyse",
    "flags",
    "group_weights",
    "item_analysis",
    "test_analysis",
]
