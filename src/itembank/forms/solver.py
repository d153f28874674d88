"""The assembly programme handed to HiGHS through highspy: passed once, warm-started from a
feasible solution, stopped at a stated absolute gap, and grown in place (new columns and rows
for overlap limits found broken) without rebuilding the model.

highspy, not scipy.optimize.milp, because milp accepts neither a starting solution nor new rows
on a model already solved. The bare core class is used: the wrapper class prints HiGHS's banner
on standard output when it is first made, which would corrupt `--format json` output.

Pure: numbers in, numbers out (the solver runs in this process; nothing is read or written).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from highspy._core import _Highs, cb

from itembank.forms.programme import Programme

#: HiGHS's infinity: bounds beyond it are free
INF = highspy.kHighsInf
#: HiGHS's log line when the start it was given is feasible
START_FEASIBLE = re.compile(r"MIP start solution is feasible: objective value is (\S+)")


@dataclass
class Outcome:
    """One run: whether a solution exists, the solution, the objective and HiGHS's proven lower
    bound on it, and why it stopped."""

    status: str  # optimal | target | time_limit | infeasible | no_solution
    x: np.ndarray | None
    objective: float
    bound: float
    seconds: float
    nodes: int
    start_objective: float | None = None  # HiGHS found the start feasible, at this objective


def _clip(values: Sequence[float]) -> np.ndarray:
    return np.array([INF if v == math.inf else -INF if v == -math.inf else v for v in values])


def _rows_csr(
    m: Programme, first: int, last: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows first..last-1 as (lower, upper, starts, indices, values)."""
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    low: list[float] = []
    high: list[float] = []
    for coefs, lo, hi in m.rows[first:last]:
        starts.append(len(index))
        for col in sorted(coefs):
            index.append(col)
            value.append(coefs[col])
        low.append(lo)
        high.append(hi)
    return (
        _clip(low),
        _clip(high),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=np.float64),
    )


class Model:
    """A Programme loaded into HiGHS; `grow` adds the columns and rows appended to the
    Programme since, `solve` runs from an optional start."""

    def __init__(self, m: Programme, threads_seed: int = 0) -> None:
        self.m = m
        self.h = _Highs()
        self.log: list[str] = []
        for name, value in (
            ("output_flag", True),  # into the log callback below, never to the console
            ("log_to_console", False),
            ("random_seed", int(threads_seed)),
            ("threads", 1),
            ("mip_rel_gap", 0.0),
        ):
            self.h.setOptionValue(name, value)
        self.h.setCallback(self._logged, None)
        self.h.startCallback(cb.HighsCallbackType.kCallbackLogging)
        self.cols = 0
        self.rows = 0
        self.grow()

    def _logged(self, _kind: Any, message: str, *_rest: Any) -> None:
        """HiGHS's log lines, kept to learn whether the start was taken (nothing else says)."""
        self.log.append(message)

    def grow(self) -> None:
        """Load the columns and rows the Programme gained since the last load."""
        m = self.m
        new_cols = m.n_vars - self.cols
        if new_cols:
            cols = range(self.cols, m.n_vars)
            self.h.addCols(
                new_cols,
                np.array([m.cost[c] for c in cols]),
                np.array([m.lower[c] for c in cols]),
                _clip([m.upper[c] for c in cols]),
                0,
                np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=np.float64),
            )
            integral = [c for c in cols if m.integer[c]]
            if integral:
                self.h.changeColsIntegrality(
                    len(integral),
                    np.array(integral, dtype=np.int32),
                    np.full(len(integral), highspy.HighsVarType.kInteger),
                )
            self.cols = m.n_vars
        if len(m.rows) > self.rows:
            low, high, starts, index, value = _rows_csr(m, self.rows, len(m.rows))
            self.h.addRows(len(low), low, high, len(index), starts, index, value)
            self.rows = len(m.rows)

    def solve(
        self,
        time_limit: float,
        abs_gap: float,
        start: dict[int, float] | None,
        target: float = -INF,
    ) -> Outcome:
        """Run HiGHS for at most `time_limit` seconds, stopping once the best solution is
        proven within `abs_gap` of the optimum or its objective is at most `target`; `start`
        (column -> value, the integer columns) is handed in as the first incumbent, HiGHS
        completing the continuous columns."""
        if any(not coefs and low > high for coefs, low, high in self.m.rows):
            return Outcome("infeasible", None, math.nan, math.nan, 0.0, 0)
        self.h.setOptionValue("time_limit", max(0.5, float(time_limit)))
        self.h.setOptionValue("mip_abs_gap", max(1e-9, float(abs_gap)))
        self.h.setOptionValue("objective_target", float(target))
        if start:
            cols = sorted(start)
            self.h.setSolution(
                len(cols),
                np.array(cols, dtype=np.int32),
                np.array([start[c] for c in cols], dtype=np.float64),
            )
        began = time.perf_counter()
        self.log.clear()
        self.h.run()
        seconds = time.perf_counter() - began
        status = self.h.getModelStatus()
        info = self.h.getInfo()
        has_solution = int(info.primal_solution_status) == 2
        x = np.array(self.h.getSolution().col_value) if has_solution else None
        objective = float(info.objective_function_value) if has_solution else math.nan
        bound = float(info.mip_dual_bound)
        nodes = int(info.mip_node_count)
        ms = highspy.HighsModelStatus
        if status == ms.kOptimal and has_solution:
            name = "optimal"
        elif status == ms.kObjectiveTarget and has_solution:
            name = "target"
        elif status == ms.kInfeasible:
            name = "infeasible"
        elif has_solution:
            name = "time_limit"
        else:
            name = "no_solution"
        return Outcome(name, x, objective, bound, seconds, nodes, self._start_objective())

    def _start_objective(self) -> float | None:
        """The objective of the start if HiGHS's log says it found it feasible."""
        for line in self.log:
            found = START_FEASIBLE.search(line)
            if found:
                return float(found.group(1))
        return None


def version() -> str:
    """HiGHS's version, for the manifest."""
    h: Any = _Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


__all__ = ["INF", "Model", "Outcome", "version"]
