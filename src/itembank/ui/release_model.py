"""The release app's model: who is signed in (a member of the results team in bank.json, nobody
else: these screens show every candidate's result), the form, its letters as they would be
released (counts, the letters one by one, the employer reports), and the approval: a commit by
that member of the release record (bank.results.letters.release). Plain Python with no widgets,
so the rules are tested without a browser; release_app.py shows what this gives."""

from __future__ import annotations

from typing import Any

from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.results.letters_service import Letters, LetterSet, Sources, report_name
from itembank.ui.results_model import NotSignedInError, TeamSession


class ReleaseModel(TeamSession):
    """State of one results-team member's session (see the module note)."""

    WHY = "they show every candidate's result."

    def __init__(self, bank: Bank, sources: Sources | None = None) -> None:
        super().__init__(bank)
        self.letters_service: Letters = bank.results.letters
        if sources is not None:
            self.letters_service.sources = sources
        self.built: LetterSet | None = None
        self._employers: dict[str, bytes] | None = None

    # ---- what --------------------------------------------------------------------------------

    def forms(self) -> list[str]:
        """The committed forms, in id order."""
        self._member()
        return sorted(str(m["id"]) for m in self.bank.forms.committed())

    def open(self, form: str) -> LetterSet:
        """Build `form`'s letters as they would be released (refused without an adopted
        pass mark, with the reason)."""
        self._member()
        if form not in self.forms():
            raise ItembankError(f"{form!r} is not a committed form: choose one from the list.")
        self.built = None
        self._employers = None
        self.built = self.letters_service.build(form, self.folder_arg())
        return self.built

    def _built(self) -> LetterSet:
        self._member()
        if self.built is None:
            raise ItembankError("Choose a form and open its letters first.")
        return self.built

    def counts(self) -> dict[str, int]:
        return dict(self._built().counts)

    def candidates(self) -> list[str]:
        """The candidates with a letter, in id order."""
        return sorted(self._built().feedback)

    def pending(self) -> list[str]:
        return list(self._built().pending)

    def released(self) -> dict[str, Any] | None:
        """The release record of the open administration, or None."""
        return self.letters_service.released(self._built().administration)

    def letter(self, candidate: str) -> bytes:
        """One letter's HTML: as released once released, else marked DRAFT."""
        built = self._built()
        if candidate not in built.feedback:
            raise ItembankError(f"{candidate!r} has no letter in {built.administration}.")
        record = self.released()
        if record is not None and record["letters"]["sha256"] == built.digest:
            return built.letters[f"{candidate}.html"]
        return self.letters_service.draft(built, candidate)

    def employer_reports(self) -> dict[str, bytes]:
        """File name -> HTML of every employer's report for the open form."""
        built = self._built()
        if self._employers is None:
            self._employers = self.letters_service.employer_reports(
                built.form, None, self.folder_arg()
            )
        return self._employers

    def employer_options(self) -> list[tuple[str, str]]:
        """(employer, report file name) of every employer of the open form, by name."""
        built = self._built()
        reports = self.employer_reports()
        names = {e for e in self.letters_service.sources.employers(built.form, self.folder_arg())}
        return [
            (n, report_name(n)) for n in sorted(x for x in names if x) if report_name(n) in reports
        ]

    def approve(self) -> str:
        """Approve the release as the signed-in member: the commit's sha."""
        person = self._member()
        built = self._built()
        return self.letters_service.release(built.form, person, self.folder_arg(), letters=built)


__all__ = ["NotSignedInError", "ReleaseModel"]
