"""The psychometrician's results app (Voila, review_apps/results.ipynb): a member of the results
team signs in, chooses a form with imported results, and sees the test summary, the items with
their flags, each item's distractor plot and characteristic curve, and the DIF table; builds the
technical report and writes the statistics to the bank in their own name. State and rules live
in ResultsModel (results_model.py); this view only shows them."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w
from matplotlib.figure import Figure

from itembank.bank import Bank
from itembank.ui.maintenance import figure_png
from itembank.ui.results_model import ENV, ORDERS, DifRow, ItemRow, ResultsModel
from itembank.ui.widgets import Messages, button, css

STYLE = """<style>
.ib-res-table table {border-collapse: collapse; font-size: 13px}
.ib-res-table th, .ib-res-table td {border-bottom: 1px solid #ddd; padding: 2px 8px;
  text-align: left; vertical-align: top}
.ib-res-table td {white-space: nowrap}
.ib-res-table td:last-child {white-space: normal}
.ib-res-items-table, .ib-res-dif-table {max-height: 460px; overflow-y: auto}
.ib-res-table tr.ib-res-flagged td {background: #fff4e5}
.ib-res-table tr td.ib-dif-C {background: #f8d7da; font-weight: bold}
.ib-res-table tr td.ib-dif-B {background: #fff3cd}
</style>"""


def table(headers: Sequence[str], rows: Sequence[tuple[Sequence[str], str]], cls: str) -> str:
    """An escaped HTML table; each row is (cells, CSS class of the row). A cell that starts
    with a marker "\\x00C:" is given the class ib-dif-C (B likewise)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)

    def cell(value: str) -> str:
        if value.startswith("\x00"):
            grade, text = value[1], value[3:]
            return f'<td class="ib-dif-{grade}">{html.escape(text)}</td>'
        return f"<td>{html.escape(value)}</td>"

    body = "".join(
        f'<tr class="{row_class}">' + "".join(cell(c) for c in cells) + "</tr>"
        for cells, row_class in rows
    )
    return (
        f'<div class="ib-res-table {cls}"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def graded(grade: str | None) -> str:
    """A DIF class cell, coloured for B and C."""
    if grade in ("B", "C"):
        return f"\x00{grade}:{grade}"
    return grade or "-"


def num(value: float | None, places: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


def item_table(rows: Sequence[ItemRow]) -> str:
    headers = ["#", "item", "facility", "item-rest r", "upper-lower D", "omitted", "DIF", "flags"]
    return table(
        headers,
        [
            (
                [
                    str(r.position),
                    r.item,
                    num(r.facility),
                    num(r.item_rest),
                    num(r.upper_lower),
                    f"{r.omit_rate:.1%}",
                    graded(r.dif),
                    "; ".join(r.flags) or "-",
                ],
                "ib-res-flagged" if r.flags else "ib-res-clean",
            )
            for r in rows
        ],
        "ib-res-items-table",
    )


def dif_table(rows: Sequence[DifRow]) -> str:
    headers = ["characteristic", "focal vs reference", "item", "MH chi-square", "p",
               "delta MH", "ETS class", "favours", "LR (2 df)", "Nagelkerke dR2",
               "Jodoin-Gierl", "note"]  # fmt: skip
    return table(
        headers,
        [
            (
                [
                    r.characteristic,
                    f"{r.focal} vs {r.reference}",
                    r.item,
                    num(r.chi_square, 2),
                    num(r.p_value, 4),
                    num(r.delta_mh, 2),
                    graded(r.ets_class),
                    r.favours or "-",
                    num(r.lr_both, 2),
                    num(r.delta_r2, 4),
                    graded(r.jodoin_gierl),
                    r.skipped or "",
                ],
                f"ib-dif-row-{r.ets_class or 'none'}",
            )
            for r in rows
        ],
        "ib-res-dif-table",
    )


class ResultsApp(Messages):
    """ResultsApp(open_bank()).show() in a Voila notebook."""

    def __init__(self, bank: Bank) -> None:
        self.model = ResultsModel(bank)
        # the sign-in's message line, then (once signed in) the one under the Analyse button
        self.sign_message = css(w.HTML(""), "ib-message", "ib-res-signin-message")
        self.work_line = css(w.HTML(""), "ib-message", "ib-res-message")
        self.message = self.sign_message
        members = self.model.members()
        self.who = css(
            w.Dropdown(
                options=[("Choose your name", "")]
                + [(m.split("<")[0].strip(), m) for m in members],
                value="",
                description="Name",
            ),
            "ib-res-name",
        )
        self.sign_in_button = css(button("Sign in", button_style="primary"), "ib-res-signin")
        self.sign_in_button.on_click(self._safe(lambda: self._sign_in(self.who.value)))
        self.sign_in_box = w.HBox([self.who, self.sign_in_button])
        self.signed = css(w.HTML(""), "ib-signed-in")
        self.folder = css(
            w.Text(
                value=self.model.folder_text,
                description="Results",
                placeholder=f"the results folder (else ${ENV}, else <repository>-results)",
                layout=w.Layout(width="70%"),
            ),
            "ib-res-folder",
        )
        self.find_button = css(button("Find forms"), "ib-res-find")
        self.find_button.on_click(self._safe(self._find_forms))
        self.form = css(
            w.Dropdown(options=[], description="Form", layout=w.Layout(width="460px")),
            "ib-res-form",
        )
        self.pass_mark = css(
            w.Text(description="Pass mark", placeholder="the bank's (raw marks)"), "ib-res-pass"
        )
        self.analyse_button = css(button("Analyse", button_style="primary"), "ib-res-analyse")
        self.analyse_button.on_click(self._safe(self._analyse))
        self.summary = css(w.HTML(""), "ib-res-summary")
        self.order = css(
            w.Dropdown(options=list(ORDERS), value="flags", description="Order"), "ib-res-order"
        )
        self.order.observe(self._safe(self._show_items), names="value")
        self.items = css(w.HTML(""), "ib-res-items")
        self.item = css(w.Dropdown(options=[], description="Item"), "ib-res-item")
        self.item.observe(self._safe(self._show_item), names="value")
        self.distractors = css(w.Image(format="png"), "ib-res-distractors")
        self.curve = css(w.Image(format="png"), "ib-res-icc")
        self.curve_note = css(w.HTML(""), "ib-res-icc-note")
        self.only_flagged = css(
            w.Checkbox(value=True, description="only classes B and C", indent=False),
            "ib-res-dif-only",
        )
        self.only_flagged.observe(self._safe(self._show_dif), names="value")
        self.dif = css(w.HTML(""), "ib-res-dif")
        self.dif_skipped = css(w.HTML(""), "ib-res-dif-skipped")
        self.work_message = css(w.HTML(""), "ib-res-work-message")
        self.report_button = css(button("Build the technical report (PDF)"), "ib-res-report")
        self.report_button.on_click(lambda _: self._at(self.work_message, self._report))
        self.download = css(w.HTML(""), "ib-res-download")
        self.write_button = css(
            button("Write statistics to the bank", button_style="warning"), "ib-res-writeback"
        )
        self.write_button.on_click(lambda _: self._at(self.work_message, self._write_back))
        self.results_box = w.VBox(
            [
                w.HTML("<h3>Test summary</h3>"),
                self.summary,
                w.HTML("<h3>Items</h3>"),
                self.order,
                self.items,
                w.HTML("<h3>One item: distractors and characteristic curve</h3>"),
                self.item,
                w.HBox([self.distractors, w.VBox([self.curve, self.curve_note])]),
                w.HTML("<h3>Differential item functioning (Mantel-Haenszel, logistic)</h3>"),
                self.only_flagged,
                self.dif,
                self.dif_skipped,
                w.HTML("<h3>Report and write-back</h3>"),
                w.HBox([self.report_button, self.write_button]),
                self.work_message,
                self.download,
            ],
            layout=w.Layout(display="none"),
        )
        self.work_box = w.VBox(
            [
                w.HBox([self.folder, self.find_button]),
                w.HBox([self.form, self.pass_mark, self.analyse_button]),
                self.work_line,
                self.results_box,
            ],
            layout=w.Layout(display="none"),
        )
        self.root = css(
            w.VBox(
                [
                    w.HTML(STYLE + "<h2>Results: item analysis, DIF and calibration</h2>"),
                    self.sign_in_box,
                    self.signed,
                    self.sign_message,
                    self.work_box,
                ]
            ),
            "ib-results-app",
        )
        if os.environ.get("JUPYTERHUB_USER", "").strip():
            self.sign_in_box.layout.display = "none"
            self._run(lambda: self._sign_in(None))

    def show(self) -> w.Widget:
        return self.root

    def _at(self, line: w.HTML, action: Callable[[], None]) -> None:
        """Run a button's action with its messages (and errors) on `line`, next to it."""
        self.message, saved = line, self.message
        self._say("")
        try:
            self._run(action)
        finally:
            self.message = saved

    def _busy(self, action: Callable[[], Any], *buttons: w.Button) -> Any:
        """Run a slow step with its buttons disabled (no second click starts it again)."""
        for b in buttons:
            b.disabled = True
        try:
            return action()
        finally:
            for b in buttons:
                b.disabled = False

    def _sign_in(self, login: object) -> None:
        if self.model.person is not None:
            return
        person = self.model.sign_in(login if isinstance(login, str) and login else None)
        self.signed.value = f"Signed in as <strong>{html.escape(person)}</strong> (results team)"
        self.sign_in_box.layout.display = "none"
        self.work_box.layout.display = ""
        self._say("")
        self.message = self.work_line
        self._find_forms()

    def _find_forms(self) -> None:
        self.model.folder_text = str(self.folder.value)
        folder = self.model.folder()
        forms = self.model.forms()
        self.form.options = forms
        self.form.value = forms[0][1] if forms else None
        if not forms:
            self._say(
                f"No imported results in {folder}. Import them with `itembank results import` "
                f"(see docs/results.md), or give another folder above.",
                "error",
            )
        else:
            self._say(f"{len(forms)} form(s) with results in {folder}.")

    def _analyse(self) -> None:
        form = self.form.value
        if form not in {v for _, v in self.form.options}:
            self._say("Choose a form with results first.", "error")
            return
        self._say(f"Analysing {form}...")
        self.model.folder_text = str(self.folder.value)
        self._busy(
            lambda: self.model.analyse(str(form), str(self.pass_mark.value)),
            self.analyse_button,
        )
        self._show_summary()
        self._show_items()
        flagged = {r.item: len(r.flags) for r in self.model.item_rows("position")}
        self.item.options = [
            (f"{i} ({flagged[i]} flag{'s' if flagged[i] != 1 else ''})" if flagged[i] else i, i)
            for i in self.model.items()
        ]
        first_flagged = next((r.item for r in self.model.item_rows("flags") if r.flags), None)
        self.item.value = first_flagged or self.model.items()[0]
        self._show_item()
        self._show_dif()
        self.download.value = ""
        self.work_message.value = ""
        self.results_box.layout.display = ""
        self._say(f"Analysed {form}.", "ok")

    def _show_summary(self) -> None:
        self.summary.value = table(
            ["", ""], [([k, v], "") for k, v in self.model.summary()], "ib-res-summary-table"
        )

    def _show_items(self) -> None:
        if self.model.results is None:
            return
        self.items.value = item_table(self.model.item_rows(str(self.order.value)))

    def _image(self, target: w.Image, figure: Figure) -> None:
        target.value = figure_png(figure)
        target.layout.display = ""

    def _show_item(self) -> None:
        if self.model.results is None or not self.item.value:
            return
        item = str(self.item.value)
        self._image(self.distractors, self.model.distractor_plot(item))
        curve = self.model.icc_plot(item)
        if isinstance(curve, str):
            self.curve.layout.display = "none"
            self.curve_note.value = f"<em>{html.escape(curve)}</em>"
        else:
            self._image(self.curve, curve)
            self.curve_note.value = ""

    def _show_dif(self) -> None:
        if self.model.results is None:
            return
        rows = self.model.dif_rows(only_flagged=bool(self.only_flagged.value))
        made = [c for c in self.model.comparisons() if not c.skipped]
        if rows:
            self.dif.value = dif_table(rows)
        elif made:
            self.dif.value = "<p>No item is in class B or C in any comparison made.</p>"
        else:
            self.dif.value = "<p>No comparison could be made (see below).</p>"
        skipped = self.model.skipped_comparisons()
        self.dif_skipped.value = (
            "<p><strong>Comparisons not made</strong></p>"
            + table(
                ["characteristic", "groups", "why"],
                [([c, f"{f} vs {r}" if f else r, why], "") for c, r, f, why in skipped],
                "ib-res-skipped-table",
            )
            if skipped
            else ""
        )

    def _report(self) -> None:
        self.download.value = ""
        self._say("Building the technical report...")
        name, data = self._busy(self.model.report_pdf, self.report_button)
        encoded = base64.b64encode(data).decode()
        self.download.value = (
            f'<a class="ib-res-pdf" download="{html.escape(name)}" '
            f'href="data:application/pdf;base64,{encoded}">Download {html.escape(name)}</a>'
            f" ({len(data) / 1024:.0f} KB)"
        )
        self._say(f"The technical report is ready: {name}.", "ok")

    def _write_back(self) -> None:
        self._say("Writing the statistics to the bank...")
        self._say(self._busy(self.model.write_back, self.write_button), "ok")
        self._show_summary()


__all__ = ["ResultsApp", "dif_table", "item_table", "table"]
