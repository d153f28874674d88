"""Everything the results room says about one administration of one form, in one value.

Why: the command line, the psychometrician's app, the technical report and the write-back all
need the same bundle -- classical analysis, DIF screen, IRT calibration and the pass mark they
were computed at -- so it is computed once here (``analyse_matrix``) and passed around as a
``FormResults``; its ``to_dict()`` is what the JSON output and the report read. Pure: takes a
ScoredMatrix and per-candidate characteristics, returns aggregates only (no candidate id, no
one person's characteristic, no abilities).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from itembank.results.analysis import FormAnalysis, analyse
from itembank.results.dif import DifRules, DifScreen, screen
from itembank.results.irt import Calibration, CalibrationError, Model, calibrate
from itembank.results.matrix import ScoredMatrix

#: what the report and the command say when no pass mark is known
NO_PASS_MARK = (
    "no pass mark: the conditional SEM at the cut and decision consistency need one "
    "(give --pass-mark, or close a standard-setting exercise on exactly this form's items)"
)


@dataclass(frozen=True)
class DifFinding:
    """One item showing DIF of class B or C in one comparison, named by the group favoured."""

    item: str
    characteristic: str
    reference: str
    focal: str
    ets_class: str
    delta_mh: float | None
    favoured: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "characteristic": self.characteristic,
            "reference": self.reference,
            "focal": self.focal,
            "class": self.ets_class,
            "delta_mh": None if self.delta_mh is None else round(self.delta_mh, 4),
            "favoured": self.favoured,
        }


@dataclass(frozen=True)
class FormResults:
    """One administration of one form, analysed: the classical analysis (with the flags), the
    DIF screen (comparisons made and skipped), the IRT calibration (None when it could not be
    run: `notes` says why), and the pass mark used with where it came from."""

    form: str
    administration: str
    analysis: FormAnalysis
    dif: DifScreen
    calibration: Calibration | None
    pass_mark: float | None
    pass_mark_source: str
    notes: tuple[str, ...] = ()

    def dif_findings(self, classes: Sequence[str] = ("B", "C")) -> tuple[DifFinding, ...]:
        """Items whose Mantel-Haenszel ETS class is one of `classes`, in item order."""
        order = {item.item: i for i, item in enumerate(self.analysis.items)}
        out = []
        for comparison in self.dif.comparisons:
            for r in comparison.mantel_haenszel:
                if r.ets_class in classes:
                    side = r.favours
                    favoured = (
                        comparison.reference
                        if side == "reference"
                        else comparison.focal
                        if side == "focal"
                        else None
                    )
                    out.append(
                        DifFinding(
                            r.item,
                            comparison.characteristic,
                            comparison.reference,
                            comparison.focal,
                            str(r.ets_class),
                            r.delta_mh,
                            favoured,
                        )
                    )
        return tuple(sorted(out, key=lambda f: (order.get(f.item, 0), f.characteristic, f.focal)))

    @property
    def flagged_items(self) -> tuple[str, ...]:
        """Items with at least one flag from the analysis or DIF class C, in item order."""
        hit = {f.item for f in self.analysis.flags} | {f.item for f in self.dif_findings(("C",))}
        return tuple(i.item for i in self.analysis.items if i.item in hit)

    @property
    def needs_attention(self) -> bool:
        """True when an item is flagged or shows class C DIF (the command then exits 1)."""
        return bool(self.flagged_items)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready aggregates: what the command prints, the app shows and the report reads."""
        return {
            "form": self.form,
            "administration": self.administration,
            "pass_mark": self.pass_mark,
            "pass_mark_source": self.pass_mark_source,
            "notes": list(self.notes),
            "flagged_items": list(self.flagged_items),
            "dif_findings": [f.to_dict() for f in self.dif_findings()],
            "analysis": self.analysis.to_dict(),
            "dif": self.dif.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
        }


def full_marks(m: ScoredMatrix) -> tuple[ScoredMatrix, tuple[str, ...]]:
    """`m` scored right (full marks) or wrong, and the items that had any other score; `m`
    itself when every score is already 0 or full marks."""
    top = m.max_scores[None, :]
    other = (m.scores != 0) & (m.scores != top)
    partial = tuple(str(i) for i, hit in zip(m.items, other.any(axis=0), strict=True) if hit)
    if not partial:
        return m, ()
    right = np.asarray(m.scores >= top, dtype=np.float64)
    return replace(m, scores=right, max_scores=np.ones(len(m.items))), partial


def analyse_matrix(
    m: ScoredMatrix,
    characteristics: Mapping[str, Sequence[str | None]],
    settings: Mapping[str, Any] | None,
    *,
    pass_mark: float | None = None,
    model: Model = "rasch",
    form: str = "",
    administration: str = "",
    pass_mark_source: str | None = None,
    notes: Sequence[str] = (),
) -> FormResults:
    """Classical analysis and flags, DIF screen under bank.json's rules, and an IRT calibration
    of `m`. A calibration that cannot be run becomes None and a note, never an exception: the
    classical figures are still worth having."""
    said = list(notes)
    analysis = analyse(m, pass_mark=pass_mark, settings=settings)
    screened, partial = full_marks(m)
    if partial:
        said.append(
            f"DIF was screened on full marks against not for the {len(partial)} item(s) with "
            f"partial credit ({', '.join(partial)}), matched on the number of items with full "
            "marks: Mantel-Haenszel and logistic DIF need right/wrong scores (the IRT "
            "calibration does the same)"
        )
    dif = screen(screened, characteristics, DifRules.from_settings(settings))
    calibration: Calibration | None
    try:
        calibration = calibrate(m, model)
    except (CalibrationError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        calibration = None
        said.append(f"the {model} calibration could not be run: {exc}")
    if calibration is not None and not calibration.converged:
        said.append(
            f"the {model} calibration did not converge (largest gradient "
            f"{calibration.max_gradient:.3g} per candidate): read its parameters with care"
        )
    if pass_mark is None:
        said.append(NO_PASS_MARK)
    source = pass_mark_source or ("given" if pass_mark is not None else "none")
    return FormResults(
        form, administration, analysis, dif, calibration, pass_mark, source, tuple(said)
    )


__all__ = ["NO_PASS_MARK", "DifFinding", "FormResults", "analyse_matrix", "full_marks"]
