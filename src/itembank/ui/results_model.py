"""The results app's model: who is signed in (a member of a results panel in bank.json, nobody
else: these screens show how candidates answered, and so which option is each item's key), the
results folder, the forms that have imported results, and one form's analysis as display rows
(test summary, items with their flags, DIF) and figures. Plain Python with no widgets, so the
rules are tested without a browser; results_app.py shows what this gives.

The results folder is the one `itembank results` uses: the text box, else $ITEMBANK_RESULTS,
else <repository>-results beside the bank's repository.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from itembank.bank import Bank
from itembank.core.errors import IdentityError, ItembankError
from itembank.results.administration import FormResults
from itembank.results.analysis import ItemStats
from itembank.results.dif import DifComparison
from itembank.results.empirical import empirical_icc
from itembank.results.matrix import ScoredMatrix
from itembank.results.writeback import item_flags
from itembank.ui.results_plots import distractor_figure, icc_figure

KIND = "results"
ENV = "ITEMBANK_RESULTS"
#: orders of the item table: (label, key)
ORDERS = (
    ("flags first", "flags"),
    ("position on the form", "position"),
    ("facility (hardest first)", "facility"),
    ("item-rest r (lowest first)", "item_rest"),
    ("worst DIF class first", "dif"),
)
CLASS_RANK = {"C": 0, "B": 1, "A": 2, "": 3}


class NotSignedInError(ItembankError):
    """An action of the app before a results-team member signed in."""


@dataclass(frozen=True)
class ItemRow:
    """One line of the item table."""

    position: int
    item: str
    facility: float
    item_rest: float | None
    upper_lower: float
    omit_rate: float
    dif: str  # worst ETS class over the comparisons made ("" when none)
    flags: tuple[str, ...]  # the flags' reasons
    codes: tuple[str, ...]  # the flags' codes


@dataclass(frozen=True)
class DifRow:
    """One item in one comparison of the DIF table (Mantel-Haenszel, and logistic if run)."""

    characteristic: str
    reference: str
    focal: str
    item: str
    chi_square: float | None
    p_value: float | None
    delta_mh: float | None
    ets_class: str | None
    favours: str | None  # the group the item favours at equal totals
    lr_both: float | None
    delta_r2: float | None
    jodoin_gierl: str | None
    skipped: str | None


def _fmt(value: float | None, places: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


class TeamSession:
    """Who is using a results-team screen: signed in as a member of a bank.json panel of kind
    `results`, checked again on every action (a page can send any value). `WHY` says why the
    screen is closed to everyone else."""

    WHY = "they show how candidates answered each item, and so which option is its key."

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.person: str | None = None
        self.folder_text = os.environ.get(ENV, "")

    def members(self) -> list[str]:
        """The results team(s) in bank.json: the local sign-in list."""
        return self.bank.panels.members(KIND)

    def sign_in(self, login: str | None) -> str:
        """The member using the app (JUPYTERHUB_USER behind a hub), else IdentityError saying
        why these screens are closed to everyone else."""
        try:
            self.person = self.bank.panels.sign_in(login, KIND)
        except IdentityError as exc:
            self.person = None
            raise IdentityError(
                f"{exc} Only the results team sees these screens: {self.WHY}"
            ) from None
        return self.person

    def _member(self) -> str:
        """The signed-in member, checked again (a page can send any value)."""
        if self.person is None:
            raise NotSignedInError("Sign in as a member of the results team first.")
        return self.bank.panels.sign_in(self.person, KIND)

    def folder_arg(self) -> str | None:
        return self.folder_text.strip() or None


class ResultsModel(TeamSession):
    """State of one psychometrician's session (see the module note)."""

    def __init__(self, bank: Bank) -> None:
        super().__init__(bank)
        self.results: FormResults | None = None
        self.matrix: ScoredMatrix | None = None
        self.pass_mark: float | None = None  # as given (None: the bank's own)

    # ---- where -------------------------------------------------------------------------------

    def folder(self) -> Path:
        """The results folder in use (refused inside the bank's repository)."""
        self._member()
        return self.bank.results.store(self.folder_arg()).folder

    def forms(self) -> list[tuple[str, str]]:
        """(label, form id) of each form with imported results, in id order."""
        self._member()
        per_form: dict[str, list[dict[str, Any]]] = {}
        for row in self.bank.results.imports(self.folder_arg()):
            per_form.setdefault(str(row["form"]), []).append(row)
        out = []
        for form, rows in sorted(per_form.items()):
            people = sum(int(r.get("candidates") or 0) for r in rows if r["format"] != "marks")
            out.append((f"{form} ({people} candidates, {len(rows)} import(s))", form))
        return out

    # ---- what --------------------------------------------------------------------------------

    def analyse(self, form: str, pass_mark: str = "") -> FormResults:
        """Analyse `form` (pass mark in raw marks, or empty for the bank's own)."""
        self._member()
        mark: float | None = None
        if pass_mark.strip():
            try:
                mark = float(pass_mark)
            except ValueError:
                raise ItembankError(
                    f"The pass mark {pass_mark!r} is not a number: give it in raw marks "
                    "(e.g. 18), or leave it empty to use the bank's."
                ) from None
        folder = self.folder_arg()
        self.results = None
        self.results = self.bank.results.analyse(form, results=folder, pass_mark=mark)
        self.matrix = self.bank.results.matrix(form, folder)
        self.pass_mark = mark
        return self.results

    def _results(self) -> FormResults:
        self._member()
        if self.results is None:
            raise ItembankError("Choose a form and analyse it first.")
        return self.results

    def summary(self) -> list[tuple[str, str]]:
        """The test summary as (label, value) lines."""
        r = self._results()
        t = r.analysis.test
        lines = [
            ("Form", r.form),
            ("Administration", str(r.administration)),
            ("Candidates (n)", str(t.n)),
            ("Items", str(t.k)),
            ("Mean total", f"{t.mean:.2f} of {t.max_total:g}"),
            ("SD", f"{t.sd:.2f}"),
            (
                "Alpha (95% Feldt interval)",
                "n/a"
                if t.alpha is None or t.alpha_ci is None
                else f"{t.alpha:.3f} [{t.alpha_ci[0]:.3f}, {t.alpha_ci[1]:.3f}]",
            ),
            ("SEM", _fmt(t.sem, 2)),
        ]
        if t.pass_mark is None:
            lines.append(("Pass mark", "none: give one above (raw marks)"))
        else:
            source = "given here" if self.pass_mark is not None else r.pass_mark_source
            lines.append(("Pass mark", f"{t.pass_mark:g} ({source})"))
            lines.append(("Pass rate", _fmt(t.pass_rate, 3)))
            lines.append(("CSEM at the pass mark", f"{_fmt(t.csem_at_pass, 2)} ({t.csem_method})"))
            dc = t.decision_consistency
            lines.append(
                (
                    "Decision consistency",
                    "not estimated"
                    if dc is None
                    else f"agreement {dc.agreement:.3f}, kappa {_fmt(dc.kappa)} ({dc.method})",
                )
            )
        calibration = r.calibration
        if calibration is not None:
            lines.append(
                (
                    "Calibration",
                    f"{calibration.model}, {len(calibration.items)} items, "
                    f"{'converged' if calibration.converged else 'NOT converged'}",
                )
            )
        written = self.bank.results.written(r)
        lines.append(
            (
                "Statistics in the bank",
                "not written yet"
                if written is None
                else f"written by {written['analysed_by']} at {written['analysed_at']} "
                f"(commit {str(written['commit'])[:10]})",
            )
        )
        for note in (*t.notes, *r.notes):
            lines.append(("Note", str(note)))
        return lines

    def _worst_dif(self) -> dict[str, str]:
        worst: dict[str, str] = {}
        for comparison in self._results().dif.comparisons:
            for mh in comparison.mantel_haenszel:
                if mh.ets_class and CLASS_RANK[mh.ets_class] < CLASS_RANK[worst.get(mh.item, "")]:
                    worst[mh.item] = mh.ets_class
        return worst

    def item_rows(self, order: str = "flags") -> list[ItemRow]:
        """Every item with its statistics and flags, in the chosen order (ORDERS)."""
        r = self._results()
        worst = self._worst_dif()
        reasons = {  # the flags a write-back records: the analysis' and DIF class C
            s.item: [(str(f["code"]), str(f["reason"])) for f in item_flags(r, s.item)]
            for s in r.analysis.items
        }
        rows = [
            ItemRow(
                position=i + 1,
                item=s.item,
                facility=s.facility,
                item_rest=s.item_rest_r,
                upper_lower=s.upper_lower,
                omit_rate=s.omit_rate,
                dif=worst.get(s.item, ""),
                flags=tuple(why for _, why in reasons.get(s.item, [])),
                codes=tuple(code for code, _ in reasons.get(s.item, [])),
            )
            for i, s in enumerate(r.analysis.items)
        ]
        keys = {
            "position": lambda row: (row.position,),
            "flags": lambda row: (-len(row.flags), CLASS_RANK[row.dif], row.position),
            "facility": lambda row: (row.facility, row.position),
            "item_rest": lambda row: (
                row.item_rest if row.item_rest is not None else -2.0,
                row.position,
            ),
            "dif": lambda row: (CLASS_RANK[row.dif], row.position),
        }
        if order not in keys:
            raise ItembankError(f"Unknown order {order!r}: choose one of {', '.join(keys)}.")
        return sorted(rows, key=keys[order])

    def comparisons(self) -> list[DifComparison]:
        return list(self._results().dif.comparisons)

    def dif_rows(self, only_flagged: bool = False) -> list[DifRow]:
        """Every item of every comparison made (only classes B and C with `only_flagged`),
        worst first within a comparison; skipped comparisons are in skipped_comparisons()."""
        out = []
        for c in self.comparisons():
            if c.skipped:
                continue
            logistic = {lr.item: lr for lr in c.logistic}
            rows = []
            for mh in c.mantel_haenszel:
                if only_flagged and mh.ets_class not in ("B", "C"):
                    continue
                lr = logistic.get(mh.item)
                rows.append(
                    DifRow(
                        c.characteristic,
                        c.reference,
                        c.focal,
                        mh.item,
                        mh.chi_square,
                        mh.p_value,
                        mh.delta_mh,
                        mh.ets_class,
                        {"reference": c.reference, "focal": c.focal}.get(mh.favours or ""),
                        None if lr is None else lr.lr_both,
                        None if lr is None else lr.delta_r2_both,
                        None if lr is None else lr.jodoin_gierl_class,
                        mh.skipped or (None if lr is None else lr.skipped),
                    )
                )
            rows.sort(key=lambda row: (CLASS_RANK[row.ets_class or ""], row.item))
            out += rows
        return out

    def skipped_comparisons(self) -> list[tuple[str, str, str, str]]:
        """(characteristic, reference, focal, reason) of every comparison not made."""
        return [
            (c.characteristic, c.reference, c.focal, str(c.skipped))
            for c in self.comparisons()
            if c.skipped
        ]

    def item_stats(self, item: str) -> ItemStats:
        for s in self._results().analysis.items:
            if s.item == item:
                return s
        raise ItembankError(f"{item} is not on this form.")

    def distractor_plot(self, item: str) -> Figure:
        return distractor_figure(self.item_stats(item))

    def icc_plot(self, item: str) -> Figure | str:
        """The item's curve with the observed proportions, or why there is none."""
        r = self._results()
        calibration = r.calibration
        if calibration is None or self.matrix is None:
            return "No calibration was run for this administration."
        for excluded in calibration.excluded:
            if excluded.item == item:
                return f"{item} was left out of the calibration: {excluded.reason}."
        params = calibration.parameters(item)
        points = empirical_icc(self.matrix, calibration.items, item)
        return icc_figure(params, points, calibration.model)

    def items(self) -> Sequence[str]:
        return [s.item for s in self._results().analysis.items]

    # ---- what is done with it ------------------------------------------------------------------

    def report_pdf(self) -> tuple[str, bytes]:
        """The technical report of the analysed administration as a PDF: (file name, bytes).
        Built in a scratch folder that is removed again (the page offers the bytes)."""
        r = self._results()
        with tempfile.TemporaryDirectory(prefix="itembank-report-") as scratch:
            written = self.bank.results.report(
                r.form,
                scratch,
                results=self.folder_arg(),
                pass_mark=self.pass_mark,
                administration=r.administration,
                pdf=True,
            )
            pdf = next(p for p in written if p.suffix == ".pdf")
            return pdf.name, pdf.read_bytes()

    def write_back(self) -> str:
        """Commit the administration's statistics to the bank in the signed-in member's name;
        what happened, in words."""
        person = self._member()
        r = self._results()
        before = self.bank.results.written(r)
        sha = self.bank.results.write_back(r, person)
        if before is not None:
            return (
                f"The statistics of {r.administration} were already in the bank with these "
                f"figures: nothing new was committed ({sha[:10]})."
            )
        return (
            f"Wrote the statistics of {len(r.analysis.items)} items of {r.administration} to "
            f"the bank: commit {sha[:10]} by {person}."
        )


__all__ = ["ENV", "KIND", "ORDERS", "DifRow", "ItemRow", "NotSignedInError", "ResultsModel"]
