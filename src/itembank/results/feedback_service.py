"""The feedback section of the results (``bank.results.feedback``): which subscores add value on
an administration, each candidate's strengths and development points, and the employers'
thematic reports. The statistics are pure (subscores.py, themes.py); this reads the form's
scored matrix and its items' primary standards through the Results section and bank.json's
"results"."feedback"."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from itembank.core.errors import ItembankError
from itembank.core.standards import primary_indexes
from itembank.results.matching import entries
from itembank.results.matrix import ScoredMatrix
from itembank.results.outcomes import EmployerReport, Subscore
from itembank.results.subscores import (
    Feedback as Points,
)
from itembank.results.subscores import (
    FeedbackSettings,
    at_expectation,
    candidate_points,
    value_added,
)
from itembank.results.themes import Sitting, employer_report, employers_of

if TYPE_CHECKING:
    from itembank.results.service import Results

PathLike = str | os.PathLike[str]


class Feedback:
    """Subscores, candidate points and employer themes for the forms of one bank."""

    def __init__(self, results: Results) -> None:
        self._results = results
        self._bank = results._bank

    @property
    def settings(self) -> FeedbackSettings:
        """bank.json "results"."feedback" with the defaults."""
        return FeedbackSettings.from_bank(self._bank.settings)

    def _titles(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for framework in self._bank.frameworks().values():
            for statement in framework.get("statements", []):
                out[str(statement["id"])] = str(statement.get("title", statement["id"]))
        return out

    def statements(self, form: str) -> list[str | None]:
        """Each item's primary statement, in the form's order: the primary mapping in the
        framework that bank.json's groups use, else the item's first primary mapping."""
        manifest, items = self._results._form_items(form)
        grouped = {s for g in self.settings.groups for s in g.statements}
        out: list[str | None] = []
        for entry in entries(manifest):
            listed = list(items[str(entry["id"])].get("standards") or [])
            frameworks = [str(m["framework"]) for m in listed]
            marked = [bool(m.get("primary")) for m in listed]
            primary = [
                str(listed[i]["statement"]) for i in primary_indexes(frameworks, marked).values()
            ]
            chosen = [s for s in primary if s in grouped] or primary
            out.append(chosen[0] if chosen else None)
        return out

    def _matrix(self, form: str, results: PathLike | None) -> ScoredMatrix:
        return self._results.matrix(form, results)

    def subscores(self, form: str, results: PathLike | None = None) -> tuple[Subscore, ...]:
        """Every statement on the form and every group of bank.json, with its PRMSE figures
        and whether it is reported on this administration (and why, in words)."""
        return value_added(
            self._matrix(form, results), self.statements(form), self._titles(), self.settings
        )

    def expectation(self, form: str, pass_mark: float | None = None) -> float | None:
        """The share of every area's marks the standard expects: the pass mark (given, else
        the closed standard-setting exercise's) over the form's maximum; None without one."""
        if pass_mark is None:
            pass_mark, _ = self._results.pass_mark(form)
        if pass_mark is None:
            return None
        manifest = self._bank.forms.form(form)
        top = sum(float(e["max_score"]) for e in entries(manifest))
        return float(pass_mark) / top

    def points(
        self, form: str, results: PathLike | None = None, pass_mark: float | None = None
    ) -> dict[str, Points]:
        """Per candidate: (strengths, development points, notes) on the reported subscores;
        Point.learning is empty (the letters attach approved learning points)."""
        matrix = self._matrix(form, results)
        statements = self.statements(form)
        subs = value_added(matrix, statements, self._titles(), self.settings)
        return candidate_points(
            matrix, statements, subs, self.settings, self.expectation(form, pass_mark)
        )

    def sitting(
        self, form: str, results: PathLike | None = None, pass_mark: float | None = None
    ) -> Sitting:
        """One administration of `form` as the employer themes need it."""
        expectation = self.expectation(form, pass_mark)
        if expectation is None:
            raise ItembankError(
                f"Form {form} has no pass mark (no closed standard-setting exercise on exactly "
                "its items): the employer themes compare each area with the standard's "
                "expectation, so give the pass mark."
            )
        matrix = self._matrix(form, results)
        statements = self.statements(form)
        subs = [
            s for s in value_added(matrix, statements, self._titles(), self.settings) if s.reported
        ]
        administration = self._results.administration_id(form, results)
        return Sitting(
            administration=administration,
            date=administration[-10:],
            candidates=matrix.candidates,
            employers=tuple(self._results.employers(form, results)),
            at_expectation={
                s.group: at_expectation(matrix, statements, s, expectation) for s in subs
            },
            titles={s.group: s.title for s in subs},
        )

    def _earlier(self, form: str, results: PathLike | None) -> list[Sitting]:
        form_id = str(self._bank.forms.form(form)["id"])
        others = sorted(
            {str(r["form"]) for r in self._results.imports(results) if r["form"] != form_id}
        )
        out = []
        for other in others:
            try:
                out.append(self.sitting(other, results))
            except ItembankError:
                continue  # a form without a pass mark gives no comparison
        return out

    def employer(
        self,
        employer: str,
        form: str,
        met: Mapping[str, bool | None],
        results: PathLike | None = None,
        pass_mark: float | None = None,
    ) -> EmployerReport:
        """The thematic report of `employer` on `form`'s administration; `met` maps each
        candidate to the decision's met flag (None: pending)."""
        current = self.sitting(form, results, pass_mark)
        if employer not in employers_of(current):
            raise ItembankError(
                f"No candidate of {employer!r} sat {current.administration}: the employers "
                f"there are {', '.join(employers_of(current))}."
            )
        return employer_report(employer, current, self._earlier(form, results), met, self.settings)

    def employers(
        self,
        form: str,
        met: Mapping[str, bool | None],
        results: PathLike | None = None,
        pass_mark: float | None = None,
    ) -> list[EmployerReport]:
        """Every employer's report on `form`'s administration, by employer name."""
        current = self.sitting(form, results, pass_mark)
        earlier = self._earlier(form, results)
        return [
            employer_report(e, current, earlier, met, self.settings) for e in employers_of(current)
        ]


def summary(subscores: tuple[Subscore, ...]) -> list[dict[str, Any]]:
    """The subscores as JSON-ready rows (for a command or the app)."""
    return [
        {
            "group": s.group,
            "title": s.title,
            "n_items": s.n_items,
            "prmse_subscore": None if s.prmse_subscore is None else round(s.prmse_subscore, 4),
            "prmse_total": None if s.prmse_total is None else round(s.prmse_total, 4),
            "reported": s.reported,
            "reason": s.reason,
        }
        for s in subscores
    ]


__all__ = ["Feedback", "summary"]
