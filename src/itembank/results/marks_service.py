"""Simulated-practice marks and the decision (``bank.results.marks``): import assessors' marks
into the results store (outside the content repository), report the assessors' agreement per
criterion, and make each candidate's met / not met decision from the ADOPTED pass mark.

Parsing, agreement and the decision are pure (practice.py, agreement.py, decision.py); this
section reads the bank's scenarios and settings, the form's knowledge scores (bank.results)
and the adopted pass mark (bank.standard_setting), and writes through storage.resultstore.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itembank.core.errors import ItembankError
from itembank.results.agreement import CriterionAgreement, agreement
from itembank.results.decision import (
    DecisionRules,
    NoAdoptedPassMarkError,
    decide,
    decisions_csv,
)
from itembank.results.outcomes import AdoptedPassMark, Decision
from itembank.results.practice import MarkRow, parse_marks, schemes_of
from itembank.storage.resultfiles import open_source, outside, stream_digest, write_private
from itembank.storage.resultstore import MARKS_FORMAT

if TYPE_CHECKING:
    from itembank.bank import Bank
    from itembank.results.service import PathLike, Results

#: scenarios whose marks may be imported: delivered content is approved (or since retired)
DELIVERABLE = ("approved", "retired")


@dataclass(frozen=True)
class MarksOutcome:
    """What one marks import did (`stored` False: that very file was already imported)."""

    import_id: str
    form: str
    folder: Path
    stored: bool
    candidates: int
    marks: int
    criteria: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "import": self.import_id,
            "form": self.form,
            "folder": str(self.folder),
            "stored": self.stored,
            "candidates": self.candidates,
            "marks": self.marks,
            "criteria": self.criteria,
        }


class Marks:
    """Simulated-practice marks, agreement and decisions for one bank's results."""

    def __init__(self, bank: Bank, results: Results) -> None:
        self._bank = bank
        self._results = results

    def _schemes(self) -> dict[str, Any]:
        scenarios = [r for r in self._bank.records("scenario") if r.get("status") in DELIVERABLE]
        return schemes_of(scenarios)

    def import_marks(
        self, path: PathLike, form: str, results: PathLike | None = None
    ) -> MarksOutcome:
        """Import one marks CSV (plain or gzipped) for `form`: all or nothing. Raises
        ResultsImportError with every problem (line, column and fix); importing the same file
        again stores nothing."""
        from itembank.results.service import ResultsImportError

        store = self._results.store(results)  # refused inside the repository, before reading
        form_id = str(self._bank.forms.form(form)["id"])
        known = {str(r[0]) for r in store.rows("candidates", form_id, ["candidate"])}
        if not known:
            raise ItembankError(
                f"No results of {form_id} are in {store.folder}: import the form's results "
                f"first (itembank results import ... --form {form_id}), then the marks."
            )
        with open_source(path) as (name, stream):
            digest = hashlib.sha256(f"marks:{form_id}\n{stream_digest(stream)}".encode())
            parsed = parse_marks(name, stream, self._schemes(), known)
        if parsed.findings:
            raise ResultsImportError(
                f"Nothing was imported: {len(parsed.findings)} problem(s) in the marks. Correct "
                "them and import again:",
                parsed.findings,
            )
        rows = parsed.rows
        columns: dict[str, list[Any]] = {
            "candidate": [r.candidate for r in rows],
            "scenario": [r.scenario for r in rows],
            "criterion": [r.criterion for r in rows],
            "assessor": [r.assessor for r in rows],
            "band": [r.band for r in rows],
            "line": [r.line for r in rows],
        }
        people = len({r.candidate for r in rows})
        meta = {
            "form": form_id,
            "source": Path(path).name[:500],
            "format": MARKS_FORMAT,
            "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "candidates": people,
            "responses": len(rows),
            "disagreements": 0,
        }
        import_id = digest.hexdigest()
        stored = store.add_marks(import_id, meta, columns)
        return MarksOutcome(
            import_id,
            form_id,
            store.folder,
            stored,
            people,
            len(rows),
            len({(r.scenario, r.criterion) for r in rows}),
        )

    def rows(self, form: str, results: PathLike | None = None) -> list[MarkRow]:
        """Every stored mark of `form`, in the order given: import order, then file line."""
        store = self._results.store(results)
        form_id = str(self._bank.forms.form(form)["id"])
        order = store.import_order()
        got = store.rows(
            "marks",
            form_id,
            ["import_id", "candidate", "scenario", "criterion", "assessor", "band", "line"],
        )
        got.sort(key=lambda r: (order.get(str(r[0]), len(order)), int(r[6])))
        return [
            MarkRow(str(c), str(s), str(k), str(a), int(b), int(n)) for _, c, s, k, a, b, n in got
        ]

    def rules(self) -> DecisionRules:
        """The decision rule in force (bank.json results.decision, else the defaults)."""
        return DecisionRules.from_settings(self._bank.settings)

    def agreement(self, form: str, results: PathLike | None = None) -> list[CriterionAgreement]:
        """The first two assessors' agreement on each criterion with marks."""
        return agreement(self.rows(form, results), self._schemes(), self.rules().assessor_tolerance)

    def adopted(self, form: str) -> AdoptedPassMark | None:
        """The adopted pass mark of `form`, from the standard-setting section (None: none)."""
        return self._bank.standard_setting.adopted(form)

    def decisions(
        self,
        form: str,
        results: PathLike | None = None,
        pass_mark: AdoptedPassMark | None = None,
    ) -> list[Decision]:
        """Met / not met / pending for every candidate with results of `form`, sorted by
        candidate. The pass mark is the one adopted for the form (or `pass_mark` when given);
        refused (NoAdoptedPassMarkError) when there is none."""
        form_id = str(self._bank.forms.form(form)["id"])
        mark = pass_mark if pass_mark is not None else self.adopted(form_id)
        if mark is None:
            raise NoAdoptedPassMarkError(form_id)
        matrix = self._results.matrix(form_id, results)
        maximum = float(matrix.max_scores.sum())
        knowledge = {
            c: (float(t), maximum) for c, t in zip(matrix.candidates, matrix.totals, strict=True)
        }
        return decide(
            form_id,
            self._results.administration_id(form_id, results) if knowledge else form_id,
            knowledge,
            self.rows(form_id, results),
            self._schemes(),
            self._bank.settings,
            mark,
        )

    def write_decisions(
        self,
        form: str,
        out: PathLike,
        results: PathLike | None = None,
        pass_mark: AdoptedPassMark | None = None,
    ) -> tuple[Path, list[Decision]]:
        """decisions() written as a CSV to `out`, which must be OUTSIDE the bank's repository
        (candidate-level data); the path written and the decisions."""
        outside(out, self._bank.store.worktree)  # refused before any work
        made = self.decisions(form, results, pass_mark)
        return write_private(out, decisions_csv(made), self._bank.store.worktree), made


__all__ = ["Marks", "MarksOutcome"]
