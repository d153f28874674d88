"""Reliability, measurement error and decision consistency from item scores and totals.

Why a module of its own: these are the textbook coefficients (alpha, Feldt's interval, Lord's
and Brennan's conditional SEM, KR-21, Subkoviak's agreement index), each small enough to check
by hand, and test_analysis combines them. It also holds what every results statistic shares:
the input error and the rounding of floats for JSON. Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from itembank.core.errors import ItembankError


class AnalysisInputError(ItembankError, ValueError):
    """The input to an analysis cannot be analysed as it is; the message says what to change."""


def rounded(value: float | None, places: int = 6) -> float | None:
    """A JSON-ready float: rounded, and None for a value that does not exist (NaN, infinite)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), places)


@dataclass(frozen=True)
class DecisionConsistency:
    """Single-administration decision consistency at the pass mark (Subkoviak 1976).

    Each candidate's true proportion correct is estimated by Kelley's regression towards the
    mean with KR-21 as the reliability, as Subkoviak did; the probability of passing a parallel
    form is then binomial(k, that proportion) at or above the pass mark. `agreement` (p0) is the
    mean over candidates of P(pass)^2 + P(fail)^2, `chance` is pass_rate^2 + (1-pass_rate)^2 and
    `kappa` = (p0 - chance) / (1 - chance). Subkoviak, M. J. (1976) Estimating reliability from
    a single administration of a criterion-referenced test. J. Educ. Meas. 13, 265-276."""

    method: str
    agreement: float
    chance: float
    kappa: float | None
    expected_pass_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "agreement": rounded(self.agreement, 4),
            "chance": rounded(self.chance, 4),
            "kappa": rounded(self.kappa, 4),
            "expected_pass_rate": rounded(self.expected_pass_rate, 4),
        }


def cronbach_alpha(x: NDArray[np.float64]) -> float | None:
    """Coefficient alpha (KR-20 for 0/1 items); None when the totals do not vary."""
    k = x.shape[1]
    var_t = float(np.var(x.sum(axis=1), ddof=1))
    if var_t <= 0 or k < 2:
        return None
    return float(k / (k - 1) * (1 - float(np.var(x, axis=0, ddof=1).sum()) / var_t))


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) interval for alpha: (1 - alpha) / (1 - true alpha) ~ F(n-1, (n-1)(k-1))."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    low = 1 - (1 - alpha) * float(stats.f.ppf(1 - tail, df1, df2))
    high = 1 - (1 - alpha) * float(stats.f.ppf(tail, df1, df2))
    return low, high


def lord_csem(total: float, k: int) -> float:
    """Lord's binomial-error conditional SEM of a total of `total` right out of k 0/1 items:
    sqrt(x (k - x) / (k - 1)) (Lord 1955, 1957)."""
    return math.sqrt(max(total * (k - total), 0.0) / (k - 1))


def person_error_variance(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Brennan's (1998) absolute-error variance of each candidate's total: k/(k-1) times the sum
    of squared deviations of their item scores from their own mean item score. For 0/1 items it
    equals Lord's x (k - x) / (k - 1) exactly, so it generalises Lord to polytomous items."""
    k = x.shape[1]
    dev = x - x.mean(axis=1, keepdims=True)
    return np.asarray(k / (k - 1) * (dev * dev).sum(axis=1), dtype=np.float64)


def csem_at(
    x: NDArray[np.float64], max_scores: NDArray[np.float64], at: float
) -> tuple[float, str]:
    """Conditional SEM at the total `at`, and the method used (said in the report).

    All 0/1 items: Lord's binomial error model. Otherwise Brennan's (1998) person-level error
    variances are smoothed by a quadratic in the total (least squares, as Lord's curve is a
    quadratic) and read at `at`; for 0/1 items that fit reproduces Lord exactly."""
    k = x.shape[1]
    if bool(np.all(max_scores == 1)):
        return lord_csem(at, k), "Lord binomial error model"
    totals = x.sum(axis=1)
    errors = person_error_variance(x)
    if np.unique(totals).size < 3:
        raise AnalysisInputError(
            "the conditional SEM needs at least 3 different totals among the candidates"
        )
    coef = np.polyfit(totals, errors, 2)
    return (
        math.sqrt(max(float(np.polyval(coef, at)), 0.0)),
        "Brennan (1998) person error variance, quadratic in the total",
    )


def kr21(mean: float, variance: float, k: int) -> float:
    """KR-21 reliability from the total's mean and variance (items of equal difficulty)."""
    return k / (k - 1) * (1 - mean * (k - mean) / (k * variance))


def subkoviak(totals: NDArray[np.float64], k: int, pass_mark: float) -> DecisionConsistency:
    """Subkoviak's (1976) agreement index and kappa for 0/1 items (see DecisionConsistency)."""
    mean = float(totals.mean())
    variance = float(np.var(totals, ddof=1))
    rel = kr21(mean, variance, k) if variance > 0 else 0.0
    rel = min(max(rel, 0.0), 1.0)
    true_p = rel * totals / k + (1 - rel) * mean / k
    cut = math.ceil(pass_mark - 1e-9)
    p_pass = stats.binom.sf(cut - 1, k, true_p)
    agreement = float(np.mean(p_pass**2 + (1 - p_pass) ** 2))
    rate = float(p_pass.mean())
    chance = rate**2 + (1 - rate) ** 2
    kappa = (agreement - chance) / (1 - chance) if chance < 1 else None
    return DecisionConsistency(
        method="Subkoviak (1976), Kelley estimate with KR-21, binomial error",
        agreement=agreement,
        chance=chance,
        kappa=kappa,
        expected_pass_rate=rate,
    )


__all__ = [
    "AnalysisInputError",
    "DecisionConsistency",
    "cronbach_alpha",
    "csem_at",
    "feldt_interval",
    "kr21",
    "lord_csem",
    "person_error_variance",
    "rounded",
    "subkoviak",
]
