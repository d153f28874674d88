"""The results section of a bank (``bank.results``): import delivered results into the results
store (outside the content repository), list and remove imports, and hand the statistics a
form's ScoredMatrix and its candidates' characteristics.

The parsing and matching are pure (importer.py, matching.py); this section reads the form's
manifest and the item versions it names from git (at the manifest's bank commit), and writes
through storage.resultstore. The scorer and delivery ids are the forms room's, handed in by the
Bank (rooms do not import each other)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from itembank.core.errors import ItembankError, UnknownIdError
from itembank.core.findings import Finding
from itembank.core.identity import check_person
from itembank.core.ids import check_id
from itembank.core.layout import path_for
from itembank.core.parsing import parse_record
from itembank.core.workflow import content_hash
from itembank.results.administration import FormResults, analyse_matrix
from itembank.results.columns import read_columns
from itembank.results.importer import Format, Parsed, parse_candidates, parse_many
from itembank.results.irt import Model
from itembank.results.matching import DeliveryId, Scorer, entries, match, match_columns
from itembank.results.matrix import ScoredMatrix
from itembank.results.records import commit_message
from itembank.results.report import technical_report
from itembank.results.writeback import statistics_records
from itembank.storage.resultstore import (
    ImportConflictError,
    ResultStore,
    choose_folder,
    read_sources,
    write_files,
)

if TYPE_CHECKING:
    from itembank.bank import Bank
    from itembank.results.feedback_service import Feedback
    from itembank.results.letters_service import Letters
    from itembank.results.marks_service import Marks

Record = dict[str, Any]
Progress = Callable[[str], None]
PrintPdf = Callable[[bytes], bytes]
PathLike = str | os.PathLike[str]


class ResultsImportError(ItembankError):
    """The source has problems: nothing was imported. `findings` name each place and the fix."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = list(findings)


@dataclass
class ImportOutcome:
    """What one import did (or would have: `stored` False means the same source was there)."""

    import_id: str
    form: str
    folder: Path
    stored: bool
    candidates: int
    responses: int
    omitted: int
    disagreements: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "import": self.import_id,
            "form": self.form,
            "folder": str(self.folder),
            "stored": self.stored,
            "candidates": self.candidates,
            "responses": self.responses,
            "omitted": self.omitted,
            "disagreements": len(self.disagreements),
            "disagreement_findings": [f.to_dict() for f in self.disagreements],
            "notes": self.notes,
        }


class Results:
    """Results import and the store, for one bank."""

    def __init__(
        self,
        bank: Bank,
        score: Scorer,
        delivery_id: DeliveryId,
        print_pdf: PrintPdf | None = None,
    ) -> None:
        self._bank = bank
        self._score = score
        self._delivery_id = delivery_id
        self._print_pdf = print_pdf

    @property
    def feedback(self) -> Feedback:
        """Subscores that add value, candidates' strengths and development points, and the
        employers' thematic reports (results.feedback_service)."""
        from itembank.results.feedback_service import Feedback

        return Feedback(self)

    @property
    def marks(self) -> Marks:
        """Simulated-practice marks, assessors' agreement and the decisions (marks_service)."""
        from itembank.results.marks_service import Marks

        return Marks(self._bank, self)

    @cached_property
    def letters(self) -> Letters:
        """Candidate letters, employer reports and their release (results/letters_service)."""
        from itembank.results.letters_service import Letters

        return Letters(self._bank, self._print_pdf)

    def store(self, results: PathLike | None = None) -> ResultStore:
        """The results store: --results, else $ITEMBANK_RESULTS, else <repository>-results
        beside the bank's repository (never inside it)."""
        return ResultStore(choose_folder(results, self._bank.store.worktree))

    def _form_items(self, form: str) -> tuple[Record, dict[str, Record]]:
        """The manifest, and each item as recorded at its bank commit (checked by hash)."""
        manifest = self._bank.forms.form(form)
        refs = {str(e["id"]): path_for("item", str(e["id"])) for e in entries(manifest)}
        files = self._bank.store.files_at(
            str(manifest["bank_commit"]), list(refs.values()), None, manifest.get("bank_path")
        )
        items: dict[str, Record] = {}
        for entry in entries(manifest):
            ident = str(entry["id"])
            record, _ = parse_record(refs[ident], files.get(refs[ident], b""))
            if (
                not isinstance(record, dict)
                or content_hash("item", record) != entry["content_hash"]
            ):
                raise ItembankError(
                    f"Form {manifest['id']}: item {ident} at the recorded commit "
                    f"{str(manifest['bank_commit'])[:10]} is not the version the manifest names "
                    "(itembank form verify says more); results cannot be scored against it."
                )
            items[ident] = record
        return manifest, items

    def import_results(
        self,
        paths: Sequence[PathLike],
        form: str,
        candidates: PathLike | None = None,
        results: PathLike | None = None,
        fmt: Format | Literal["auto"] = "auto",
        progress: Progress | None = None,
    ) -> ImportOutcome:
        """Import results for `form` from files or folders (QTI 3.0/2.1 assessmentResult
        documents, or CSVs): all or nothing. Raises ResultsImportError with every problem."""
        say = progress or (lambda _message: None)
        store = self.store(results)  # refused before anything is read
        manifest, items = self._form_items(form)
        form_id = str(manifest["id"])
        sources = read_sources(paths)
        say(f"read {len(sources)} file(s), {sum(len(d) for _, d in sources) / 1e6:.1f} MB")
        fast = read_columns(sources, fmt)  # None: the row-by-row parser names the problems
        parsed = parse_many(sources, fmt) if fast is None else Parsed()
        say(f"parsed {len(parsed.responses) if fast is None else len(fast)} response(s)")
        listed = None
        digest = hashlib.sha256(f"form:{form_id}\n".encode())
        for data in sorted(hashlib.sha256(d).hexdigest() for _, d in sources):
            digest.update(data.encode())
        cand_name = "the candidates file"
        if candidates is not None:
            if not Path(candidates).is_file():
                raise ItembankError(f"{candidates} is not a file: --candidates names one CSV.")
            ((cand_name, cand_data),) = read_sources([candidates])
            digest.update(b"candidates:" + hashlib.sha256(cand_data).hexdigest().encode())
            cand = parse_candidates(cand_name, cand_data)
            parsed.findings.extend(cand.findings)
            listed = cand.candidates
        if parsed.findings:
            raise ResultsImportError(self._refusal(parsed.findings), parsed.findings)
        if not (len(fast) if fast is not None else parsed.responses):
            raise ResultsImportError("Nothing was imported: the source holds no responses.", [])
        context = (listed, self._score, self._delivery_id, cand_name)
        matched = (
            match_columns(form_id, manifest, items, fast, *context) if fast is not None else None
        )
        if matched is None:  # the row-by-row matcher names every problem
            rows = parsed.responses if fast is None else parse_many(sources, fmt).responses
            matched = match(form_id, manifest, items, rows, *context)
        if matched.errors:
            raise ResultsImportError(self._refusal(matched.errors), matched.errors)
        count = len(matched.responses.get("candidate", []))
        say(f"matched and re-scored {count} response(s)")
        import_id = digest.hexdigest()
        meta = {
            "form": form_id,
            "source": ", ".join(sorted({Path(n).name for n, _ in sources}))[:500],
            "format": fmt if fmt != "auto" else "+".join(sorted({_kind(n, d) for n, d in sources})),
            "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "candidates": len(matched.candidates),
            "responses": count,
            "disagreements": len(matched.disagreements),
        }
        stored = store.add(
            import_id, meta, matched.responses, matched.candidates, matched.characteristics
        )
        say("stored" if stored else "already imported: nothing changed")
        return ImportOutcome(
            import_id,
            form_id,
            store.folder,
            stored,
            len(matched.candidates),
            count,
            int(sum(matched.responses["omitted"])),
            matched.disagreements,
            matched.notes,
        )

    @staticmethod
    def _refusal(findings: Sequence[Finding]) -> str:
        return (
            f"Nothing was imported: {len(findings)} problem(s) in the source. Correct them and "
            "import again:"
        )

    def imports(self, results: PathLike | None = None) -> list[Record]:
        """Every import in the store, oldest first."""
        return self.store(results).imports()

    def remove(self, import_id: str, results: PathLike | None = None) -> Record:
        """Take one import out of the store (e.g. before importing a corrected file)."""
        return self.store(results).remove(import_id)

    def _candidate_order(self, store: ResultStore, form: str) -> list[str]:
        return sorted(str(r[0]) for r in store.rows("candidates", form, ["candidate"]))

    def matrix(self, form: str, results: PathLike | None = None) -> ScoredMatrix:
        """The form's administration as a ScoredMatrix: candidates (sorted ids) by the form's
        items in the order shown (bank ids), raw choices and keys in the item's own option
        ids. An item a candidate was not reported on counts as omitted."""
        manifest, items = self._form_items(form)
        form_id = str(manifest["id"])
        store = self.store(results)
        people = self._candidate_order(store, form_id)
        order = entries(manifest)
        n, k = len(people), len(order)
        scores = np.zeros((n, k), dtype=np.float64)
        omitted = np.ones((n, k), dtype=np.bool_)
        choices = np.full((n, k), None, dtype=np.object_)
        got = store.arrays(
            "responses", form_id, ["candidate", "position", "score", "omitted", "response"]
        )
        if len(got["candidate"]):
            rows = np.searchsorted(np.asarray(people, dtype=object), got["candidate"])
            cols = got["position"].astype(np.int64)
            scores[rows, cols] = got["score"].astype(np.float64)
            omitted[rows, cols] = got["omitted"].astype(np.bool_)
            choices[rows, cols] = [None if r is None else str(r) for r in got["response"]]
        keys = []
        for entry in order:
            key = items[str(entry["id"])]["key"]
            keys.append(
                "|".join(f"{s}={'T' if v else 'F'}" for s, v in sorted(key.items()))
                if isinstance(key, dict)
                else "|".join(sorted(str(x) for x in key))
            )
        return ScoredMatrix(
            candidates=tuple(people),
            items=tuple(str(e["id"]) for e in order),
            scores=scores,
            max_scores=np.array([float(e["max_score"]) for e in order], dtype=np.float64),
            omitted=omitted,
            choices=choices,
            keys=tuple(keys),
        )

    def characteristics(
        self, form: str, results: PathLike | None = None
    ) -> dict[str, list[str | None]]:
        """Each equality characteristic -> one value per candidate, aligned with the rows of
        matrix(form) (None: not declared). For aggregate use only (DIF, group sizes): never
        print or export these per candidate."""
        store = self.store(results)
        form_id = str(self._bank.forms.form(form)["id"])
        people = self._candidate_order(store, form_id)
        row = {c: i for i, c in enumerate(people)}
        out: dict[str, list[str | None]] = {}
        for cand, name, value in store.rows(
            "characteristics", form_id, ["candidate", "name", "value"]
        ):
            out.setdefault(str(name), [None] * len(people))[row[cand]] = value
        return dict(sorted(out.items()))

    def employers(self, form: str, results: PathLike | None = None) -> list[str | None]:
        """Each candidate's employer, aligned with the rows of matrix(form)."""
        store = self.store(results)
        form_id = str(self._bank.forms.form(form)["id"])
        rows = dict(store.rows("candidates", form_id, ["candidate", "employer"]))
        return [rows[c] for c in sorted(rows)]

    def administration_id(self, form: str, results: PathLike | None = None) -> str:
        """The default administration id: the form id and the date of its first import
        (``<form>-YYYY-MM-DD``), so re-running the analysis, or importing a late file for the
        same sitting, names the same administration."""
        form_id = str(self._bank.forms.form(form)["id"])
        dates = sorted(
            str(r["imported_at"])[:10] for r in self.imports(results) if r["form"] == form_id
        )
        if not dates:
            raise ItembankError(
                f"No results of {form_id} are in {self.store(results).folder}: import them "
                f"first (itembank results import ... --form {form_id})."
            )
        return f"{form_id}-{dates[0]}"

    def pass_mark(self, form: str) -> tuple[float | None, str]:
        """The pass mark the chair adopted for the form, else the recommended pass mark of a
        closed standard-setting exercise whose items are exactly the form's, and where it came
        from; (None, "none") when there is neither. Read through the Bank's standard-setting
        section (rooms do not import each other)."""
        adopted = self._bank.standard_setting.adopted(form)
        if adopted is not None:
            return adopted.pass_mark, (
                f"adopted by {adopted.decided_by} ({adopted.method}, exercise {adopted.exercise})"
            )
        manifest = self._bank.forms.form(form)
        wanted = {str(e["id"]) for e in entries(manifest)}
        found = []
        for exercise in self._bank.standard_setting.exercises():
            if exercise.get("status") != "closed" or set(exercise.get("items", [])) != wanted:
                continue
            outcome = self._bank.standard_setting.results(
                exercise["id"], str(exercise["facilitator"])
            )
            if outcome.pass_mark is not None:
                found.append((exercise.get("form") == manifest["id"], str(exercise["id"]), outcome))
        if not found:
            return None, "none"
        _, ident, outcome = max(found, key=lambda f: (f[0], f[1]))
        return float(outcome.pass_mark), (  # type: ignore[arg-type]
            f"standard-setting exercise {ident} (modified Angoff, round {outcome.round})"
        )

    def analyse(
        self,
        form: str,
        *,
        results: PathLike | None = None,
        pass_mark: float | None = None,
        model: Model = "rasch",
        administration: str | None = None,
    ) -> FormResults:
        """Analyse one administration of `form`: item and test analysis with the bank's flag
        rules, DIF screen, IRT calibration (see results.administration). The pass mark is
        `pass_mark` (raw marks), else a closed standard-setting exercise's on exactly the
        form's items, else None (with a note). `administration` defaults to
        administration_id(form)."""
        form_id = str(self._bank.forms.form(form)["id"])
        ident = administration or self.administration_id(form_id, results)
        check_id("slug", ident)
        source = "given (--pass-mark)" if pass_mark is not None else "none"
        if pass_mark is None:
            pass_mark, source = self.pass_mark(form_id)
        return analyse_matrix(
            self.matrix(form_id, results),
            self.characteristics(form_id, results),
            self._bank.settings,
            pass_mark=pass_mark,
            model=model,
            form=form_id,
            administration=ident,
            pass_mark_source=source,
        )

    def write_back(
        self, analysed: FormResults, analyst: str, *, analysed_at: datetime | None = None
    ) -> str:
        """Commit one statistics record per item of the analysed form (aggregates only, see
        results.writeback) in ONE commit by `analyst`; returns its sha.

        Re-running replaces the administration's records (records.py: a record is replaced
        only once it has been read, which this does on purpose); when no figure changed the
        records keep their analysis time, so nothing is committed and HEAD is returned. A save
        by someone else in between is refused (ConflictError) and nothing is written."""
        analyst = check_person(analyst)
        manifest = self._bank.forms.form(analysed.form)
        order = entries(manifest)
        stamp = (analysed_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = statistics_records(
            analysed,
            order,
            {str(e["id"]): self._delivery_id(e) for e in order},
            analyst,
            self._bank.settings,
            stamp,
        )
        for record in records:
            try:
                old = self._bank.get_record("statistics", record["item"], analysed.administration)
            except UnknownIdError:
                continue
            if {**old, "analysed_at": stamp} == record:
                record["analysed_at"] = old["analysed_at"]  # same figures: same bytes
        message = commit_message(analysed.administration, analysed.form, len(records), analyst)
        return self._bank.save_many(records, analyst, message, kinds=["statistics"] * len(records))

    def written(self, analysed: FormResults) -> Record | None:
        """Whether the statistics of `analysed` are in the bank as its figures say: the commit
        that wrote them, who and when; None when any item's record is missing or differs."""
        manifest = self._bank.forms.form(analysed.form)
        order = entries(manifest)
        fresh = statistics_records(
            analysed,
            order,
            {str(e["id"]): self._delivery_id(e) for e in order},
            "Nobody <nobody@example.org>",
            self._bank.settings,
            "2000-01-01T00:00:00Z",
        )
        old = []
        for record in fresh:
            relpath = path_for("statistics", record["item"], analysed.administration)
            try:
                there = self._bank.get_record("statistics", record["item"], analysed.administration)
            except (UnknownIdError, ItembankError):
                return None
            ignored = ("analysed_at", "analysed_by")
            if {k: v for k, v in there.items() if k not in ignored} != {
                k: v for k, v in record.items() if k not in ignored
            }:
                return None
            old.append((relpath, there))
        relpath, first = old[0]
        commits = self._bank.store.history(relpath)
        return {
            "commit": commits[0].sha if commits else "",
            "analysed_by": first["analysed_by"],
            "analysed_at": first["analysed_at"],
        }

    def report(
        self,
        form: str,
        out: PathLike,
        *,
        results: PathLike | None = None,
        pass_mark: float | None = None,
        model: Model = "rasch",
        administration: str | None = None,
        pdf: bool = False,
    ) -> list[Path]:
        """Write the technical report of `form`'s administration into the folder `out`
        (<administration>-technical-report.html, and .pdf with `pdf` through the papers'
        chromium printer handed in by the Bank); the paths written."""
        analysed = self.analyse(
            form, results=results, pass_mark=pass_mark, model=model, administration=administration
        )
        page = technical_report(analysed.to_dict(), self.written(analysed)).encode()
        printed = None
        if pdf:
            if self._print_pdf is None:
                raise ItembankError("No PDF printer was handed to the results section.")
            printed = self._print_pdf(page)
        folder = Path(out)
        base = f"{analysed.administration}-technical-report"
        written = [folder / f"{base}.html"] + ([folder / f"{base}.pdf"] if printed else [])
        write_files(
            folder, {written[0].name: page, **({written[1].name: printed} if printed else {})}
        )
        return written


def _kind(name: str, data: bytes) -> str:
    from itembank.results.importer import sniff, unzip

    try:
        return sniff(unzip(name, data))
    except (ValueError, OSError, EOFError):
        return "unknown"


__all__ = ["ImportConflictError", "ImportOutcome", "Results", "ResultsImportError"]
