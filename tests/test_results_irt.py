"""IRT calibration (itembank.results.irt) against published estimates and hand computations.

Published figures:
- LSAT7 2PL: mirt's reference page for LSAT7 (philchalmers/mirt, reference/LSAT7.md, mirt
  1.45.5): a = 0.988 1.081 1.706 0.765 0.736, d = 1.856 0.808 1.804 0.486 1.855,
  log-likelihood -2658.805.
- LSAT6 Rasch (one common slope): ltm's `rasch(LSAT)` (ltm's LSAT is LSAT6) as printed by
  `summary()`: Dffclt -3.6153 -1.3224 -0.3176 -1.7301 -2.7802 (std.err 0.3266 0.1422 0.0977
  0.1691 0.2510), Dscrmn 0.7551 (0.0694), log.Lik -2466.938; mirt's reference page for LSAT6
  (reference/LSAT6.md, mirt 1.46.4, `CONSTRAIN = (1-5, a1)`): a1 0.755, d = 2.730 0.999 0.240
  1.307 2.100, log-likelihood -2466.938.
- LSAT6 2PL: ltm's `summary(ltm(LSAT ~ z1))`: Dffclt -3.3597 -1.3696 -0.2799 -1.8659 -3.1236
  (std.err 0.8669 0.3073 0.0997 0.4341 0.8700), Dscrmn 0.8254 0.7229 0.8905 0.6886 0.6575
  (0.2581 0.1867 0.2326 0.1852 0.2100), log.Lik -2466.653.
No published Rasch estimate for LSAT7 was found, so its marginal estimates are checked against a
conditional maximum likelihood fit written here (a different estimator of the same difficulties).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import rdata
from scipy import integrate, optimize

from itembank.results import irt
from itembank.results.matrix import ScoredMatrix


def _reference(shared: Path, name: str, key: str, freq: str) -> ScoredMatrix:
    """A response-pattern table with frequencies, expanded to one row per candidate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unknown encoding. Assumed ASCII."
        frame = rdata.read_rda(str(shared / "reference-data" / name))[key]
    columns = [c for c in frame.columns if c != freq]
    scores = np.repeat(
        frame[columns].to_numpy(dtype=float), frame[freq].to_numpy(dtype=int), axis=0
    )
    return ScoredMatrix.from_binary(scores)


@pytest.fixture(scope="module")
def lsat7(shared: Path) -> ScoredMatrix:
    return _reference(shared, "mirt_LSAT7.RData", "LSAT7", "freq")


@pytest.fixture(scope="module")
def lsat6(shared: Path) -> ScoredMatrix:
    return _reference(shared, "mirt_LSAT6.RData", "LSAT6", "Freq")


def _column(cal: irt.Calibration, field: str) -> np.ndarray:
    return np.array([getattr(p, field) for p in cal.items], dtype=float)


@pytest.mark.shared
def test_lsat7_2pl_reproduces_mirt(lsat7: ScoredMatrix) -> None:
    cal = irt.calibrate(lsat7, "2pl")
    assert lsat7.scores.shape == (1000, 5)
    np.testing.assert_allclose(_column(cal, "a"), [0.988, 1.081, 1.706, 0.765, 0.736], atol=0.01)
    np.testing.assert_allclose(_column(cal, "d"), [1.856, 0.808, 1.804, 0.486, 1.855], atol=0.01)
    np.testing.assert_allclose(_column(cal, "b"), -_column(cal, "d") / _column(cal, "a"))
    assert cal.log_likelihood == pytest.approx(-2658.805, abs=0.01)
    assert cal.converged and cal.n_parameters == 10 and cal.n_candidates == 1000
    assert cal.aic == pytest.approx(5337.61, abs=0.02)  # mirt's AIC
    assert cal.excluded == () and cal.dichotomised == ()


@pytest.mark.shared
def test_lsat6_rasch_reproduces_ltm_and_mirt(lsat6: ScoredMatrix) -> None:
    cal = irt.calibrate(lsat6, "rasch")
    assert lsat6.scores.mean(axis=0).round(3).tolist() == [0.924, 0.709, 0.553, 0.763, 0.870]
    np.testing.assert_allclose(_column(cal, "a"), [0.7551] * 5, atol=0.001)
    np.testing.assert_allclose(
        _column(cal, "b"), [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802], atol=0.005
    )
    np.testing.assert_allclose(_column(cal, "d"), [2.730, 0.999, 0.240, 1.307, 2.100], atol=0.005)
    np.testing.assert_allclose(
        _column(cal, "se_b"), [0.3266, 0.1422, 0.0977, 0.1691, 0.2510], atol=0.002
    )
    np.testing.assert_allclose(_column(cal, "se_a"), [0.0694] * 5, atol=0.001)
    assert cal.log_likelihood == pytest.approx(-2466.938, abs=0.01)
    assert cal.n_parameters == 6 and cal.converged
    assert cal.bic == pytest.approx(4975.322, abs=0.02)  # ltm's and mirt's BIC


@pytest.mark.shared
def test_lsat6_2pl_reproduces_ltm_with_standard_errors(lsat6: ScoredMatrix) -> None:
    cal = irt.calibrate(lsat6, "2pl")
    np.testing.assert_allclose(
        _column(cal, "a"), [0.8254, 0.7229, 0.8905, 0.6886, 0.6575], atol=0.005
    )
    np.testing.assert_allclose(
        _column(cal, "b"), [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236], atol=0.01
    )
    np.testing.assert_allclose(
        _column(cal, "se_a"), [0.2581, 0.1867, 0.2326, 0.1852, 0.2100], atol=0.002
    )
    np.testing.assert_allclose(
        _column(cal, "se_b"), [0.8669, 0.3073, 0.0997, 0.4341, 0.8700], atol=0.005
    )
    assert cal.log_likelihood == pytest.approx(-2466.653, abs=0.01)


def _conditional_ml(scores: np.ndarray) -> np.ndarray:
    """Rasch difficulties by conditional maximum likelihood (sum-score conditioning, elementary
    symmetric functions), centred to mean 0: no ability distribution assumed at all."""
    totals = scores.sum(axis=1).astype(int)
    k = scores.shape[1]
    keep = (totals > 0) & (totals < k)
    x, r = scores[keep], totals[keep]

    def negative_log_likelihood(free: np.ndarray) -> float:
        beta = np.append(free, -free.sum())
        gamma = np.array([1.0])
        for eps in np.exp(-beta):
            gamma = np.convolve(gamma, [1.0, eps])
        return float((x @ beta).sum() + np.log(gamma[r]).sum())

    result = optimize.minimize(
        negative_log_likelihood, np.zeros(k - 1), method="BFGS", options={"gtol": 1e-8}
    )
    return np.append(result.x, -result.x.sum())


@pytest.mark.shared
def test_lsat7_rasch_agrees_with_conditional_ml(lsat7: ScoredMatrix) -> None:
    cal = irt.calibrate(lsat7, "rasch")
    logit_difficulty = -_column(cal, "d")  # slope-intercept: logit = a*theta + d
    marginal = logit_difficulty - logit_difficulty.mean()
    conditional = _conditional_ml(lsat7.scores)
    np.testing.assert_allclose(marginal, conditional, atol=0.01)
    # the easiest item (I5, facility .843) has the lowest difficulty, the hardest (I4) the highest
    assert int(np.argmin(marginal)) == 4 and int(np.argmax(marginal)) == 3
    assert cal.log_likelihood < -2658.805  # one slope fits worse than five


def test_simulated_recovery_2000_by_30() -> None:
    rng = np.random.default_rng(20261130)
    a = rng.lognormal(0.0, 0.3, 30)
    b = rng.normal(0.0, 1.0, 30)
    sim = irt.simulate(a, -a * b, 2000, seed=7)
    two = irt.calibrate(sim.matrix, "2pl")
    assert two.converged and two.excluded == ()
    assert np.corrcoef(_column(two, "a"), a)[0, 1] >= 0.9
    assert np.corrcoef(_column(two, "b"), b)[0, 1] >= 0.9
    rasch = irt.calibrate(sim.matrix, "rasch")
    assert rasch.converged
    assert np.corrcoef(_column(rasch, "b"), b)[0, 1] >= 0.9
    assert two.log_likelihood > rasch.log_likelihood  # the generating model fits better


def test_test_information_is_the_sum_and_peaks_at_the_mean_difficulty() -> None:
    b = np.linspace(-1.0, 1.0, 9) + 0.5  # symmetric about 0.5
    params = [irt.ItemParameters(f"I{j}", 1.0, -bj, bj) for j, bj in enumerate(b)]
    theta = np.linspace(-4.0, 4.0, 801)
    info = irt.item_information(params, theta)
    np.testing.assert_allclose(irt.test_information(params, theta), info.sum(axis=1))
    assert theta[np.argmax(irt.test_information(params, theta))] == pytest.approx(0.5, abs=0.01)
    # one Rasch item: information a^2/4 at theta = b, P = 1/2 there
    one = irt.ItemParameters("X", 1.7, -1.7 * 0.3, 0.3)
    assert irt.item_information(one, [0.3])[0] == pytest.approx(1.7**2 / 4)
    assert irt.icc(one, [0.3])[0] == pytest.approx(0.5)
    assert irt.icc(one, [1.3])[0] == pytest.approx(1 / (1 + math.exp(-1.7)))
    pair = [irt.ItemParameters("A", 0.5, 0.2, -0.4), irt.ItemParameters("B", 2.0, -1.0, 0.5)]
    p_a, p_b = 1 / (1 + math.exp(-0.2)), 1 / (1 + math.exp(1.0))  # at theta = 0
    np.testing.assert_allclose(
        irt.item_information(pair, [0.0]), [[0.25 * p_a * (1 - p_a), 4.0 * p_b * (1 - p_b)]]
    )
    tcc = irt.test_characteristic_curve(params, theta)
    np.testing.assert_allclose(tcc, irt.icc(params, theta).sum(axis=1))
    assert tcc[400] == pytest.approx(sum(1 / (1 + math.exp(bj)) for bj in b))  # theta = 0


def test_items_without_information_are_excluded_with_a_reason() -> None:
    sim = irt.simulate([1.0] * 6, [0.5, -0.5, 0.0, 1.0, -1.0, 0.2], 500, seed=3)
    scores = sim.matrix.scores.copy()
    scores[:, 1] = 1.0
    scores[:, 4] = 0.0
    cal = irt.calibrate(ScoredMatrix.from_binary(scores), "2pl")
    assert [p.item for p in cal.items] == ["I1", "I3", "I4", "I6"]
    assert [e.to_dict() for e in cal.excluded] == [
        {
            "item": "I2",
            "reason": "every candidate answered it correctly (facility 1): it "
            "carries no information to calibrate",
        },
        {
            "item": "I5",
            "reason": "no candidate answered it correctly (facility 0): it carries "
            "no information to calibrate",
        },
    ]
    with pytest.raises(KeyError, match="I2 was not calibrated"):
        cal.parameters("I2")


def test_too_few_usable_items_or_an_unknown_model_is_a_clear_error() -> None:
    scores = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    with pytest.raises(irt.CalibrationError) as caught:
        irt.calibrate(ScoredMatrix.from_binary(scores))
    assert str(caught.value) == (
        "IRT calibration needs at least 2 items that some but not all candidates answered "
        "correctly; this matrix has 1 (2 excluded: I2: every candidate answered it correctly "
        "(facility 1): it carries no information to calibrate; I3: no candidate answered it "
        "correctly (facility 0): it carries no information to calibrate)"
    )
    with pytest.raises(irt.CalibrationError) as caught:
        irt.calibrate(ScoredMatrix.from_binary([[1.0, 0.0, 1.0]]))
    assert str(caught.value) == (
        "IRT calibration needs responses from at least 2 candidates; this matrix has 1"
    )
    with pytest.raises(
        irt.CalibrationError, match="unknown IRT model '3pl': use one of rasch, 2pl"
    ):
        irt.calibrate(ScoredMatrix.from_binary(scores), "3pl")  # type: ignore[arg-type]


def test_partial_credit_items_are_dichotomised_at_full_marks() -> None:
    sim = irt.simulate([1.2, 0.8, 1.0, 1.5], [0.3, -0.2, 0.8, 0.0], 800, seed=11)
    binary = sim.matrix.scores
    rng = np.random.default_rng(5)
    partial = binary.copy()
    partial[:, 2] = binary[:, 2] * 2 + (binary[:, 2] == 0) * rng.integers(0, 2, 800)  # 0, 1 or 2
    m = ScoredMatrix(
        candidates=sim.matrix.candidates,
        items=sim.matrix.items,
        scores=partial,
        max_scores=np.array([1.0, 1.0, 2.0, 1.0]),
        omitted=sim.matrix.omitted,
    )
    cal = irt.calibrate(m, "2pl")
    assert cal.dichotomised == ("I3",)
    same = irt.calibrate(sim.matrix, "2pl")
    assert [p.to_dict() for p in cal.items] == [p.to_dict() for p in same.items]


def test_omitted_responses_count_as_wrong() -> None:
    sim = irt.simulate([1.0, 1.3, 0.7], [0.5, 0.0, -0.4], 400, seed=2)
    omitted = sim.matrix.scores == 0
    omitted[::2] = False  # half of the wrong answers were omissions
    m = ScoredMatrix(
        candidates=sim.matrix.candidates,
        items=sim.matrix.items,
        scores=sim.matrix.scores,
        max_scores=sim.matrix.max_scores,
        omitted=omitted,
    )
    assert irt.calibrate(m).to_dict() == irt.calibrate(sim.matrix).to_dict()


def test_eap_abilities_match_numerical_integration() -> None:
    sim = irt.simulate([1.0, 1.4, 0.9, 1.1], [0.4, -0.3, 1.0, 0.0], 600, seed=4)
    cal = irt.calibrate(sim.matrix, "2pl", abilities=True)
    assert len(cal.abilities) == 600 and "abilities" not in cal.to_dict()
    a, d = _column(cal, "a"), _column(cal, "d")
    for row in (0, 1, 2):
        x = sim.matrix.scores[row]

        def likelihood(t: float, x: np.ndarray = x) -> float:
            p = 1 / (1 + np.exp(-(a * t + d)))
            return float(np.prod(p**x * (1 - p) ** (1 - x)) * math.exp(-t * t / 2))

        mass = integrate.quad(likelihood, -10, 10)[0]
        mean = integrate.quad(lambda t: t * likelihood(t), -10, 10)[0] / mass
        second = integrate.quad(lambda t: t * t * likelihood(t), -10, 10)[0] / mass
        found = cal.abilities[row]
        assert found.candidate == sim.matrix.candidates[row]
        assert found.theta == pytest.approx(mean, abs=1e-3)
        assert found.se == pytest.approx(math.sqrt(second - mean**2), abs=1e-3)


def test_simulate_is_seeded_and_plants_uniform_dif_for_the_focal_group() -> None:
    a, d = [1.0] * 4, [0.0] * 4
    kwargs = {"groups": {"men": 0.75, "women": 0.25}, "dif": {"I2": -1.5}}
    first = irt.simulate(a, d, 20000, 9, **kwargs)  # type: ignore[arg-type]
    again = irt.simulate(a, d, 20000, 9, **kwargs)  # type: ignore[arg-type]
    assert np.array_equal(first.matrix.scores, again.matrix.scores)
    assert first.groups == again.groups and first.groups is not None
    labels = np.array(first.groups)
    assert (labels == "men").sum() == 15000 and (labels == "women").sum() == 5000
    facility = {g: first.matrix.scores[labels == g].mean(axis=0) for g in ("men", "women")}
    # no DIF: P = 1/2 for everyone; I2 for women: E[expit(theta - 1.5)], theta ~ N(0, 1)
    expected = integrate.quad(
        lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi) / (1 + math.exp(1.5 - t)), -10, 10
    )[0]
    assert facility["women"][1] == pytest.approx(expected, abs=0.02)
    assert facility["men"][1] == pytest.approx(0.5, abs=0.02)
    assert abs(facility["women"][0] - facility["men"][0]) < 0.03
    with pytest.raises(ValueError, match="dif names items that are not simulated: I9"):
        irt.simulate(a, d, 10, 1, groups={"x": 1, "y": 1}, dif={"I9": 1.0})
    with pytest.raises(ValueError, match="impact names groups that are not simulated: z"):
        irt.simulate(a, d, 10, 1, groups={"x": 1, "y": 1}, impact={"z": 1.0})
    impact = irt.simulate(a, d, 20000, 9, groups={"r": 1, "f": 1}, impact={"f": -1.0})
    f = np.array(impact.groups) == "f"
    assert impact.theta[f].mean() == pytest.approx(-1.0, abs=0.05)
    assert impact.theta[~f].mean() == pytest.approx(0.0, abs=0.05)


def test_to_dict_is_json_ready_and_rounded() -> None:
    p = irt.ItemParameters("GK-0012-15db84b7", 1.234567, -0.5, 0.40500012, 0.1, None, 0.0333333)
    assert p.to_dict() == {
        "item": "GK-0012-15db84b7",
        "a": 1.2346,
        "d": -0.5,
        "b": 0.405,
        "se_a": 0.1,
        "se_d": None,
        "se_b": 0.0333,
    }
    sim = irt.simulate([1.0, 1.2, 0.8], [0.2, -0.1, 0.4], 300, seed=1)
    record = irt.calibrate(sim.matrix, "rasch").to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["model"] == "rasch" and record["n_parameters"] == 4
    assert set(record) == {
        "model",
        "method",
        "n_candidates",
        "log_likelihood",
        "n_parameters",
        "aic",
        "bic",
        "converged",
        "max_gradient",
        "items",
        "excluded",
        "dichotomised",
        "notes",
    }


def test_an_estimate_at_the_edge_of_the_search_is_reported_not_called_converged() -> None:
    guttman = ScoredMatrix.from_binary([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]] * 5)
    cal = irt.calibrate(guttman, "2pl")
    assert not cal.converged
    assert cal.notes == tuple(
        f"I{j}: slope 5 is at the edge of the search interval [0.2, 5.0]; treat its estimates "
        "with caution"
        for j in (1, 2, 3)
    )
    assert irt.calibrate(guttman, "rasch").notes[0].startswith("I1: slope 10 is at the edge")


def test_newton_steps_reach_the_maximum_girth_stops_short_of() -> None:
    """girth's one-parameter fit alternates one-dimensional searches and can stop short of the
    maximum (the sample administration's form 1: a largest gradient of 0.004 per candidate,
    reported as not converged); calibrate() finishes with Newton steps on the same likelihood."""
    from itembank.results.irt import _girth_fit, _jacobian, _marginal, quadrature

    rng = np.random.default_rng(5)
    sim = irt.simulate(np.exp(rng.normal(0, 0.3, 30)), rng.normal(0, 1, 30), 2000, seed=11)
    patterns, counts = np.unique(sim.matrix.scores, axis=0, return_counts=True)
    a, d = _girth_fit(sim.matrix.scores, "rasch")
    nodes, weights = quadrature()
    girth = _marginal(patterns, counts.astype(float), a, d, nodes, weights)
    girth_gradient = float(np.abs(_jacobian("rasch", 30).T @ girth.gradient).max()) / 2000
    polished = irt.calibrate(sim.matrix, "rasch")
    assert girth_gradient > 1e-4  # girth alone is not at the maximum here
    assert polished.converged and polished.max_gradient < girth_gradient / 50
    assert polished.log_likelihood >= girth.log_likelihood
