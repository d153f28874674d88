"""The compromise part of the standard-setting app: a judge's acceptable ranges after the last
Angoff round, and the chair's review after a first administration (the compromise chart, the
three pass marks side by side, and the adoption with a reason). Widgets only show state; the
Bank's standard-setting section checks and commits."""

from __future__ import annotations

import html
import os
from collections.abc import Callable

import ipywidgets as w
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from itembank.bank import Bank
from itembank.standard_setting.compromise import Compromise
from itembank.ui.maintenance import figure_png
from itembank.ui.widgets import Messages, button, css

RANGE_LABELS = (
    ("pass_mark_min", "Lowest acceptable pass mark (% of the marks)"),
    ("pass_mark_max", "Highest acceptable pass mark (% of the marks)"),
    ("rate_min", "Lowest acceptable rate (%)"),
    ("rate_max", "Highest acceptable rate (%)"),
    ("pass_mark", "The pass mark you would set (% of the marks)"),
    ("pass_rate", "The pass rate you expect (% of candidates)"),
)
COLOURS = {"angoff": "#1b5e20", "hofstee": "#0d47a1", "beuk": "#b71c1c", "adopted": "#000"}
#: each figure's marker: a hollow square for Angoff around the others, which may coincide with it
MARKERS = {"angoff": ("s", 13, "none"), "hofstee": ("D", 7, None), "beuk": ("^", 8, None)}


def parse_percent(text: object) -> float | str:
    """'65', '65%' or '65.5' -> 65.0; anything else is returned as typed, for the service to
    refuse in words."""
    raw = str(text).strip().rstrip("%").strip()
    try:
        value = float(raw)
    except ValueError:
        return str(text)
    return value if value == value else str(text)


def ranges_values(entries: dict[str, object], rate_is: str) -> dict[str, object]:
    """The six percentages the service takes, from the form's boxes. A judge may give the
    acceptable range as pass rates: 70-90% passing is 10-30% failing."""
    values: dict[str, object] = {k: parse_percent(v) for k, v in entries.items()}
    low, high = values.pop("rate_min"), values.pop("rate_max")
    if rate_is == "pass":
        flip = [100.0 - v if isinstance(v, float) else v for v in (high, low)]
        low, high = flip[0], flip[1]
    values["fail_rate_min"], values["fail_rate_max"] = low, high
    return values


def compromise_figure(result: Compromise, adopted: float | None = None) -> Figure:
    """The observed fail rate at every pass mark, the Hofstee box and line, the Beuk line and
    point, the Angoff mark and (when there is one) the adopted mark."""
    c = result.curve
    figure = Figure(figsize=(6.4, 4.0))
    axes = figure.add_subplot()
    xs = [c.percent(m) for m in range(len(c.fail))]
    axes.step(xs, list(c.fail), where="pre", color="#555", label="observed fail rate")
    hof = result.figure("hofstee")
    if {"k_min", "k_max", "f_min", "f_max"} <= set(hof.inputs):
        k0, k1, f0, f1 = (hof.inputs[k] for k in ("k_min", "k_max", "f_min", "f_max"))
        axes.add_patch(
            Rectangle(
                (k0, f0), k1 - k0, f1 - f0, fill=False, linestyle=":", color=COLOURS["hofstee"]
            )
        )
        axes.plot([k0, k1], [f1, f0], color=COLOURS["hofstee"], label="Hofstee line")
    beuk = result.figure("beuk")
    if "mean_pass_mark" in beuk.inputs:
        k, f = beuk.inputs["mean_pass_mark"], 100.0 - beuk.inputs["mean_pass_rate"]
        sd_k, sd_p = beuk.inputs["sd_pass_mark"], beuk.inputs["sd_pass_rate"]
        axes.plot([k], [f], marker="o", color=COLOURS["beuk"])
        if sd_k > 0:
            slope = sd_p / sd_k
            axes.plot(
                [0, 100],
                [f + slope * k, f - slope * (100 - k)],
                color=COLOURS["beuk"],
                linestyle="--",
                label="Beuk line",
            )
        else:
            axes.axvline(k, color=COLOURS["beuk"], linestyle="--", label="Beuk line")
    for fig in result.figures:
        if fig.pass_mark is not None and fig.fail_rate is not None:
            axes.axvline(
                c.percent(fig.pass_mark), color=COLOURS[fig.method], linewidth=0.8, alpha=0.6
            )
            shape, size, face = MARKERS[fig.method]
            axes.plot(
                [c.percent(fig.pass_mark)],
                [fig.fail_rate],
                marker=shape,
                markersize=size,
                markerfacecolor=face or COLOURS[fig.method],
                markeredgewidth=2,
                linestyle="none",
                color=COLOURS[fig.method],
                label=f"{fig.method}: {fig.pass_mark}",
            )
    if adopted is not None:
        axes.axvline(
            c.percent(adopted), color=COLOURS["adopted"], linewidth=2, label=f"adopted: {adopted:g}"
        )
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("pass mark (% of the maximum score)")
    axes.set_ylabel("candidates failing (%)")
    axes.set_title(f"{c.n} candidates, maximum {c.max_score:g} marks", fontsize=10)
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


def compromise_html(result: Compromise) -> str:
    """The three pass marks side by side with their pass rates, and each method's note."""
    c = result.curve
    rows = []
    for f in result.figures:
        if f.pass_mark is None:
            cells = "<td>none</td><td></td><td></td>"
        else:
            cells = (
                f"<td>{f.pass_mark}</td><td>{c.percent(f.pass_mark):.1f}%</td>"
                f"<td>{f.pass_rate or 0.0:.1f}%</td>"
            )
        rows.append(
            f"<tr class='ib-ss-figure-{f.method}'><th>{f.method}</th>{cells}"
            f"<td>{html.escape(f.note)}</td></tr>"
        )
    acceptable = (
        f"<p>The judges' acceptable pass marks: {result.acceptable[0]} to "
        f"{result.acceptable[1]} marks ({result.judges} judges).</p>"
        if result.acceptable
        else "<p>No acceptable range: no judge has entered ranges, or it holds no whole mark.</p>"
    )
    return (
        "<table class='ib-ss-compromise'><tr><th>method</th><th>pass mark</th>"
        "<th>% of max</th><th>pass rate</th><th>note</th></tr>"
        + "".join(rows)
        + f"</table>{acceptable}"
    )


class RangesBox(Messages):
    """A judge's acceptable ranges, shown once they have rated the last round."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.judge: str | None = None
        self.exercise: str | None = None
        self.message = css(w.HTML(""), "ib-ss-ranges-message")
        self.inputs = {
            k: css(w.Text(description="", placeholder="0 to 100"), f"ib-ss-range-{k}")
            for k, _ in RANGE_LABELS
        }
        self.rate_is = css(
            w.Dropdown(
                options=[("fail rate", "fail"), ("pass rate", "pass")],
                value="fail",
                description="Rates are",
            ),
            "ib-ss-range-rate-is",
        )
        self.comment = css(w.Textarea(placeholder="Comment (optional)"), "ib-ss-range-comment")
        self.submit = css(button("Submit my ranges", button_style="success"), "ib-ss-ranges-submit")
        self.submit.on_click(self._safe(self._submit))
        self.saved = css(w.HTML(""), "ib-ss-ranges-saved")
        rows = [
            w.HBox([w.Label(label, layout=w.Layout(width="22em")), self.inputs[k]])
            for k, label in RANGE_LABELS
        ]
        self.root = css(
            w.VBox(
                [
                    w.HTML(
                        "<h3>Your acceptable ranges</h3><p>Before any candidate has sat the "
                        "test: the lowest and highest pass marks you would accept, the lowest "
                        "and highest share of candidates you would accept failing (or give "
                        "them as pass rates), the pass mark you would set yourself and the "
                        "pass rate you expect. The chair uses them to review the pass mark "
                        "after the first administration (Hofstee and Beuk).</p>"
                    ),
                    self.rate_is,
                    *rows,
                    self.comment,
                    self.submit,
                    self.message,
                    self.saved,
                ]
            ),
            "ib-ss-ranges",
        )
        self.root.layout.display = "none"

    def show_for(self, judge: str, exercise: str) -> None:
        self.judge, self.exercise = judge, exercise
        mine = self._run(lambda: self.bank.standard_setting.my_ranges(exercise, judge))
        self.saved.value = self._saved_html(mine) if mine else ""
        self.root.layout.display = ""

    @staticmethod
    def _saved_html(record: dict[str, object]) -> str:
        def pc(key: str) -> str:
            value = record[key]
            return f"{float(value):g}%" if isinstance(value, (int, float)) else "?"

        return (
            f"<p class='ib-ss-ranges-recorded'>Recorded {html.escape(str(record['submitted']))}: "
            f"pass mark {pc('pass_mark_min')} to {pc('pass_mark_max')}, fail rate "
            f"{pc('fail_rate_min')} to {pc('fail_rate_max')}; your pass mark {pc('pass_mark')}, "
            f"expected pass rate {pc('pass_rate')}. Submitting again replaces them.</p>"
        )

    def _submit(self) -> None:
        judge, exercise = self.judge, self.exercise
        if judge is None or exercise is None:
            self._say("Choose an exercise first.", "error")
            return
        values = ranges_values(
            {k: box.value for k, box in self.inputs.items()}, str(self.rate_is.value)
        )
        record = self._run(
            lambda: self.bank.standard_setting.submit_ranges(
                exercise, judge, values, str(self.comment.value)
            )
        )
        if record is not None:
            self._say(f"Recorded your ranges ({record['id']}).", "ok")
            self.saved.value = self._saved_html(record)


class ChairBox(Messages):
    """The chair's review after a first administration, and the adoption."""

    def __init__(self, bank: Bank, exercise: Callable[[], object]) -> None:
        self.bank = bank
        self.exercise = exercise  # the facilitator's chosen exercise
        self.chair: str | None = None
        self.result: Compromise | None = None
        self.scores: list[float] = []
        self.message = css(w.HTML(""), "ib-ss-chair-message")
        forms = sorted(str(f.get("id")) for f in bank.records("form"))
        self.form = css(
            w.Dropdown(options=forms, value=forms[0] if forms else None, description="Form"),
            "ib-ss-chair-form",
        )
        self.folder = css(
            w.Text(
                value=os.environ.get("ITEMBANK_RESULTS", ""),
                description="Results",
                placeholder="the results folder (else $ITEMBANK_RESULTS)",
            ),
            "ib-ss-chair-folder",
        )
        self.compare = css(button("Compare pass marks"), "ib-ss-chair-compare")
        self.compare.on_click(self._safe(self._compare))
        self.table = css(w.HTML(""), "ib-ss-chair-table")
        self.chart = css(w.Image(format="png"), "ib-ss-chair-chart")
        self.chart.layout.display = "none"
        self.method = css(
            w.Dropdown(
                options=["angoff", "hofstee", "beuk", "chair"], value="angoff", description="Adopt"
            ),
            "ib-ss-chair-method",
        )
        self.mark = css(
            w.Text(description="Pass mark", placeholder="raw marks"), "ib-ss-chair-mark"
        )
        self.method.observe(lambda _: self._fill_mark(), names="value")
        self.reason = css(
            w.Textarea(placeholder="Why this pass mark (recorded with the decision)"),
            "ib-ss-chair-reason",
        )
        self.adopt_button = css(
            button("Adopt this pass mark", button_style="warning"), "ib-ss-chair-adopt"
        )
        self.adopt_button.on_click(self._safe(self._adopt))
        self.current = css(w.HTML(""), "ib-ss-chair-current")
        self.root = css(
            w.VBox(
                [
                    w.HTML("<h3>Review after a first administration</h3>"),
                    w.HBox([self.form, self.folder, self.compare]),
                    self.table,
                    self.chart,
                    self.current,
                    w.HBox([self.method, self.mark]),
                    self.reason,
                    self.adopt_button,
                    self.message,
                ]
            ),
            "ib-ss-chair",
        )

    def _fill_mark(self) -> None:
        if self.result is not None and self.method.value != "chair":
            figure = self.result.figure(str(self.method.value)).pass_mark
            self.mark.value = "" if figure is None else str(figure)

    def _compare(self) -> None:
        chair, exercise, form = self.chair, self.exercise(), self.form.value
        if chair is None or not exercise or not form:
            self._say("Choose one of your exercises and a form first.", "error")
            return
        folder = str(self.folder.value).strip() or None
        matrix = self.bank.results.matrix(str(form), folder)
        self.scores = [float(x) for x in matrix.totals]
        self.result = self.bank.standard_setting.compromise(exercise, form, self.scores, chair)
        adopted = self.bank.standard_setting.adopted(str(form))
        self.table.value = compromise_html(self.result)
        self.chart.value = figure_png(
            compromise_figure(self.result, adopted.pass_mark if adopted else None)
        )
        self.chart.layout.display = ""
        self._show_current()
        self._fill_mark()
        self._say("")

    def _show_current(self) -> None:
        adopted = self.bank.standard_setting.adopted(str(self.form.value))
        self.current.value = (
            f"<p class='ib-ss-adopted'>Adopted: <strong>{adopted.pass_mark:g}</strong> of "
            f"{adopted.max_score:g} ({html.escape(adopted.method)}) by "
            f"{html.escape(adopted.decided_by)}: {html.escape(adopted.reason)}</p>"
            if adopted
            else "<p class='ib-ss-adopted'>No pass mark has been adopted for this form.</p>"
        )

    def _adopt(self) -> None:
        chair, exercise, form = self.chair, self.exercise(), self.form.value
        if chair is None or self.result is None or not exercise:
            self._say("Compare the pass marks first.", "error")
            return
        mark = parse_percent(self.mark.value)
        adopted = self.bank.standard_setting.adopt(
            exercise,
            form,
            mark,
            self.method.value,
            str(self.reason.value),
            chair,
            scores=self.scores,
        )
        self._say(
            f"Adopted {adopted.pass_mark:g} for {adopted.form} (commit {adopted.commit[:10]}).",
            "ok",
        )
        self._compare()
        self._say(
            f"Adopted {adopted.pass_mark:g} for {adopted.form} (commit {adopted.commit[:10]}).",
            "ok",
        )
