"""Thematic report for one employer: its workforce against each reported area, beside the
national picture, with no figure for a small group and no way to single out a candidate.

Why these rules (docs/results.md says the same to the reader):
- a group (the employer, or the employer in an earlier administration) with fewer than
  `min_group_size` candidates gets no figure at all: no count, no share, no change;
- the national figures are computed over the employers that are shown, so subtracting the other
  employers' figures from the national ones cannot recover a suppressed employer (the
  complementary cell of a suppressed employer is the rest of the country: it is never given
  with the suppressed employer in it);
- every candidate of an employer sits every area, so an area's cell has the employer's size and
  is suppressed exactly when the employer is; the met count is shown only when at least
  `min_group_size` candidates have a decision, and then the not-met count is implied, never
  shown for fewer;
- a strength or development theme is named only when the employer's share at or above the
  expectation differs from the rest of the shown country beyond sampling error: a two-sided
  two-proportion z-test (pooled variance) at `theme_level`;
- the change is against the employer's latest EARLIER administration (by date), shown only
  when both administrations have at least `min_group_size` of its candidates.
Pure: per-candidate flags in, an EmployerReport out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from itembank.results.outcomes import EmployerReport, ThemeRow
from itembank.results.subscores import FeedbackSettings

UNKNOWN = "(employer not given)"


@dataclass(frozen=True)
class Sitting:
    """One administration as the themes need it (aligned per candidate)."""

    administration: str
    date: str  # YYYY-MM-DD: orders administrations for the change
    candidates: tuple[str, ...]
    employers: tuple[str | None, ...]
    at_expectation: Mapping[str, tuple[bool, ...]]  # reported group id -> per candidate
    titles: Mapping[str, str]  # reported group id -> heading


def _employer(value: str | None) -> str:
    return value if value else UNKNOWN


def shown_employers(sitting: Sitting, min_group: int) -> set[str]:
    """The employers with enough candidates in `sitting` to be given any figure."""
    sizes: dict[str, int] = {}
    for e in sitting.employers:
        sizes[_employer(e)] = sizes.get(_employer(e), 0) + 1
    return {e for e, n in sizes.items() if n >= min_group}


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags)


def differs(k1: int, n1: int, k2: int, n2: int, level: float) -> int:
    """+1 / -1 when k1/n1 is higher / lower than k2/n2 beyond sampling error (two-sided
    two-proportion z-test with the pooled proportion at `level`), else 0."""
    if n1 == 0 or n2 == 0:
        return 0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0
    z = (k1 / n1 - k2 / n2) / se
    return (z > 0) - (z < 0) if abs(z) >= float(stats.norm.isf(level / 2)) else 0


def employer_report(
    employer: str,
    current: Sitting,
    earlier: Sequence[Sitting],
    met: Mapping[str, bool | None],
    settings: FeedbackSettings,
) -> EmployerReport:
    """The thematic report of `employer` in `current` (see the module docstring). `met` maps
    candidate -> the decision's met flag (None: pending), as the decision helper builds it."""
    least = settings.min_group_size
    mine = [i for i, e in enumerate(current.employers) if _employer(e) == employer]
    shown = shown_employers(current, least)
    rest = [
        i
        for i, e in enumerate(current.employers)
        if _employer(e) in shown and _employer(e) != employer
    ]
    national = [i for i, e in enumerate(current.employers) if _employer(e) in shown]
    notes: list[str] = []
    before = _previous(employer, current, earlier)
    prev_mine: list[int] = []
    if before is None:
        notes.append("No earlier administration with candidates of this employer.")
    else:
        prev_mine = [i for i, e in enumerate(before.employers) if _employer(e) == employer]
        if len(prev_mine) < least:
            notes.append(
                f"No change is shown: fewer than {least} candidates of this employer sat "
                f"{before.administration}."
            )
    if len(mine) < least:
        notes.insert(
            0,
            f"Fewer than {least} candidates of this employer sat {current.administration}: no "
            "figures are given, so that no candidate can be singled out.",
        )
        rows = tuple(
            ThemeRow(
                group=g,
                title=current.titles[g],
                candidates=None,
                share_met=None,
                national_share_met=_national(current, g, national),
                change=None,
                theme="",
                suppressed=True,
            )
            for g in current.at_expectation
        )
        return EmployerReport(
            employer=employer,
            administrations=(current.administration,),
            candidates=None,
            met=None,
            rows=rows,
            strengths=(),
            development_themes=(),
            min_group=least,
            notes=tuple(notes),
        )
    decided = [
        met[current.candidates[i]] for i in mine if met.get(current.candidates[i]) is not None
    ]
    met_count = sum(1 for m in decided if m) if len(decided) >= least else None
    if len(decided) < len(mine):
        notes.append(f"{len(mine) - len(decided)} decision(s) are still pending.")
    rows_out: list[ThemeRow] = []
    for g, flags in current.at_expectation.items():
        k_mine = sum(flags[i] for i in mine)
        k_rest = sum(flags[i] for i in rest)
        direction = differs(k_mine, len(mine), k_rest, len(rest), settings.theme_level)
        share = k_mine / len(mine)
        change = None
        if before is not None and len(prev_mine) >= least and g in before.at_expectation:
            change = round(share - _share([before.at_expectation[g][i] for i in prev_mine]), 2)
        rows_out.append(
            ThemeRow(
                group=g,
                title=current.titles[g],
                candidates=len(mine),
                share_met=round(share, 2),
                national_share_met=_national(current, g, national),
                change=change,
                theme={1: "strength", -1: "development", 0: ""}[direction],
                suppressed=False,
            )
        )
    used = (current.administration,) + (
        (before.administration,) if before is not None and len(prev_mine) >= least else ()
    )
    return EmployerReport(
        employer=employer,
        administrations=used,
        candidates=len(mine),
        met=met_count,
        rows=tuple(rows_out),
        strengths=tuple(r.title for r in rows_out if r.theme == "strength"),
        development_themes=tuple(r.title for r in rows_out if r.theme == "development"),
        min_group=least,
        notes=tuple(notes),
    )


def _national(sitting: Sitting, group: str, national: Sequence[int]) -> float | None:
    if not national:
        return None
    return round(_share([sitting.at_expectation[group][i] for i in national]), 2)


def _previous(employer: str, current: Sitting, earlier: Sequence[Sitting]) -> Sitting | None:
    """The employer's latest administration dated before `current`."""
    older = [
        s
        for s in earlier
        if s.date < current.date and any(_employer(e) == employer for e in s.employers)
    ]
    return max(older, key=lambda s: (s.date, s.administration)) if older else None


def employers_of(sitting: Sitting) -> list[str]:
    """Every employer named in `sitting`, sorted (no-employer candidates as UNKNOWN)."""
    return sorted({_employer(e) for e in sitting.employers})


__all__ = ["UNKNOWN", "Sitting", "differs", "employer_report", "employers_of", "shown_employers"]
