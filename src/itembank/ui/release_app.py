"""The results team's release app (Voila, review_apps/release.ipynb): a member signs in, picks a
form, sees how many candidates met, did not meet or are pending, reads any candidate's letter
and the employer reports as they will be sent (rendered HTML, inside the app: nothing is
downloaded), and approves the release, which commits the release record in their name. State
and rules live in ReleaseModel (release_model.py); this view only shows them.

A letter is a whole HTML document with its own style sheet: it is shown in a sandboxed iframe
(srcdoc, no scripts, nothing fetched), so its styles cannot touch the app and the app's cannot
touch it. The frames' boxes keep their height while a frame is replaced, so nothing below them
jumps (a click aimed at the Approve button must land on it)."""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.results.letters_service import Sources
from itembank.ui.release_model import ReleaseModel
from itembank.ui.results_model import ENV
from itembank.ui.widgets import Messages, button, css

STYLE = """<style>
.ib-rel-frame iframe {width: 100%; height: 720px; border: 1px solid #999; background: #fff}
.ib-rel-letter, .ib-rel-report {min-height: 730px}
.ib-rel-counts table {border-collapse: collapse} .ib-rel-counts td {padding: 2px 10px}
</style>"""


def framed(document: bytes, title: str) -> str:
    """A whole HTML document in a sandboxed iframe (no scripts, no same-origin access)."""
    source = html.escape(document.decode("utf-8"), quote=True)
    return (
        f'<div class="ib-rel-frame"><iframe sandbox="" title="{html.escape(title)}" '
        f'srcdoc="{source}"></iframe></div>'
    )


class ReleaseApp(Messages):
    """ReleaseApp(open_bank()).show() in a Voila notebook."""

    def __init__(self, bank: Bank, sources: Sources | None = None) -> None:
        self.model = ReleaseModel(bank, sources)
        self.message = css(w.HTML(""), "ib-message", "ib-rel-message")
        self.who = css(
            w.Dropdown(
                options=[("Choose your name", "")]
                + [(m.split("<")[0].strip(), m) for m in self.model.members()],
                value="",
                description="Name",
            ),
            "ib-rel-name",
        )
        self.sign_in_button = css(button("Sign in", button_style="primary"), "ib-rel-signin")
        self.sign_in_button.on_click(self._safe(lambda: self._sign_in(self.who.value)))
        self.sign_in_box = w.HBox([self.who, self.sign_in_button])
        self.signed = css(w.HTML(""), "ib-signed-in")
        self.folder = css(
            w.Text(value=self.model.folder_text, description="Results",
                   placeholder=f"the results folder (else ${ENV}, else <repository>-results)",
                   layout=w.Layout(width="70%")),
            "ib-rel-folder",
        )  # fmt: skip
        self.form = css(
            w.Dropdown(options=[], description="Form", layout=w.Layout(width="460px")),
            "ib-rel-form",
        )
        self.open_button = css(button("Open the letters", button_style="primary"), "ib-rel-open")
        self.open_button.on_click(self._safe(self._open))
        self.counts = css(w.HTML(""), "ib-rel-counts")
        self.status = css(w.HTML(""), "ib-rel-status")
        self.candidate = css(w.Dropdown(options=[], description="Candidate"), "ib-rel-candidate")
        self.candidate.observe(self._safe(self._show_letter), names="value")
        self.letter = css(w.HTML(""), "ib-rel-letter")
        self.employer = css(
            w.Dropdown(options=[], description="Employer", layout=w.Layout(width="460px")),
            "ib-rel-employer",
        )
        self.employer.observe(self._safe(self._show_employer), names="value")
        self.report = css(w.HTML(""), "ib-rel-report")
        self.approve_button = css(
            button("Approve the release", button_style="warning"), "ib-rel-approve"
        )
        self.approve_button.on_click(self._safe(self._ask))
        self.confirm_button = css(button("Yes, release them", button_style="danger"),
                                  "ib-rel-confirm")  # fmt: skip
        self.confirm_button.layout.display = "none"
        self.confirm_button.layout.width = "auto"
        self.confirm_button.on_click(self._safe(self._approve))
        self.letters_box = w.VBox(
            [
                w.HTML("<h3>Counts</h3>"), self.counts, self.status,
                # above the documents: replacing a letter or report frame never moves it
                w.HTML("<h3>Release (after reading the letters and reports below)</h3>"),
                w.HBox([self.approve_button, self.confirm_button]),
                w.HTML("<h3>Letters</h3>"), self.candidate, self.letter,
                w.HTML("<h3>Employer thematic reports</h3>"), self.employer, self.report,
            ],
            layout=w.Layout(display="none"),
        )  # fmt: skip
        self.work_box = w.VBox(
            [w.HBox([self.folder]), w.HBox([self.form, self.open_button]), self.letters_box],
            layout=w.Layout(display="none"),
        )
        self.root = css(
            w.VBox([w.HTML(STYLE + "<h2>Results letters: review and release</h2>"),
                    self.sign_in_box, self.signed, self.message, self.work_box]),
            "ib-release-app",
        )  # fmt: skip
        if os.environ.get("JUPYTERHUB_USER", "").strip():
            self.sign_in_box.layout.display = "none"
            self._run(lambda: self._sign_in(None))

    def show(self) -> w.Widget:
        return self.root

    def _sign_in(self, login: object) -> None:
        if self.model.person is not None:
            return
        person = self.model.sign_in(login if isinstance(login, str) and login else None)
        self.signed.value = f"Signed in as <strong>{html.escape(person)}</strong> (results team)"
        self.sign_in_box.layout.display = "none"
        self.work_box.layout.display = ""
        forms = self.model.forms()
        self.form.options = forms
        self.form.value = forms[0] if forms else None
        self._say(f"{len(forms)} form(s). Choose one and open its letters.")

    def _open(self) -> None:
        form = self.form.value
        if not isinstance(form, str) or form not in self.model.forms():
            self._say("Choose a form first.", "error")
            return
        self.model.folder_text = str(self.folder.value)
        self._say(f"Building the letters of {form}...")
        self.open_button.disabled = True
        try:
            built = self.model.open(form)
        finally:
            self.open_button.disabled = False
        c = built.counts
        self.counts.value = (
            "<table>"
            + "".join(
                f'<tr class="ib-rel-count-{k}"><td>{label}</td><td>{c[k]}</td></tr>'
                for k, label in (
                    ("met", "Met"),
                    ("not_met", "Not met"),
                    ("pending", "Pending"),
                    ("candidates", "Candidates"),
                )
            )
            + "</table>"
        )
        self._show_status()
        self.confirm_button.layout.display = "none"
        self.candidate.options = self.model.candidates()
        self.candidate.value = self.model.candidates()[0] if self.model.candidates() else None
        self._show_letter()
        options = self.model.employer_options()
        self.employer.options = options
        self.employer.value = options[0][1] if options else None
        self._show_employer()
        self.letters_box.layout.display = ""
        self._say(f"{len(built.letters)} letter(s) of {built.administration} ready to review.",
                  "ok")  # fmt: skip

    def _show_status(self) -> None:
        record: dict[str, Any] | None = self.model.released()
        pending = self.model.pending()
        waiting = (
            f"<p>No letter for {len(pending)} pending candidate(s): "
            f"{html.escape(', '.join(pending))}</p>"
            if pending
            else ""
        )
        if record is None:
            self.status.value = "<p>Not released yet: letters are shown marked DRAFT.</p>" + waiting
            self.approve_button.disabled = False
        else:
            self.status.value = (
                f"<p class='ib-rel-released'>Released by {html.escape(str(record['approved_by']))}"
                f" on {html.escape(str(record['approved_at']))}.</p>" + waiting
            )
            self.approve_button.disabled = True

    def _show_letter(self) -> None:
        cand = self.candidate.value
        if self.model.built is None or not isinstance(cand, str) or not cand:
            self.letter.value = ""
            return
        self.letter.value = framed(self.model.letter(cand), f"Letter of {cand}")

    def _show_employer(self) -> None:
        name = self.employer.value
        if self.model.built is None or not isinstance(name, str) or not name:
            self.report.value = ""
            return
        document = self.model.employer_reports().get(name)
        self.report.value = framed(document, name) if document else ""

    def _ask(self) -> None:
        """Approving is two clicks: the second names what is being released."""
        built = self.model.built
        if built is None:
            self._say("Open a form's letters first.", "error")
            return
        self.confirm_button.description = (
            f"Yes, release {len(built.letters)} letter(s) of {built.administration}"
        )
        self.confirm_button.layout.display = ""
        self._say("Have you read the letters and the employer reports? Confirm to release.")

    def _approve(self) -> None:
        self.confirm_button.layout.display = "none"
        sha = self.model.approve()
        self._show_status()
        self._show_letter()
        self._say(f"Released: commit {sha[:12]} by {self.model.person}.", "ok")


__all__ = ["ReleaseApp", "framed"]
