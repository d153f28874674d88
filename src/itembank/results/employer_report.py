"""An employer's thematic report as one self-contained, accessible HTML page (printed to PDF by
the papers' chromium): its candidates' results against each standard or group beside the
national figure, the strengths and development themes across its workforce, the change since
its earlier administrations, and a chart of the same figures.

Nothing singles out a candidate: the report is built from an EmployerReport, which holds only
counts and shares; a row (or the whole employer) under the bank's minimum group size is shown
as "fewer than N candidates" with no figure, in the table and in the chart alike. The chart is
matplotlib SVG made deterministic (a fixed svg.hashsalt, no date, text kept as text), embedded
inline, so the same report gives the same bytes.

Pure: an EmployerReport in, bytes out."""

from __future__ import annotations

import html as html_lib
import io
import re

from itembank.results.letters import page_css
from itembank.results.outcomes import EmployerReport, ThemeRow

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-variant-ligatures: none;
    font-size: 11pt; line-height: 1.45; color: #000; background: #fff; max-width: 50em;
    margin: 0 auto; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0.4em 0 0.3em 0; }
h2 { font-size: 14pt; border-bottom: 1px solid #000; padding-bottom: 2px; margin-top: 1.4em;
    break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
caption { text-align: left; font-weight: bold; margin-bottom: 0.3em; }
th, td { border: 1px solid #000; padding: 0.25em 0.45em; text-align: left; vertical-align: top;
    }
td.n { text-align: right; }
tr { break-inside: avoid; }
figure { margin: 1em 0; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
"""
EMPLOYER_BAR = "#1f4e79"
NATIONAL_BAR = "#9e9e9e"


def _e(text: object) -> str:
    return html_lib.escape(str(text))


def fewer(minimum: int) -> str:
    return f"fewer than {minimum} candidates"


def percent(share: float | None) -> str:
    return "" if share is None else f"{round(share * 100):d}%"


def change_words(change: float | None) -> str:
    """A change in share as percentage points, in words (no decimals: groups are small)."""
    if change is None:
        return "not available"
    points = round(change * 100)
    if points == 0:
        return "no change"
    return (
        f"{'up' if points > 0 else 'down'} {abs(points)} percentage point{'s' * (abs(points) != 1)}"
    )


def _headcount(r: EmployerReport, shown: bool) -> str:
    """How many were assessed and met. The met count is left out when it is none or all of
    them: it would then tell the employer every one of its candidates' results."""
    if not shown or r.candidates is None:
        return (
            f"<p>{_e(fewer(r.min_group).capitalize())} of your staff were assessed: no figures "
            "are given, so that no one can be identified.</p>"
        )
    if r.met is None or r.met in (0, r.candidates):
        return (
            f"<p>{r.candidates} of your staff were assessed. How many met the standard is not "
            "given here: with none or all of them it would tell you each person's result, "
            "which is theirs to share.</p>"
        )
    return f"<p>{r.candidates} of your staff were assessed; {r.met} met the standard.</p>"


def _row(row: ThemeRow, minimum: int) -> str:
    if row.suppressed or row.candidates is None:
        cells = [
            _e(row.title),
            fewer(minimum),
            "no figure",
            percent(row.national_share_met),
            "",
            "",
        ]
    else:
        cells = [
            _e(row.title),
            str(row.candidates),
            percent(row.share_met),
            percent(row.national_share_met),
            change_words(row.change),
            _e(row.theme),
        ]
    tds = "".join(
        f'<td class="n">{c}</td>' if i in (1, 2, 3) else f"<td>{c}</td>"
        for i, c in enumerate(cells[1:], 1)
    )
    return f'<tr><th scope="row">{cells[0]}</th>{tds}</tr>'


def chart_svg(report: EmployerReport) -> str:
    """Bars of the employer's share meeting the expectation beside the national share, per
    standard or group; suppressed rows are labelled "fewer than N" with no bar. Deterministic
    SVG (svg.hashsalt fixed, no date metadata, text as text)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = list(report.rows)
    height = max(2.2, 0.45 * len(rows) + 1.2)
    with matplotlib.rc_context(
        {"svg.hashsalt": "itembank-employer-report", "svg.fonttype": "none", "font.size": 9}
    ):
        figure = Figure(figsize=(7.0, height))
        axes = figure.add_subplot()
        ys = list(range(len(rows)))[::-1]
        for y, row in zip(ys, rows, strict=True):
            if row.suppressed or row.share_met is None:
                axes.text(0.01, y, fewer(report.min_group), va="center", fontsize=8)
            else:
                axes.barh(y + 0.18, row.share_met, height=0.36, color=EMPLOYER_BAR)
            if row.national_share_met is not None:
                axes.barh(y - 0.18, row.national_share_met, height=0.36, color=NATIONAL_BAR)
        axes.set_yticks(ys, [r.title for r in rows])
        axes.set_xlim(0, 1)
        axes.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
        axes.set_xlabel("share of candidates at or above the expectation")
        handles = [Patch(color=EMPLOYER_BAR, label=report.employer),
                   Patch(color=NATIONAL_BAR, label="national")]  # fmt: skip
        axes.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2,
                    fontsize=8, frameon=False)  # fmt: skip
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    svg = out.getvalue()
    svg = re.sub(r"^.*?(<svg\b)", r"\1", svg, count=1, flags=re.DOTALL)  # no XML prolog inline
    return svg.replace("<svg ", '<svg role="img" aria-labelledby="ib-chart-caption" ', 1)


def report_html(report: EmployerReport, *, bank_title: str, form_title: str) -> bytes:
    """The employer's thematic report (see the module note)."""
    r = report
    shown = r.candidates is not None and r.candidates >= r.min_group
    style = page_css(f"Thematic report {r.employer}") + STYLE
    admins = ", ".join(r.administrations)
    body = [
        f"<p>{_e(bank_title)}</p>",
        "<main>",
        f"<h1>Thematic report: {_e(r.employer)}</h1>",
        f"<p>Assessment: {_e(form_title)}; administration(s): {_e(admins)}.</p>",
        _headcount(r, shown),
        "<h2>Strengths across your workforce</h2>",
        "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in r.strengths) + "</ul>"
        if r.strengths
        else "<p>No standard stands out above the national picture by more than chance.</p>",
        "<h2>Development themes across your workforce</h2>",
        "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in r.development_themes) + "</ul>"
        if r.development_themes
        else "<p>No standard is below the national picture by more than chance.</p>",
        "<h2>Results against each standard</h2>",
        "<table><caption>Share of your candidates at or above the expectation on each "
        "standard or group, beside the national share</caption>",
        '<thead><tr><th scope="col">Standard or group</th><th scope="col">Candidates</th>'
        '<th scope="col">Your share</th><th scope="col">National share</th>'
        '<th scope="col">Change since earlier administrations</th>'
        '<th scope="col">Theme</th></tr></thead>',
        "<tbody>" + "".join(_row(row, r.min_group) for row in r.rows) + "</tbody></table>",
    ]
    if r.rows:
        body += [
            '<figure><figcaption id="ib-chart-caption">Your share (dark) and the national '
            "share (grey) at or above the expectation, per standard or group; the same "
            "figures as the table.</figcaption>",
            chart_svg(r),
            "</figure>",
        ]
    body.append("<h2>How to read this report</h2>")
    body.append(
        f"<p>Only groups of at least {r.min_group} candidates are given a figure; a smaller "
        "group is shown as fewer than that number, so that no candidate can be identified. A "
        "theme is named only where the difference from the national picture is larger than "
        "chance alone would give for a group of that size. No individual question is shown.</p>"
    )
    if r.notes:
        body.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in r.notes) + "</ul>")
    body.append("</main>")
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Thematic report: {_e(r.employer)} ({_e(admins)})</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    ).encode("utf-8")


__all__ = ["change_words", "chart_svg", "fewer", "percent", "report_html"]
