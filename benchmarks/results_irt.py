"""Time IRT calibration (itembank.results.irt) of a simulated administration: 30,000 candidates
by 60 items from a 2PL model with known parameters, calibrated as Rasch and as 2PL. Reports the
median of n runs, how well the generating parameters were recovered and the fit figures. A
measurement, not a test: nothing here passes or fails.

    .venv/bin/python benchmarks/results_irt.py [--candidates 30000] [--items 60] [--repeat 3]
    .venv/bin/python benchmarks/results_irt.py --models rasch      # Rasch only (the aim: < 30 s)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from itembank.results import irt  # noqa: E402


def run(
    candidates: int, items: int, repeat: int, models: list[str], seed: int
) -> dict[str, object]:
    """Simulate once, then calibrate each model `repeat` times; figures of the last run."""
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 0.3, items)
    b = rng.normal(0.0, 1.0, items)
    start = time.perf_counter()
    sim = irt.simulate(a, -a * b, candidates, seed)
    simulated = time.perf_counter() - start
    report: dict[str, object] = {
        "candidates": candidates,
        "items": items,
        "distinct_patterns": int(np.unique(sim.matrix.scores, axis=0).shape[0]),
        "simulate_s": round(simulated, 2),
        "python": platform.python_version(),
    }
    for model in models:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            cal = irt.calibrate(sim.matrix, model)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
        est_a = np.array([p.a for p in cal.items])
        est_b = np.array([p.b for p in cal.items])
        report[model] = {
            "median_s": round(statistics.median(times), 2),
            "runs_s": [round(t, 2) for t in times],
            "converged": cal.converged,
            "max_gradient_per_candidate": float(f"{cal.max_gradient:.3g}"),
            "log_likelihood": round(cal.log_likelihood, 1),
            "r_b": round(float(np.corrcoef(est_b, b)[0, 1]), 4),
            "r_a": None if model == "rasch" else round(float(np.corrcoef(est_a, a)[0, 1]), 4),
            "rmse_b": round(float(np.sqrt(np.mean((est_b - b) ** 2))), 4),
            "median_se_b": round(float(np.median([p.se_b or np.nan for p in cal.items])), 4),
        }
        print(model, json.dumps(report[model]), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=30000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["rasch", "2pl"], choices=irt.MODELS)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    report = run(args.candidates, args.items, args.repeat, args.models, args.seed)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
