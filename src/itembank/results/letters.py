"""A candidate's results letter as one self-contained, accessible HTML page (printed to PDF by
the papers' chromium): the decision, each part's outcome, what was assessed, strengths,
development points with suggested learning, and how to read them.

Accessible as the papers' accessible variant is: the page's language set, one h1 and headings
in order (h1 > h2 > h3 > h4), lists rather than tables for layout, black on white (21:1), no
scripts, nothing fetched. Print CSS puts the letter's reference and "Page n of N" on every
page; a DRAFT letter says so in a banner at the top of every printed page and of the screen.

What is shown, and why (docs/results.md, "Candidate letters"): met / not met, never a grade or
a rank; the candidate's own knowledge score and the pass mark in raw marks, because the
decision follows from them and the evaluation of the live scheme asked for transparency (it is
the candidate's own data); no percentage, percentile or comparison with others. Simulated
practice criteria are named by scenario and criterion number, not by their titles, which name
the people of a live case. Nothing here reads item text: the words come from the decision
rule, the framework's headings and approved learning points.

Pure: a CandidateFeedback in, bytes out; the same feedback gives the same bytes."""

from __future__ import annotations

import html as html_lib
from collections.abc import Sequence

from itembank.core.render import css_string
from itembank.results.outcomes import CandidateFeedback, Decision, Point

DRAFT = "DRAFT: not released, not a result"

PAGE = """
@page {
  size: A4; margin: 20mm 18mm 20mm 18mm;
  @bottom-left { content: "%s"; font-family: "DejaVu Sans Mono", monospace;
    font-size: 9pt; color: #000; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; color: #000; }
  %s
}"""
STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-variant-ligatures: none;
    font-size: 12pt; line-height: 1.5; color: #000; background: #fff; max-width: 44em;
    margin: 0 auto; padding: 0 1em; }
h1 { font-size: 19pt; margin: 0.4em 0 0.3em 0; }
h2 { font-size: 15pt; border-bottom: 1px solid #000; padding-bottom: 2px; margin-top: 1.5em;
    break-after: avoid; }
h3 { font-size: 13pt; margin: 1.1em 0 0.3em 0; break-after: avoid; }
h4 { font-size: 12pt; margin: 0.8em 0 0.2em 0; break-after: avoid; }
.ib-letter-head { border: 2px solid #000; padding: 0.5em 0.9em; }
.ib-letter-head p { margin: 0.15em 0; }
.ib-outcome { font-size: 15pt; font-weight: bold; }
.ib-point, .ib-learning li { break-inside: avoid; }
.ib-draft { border: 3px solid #a40000; color: #a40000; font-weight: bold; padding: 0.3em 0.6em;
    margin: 0.5em 0; }
:focus { outline: 3px solid #000; outline-offset: 2px; }
"""
_DRAFT_BOX = (
    '@top-center { content: "%s"; font-family: "DejaVu Sans", Arial, sans-serif; '
    "font-size: 14pt; font-weight: bold; color: #a40000; }"
)


def page_css(footer: str, top: str = "") -> str:
    """The printed page: A4, `footer` and "Page n of N" at the foot of every page, and an
    optional top margin box (a DRAFT mark). Shared by letters and employer reports."""
    return PAGE % (css_string(footer), top)


def _e(text: object) -> str:
    return html_lib.escape(str(text))


def marks(value: float) -> str:
    """A mark as a person writes it: 21, 17.5 (no false precision: one decimal at most)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def outcome_word(met: bool | None) -> str:
    return {True: "Met", False: "Not met", None: "Awaiting a mark"}[met]


def _parts(decision: Decision) -> list[str]:
    """Each part's outcome: the knowledge score against the pass mark, then each simulated
    practice criterion by number (their titles name a live case's people)."""
    d = decision
    out = [
        "<h2>Your result in each part</h2>",
        "<h3>Knowledge assessment</h3>",
        f'<p class="ib-knowledge">{outcome_word(d.knowledge_met)}. You scored '
        f"{marks(d.knowledge_score)} out of {marks(d.knowledge_max)} marks; the pass mark, set "
        f"by standard setting, was {marks(d.pass_mark.pass_mark)} marks.</p>",
    ]
    if d.practice:
        out.append("<h3>Simulated practice</h3>")
        numbers = {s: n for n, s in enumerate(dict.fromkeys(m.scenario for m in d.practice), 1)}
        rows = []
        for mark in d.practice:
            criterion = _e(mark.criterion)
            rows.append(
                f"<li>Scenario {numbers[mark.scenario]}, criterion {criterion}: "
                f"{outcome_word(mark.met)}</li>"
            )
        out.append(f'<ul class="ib-practice">{"".join(rows)}</ul>')
    return out


def _learning(point: Point) -> str:
    if not point.learning:
        return ""
    rows = "".join(f"<li><strong>{_e(t.title)}</strong>. {_e(t.text)}</li>" for t in point.learning)
    return f'<h4>Suggested learning</h4><ul class="ib-learning">{rows}</ul>'


def _points(points: Sequence[Point], development: bool) -> list[str]:
    out = []
    for p in points:
        extra = _learning(p) if development else ""
        out.append(f'<div class="ib-point"><h3>{_e(p.title)}</h3><p>{_e(p.words)}</p>{extra}</div>')
    return out


def letter_html(
    feedback: CandidateFeedback,
    *,
    bank_title: str,
    form_title: str,
    draft: bool = False,
) -> bytes:
    """One candidate's letter (see the module note). `draft` marks every page DRAFT."""
    d = feedback.decision
    reference = f"{d.administration} / {d.candidate}"
    top = _DRAFT_BOX % css_string(DRAFT) if draft else ""
    style = page_css(f"Results letter {reference}", top) + STYLE
    title = f"{'DRAFT: ' if draft else ''}Your result: {form_title} ({d.administration})"
    body = [f'<p class="ib-draft" role="note">{_e(DRAFT)}</p>'] if draft else []
    body += [
        '<div class="ib-letter-head">',
        f"<p>{_e(bank_title)}</p>",
        f"<p>Candidate: {_e(d.candidate)}</p>",
        f"<p>Assessment: {_e(form_title)}, administration {_e(d.administration)}</p>",
        "</div>",
        "<main>",
        f"<h1>Your result: {outcome_word(d.met)}</h1>",
        f'<p class="ib-outcome">{"You have met" if d.met else "You have not met"} the '
        "standard for accreditation in this assessment.</p>",
        f"<p>{_e(d.rule)}</p>",
        *_parts(d),
        "<h2>What was assessed</h2>",
        '<ul class="ib-assessed">' + "".join(f"<li>{_e(a)}</li>" for a in feedback.assessed),
        "</ul>",
        "<h2>Your strengths</h2>",
    ]
    body += _points(feedback.strengths, False) or [
        "<p>No area stood out above your own overall level by more than the test can measure "
        "reliably. That is common: a short test says most about your overall level.</p>"
    ]
    body.append("<h2>Development points and suggested learning</h2>")
    body += _points(feedback.development, True) or [
        "<p>The assessment gives no evidence of a specific development gap: no area was clearly "
        "below your own overall level or the standard expected, given the uncertainty of a "
        "short test.</p>"
    ]
    if feedback.notes:
        body.append("<h2>Notes on this feedback</h2>")
        body.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in feedback.notes) + "</ul>")
    body.append("<h2>How to read this letter</h2>")
    body += [f"<p>{_e(p)}</p>" for p in feedback.how_to_read.split("\n\n") if p.strip()]
    body.append("</main>")
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    ).encode("utf-8")


def letter_name(candidate: str) -> str:
    """The letter's file name (the id is checked as a file-safe name by the caller)."""
    return f"{candidate}.html"


__all__ = ["DRAFT", "letter_html", "letter_name", "marks", "outcome_word", "page_css"]
