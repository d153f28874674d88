"""Candidate letters, employer reports and their release (``bank.results.letters``).

The inputs come from other steps of the results room: the decisions (met / not met), the
adopted pass mark, the subscores and the points they defend, the approved learning points and
the employer aggregates. They are reached through ONE accessor, `BankSources`, typed by the
`Sources` protocol, so tests (and the app) can hand in made-up inputs and the pure parts
(feedback.py, letters.py, employer_report.py) never see the bank.

A release is a commit, by a member of the results team, of releases/<administration>.json:
counts and one SHA-256 over the letters in candidate-id order, no candidate data. Letters
written after it must hash to the same value, else `write` refuses unless they are drafts
(marked DRAFT on every page). Letters go to a folder outside the repository, resumably (a
letter whose bytes are there is skipped), and PDFs are printed in ONE browser session."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from itembank.core.errors import ItembankError, UnknownIdError
from itembank.core.identity import check_person
from itembank.core.ids import slugify
from itembank.results.batch_pdf import BatchPrinter
from itembank.results.employer_report import report_html
from itembank.results.feedback import assessed_headings, compose
from itembank.results.letters import letter_html, letter_name
from itembank.results.outcomes import (
    AdoptedPassMark,
    CandidateFeedback,
    Decision,
    EmployerReport,
    LearningText,
    Point,
    Subscore,
)
from itembank.storage import outputs

if TYPE_CHECKING:
    from itembank.bank import Bank

PathLike = str | os.PathLike[str]
Progress = Callable[[str, int, int], None]
PrintPdf = Callable[[bytes], bytes]
Record = dict[str, Any]
Feedback = tuple[tuple[Point, ...], tuple[Point, ...], tuple[str, ...]]
KIND = "results"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class LettersRefusedError(ItembankError):
    """Letters that would differ from the release (or are not released): nothing written."""


class Sources(Protocol):
    """What letters are made from (the other steps of issue 13, reached through the Bank)."""

    def adopted(self, form: str) -> AdoptedPassMark | None: ...
    def decisions(self, form: str, results: PathLike | None) -> list[Decision]: ...
    def subscores(self, form: str, results: PathLike | None) -> tuple[Subscore, ...]: ...
    def points(self, form: str, results: PathLike | None) -> Mapping[str, Feedback]: ...
    def learning(self) -> tuple[LearningText, ...]: ...
    def employers(self, form: str, results: PathLike | None) -> list[str | None]: ...
    def employer(
        self,
        employer: str,
        form: str,
        met: Mapping[str, bool | None],
        results: PathLike | None,
    ) -> EmployerReport: ...


class BankSources:
    """Where letters' inputs come from: the adopted pass mark (standard setting), decisions
    (bank.results.marks), subscores and points (bank.results.feedback) and approved learning
    points; one place, so tests can hand in their own."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank

    def adopted(self, form: str) -> AdoptedPassMark | None:
        return self._bank.standard_setting.adopted(form)

    def decisions(self, form: str, results: PathLike | None) -> list[Decision]:
        return self._bank.results.marks.decisions(form, results=results)

    def subscores(self, form: str, results: PathLike | None) -> tuple[Subscore, ...]:
        return self._bank.results.feedback.subscores(form, results=results)

    def points(self, form: str, results: PathLike | None) -> Mapping[str, Feedback]:
        return self._bank.results.feedback.points(form, results=results)

    def learning(self) -> tuple[LearningText, ...]:
        return self._bank.learning_points(status="approved")

    def employers(self, form: str, results: PathLike | None) -> list[str | None]:
        return list(self._bank.results.employers(form, results))

    def employer(
        self,
        employer: str,
        form: str,
        met: Mapping[str, bool | None],
        results: PathLike | None,
    ) -> EmployerReport:
        return self._bank.results.feedback.employer(employer, form, met, results=results)


@dataclass(frozen=True)
class LetterSet:
    """One administration's letters as released (never DRAFT-marked), in candidate-id order."""

    form: str
    administration: str
    adopted: AdoptedPassMark
    feedback: dict[str, CandidateFeedback]  # candidate -> what the letter says
    letters: dict[str, bytes]  # file name -> HTML
    pending: tuple[str, ...]  # candidates without a letter yet (a mark is missing)
    counts: dict[str, int]
    digest: str  # "sha256:..." over the letters (letters_digest)
    titles: tuple[str, str] = ("", "")  # bank title, form title


@dataclass
class Written:
    """What `write` did."""

    folder: Path
    administration: str
    draft: bool
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already there, byte for byte
    pending: tuple[str, ...] = ()
    digest: str = ""


def letters_digest(letters: Mapping[str, bytes]) -> str:
    """SHA-256 over the letters in file-name (candidate-id) order: each name and the SHA-256 of
    its bytes, one line each, so the same letters always give the same value."""
    h = hashlib.sha256()
    for name in sorted(letters):
        h.update(f"{name} {hashlib.sha256(letters[name]).hexdigest()}\n".encode())
    return "sha256:" + h.hexdigest()


def report_name(employer: str) -> str:
    """The file name of an employer's thematic report (a slug of the name: never the raw name,
    which comes from a results import)."""
    return f"{slugify(employer)}-thematic-report.html"


def safe_name(value: str, what: str) -> str:
    """A candidate id checked before it becomes a file name (ids come from a results import)."""
    if not _SAFE_NAME.match(value) or ".." in value:
        raise ItembankError(
            f"The {what} {value!r} cannot be used as a file name (letters, digits, '.', '_' "
            "and '-' only, up to 100): correct it in the results import."
        )
    return value


class Letters:
    """Candidate letters, employer reports and their release, for one bank."""

    def __init__(self, bank: Bank, print_pdf: PrintPdf | None = None,
                 sources: Sources | None = None) -> None:  # fmt: skip
        self._bank = bank
        self._print_pdf = print_pdf
        self.sources: Sources = sources or BankSources(bank)

    # ---- composing ----------------------------------------------------------------------------

    def _titles(self, form: str) -> tuple[str, str]:
        manifest = self._bank.forms.form(form)
        try:
            blueprint = self._bank.get_record("blueprint", str(manifest["blueprint"]))
            form_title = str(blueprint.get("title") or manifest["id"])
        except (UnknownIdError, ItembankError):
            form_title = str(manifest["id"])
        return str(self._bank.settings.get("title", "")), form_title

    def _scenario_headings(self, decisions: Sequence[Decision]) -> dict[str, list[str]]:
        """Each scenario the candidates did -> the headings of the standards it assesses, from
        the framework (never the case's title or text)."""
        titles: dict[tuple[str, str], str] = {}
        for fw, record in self._bank.frameworks().items():
            for s in record.get("statements", []):
                titles[(fw, str(s.get("id")))] = str(s.get("title", ""))
        out: dict[str, list[str]] = {}
        for ident in sorted({m.scenario for d in decisions for m in d.practice}):
            try:
                mappings = self._bank.get_record("scenario", ident).get("standards", [])
            except (UnknownIdError, ItembankError):
                mappings = []
            refs = [(str(m.get("framework")), str(m.get("statement"))) for m in mappings]
            out[ident] = [titles[r] for r in refs if titles.get(r)]
        return out

    def build(self, form: str, results: PathLike | None = None) -> LetterSet:
        """Every decided candidate's letter (as released: no DRAFT mark) from the adopted pass
        mark; pending candidates are listed, not written. Refuses without an adopted mark."""
        form_id = str(self._bank.forms.form(form)["id"])
        adopted = self.sources.adopted(form_id)
        if adopted is None:
            raise ItembankError(
                f"No pass mark has been adopted for {form_id}: letters are generated only from "
                "an adopted mark, which the standard-setting chair records after the first "
                "administration (docs/results.md). Build the letters again once it is adopted."
            )
        decisions = sorted(self.sources.decisions(form_id, results), key=lambda d: d.candidate)
        if not decisions:
            raise ItembankError(f"No decisions for {form_id}: import its results first.")
        for d in decisions:
            if (d.pass_mark.record, d.pass_mark.commit) != (adopted.record, adopted.commit):
                raise ItembankError(
                    f"The decision for {d.candidate} uses the pass mark of {d.pass_mark.record} "
                    f"but the adopted one is {adopted.record} ({adopted.commit[:10]}): decide "
                    "again from the adopted mark."
                )
        administrations = {d.administration for d in decisions}
        if len(administrations) != 1:
            raise ItembankError(
                f"The decisions for {form_id} span {len(administrations)} administrations "
                f"({', '.join(sorted(administrations))}): release one at a time."
            )
        subscores = self.sources.subscores(form_id, results)
        points = self.sources.points(form_id, results)
        learning = self.sources.learning()
        scenarios = self._scenario_headings(decisions)
        titles = self._titles(form_id)
        feedback: dict[str, CandidateFeedback] = {}
        letters: dict[str, bytes] = {}
        pending = []
        for d in decisions:
            safe_name(d.candidate, "candidate id")
            if d.met is None:
                pending.append(d.candidate)
                continue
            strengths, development, notes = points.get(d.candidate, ((), (), ()))
            # numbered as the letter numbers them: in the order of the candidate's own marks
            did = dict.fromkeys(m.scenario for m in d.practice)
            assessed = assessed_headings(subscores, [scenarios[s] for s in did])
            fb = compose(d, strengths, development, notes, learning, subscores, assessed)
            feedback[d.candidate] = fb
            letters[letter_name(d.candidate)] = letter_html(
                fb, bank_title=titles[0], form_title=titles[1]
            )
        met = sum(1 for f in feedback.values() if f.decision.met)
        counts = {
            "candidates": len(decisions),
            "met": met,
            "not_met": len(feedback) - met,
            "pending": len(pending),
        }
        return LetterSet(form_id, decisions[0].administration, adopted, feedback, letters,
                         tuple(pending), counts, letters_digest(letters), titles)  # fmt: skip

    def draft(self, letters: LetterSet, candidate: str) -> bytes:
        """One candidate's letter marked DRAFT on every page (for review before release)."""
        fb = letters.feedback[candidate]
        return letter_html(fb, bank_title=letters.titles[0], form_title=letters.titles[1],
                           draft=True)  # fmt: skip

    # ---- release ------------------------------------------------------------------------------

    def released(self, administration: str) -> Record | None:
        """The release record of an administration, or None before it is released."""
        try:
            return self._bank.get_record("release", administration)
        except UnknownIdError:
            return None

    def release(
        self,
        form: str,
        person: str,
        results: PathLike | None = None,
        approved_at: datetime | None = None,
        letters: LetterSet | None = None,
    ) -> str:
        """Approve the release of `form`'s letters as `person` (a member of the results team in
        bank.json): ONE commit by them of releases/<administration>.json. Refuses a second
        release of the same administration, and a pass mark not yet committed."""
        person = self._bank.panels.sign_in(check_person(person), KIND)
        built = letters or self.build(form, results)
        old = self.released(built.administration)
        if old is not None:
            same = old["letters"]["sha256"] == built.digest
            raise LettersRefusedError(
                f"{built.administration} was already released by {old['approved_by']} on "
                f"{old['approved_at']}"
                + (
                    " (the same letters): nothing to do."
                    if same
                    else "; the letters differ now. A release is final: regenerate the released "
                    "letters from the inputs of that release, or ask a maintainer."
                )
            )
        if not built.letters:
            raise ItembankError(
                f"No letter to release for {built.form}: every decision is pending."
            )
        a = built.adopted
        if not re.fullmatch(r"[0-9a-f]{40}", a.commit):
            raise ItembankError(f"The adopted pass mark {a.record} is not committed yet.")
        record = {
            "schema_version": "1.0",
            "administration": built.administration,
            "form": built.form,
            "pass_mark": {
                "record": a.record,
                "commit": a.commit,
                "pass_mark": a.pass_mark,
                "max_score": a.max_score,
                "method": a.method,
                "decided_by": a.decided_by,
            },
            "counts": built.counts,
            "letters": {"count": len(built.letters), "sha256": built.digest},
            "approved_by": person,
            "approved_at": (approved_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        c = built.counts
        message = (
            f"release: {built.administration} letters ({c['met']} met, {c['not_met']} not met, "
            f"{c['pending']} pending) approved by {person.split('<')[0].strip()}"
        )
        return self._bank.save(record, person, message, kind="release")

    # ---- writing ------------------------------------------------------------------------------

    def write(
        self,
        form: str,
        out: PathLike,
        *,
        results: PathLike | None = None,
        pdf: bool = False,
        unreleased: bool = False,
        progress: Progress | None = None,
    ) -> Written:
        """Write the letters (and PDFs) into `out`, outside the repository. Released letters
        must match the release's hash; `unreleased` writes DRAFT-marked letters instead. A file
        whose bytes are there already is skipped (a cut-short run resumes)."""
        folder = outputs.outside(out, self._bank.store.worktree)
        say = progress or (lambda _stage, _done, _total: None)
        built = self.build(form, results)
        rel = self.released(built.administration)
        if not unreleased:
            if rel is None:
                raise LettersRefusedError(
                    f"{built.administration} has not been released: the results team approves "
                    f"the letters first (the release app, or itembank results release "
                    f"{built.form} --as ...). Write drafts with --unreleased."
                )
            if rel["letters"]["sha256"] != built.digest:
                raise LettersRefusedError(
                    f"These letters differ from the ones released for {built.administration} "
                    f"by {rel['approved_by']} ({rel['letters']['sha256'][:19]}..., now "
                    f"{built.digest[:19]}...): an input changed since. Nothing was written. "
                    "Write drafts with --unreleased, or restore the inputs of the release."
                )
        pages = (
            {letter_name(c): self.draft(built, c) for c in built.feedback}
            if unreleased
            else built.letters
        )
        done = Written(folder, built.administration, unreleased, pending=built.pending,
                       digest=built.digest)  # fmt: skip
        with self._printer(pdf, pages, folder) as printer:
            for n, (name, html) in enumerate(pages.items()):
                say("letters", n, len(pages))
                pdf_name = name[: -len(".html")] + ".pdf"
                wanted = [name] + ([pdf_name] if pdf else [])
                if outputs.same(folder, name, html) and outputs.present(folder, wanted):
                    done.kept.append(name)
                    continue
                if printer is not None:  # the PDF first: a matching HTML means its PDF is done
                    outputs.write(folder, pdf_name, printer(html))
                outputs.write(folder, name, html)
                done.written.append(name)
            say("letters", len(pages), len(pages))
        listing = "".join(f"{c}\n" for c in built.pending).encode()
        if not outputs.same(folder, "pending.txt", listing):
            outputs.write(folder, "pending.txt", listing)
        return done

    @contextmanager
    def _printer(
        self, pdf: bool, pages: Mapping[str, bytes], folder: Path
    ) -> Iterator[PrintPdf | None]:
        """One browser session for the whole run, opened only if a PDF is still missing."""
        if not pdf or all(
            outputs.same(folder, n, h) and outputs.present(folder, [n[:-5] + ".pdf"])
            for n, h in pages.items()
        ):
            yield None
            return
        with BatchPrinter().session() as printer:
            yield printer.print

    # ---- employer reports -------------------------------------------------------------------

    def employer_reports(
        self, form: str, employers: Iterable[str] | None = None, results: PathLike | None = None
    ) -> dict[str, bytes]:
        """File name -> HTML of each employer's thematic report (all employers by default)."""
        form_id = str(self._bank.forms.form(form)["id"])
        met = {d.candidate: d.met for d in self.sources.decisions(form_id, results)}
        known = sorted({e for e in self.sources.employers(form_id, results) if e})
        chosen = known if employers is None else list(employers)
        for name in chosen:
            if name not in known:
                raise ItembankError(
                    f"{name!r} employs no candidate of {form_id}. Employers: "
                    f"{', '.join(known) or 'none'}."
                )
        bank_title, form_title = self._titles(form_id)
        out = {}
        for name in chosen:
            report = self.sources.employer(name, form_id, met, results)
            out[report_name(name)] = report_html(
                report, bank_title=bank_title, form_title=form_title
            )
        return out

    def write_employer_reports(
        self,
        form: str,
        out: PathLike,
        employers: Iterable[str] | None = None,
        *,
        results: PathLike | None = None,
        pdf: bool = False,
    ) -> list[Path]:
        """Write the reports (and PDFs) into `out`, outside the repository; the paths."""
        folder = outputs.outside(out, self._bank.store.worktree)
        pages = self.employer_reports(form, employers, results)
        written = []
        printer: PrintPdf | None = None
        if pdf:
            if self._print_pdf is None:
                raise ItembankError("No PDF printer was handed to the results section.")
            printer = self._print_pdf
        for name, html in pages.items():
            if printer is not None:
                outputs.write(folder, name[:-5] + ".pdf", printer(html))
                written.append(folder / (name[:-5] + ".pdf"))
            outputs.write(folder, name, html)
            written.append(folder / name)
        return written


__all__ = ["BankSources", "LetterSet", "Letters", "LettersRefusedError", "Sources", "Written",
           "letters_digest", "report_name", "safe_name"]  # fmt: skip
