"""What a candidate's result and an employer's report say, as data: the one shape shared by the
decision (decision.py), the feedback the data can defend (subscores.py, gaps), the reviewed
learning points, and the documents that render them (letters, employer reports, the release app).

Pure and frozen: built from the results store and the bank by bank.results, rendered by the
papers pipeline, compared byte for byte on regeneration. No item text ever enters these types:
the words a candidate reads come from the decision rule, the standards' headings and approved
learning points only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AdoptedPassMark:
    """The pass mark letters are generated from: adopted by the standard-setting chair, after a
    first administration, as a commit recording who decided and why."""

    form: str
    pass_mark: float  # raw marks on the form
    max_score: float
    method: str  # "angoff", "hofstee" or "beuk": which figure the chair adopted
    decided_by: str  # "Name <email>", the chair
    reason: str  # the chair's words, as recorded
    exercise: str  # the standard-setting exercise it comes from
    record: str  # the bank path of the adoption record
    commit: str  # the commit that adopted it ("" until committed)


@dataclass(frozen=True)
class PracticeMark:
    """One simulated-practice criterion for one candidate: the assessors' bands and the outcome."""

    scenario: str
    criterion: str
    title: str  # the criterion's title from the scenario's marking scheme
    bands: tuple[int, ...]  # each assessor's band (score), in the order the marks were imported
    assessors: tuple[str, ...]  # pseudonymous assessor ids, same order
    agreed: int | None  # the band used; None while a required third mark is missing
    met: bool | None  # None while a required third mark is missing


@dataclass(frozen=True)
class Decision:
    """Met / not met for one candidate, never a grade; `met` is None while marks are pending."""

    candidate: str  # the pseudonymous candidate id
    form: str
    administration: str
    knowledge_score: float
    knowledge_max: float
    pass_mark: AdoptedPassMark
    knowledge_met: bool
    practice: tuple[PracticeMark, ...]
    met: bool | None
    rule: str  # the overall rule from bank.json, in words a candidate reads
    pending: tuple[str, ...] = ()  # why `met` is None (e.g. "third mark needed for SIM-0001/MC2")


@dataclass(frozen=True)
class LearningText:
    """An approved learning point as a letter quotes it (a reviewed record of the bank)."""

    id: str
    title: str
    text: str
    standards: tuple[str, ...]  # framework statement ids it serves, e.g. ("PR-05",)
    #: suggested learning: the titles of the references it points to (references.json)
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscore:
    """A standard, or a group of standards from bank.json, on one administration: whether a
    subscore adds value over the total (Haberman's PRMSE), and at which level it is reported."""

    group: str  # the statement id or bank.json group id
    title: str  # the heading candidates read
    statements: tuple[str, ...]
    n_items: int
    max_score: float
    prmse_subscore: float | None  # PRMSE of the observed subscore for the true subscore
    prmse_total: float | None  # PRMSE of the total score for the true subscore
    reported: bool  # True only when prmse_subscore > prmse_total and there are enough items
    reason: str  # in words: why it is or is not reported at this level


@dataclass(frozen=True)
class Point:
    """A strength or a development point in a letter: a reported subscore and what it means."""

    group: str
    title: str
    words: str  # the finding with its uncertainty in words, no false precision
    learning: tuple[LearningText, ...] = ()


@dataclass(frozen=True)
class CandidateFeedback:
    """Everything a candidate's letter says."""

    decision: Decision
    assessed: tuple[str, ...]  # headings of what was assessed (knowledge standards, scenarios)
    strengths: tuple[Point, ...]
    development: tuple[Point, ...]
    notes: tuple[str, ...]  # e.g. "reported for a group of standards: too few items for each"
    how_to_read: str


@dataclass(frozen=True)
class ThemeRow:
    """One standard (or group) for one employer's workforce in one administration."""

    group: str
    title: str
    candidates: int | None  # None when suppressed
    share_met: float | None  # share at or above the expectation (None: suppressed)
    national_share_met: float | None
    change: float | None  # against the employer's earlier administration, when both are shown
    theme: str  # "strength", "development" or "" (no theme the data can defend)
    suppressed: bool


@dataclass(frozen=True)
class EmployerReport:
    """Everything an employer's thematic report says; no figure for a group under the minimum."""

    employer: str
    administrations: tuple[str, ...]
    candidates: int | None  # None when the whole employer is under the minimum
    met: int | None  # candidates with a met decision; None when suppressed
    rows: tuple[ThemeRow, ...]
    strengths: tuple[str, ...]
    development_themes: tuple[str, ...]
    min_group: int
    notes: tuple[str, ...]
