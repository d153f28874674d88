"""IRT calibration of one administration: Rasch and two-parameter logistic (2PL) models.

Parameters are reported in mirt's slope-intercept form, P(correct | theta) = 1 / (1 + exp(-(a*theta
+ d))), with the difficulty b = -d/a beside it, so figures compare directly with mirt's `coef()` and
ltm's `Dffclt`/`Dscrmn`. Theta is N(0, 1) in the calibration sample. "Rasch" is the model with one
slope shared by every item (mirt's `CONSTRAIN = (1-k, a1)`, ltm's `rasch()`): the same likelihood as
slopes fixed at 1 with the ability variance estimated, reported on the N(0, 1) scale.

Estimation is marginal maximum likelihood by girth 0.8.0 (unmaintained since 2021, so it is
reached only here and checked against published estimates in the tests). What girth does not
give is computed here on the same quadrature: the log-likelihood, its gradient (the convergence
check), standard errors from the observed information (Louis' formula, exact for the quadrature
likelihood, as ltm's numerical Hessian approximates it) and EAP abilities with posterior SDs;
and from the same gradient and information, Newton steps that finish girth's search inside its
bounds. (Over 500 lines because the likelihood, its derivatives and the polish that uses them
read best together.)

Input is a ScoredMatrix. Omitted responses are already scored 0 there, and are treated as wrong
here (not as missing). An item worth more than one mark is dichotomised at full marks (1 when the
candidate earned every mark, else 0) and named in `Calibration.dichotomised`. Items everyone or
no one answered correctly carry no information and are excluded with the reason. Pure: no files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import girth
import numpy as np
from numpy.typing import ArrayLike, NDArray

from itembank.core.errors import ItembankError
from itembank.results.matrix import ScoredMatrix
from itembank.results.simulation import Simulation, simulate

Model = Literal["rasch", "2pl"]
MODELS: tuple[Model, ...] = ("rasch", "2pl")
QUADRATURE_POINTS = 41  # girth's default grid: Gauss-Legendre nodes on [-4.5, 4.5]
QUADRATURE_BOUNDS = (-4.5, 4.5)
GRADIENT_TOLERANCE = 1e-3  # largest |d loglik / d parameter| per candidate still called converged
# girth searches slopes and difficulties in these intervals; an estimate on an edge is not an MLE
SLOPE_BOUNDS: dict[str, tuple[float, float]] = {"rasch": (0.25, 10.0), "2pl": (0.2, 5.0)}
DIFFICULTY_BOUND = 6.0
SOURCE = "marginal maximum likelihood, girth 0.8.0"
NO_INFORMATION = "it carries no information to calibrate"


class CalibrationError(ItembankError):
    """A calibration that cannot be run on this matrix (too few items or candidates, an unknown
    model); the message says what is missing."""


@dataclass(frozen=True)
class ItemParameters:
    """One item's estimates: slope a, intercept d (= -a*b), difficulty b, and their standard
    errors (None where the information matrix could not be inverted)."""

    item: str
    a: float
    d: float
    b: float
    se_a: float | None = None
    se_d: float | None = None
    se_b: float | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, rounded to 4 decimals (mirt prints 3)."""
        return {
            "item": self.item,
            "a": round(self.a, 4),
            "d": round(self.d, 4),
            "b": round(self.b, 4),
            "se_a": _round(self.se_a),
            "se_d": _round(self.se_d),
            "se_b": _round(self.se_b),
        }


@dataclass(frozen=True)
class ExcludedItem:
    """An item left out of the calibration, and why in plain words."""

    item: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"item": self.item, "reason": self.reason}


@dataclass(frozen=True)
class Ability:
    """A candidate's EAP ability estimate and its posterior standard deviation."""

    candidate: str
    theta: float
    se: float

    def to_dict(self) -> dict[str, object]:
        return {"candidate": self.candidate, "theta": round(self.theta, 4), "se": round(self.se, 4)}


@dataclass(frozen=True)
class Calibration:
    """The result of `calibrate`: parameters of the calibrated items, the excluded ones with
    reasons, and fit information. `abilities` is empty unless asked for (they are personal data:
    they stay in the results store, never in the bank)."""

    model: Model
    items: tuple[ItemParameters, ...]
    excluded: tuple[ExcludedItem, ...]
    dichotomised: tuple[str, ...]
    n_candidates: int
    log_likelihood: float
    n_parameters: int
    max_gradient: float
    converged: bool
    method: str
    abilities: tuple[Ability, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2.0 * self.log_likelihood + self.n_parameters * float(np.log(self.n_candidates))

    def parameters(self, item: str) -> ItemParameters:
        """The parameters of one calibrated item (KeyError naming it when it was excluded)."""
        for entry in self.items:
            if entry.item == item:
                return entry
        raise KeyError(f"{item} was not calibrated")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready and rounded, for statistics records and the technical report (abilities
        are left out: they are candidate-level data)."""
        return {
            "model": self.model,
            "method": self.method,
            "n_candidates": self.n_candidates,
            "log_likelihood": round(self.log_likelihood, 3),
            "n_parameters": self.n_parameters,
            "aic": round(self.aic, 3),
            "bic": round(self.bic, 3),
            "converged": self.converged,
            "max_gradient": float(f"{self.max_gradient:.3g}"),
            "items": [entry.to_dict() for entry in self.items],
            "excluded": [entry.to_dict() for entry in self.excluded],
            "dichotomised": list(self.dichotomised),
            "notes": list(self.notes),
        }


def calibrate(m: ScoredMatrix, model: Model = "rasch", *, abilities: bool = False) -> Calibration:
    """Fit the Rasch or 2PL model to `m` by marginal maximum likelihood (see the module notes)."""
    if model not in MODELS:
        raise CalibrationError(f"unknown IRT model {model!r}: use one of {', '.join(MODELS)}")
    binary, dichotomised = _dichotomise(m)
    keep, excluded = _usable_items(m.items, binary)
    if len(m.candidates) < 2:
        raise CalibrationError(
            f"IRT calibration needs responses from at least 2 candidates; this matrix has "
            f"{len(m.candidates)}"
        )
    if len(keep) < 2:
        raise CalibrationError(
            f"IRT calibration needs at least 2 items that some but not all candidates answered "
            f"correctly; this matrix has {len(keep)} ({len(excluded)} excluded: "
            + "; ".join(f"{e.item}: {e.reason}" for e in excluded)
            + ")"
        )
    data = binary[:, keep]
    unique, inverse, frequency = np.unique(data, axis=0, return_inverse=True, return_counts=True)
    patterns = np.asarray(unique, dtype=np.float64)  # each distinct response pattern once
    counts = np.asarray(frequency, dtype=np.float64)  # how many candidates gave it
    a, d = _girth_fit(data, model)
    nodes, weights = quadrature()
    jacobian = _jacobian(model, len(keep))
    a, d, fit = _polish(patterns, counts, a, d, nodes, weights, jacobian, SLOPE_BOUNDS[model])
    gradient = jacobian.T @ fit.gradient
    covariance = _invert(jacobian.T @ fit.information @ jacobian)
    names = [m.items[j] for j in keep]
    params = tuple(
        _item(names[j], float(a[j]), float(d[j]), _pair_cov(covariance, model, j, len(keep)))
        for j in range(len(keep))
    )
    max_gradient = float(np.abs(gradient).max()) / len(m.candidates)
    notes = _boundary_notes(params, model)
    found: tuple[Ability, ...] = ()
    if abilities:
        theta = fit.posterior @ nodes
        spread = np.sqrt(np.maximum(fit.posterior @ nodes**2 - theta**2, 0.0))
        inv = np.asarray(inverse).reshape(-1)
        found = tuple(
            Ability(c, float(theta[inv[i]]), float(spread[inv[i]]))
            for i, c in enumerate(m.candidates)
        )
    return Calibration(
        model=model,
        items=params,
        excluded=excluded,
        dichotomised=dichotomised,
        n_candidates=len(m.candidates),
        log_likelihood=fit.log_likelihood,
        n_parameters=jacobian.shape[1],
        max_gradient=max_gradient,
        converged=max_gradient < GRADIENT_TOLERANCE and not notes,
        method=f"{SOURCE}; {QUADRATURE_POINTS}-point quadrature on N(0, 1); SEs from the observed "
        "information (Louis); abilities EAP",
        abilities=found,
        notes=notes,
    )


def icc(params: Sequence[ItemParameters] | ItemParameters, theta: ArrayLike) -> NDArray[np.float64]:
    """P(correct | theta): one row per theta, one column per item (a 1-d array for one item)."""
    a, d, single = _arrays(params)
    t = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    p = _expit(t[:, None] * a[None, :] + d[None, :])
    return p[:, 0] if single else p


def item_information(
    params: Sequence[ItemParameters] | ItemParameters, theta: ArrayLike
) -> NDArray[np.float64]:
    """Fisher information a^2 P (1 - P) of each item at each theta (same shape as `icc`)."""
    a, _, single = _arrays(params)
    p = icc(params, theta)
    slopes = a[0] if single else a[None, :]
    return np.asarray(slopes**2 * p * (1.0 - p), dtype=np.float64)


def test_information(params: Sequence[ItemParameters], theta: ArrayLike) -> NDArray[np.float64]:
    """Sum of the item informations at each theta (its inverse square root is the CSEM)."""
    return np.asarray(item_information(list(params), theta).sum(axis=1), dtype=np.float64)


def test_characteristic_curve(
    params: Sequence[ItemParameters], theta: ArrayLike
) -> NDArray[np.float64]:
    """Expected number-correct score at each theta (sum of the ICCs)."""
    return np.asarray(icc(list(params), theta).sum(axis=1), dtype=np.float64)


# curves, not pytest tests, whatever test module imports them by name
test_information.__test__ = False  # type: ignore[attr-defined]
test_characteristic_curve.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Marginal:
    log_likelihood: float
    gradient: NDArray[np.float64]  # (a_1..a_k, d_1..d_k)
    information: NDArray[np.float64]  # observed information, same order
    posterior: NDArray[np.float64]  # patterns x nodes


def quadrature() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights (summing to 1) of girth's N(0, 1) grid, so the likelihood computed here
    is the one girth maximised."""
    x, w = np.polynomial.legendre.leggauss(QUADRATURE_POINTS)
    lo, hi = QUADRATURE_BOUNDS
    nodes = (x + 1.0) * (hi - lo) / 2.0 + lo
    weights = w * np.exp(-0.5 * nodes**2)
    return nodes, weights / weights.sum()


def _dichotomise(m: ScoredMatrix) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    maxima = np.asarray(m.max_scores, dtype=np.float64)
    binary = (m.scores >= maxima[None, :]).astype(np.float64)
    binary[:, maxima <= 0] = 0.0
    return binary, tuple(item for item, top in zip(m.items, maxima, strict=True) if top != 1)


def _usable_items(
    items: tuple[str, ...], binary: NDArray[np.float64]
) -> tuple[list[int], tuple[ExcludedItem, ...]]:
    """Items some but not all candidates answered correctly; the others with the reason."""
    facility = binary.mean(axis=0) if binary.shape[0] else np.zeros(len(items))
    excluded = tuple(
        ExcludedItem(
            item,
            f"{'every' if p >= 1 else 'no'} candidate answered it correctly "
            f"(facility {int(p)}): {NO_INFORMATION}",
        )
        for item, p in zip(items, facility, strict=True)
        if p >= 1 or p <= 0
    )
    return [j for j, p in enumerate(facility) if 0 < p < 1], excluded


def _boundary_notes(params: tuple[ItemParameters, ...], model: Model) -> tuple[str, ...]:
    """Estimates stopped at the edge of girth's search interval: typically an item that
    separates candidates perfectly, or too few candidates. Reported, and `converged` is False."""
    low, high = SLOPE_BOUNDS[model]
    notes = []
    for p in params:
        if min(abs(p.a - low), abs(p.a - high)) < 1e-3:
            notes.append(
                f"{p.item}: slope {p.a:.3g} is at the edge of the search interval "
                f"[{low}, {high}]; treat its estimates with caution"
            )
        elif abs(p.b) > DIFFICULTY_BOUND - 1e-3:
            notes.append(
                f"{p.item}: difficulty {p.b:.3g} is at the edge of the search interval "
                f"[-{DIFFICULTY_BOUND:g}, {DIFFICULTY_BOUND:g}]; treat it with caution"
            )
    return tuple(notes)


def _girth_fit(data: NDArray[np.float64], model: Model) -> tuple[NDArray[np.float64], ...]:
    """girth wants items x candidates of integers; it returns difficulty and discrimination."""
    responses = data.T.astype(np.int64)
    if model == "rasch":
        result = girth.onepl_mml(responses)
        a = np.full(data.shape[1], float(result["Discrimination"]))
    else:
        result = girth.twopl_mml(responses, options={"max_iteration": 100})
        a = np.asarray(result["Discrimination"], dtype=np.float64).reshape(-1)
    b = np.asarray(result["Difficulty"], dtype=np.float64).reshape(-1)
    return a, -a * b


def _marginal(
    patterns: NDArray[np.float64],
    counts: NDArray[np.float64],
    a: NDArray[np.float64],
    d: NDArray[np.float64],
    nodes: NDArray[np.float64],
    weights: NDArray[np.float64],
) -> _Marginal:
    """Log-likelihood, gradient and observed information of the 2PL marginal likelihood over
    response patterns (counts = how many candidates gave each), by Louis' formula:
    -H = -sum_i n_i (E[d2 log f] + E[s s'] - E[s] E[s]'), expectations over each pattern's
    posterior on the grid. All sums are matrix products, so 30,000 patterns x 60 items is cheap."""
    z = nodes[:, None] * a[None, :] + d[None, :]  # nodes x items
    p = _expit(z)
    log_p, log_q = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    joint = patterns @ log_p.T + (1.0 - patterns) @ log_q.T + np.log(weights)[None, :]
    top = joint.max(axis=1, keepdims=True)
    marginal = top[:, 0] + np.log(np.exp(joint - top).sum(axis=1))
    post = np.exp(joint - marginal[:, None])  # patterns x nodes, rows sum to 1
    k = a.size
    powers = [np.ones_like(nodes), nodes, nodes**2]
    mean_power = [post @ t for t in powers]  # E[theta^m | pattern]
    b_m = [post @ (p * t[:, None]) for t in powers]  # E[theta^m P_l | pattern]
    score_a = patterns * mean_power[1][:, None] - b_m[1]
    score_d = patterns - b_m[0]
    scores = np.hstack([score_a, score_d])
    gradient = counts @ scores
    node_mass = counts @ post  # expected candidates at each node
    pq = p * (1.0 - p)

    def expected_outer(m: int) -> NDArray[np.float64]:
        weighted = patterns * (counts * mean_power[m])[:, None]
        cross = (patterns * counts[:, None]).T @ b_m[m]
        tail = p.T @ (p * (node_mass * powers[m])[:, None])
        return np.asarray(patterns.T @ weighted - cross - cross.T + tail, dtype=np.float64)

    hessian = np.zeros((2 * k, 2 * k))
    hessian[:k, :k] = expected_outer(2)
    hessian[:k, k:] = expected_outer(1)
    hessian[k:, :k] = hessian[:k, k:].T
    hessian[k:, k:] = expected_outer(0)
    idx = np.arange(k)
    hessian[idx, idx] -= node_mass @ (pq * (nodes**2)[:, None])
    hessian[idx, idx + k] -= node_mass @ (pq * nodes[:, None])
    hessian[idx + k, idx] -= node_mass @ (pq * nodes[:, None])
    hessian[idx + k, idx + k] -= node_mass @ pq
    hessian -= scores.T @ (scores * counts[:, None])
    return _Marginal(float(counts @ marginal), gradient, -hessian, post)


def _polish(
    patterns: NDArray[np.float64],
    counts: NDArray[np.float64],
    a: NDArray[np.float64],
    d: NDArray[np.float64],
    nodes: NDArray[np.float64],
    weights: NDArray[np.float64],
    jacobian: NDArray[np.float64],
    bounds: tuple[float, float],
    steps: int = 8,
) -> tuple[NDArray[np.float64], NDArray[np.float64], _Marginal]:
    """Newton steps on the marginal likelihood from girth's estimates, with the gradient and
    observed information computed anyway for the convergence check and the SEs. girth's
    one-parameter fit alternates one-dimensional searches and can stop short of the maximum
    (seen: a largest gradient of 0.004 per candidate on a 2,000 x 30 administration); a few
    Newton steps reach it. Only inside girth's search box: estimates on its edge (an item that
    separates candidates perfectly has no finite maximum) are left for the boundary notes, and a
    step leaving the box, or lowering the likelihood, is halved, at most four times; then the
    last good estimates stand, and the convergence check says so."""
    low, high = bounds

    def inside(a: NDArray[np.float64], d: NDArray[np.float64]) -> bool:
        slack = 1e-3
        return bool(
            (a > low + slack).all()
            and (a < high - slack).all()
            and (np.abs(d / a) < DIFFICULTY_BOUND - slack).all()
        )

    k = a.size
    fit = _marginal(patterns, counts, a, d, nodes, weights)
    total = float(counts.sum())
    for _ in range(steps if inside(a, d) else 0):
        gradient = jacobian.T @ fit.gradient
        if float(np.abs(gradient).max()) / total < GRADIENT_TOLERANCE / 100:
            break
        try:
            step = np.linalg.solve(jacobian.T @ fit.information @ jacobian, gradient)
        except np.linalg.LinAlgError:
            break
        free = np.linalg.lstsq(jacobian, np.concatenate([a, d]), rcond=None)[0]
        for _halving in range(5):
            moved = jacobian @ (free + step)
            if not inside(moved[:k], moved[k:]):
                step = step / 2
                continue
            trial = _marginal(patterns, counts, moved[:k], moved[k:], nodes, weights)
            if np.isfinite(trial.log_likelihood) and trial.log_likelihood >= fit.log_likelihood:
                a, d, fit = moved[:k], moved[k:], trial
                break
            step = step / 2
        else:
            break
    return a, d, fit


def _jacobian(model: Model, k: int) -> NDArray[np.float64]:
    """d(a_1..a_k, d_1..d_k) / d(free parameters): the identity for the 2PL; for the Rasch
    model the free parameters are (a, d_1..d_k) with every a_j = a."""
    if model == "2pl":
        return np.eye(2 * k)
    jac = np.zeros((2 * k, k + 1))
    jac[:k, 0] = 1.0
    jac[k:, 1:] = np.eye(k)
    return jac


def _invert(information: NDArray[np.float64]) -> NDArray[np.float64] | None:
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(covariance).all() or (np.diag(covariance) <= 0).any():
        return None
    return np.asarray(covariance, dtype=np.float64)


def _pair_cov(
    covariance: NDArray[np.float64] | None, model: Model, j: int, k: int
) -> NDArray[np.float64] | None:
    """The 2x2 covariance of item j's (a, d) in the free parameters' covariance."""
    if covariance is None:
        return None
    ia, idd = (j, k + j) if model == "2pl" else (0, 1 + j)
    return covariance[np.ix_([ia, idd], [ia, idd])]


def _item(name: str, a: float, d: float, cov: NDArray[np.float64] | None) -> ItemParameters:
    b = -d / a
    if cov is None:
        return ItemParameters(name, a, d, b)
    grad_b = np.array([d / a**2, -1.0 / a])  # delta method for b = -d/a
    var_b = float(grad_b @ cov @ grad_b)
    return ItemParameters(
        name,
        a,
        d,
        b,
        se_a=float(np.sqrt(cov[0, 0])),
        se_d=float(np.sqrt(cov[1, 1])),
        se_b=float(np.sqrt(var_b)) if var_b > 0 else None,
    )


def _arrays(
    params: Sequence[ItemParameters] | ItemParameters,
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    single = isinstance(params, ItemParameters)
    entries = [params] if isinstance(params, ItemParameters) else list(params)
    a = np.asarray([e.a for e in entries], dtype=np.float64)
    d = np.asarray([e.d for e in entries], dtype=np.float64)
    return a, d, single


def _expit(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


__all__ = [
    "Ability",
    "Calibration",
    "CalibrationError",
    "ExcludedItem",
    "ItemParameters",
    "Simulation",
    "calibrate",
    "icc",
    "item_information",
    "quadrature",
    "simulate",
    "test_characteristic_curve",
    "test_information",
]
