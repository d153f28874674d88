"""The results app's two per-item figures (matplotlib, no pyplot: safe in any kernel).

- the distractor plot: the proportion choosing each option (or, on a multiple-response item,
  each whole response) in the low, middle and high score groups, the key drawn thick and
  labelled, so a distractor that rises with ability stands out;
- the item characteristic curve of the calibration with the observed proportions correct by
  score group over it (results/empirical.py), so misfit is seen rather than assumed away.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from itembank.results.analysis import ItemStats
from itembank.results.empirical import THETA_RANGE, EmpiricalPoint
from itembank.results.irt import ItemParameters, icc

#: a multiple-response item can have dozens of response patterns: the key and the most chosen
#: others are drawn, the rest summed as "other responses"
MOST_PATTERNS = 5
KEY_COLOUR = "#1b5e20"


def distractor_figure(stats: ItemStats) -> Figure:
    """Option proportions by score group, the key marked (a note when choices are unknown)."""
    figure = Figure(figsize=(5.6, 3.4))
    axes = figure.add_subplot()
    axes.set_title(f"{stats.item}: options by score group", fontsize=10)
    if not stats.options:
        axes.text(0.5, 0.5, "raw responses are unknown:\nno distractor analysis", ha="center",
                  va="center", transform=axes.transAxes)  # fmt: skip
        axes.set_axis_off()
        return figure
    x = np.arange(len(stats.groups))
    key = [o for o in stats.options if o.is_key]
    others = sorted((o for o in stats.options if not o.is_key), key=lambda o: -o.proportion)
    shown, rest = others[:MOST_PATTERNS], others[MOST_PATTERNS:]
    for option in key + shown:
        label = f"{option.option} (key)" if option.is_key else option.option
        axes.plot(x, option.by_group, marker="o", label=label,
                  linewidth=3 if option.is_key else 1.3,
                  color=KEY_COLOUR if option.is_key else None)  # fmt: skip
    if rest:
        summed = np.sum([o.by_group for o in rest], axis=0)
        axes.plot(x, summed, linestyle=":", color="#777",
                  label=f"{len(rest)} other responses")  # fmt: skip
    if any(v > 0 for v in stats.omitted_by_group):
        axes.plot(x, stats.omitted_by_group, linestyle="--", color="#999", label="omitted")
    axes.set_xticks(x, list(stats.groups))
    axes.set_ylim(0, 1)
    axes.set_xlabel("score group")
    axes.set_ylabel("proportion choosing")
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.tight_layout()
    return figure


def icc_figure(params: ItemParameters, points: Sequence[EmpiricalPoint], model: str) -> Figure:
    """The fitted curve P(full marks | theta) and the observed proportions by score group."""
    figure = Figure(figsize=(5.6, 3.4))
    axes = figure.add_subplot()
    grid = np.linspace(*THETA_RANGE, 161)
    axes.plot(grid, icc(params, grid), color="#1f4e9a",
              label=f"{model} ICC (a {params.a:.2f}, b {params.b:.2f})")  # fmt: skip
    axes.scatter([p.theta for p in points], [p.proportion for p in points], color="#c0392b",
                 zorder=3, label="observed, by score group")  # fmt: skip
    axes.set_ylim(0, 1)
    axes.set_xlim(*THETA_RANGE)
    axes.set_title(f"{params.item}: characteristic curve", fontsize=10)
    axes.set_xlabel("ability (theta)")
    axes.set_ylabel("P(full marks)")
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


__all__ = ["distractor_figure", "icc_figure"]
