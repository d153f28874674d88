"""Differential item functioning (DIF) screening: Mantel-Haenszel and logistic regression.

Why: the equalities analysis the source documents ask for needs to know whether candidates of
equal overall performance but different groups (sex, ethnicity, disability...) do differently
on an item. Pure: takes a ScoredMatrix and per-candidate group labels, gives aggregates only
(counts per group and statistics per item; never a candidate's characteristic).

Conventions, as difR (Magis et al. 2010) prints them, so the figures match published output:
- the matching variable is the total score including the studied item;
- a score stratum with one candidate or none is dropped;
- the MH chi-square has the continuity correction; alpha_MH > 1 means the item favours the
  reference group, delta_MH = -2.35 ln(alpha_MH) (ETS delta scale; negative favours reference);
- the statistics come from statsmodels (StratifiedTable from a 2 x 2 x K array built here, Logit).

Only 0/1 items are screened (an item worth more marks is reported as skipped with the reason):
MH and the binary logistic models are defined for right/wrong scores.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError, rounded

DEFAULT_MIN_GROUP = 100
SIGNIFICANCE = 0.05
#: a group count below this leaves this module (records, reasons) as "fewer than 10": a handful
#: of candidates sharing a characteristic could be recognised (statistical disclosure control)
SMALL_COUNT = 10


def shown(count: int) -> int | str:
    """A group count as it may be written down: exact from SMALL_COUNT up, else a band."""
    return count if count >= SMALL_COUNT else f"fewer than {SMALL_COUNT}"


def ets_class(
    delta: float | None, p_value: float | None, se: float | None, level: float = SIGNIFICANCE
) -> str | None:
    """ETS A/B/C class using effect size and significance (Zwick 2012, p. 2; README rule).

    A: |delta| < 1 or the MH chi-square not significant at `level`; C: |delta| >= 1.5 and
    |delta| significantly greater than 1 (one-sided z = (|delta| - 1) / SE(delta) above the
    1 - level normal quantile, SE from the Robins-Breslow-Greenland variance); B otherwise."""
    if delta is None or p_value is None:
        return None
    if abs(delta) < 1 or p_value >= level:
        return "A"
    critical = float(stats.norm.ppf(1 - level))
    if abs(delta) >= 1.5 and se is not None and se > 0 and (abs(delta) - 1) / se > critical:
        return "C"
    return "B"


def effect_size_class(delta: float | None) -> str | None:
    """The class difR prints, from |delta_MH| alone: A < 1 <= B < 1.5 <= C."""
    if delta is None:
        return None
    return "A" if abs(delta) < 1 else "B" if abs(delta) < 1.5 else "C"


@dataclass(frozen=True)
class MantelHaenszel:
    """Mantel-Haenszel DIF statistics of one item for one reference/focal pair."""

    item: str
    chi_square: float | None = None
    p_value: float | None = None
    alpha_mh: float | None = None
    delta_mh: float | None = None
    delta_se: float | None = None
    ets_class: str | None = None
    effect_size_class: str | None = None
    strata: int = 0
    skipped: str | None = None

    @property
    def favours(self) -> str | None:
        """Which group the item favours at equal total ('reference' when alpha_MH > 1)."""
        if self.alpha_mh is None or self.alpha_mh == 1:
            return None
        return "reference" if self.alpha_mh > 1 else "focal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "chi_square": rounded(self.chi_square, 4),
            "p_value": rounded(self.p_value, 4),
            "alpha_mh": rounded(self.alpha_mh, 4),
            "delta_mh": rounded(self.delta_mh, 4),
            "delta_se": rounded(self.delta_se, 4),
            "ets_class": self.ets_class,
            "effect_size_class": self.effect_size_class,
            "favours": self.favours,
            "strata": self.strata,
            "skipped": self.skipped,
        }


def _pair(
    m: ScoredMatrix, group: Sequence[str | None], reference: str, focal: str
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The rows of the two groups (scores) and which of them are focal."""
    if len(group) != len(m.candidates):
        raise AnalysisInputError(
            f"{len(group)} group values were given for {len(m.candidates)} candidates: give one "
            "per candidate, in the matrix's order (None when unknown)"
        )
    if reference == focal:
        raise AnalysisInputError(f"the reference and focal groups are both {reference!r}")
    labels = np.array([None if g is None else str(g) for g in group], dtype=object)
    rows = (labels == reference) | (labels == focal)
    for name in (reference, focal):
        if not (labels == name).any():
            known = sorted({str(v) for v in labels if v is not None})
            raise AnalysisInputError(
                f"no candidate is in group {name!r}; the groups given are: {', '.join(known)}"
            )
    return m.scores[rows], np.asarray(labels[rows] == focal, dtype=np.bool_)


def _binary_items(m: ScoredMatrix) -> NDArray[np.bool_]:
    return np.asarray(m.max_scores == 1, dtype=np.bool_)


NO_FIT = (
    "the logistic model cannot be fitted: the total (almost) perfectly predicts the item score "
    "in these groups, so the likelihood has no maximum; read the Mantel-Haenszel result instead"
)
NO_FIT_SINGULAR = (
    "the logistic model cannot be fitted: its terms are not separable in these groups (singular "
    "information matrix); read the Mantel-Haenszel result instead"
)
NOT_BINARY = "not a 0/1 item: Mantel-Haenszel and binary logistic DIF need right/wrong scores"


def mantel_haenszel(
    m: ScoredMatrix, group: Sequence[str | None], reference: str, focal: str
) -> tuple[MantelHaenszel, ...]:
    """Mantel-Haenszel DIF of every item between candidates labelled `reference` and `focal`
    in `group` (one label per candidate, None when unknown; other labels are left out)."""
    x, is_focal = _pair(m, group, reference, focal)
    total = x.sum(axis=1)
    values, stratum = np.unique(total, return_inverse=True)
    stratum = stratum.ravel()
    size = np.bincount(stratum, minlength=values.size)
    kept = size > 1
    n_strata = int(kept.sum())
    onehot = np.zeros((x.shape[0], values.size))
    onehot[np.arange(x.shape[0]), stratum] = 1.0
    ref_rows, foc_rows = onehot[~is_focal], onehot[is_focal]
    n_ref, n_foc = ref_rows.sum(axis=0), foc_rows.sum(axis=0)
    right_ref = ref_rows.T @ x[~is_focal]  # strata x items
    right_foc = foc_rows.T @ x[is_focal]
    binary = _binary_items(m)
    out = []
    for j, item in enumerate(map(str, m.items)):
        if not binary[j]:
            out.append(MantelHaenszel(item, skipped=NOT_BINARY))
            continue
        a, c = right_ref[kept, j], right_foc[kept, j]
        tables = np.array([[a, n_ref[kept] - a], [c, n_foc[kept] - c]], dtype=np.float64)
        out.append(_mh_item(item, tables, n_strata))
    return tuple(out)


def _mh_item(item: str, tables: NDArray[np.float64], n_strata: int) -> MantelHaenszel:
    """The statistics of one 2 x 2 x K array (rows reference/focal, columns right/wrong)."""
    a, b, c, d = tables[0, 0], tables[0, 1], tables[1, 0], tables[1, 1]
    n = a + b + c + d
    num, den = float((a * d / n).sum()), float((b * c / n).sum())
    if n_strata == 0 or num == 0 or den == 0:
        return MantelHaenszel(
            item,
            strata=n_strata,
            skipped="no stratum holds both groups with both right and wrong "
            "answers: the common odds ratio does not exist",
        )
    table = StratifiedTable(tables)
    test = table.test_null_odds(correction=True)
    alpha = float(table.oddsratio_pooled)
    delta = -2.35 * math.log(alpha)
    se = 2.35 * float(table.logodds_pooled_se)
    chi, p = float(test.statistic), float(test.pvalue)
    return MantelHaenszel(
        item, chi, p, alpha, delta, se, ets_class(delta, p, se), effect_size_class(delta), n_strata
    )


@dataclass(frozen=True)
class LogisticDif:
    """Logistic-regression DIF of one item: likelihood-ratio statistics and Nagelkerke R^2
    changes between the models total, total + group, total + group + total:group. The class
    uses the 2-df test of both kinds of DIF together and its R^2 change, as difR's
    difLogistic does by default (type = "both"); MSATB item 49 gives its printed 14.7603."""

    item: str
    lr_uniform: float | None = None
    p_uniform: float | None = None
    lr_nonuniform: float | None = None
    p_nonuniform: float | None = None
    lr_both: float | None = None
    p_both: float | None = None
    delta_r2_uniform: float | None = None
    delta_r2_nonuniform: float | None = None
    delta_r2_both: float | None = None
    jodoin_gierl_class: str | None = None
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (rounded(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def jodoin_gierl(
    delta_r2: float | None, p_value: float | None, level: float = SIGNIFICANCE
) -> str | None:
    """Jodoin & Gierl (2001): A when the LR test is not significant or delta R^2 < .035,
    B for .035 <= delta R^2 < .070, C for delta R^2 >= .070."""
    if delta_r2 is None or p_value is None:
        return None
    if p_value >= level or delta_r2 < 0.035:
        return "A"
    return "B" if delta_r2 < 0.070 else "C"


def _nagelkerke(llf: float, ll_null: float, n: int) -> float:
    """Nagelkerke's R^2: Cox-Snell's 1 - exp(2 (ll0 - ll) / n) over its maximum 1 - exp(2 ll0/n)."""
    return (1 - math.exp(2 * (ll_null - llf) / n)) / (1 - math.exp(2 * ll_null / n))


def _fit(
    y: NDArray[np.float64], design: NDArray[np.float64], start: NDArray[np.float64] | None
) -> tuple[float, NDArray[np.float64]]:
    """Log-likelihood and estimates of a logistic model (statsmodels Logit, Newton's method),
    started from the smaller nested model's estimates (a 0 for the new term) to save steps.
    A model that does not converge or separates the data perfectly raises: its LR statistic
    would mean nothing."""
    if start is not None:
        start = np.append(start, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", HessianInversionWarning)
        result = sm.Logit(y, design).fit(method="newton", disp=0, maxiter=50, start_params=start)
    return float(result.llf), np.asarray(result.params, dtype=np.float64)


def logistic(
    m: ScoredMatrix, group: Sequence[str | None], reference: str, focal: str
) -> tuple[LogisticDif, ...]:
    """Logistic-regression DIF of every 0/1 item (Swaminathan & Rogers 1990), matching on the
    total score including the studied item (as difR's difLogistic). Uniform: total + group
    against total (1 df); non-uniform: adding total:group (1 df); both: 2 df."""
    x, is_focal = _pair(m, group, reference, focal)
    n = x.shape[0]
    total = x.sum(axis=1)
    g = is_focal.astype(np.float64)
    ones = np.ones(n)
    m0 = np.column_stack([ones, total])
    m1 = np.column_stack([ones, total, g])
    m2 = np.column_stack([ones, total, g, total * g])
    binary = _binary_items(m)
    out = []
    for j, item in enumerate(map(str, m.items)):
        y = x[:, j]
        if not binary[j]:
            out.append(LogisticDif(item, skipped=NOT_BINARY))
            continue
        p = float(y.mean())
        if p in (0.0, 1.0):
            out.append(
                LogisticDif(item, skipped="everyone in the two groups scored the same on it")
            )
            continue
        ll_null = n * (p * math.log(p) + (1 - p) * math.log(1 - p))
        try:
            ll0, b0 = _fit(y, m0, None)
            ll1, b1 = _fit(y, m1, b0)
            ll2, _ = _fit(y, m2, b1)
        except (
            PerfectSeparationError,
            PerfectSeparationWarning,
            ConvergenceWarning,
            HessianInversionWarning,
            np.linalg.LinAlgError,
        ) as exc:
            singular = isinstance(exc, np.linalg.LinAlgError | HessianInversionWarning)
            out.append(LogisticDif(item, skipped=NO_FIT_SINGULAR if singular else NO_FIT))
            continue
        r0, r1, r2 = (_nagelkerke(ll, ll_null, n) for ll in (ll0, ll1, ll2))
        lr_u, lr_n, lr_b = 2 * (ll1 - ll0), 2 * (ll2 - ll1), 2 * (ll2 - ll0)
        p_b = float(stats.chi2.sf(lr_b, 2))
        out.append(
            LogisticDif(
                item,
                lr_u,
                float(stats.chi2.sf(lr_u, 1)),
                lr_n,
                float(stats.chi2.sf(lr_n, 1)),
                lr_b,
                p_b,
                r1 - r0,
                r2 - r1,
                r2 - r0,
                jodoin_gierl(r2 - r0, p_b),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class DifRules:
    """bank.json "results"."dif": the fewest candidates a group needs before it is compared
    (`min_group_size`, default 100, in both the reference and the focal group), the
    significance level, and a named reference group per characteristic (else the largest)."""

    min_group_size: int = DEFAULT_MIN_GROUP
    significance: float = SIGNIFICANCE
    reference: Mapping[str, str] = field(default_factory=dict)
    logistic: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> DifRules:
        """The rules in a bank.json (the whole settings dict), defaults for what it leaves out."""
        given = ((settings or {}).get("results") or {}).get("dif") or {}
        return cls(
            min_group_size=int(given.get("min_group_size", DEFAULT_MIN_GROUP)),
            significance=float(given.get("significance", SIGNIFICANCE)),
            reference={str(k): str(v) for k, v in (given.get("reference") or {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The rules applied (for the record and the technical report)."""
        return {
            "min_group_size": self.min_group_size,
            "significance": self.significance,
            "reference": dict(self.reference),
            "logistic": self.logistic,
        }


@dataclass(frozen=True)
class DifComparison:
    """One reference/focal pair of one characteristic: the tables, or why it was skipped."""

    characteristic: str
    reference: str
    focal: str
    n_reference: int
    n_focal: int
    mantel_haenszel: tuple[MantelHaenszel, ...] = ()
    logistic: tuple[LogisticDif, ...] = ()
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "characteristic": self.characteristic,
            "reference": self.reference,
            "focal": self.focal,
            "n_reference": shown(self.n_reference),
            "n_focal": shown(self.n_focal),
            "skipped": self.skipped,
            "mantel_haenszel": [r.to_dict() for r in self.mantel_haenszel],
            "logistic": [r.to_dict() for r in self.logistic],
        }


@dataclass(frozen=True)
class DifScreen:
    """Every comparison made or skipped, with the group sizes (aggregates only)."""

    comparisons: tuple[DifComparison, ...]
    group_sizes: Mapping[str, Mapping[str, int]]
    unknown: Mapping[str, int]
    min_group_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_group_size": self.min_group_size,
            "group_sizes": {
                c: {g: shown(n) for g, n in sizes.items()} for c, sizes in self.group_sizes.items()
            },
            "unknown": {c: shown(n) for c, n in self.unknown.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def screen(
    m: ScoredMatrix, characteristics: Mapping[str, Sequence[str | None]], rules: DifRules
) -> DifScreen:
    """DIF for every characteristic: each group against the reference group (named in the
    rules, else the largest; a tie goes to the first name in sorted order), when both have at
    least rules.min_group_size candidates; a pair with a group too small is listed as skipped
    with the reason, never left out silently. Candidates whose value is None are left out of
    that characteristic and counted as unknown."""
    comparisons: list[DifComparison] = []
    sizes: dict[str, dict[str, int]] = {}
    unknown: dict[str, int] = {}
    low = rules.min_group_size
    for name, values in characteristics.items():
        if len(values) != len(m.candidates):
            raise AnalysisInputError(
                f"characteristic {name!r} has {len(values)} values for {len(m.candidates)} "
                "candidates: give one per candidate, in the matrix's order (None when unknown)"
            )
        counts = Counter(str(v) for v in values if v is not None)
        sizes[name] = dict(sorted(counts.items()))
        unknown[name] = sum(1 for v in values if v is None)
        if len(counts) < 2:
            comparisons.append(
                DifComparison(
                    name,
                    next(iter(counts), ""),
                    "",
                    sum(counts.values()),
                    0,
                    skipped=f"fewer than two groups are known for {name!r}: nothing to compare",
                )
            )
            continue
        named = rules.reference.get(name)
        if named is not None and named not in counts:
            raise AnalysisInputError(
                f"bank.json results.dif.reference names {named!r} as the reference group for "
                f"{name!r}, but no candidate has that value (values: {', '.join(sorted(counts))})"
            )
        reference = named or sorted(counts, key=lambda g: (-counts[g], g))[0]
        for focal in sorted(g for g in counts if g != reference):
            n_ref, n_foc = counts[reference], counts[focal]
            small = [
                f"{label} group {g!r} has {shown(count)}"
                for label, g, count in (("reference", reference, n_ref), ("focal", focal, n_foc))
                if count < low
            ]
            if small:
                comparisons.append(
                    DifComparison(
                        name,
                        reference,
                        focal,
                        n_ref,
                        n_foc,
                        skipped=f"{'; '.join(small)} candidates: at least {low} are needed in each "
                        "group (bank.json results.dif.min_group_size)",
                    )
                )
                continue
            mh = mantel_haenszel(m, values, reference, focal)
            mh = tuple(_reclassed(r, rules.significance) for r in mh)
            lr = logistic(m, values, reference, focal) if rules.logistic else ()
            lr = tuple(_jg(r, rules.significance) for r in lr)
            comparisons.append(DifComparison(name, reference, focal, n_ref, n_foc, mh, lr))
    return DifScreen(tuple(comparisons), sizes, unknown, low)


def _reclassed(r: MantelHaenszel, level: float) -> MantelHaenszel:
    """The ETS class at the bank's significance level."""
    return replace(r, ets_class=ets_class(r.delta_mh, r.p_value, r.delta_se, level))


def _jg(r: LogisticDif, level: float) -> LogisticDif:
    """The Jodoin-Gierl class at the bank's significance level."""
    return replace(r, jodoin_gierl_class=jodoin_gierl(r.delta_r2_both, r.p_both, level))


__all__ = [
    "DifComparison",
    "DifRules",
    "DifScreen",
    "LogisticDif",
    "MantelHaenszel",
    "effect_size_class",
    "ets_class",
    "jodoin_gierl",
    "logistic",
    "mantel_haenszel",
    "screen",
    "shown",
]
