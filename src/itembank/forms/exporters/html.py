"""Printable papers as HTML, rendered through nbconvert's template machinery: each document is a
notebook of raw HTML cells (every piece of writer text rendered from Markdown and sanitised),
turned into one self-contained page by the `paper` template (no scripts, no web fonts, nothing
fetched). For a form: the candidate paper (instructions written from the formats on it, timings,
no key) and, separately, the answer key and marking scheme (rationales, standards). For a
scenario: the candidate brief, the actor briefs and the assessor's marking sheet, each its own
document. Every page of a printed document carries its id and "Page n of N" (CSS paged media).
Variants for candidates who need a reasonable adjustment: large print (this module) and the
accessible HTML and plain text (`accessible`)."""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from itembank.core.render import css_string, instruction, markdown_html, sanitise
from itembank.forms.exporters import Bundle, FormBundle, Progress, ScenarioBundle
from itembank.forms.exporters.instructions import Medium, answer_rules, numbered

Record = dict[str, Any]
#: progress(stage, done, total): called as each document is rendered (see export()).
TEMPLATES = Path(__file__).parent / "templates"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The candidate documents' variants: the standard paper and the reasonable adjustments.
VARIANTS = ("standard", "large-print", "accessible")


def _e(text: object) -> str:
    return html_lib.escape(str(text))


def render_document(
    title: str, blocks: Sequence[str], footer: str = "", large_print: bool = False
) -> bytes:
    """One printable page from blocks of trusted HTML, via nbconvert's TemplateExporter. The
    footer names the document on every printed page, beside its page number."""
    import nbformat
    from nbconvert.exporters import TemplateExporter

    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_raw_cell(block) for block in blocks]  # type: ignore[no-untyped-call]
    exporter = TemplateExporter(  # type: ignore[no-untyped-call]
        extra_template_basedirs=[str(TEMPLATES)], template_name="paper", file_extension=".html"
    )
    resources = {
        "paper": {"title": title, "footer": css_string(footer), "large_print": large_print}
    }
    output, _ = exporter.from_notebook_node(notebook, resources=resources)
    return str(output).encode("utf-8")


def _header(title: str, lines: Sequence[str], candidate_box: bool = False) -> str:
    parts = [f'<div class="ib-header"><h1>{_e(title)}</h1>']
    parts += [f"<p>{line}</p>" for line in lines]
    if candidate_box:
        parts.append('<div class="ib-candidate-box">Candidate name / number:</div>')
    parts.append("</div>")
    return "".join(parts)


def _options_html(item: Mapping[str, Any], order: Sequence[str]) -> str:
    options = {str(o["id"]): o for o in item["options"]}
    if item["format"] == "multiple_true_false":
        rows = "".join(
            f"<tr><td>{LETTERS[k]}</td><td>{markdown_html(options[sid]['text'])}</td>"
            '<td class="ib-tick">&#9744;</td><td class="ib-tick">&#9744;</td></tr>'
            for k, sid in enumerate(order)
        )
        return (
            "<table><thead><tr><th></th><th>Statement</th><th>True</th><th>False</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
    rows = "".join(
        f'<li><span class="ib-box">{LETTERS[k]}</span>'
        f'<span class="ib-option-text">{markdown_html(options[oid]["text"])}</span></li>'
        for k, oid in enumerate(order)
    )
    return f'<ol class="ib-options">{rows}</ol>'


def how_to_answer(bundle: FormBundle, medium: Medium = "paper") -> str:
    """The generated part of the instructions: one list entry per format and case on the form."""
    rules = answer_rules(bundle.manifest, bundle.items, bundle.stimuli, medium)
    return (
        '<h3>How to answer</h3><ul class="ib-rules">'
        + "".join(f"<li>{_e(rule)}</li>" for rule in rules)
        + "</ul>"
    )


def candidate_paper(bundle: FormBundle, large_print: bool = False) -> bytes:
    """The paper a candidate sits: cover, instructions, then each section (a case before its
    questions). Large print puts each question on its own page and says which case it is on."""
    m = bundle.manifest
    blueprint = bundle.blueprint or {}
    title = str(blueprint.get("title", m["id"]))
    total = m["totals"]
    edition = " (large print)" if large_print else ""
    blocks = [
        _header(
            title + edition,
            [
                f"<strong>Time allowed: {total.get('time_minutes', '?')} minutes.</strong> "
                f"{total['items']} questions; {total['max_score']:g} marks in all.",
                f'<span class="ib-meta">Form {_e(m["id"])}{_e(edition)}</span>',
            ],
            candidate_box=True,
        ),
        "<h2>Instructions</h2>"
        + markdown_html(
            blueprint.get(
                "instructions", "Answer every question. There is no penalty for a wrong answer."
            )
        )
        + how_to_answer(bundle),
    ]
    current = None
    case_title = ""
    for n, section, entry in numbered(m):
        if section["id"] != current:
            current = section["id"]
            case_title = ""
            timing = f" ({section['time_minutes']} minutes)" if section.get("time_minutes") else ""
            block = f'<h2 class="ib-break">{_e(section["title"])}{_e(timing)}</h2>'
            if section.get("stimulus"):
                case = bundle.stimuli[section["stimulus"]]
                case_title = f"{case['title']}, printed before question {n}"
                block += (
                    f"<h3>Case: {_e(case['title'])}</h3>"
                    f'<div class="ib-case">{markdown_html(case["text"])}</div>'
                    "<p><em>Answer the questions that follow about this case.</em></p>"
                )
            blocks.append(block)
        item = bundle.items[entry["id"]]
        about = (
            f'<p class="ib-instruction">This question is about the case: {_e(case_title)}.</p>'
            if large_print and case_title
            else ""
        )
        blocks.append(
            f'<div class="ib-question"><p class="ib-qnum">Question {n}'
            f' <span class="ib-meta">({float(entry["max_score"]):g} mark'
            f"{'s' if float(entry['max_score']) != 1 else ''})</span></p>{about}"
            f"{markdown_html(item['stem'])}"
            f'<p class="ib-instruction">{_e(instruction(item))}</p>'
            f"{_options_html(item, entry['option_order'])}</div>"
        )
    blocks.append('<p class="ib-end">End of the paper</p>')
    return render_document(
        f"{title}: candidate paper{edition} ({m['id']})",
        blocks,
        footer=f"Form {m['id']}",
        large_print=large_print,
    )


def _key_text(key: Any) -> str:
    if isinstance(key, Mapping):
        return ", ".join(f"{k} {'true' if v else 'false'}" for k, v in key.items())
    return ", ".join(str(k) for k in key)


def _rule_text(item: Mapping[str, Any]) -> str:
    rule, fmt = item["scoring"]["rule"], item["format"]
    top = float(item["scoring"]["max_score"])
    if rule == "partial_credit" and fmt == "multiple_response":
        return (
            f"{top:g} x keys chosen / {len(item['key'])}; more than "
            f"{item['select_count']} chosen scores 0"
        )
    if rule == "partial_credit" and fmt == "multiple_true_false":
        return f"{top:g} x statements right / {len(item['key'])}"
    return f"{top:g} for exactly the key, else 0"


def answer_key(bundle: FormBundle) -> bytes:
    m = bundle.manifest
    blueprint = bundle.blueprint or {}
    title = str(blueprint.get("title", m["id"]))
    rows = []
    details = []
    for n, _section, entry in numbered(bundle.manifest):
        item = bundle.items[entry["id"]]
        standards = "; ".join(
            _e(
                f"{s['statement']} {bundle.titles.get((s['framework'], s['statement']), '')}"
            ).strip()
            for s in item["standards"]
        )
        rows.append(
            f"<tr><td>{n}</td><td>{_e(entry['id'])}</td>"
            f'<td class="ib-key">{_e(_key_text(entry["key"]))}</td>'
            f"<td>{_e(_rule_text(item))}</td><td>{standards}</td></tr>"
        )
        options = {str(o["id"]): o for o in item["options"]}
        option_notes = "".join(
            f"<li><strong>{LETTERS[k]}</strong>: {markdown_html(options[oid]['rationale'])}</li>"
            for k, oid in enumerate(entry["option_order"])
        )
        refs = ", ".join(_e(r) for r in item.get("references", [])) or "none"
        details.append(
            f'<div class="ib-question"><h3>Question {n} ({_e(entry["id"])}): key '
            f"{_e(_key_text(entry['key']))}</h3>"
            f'<div class="ib-rationale">{markdown_html(item["rationale"])}</div>'
            f'<ul class="ib-small">{option_notes}</ul>'
            f'<p class="ib-small"><strong>Standards:</strong> {standards}. '
            f"<strong>References:</strong> {refs}.</p></div>"
        )
    total = m["totals"]
    blocks = [
        _header(
            f"{title}: answer key and marking scheme",
            [
                "<strong>CONFIDENTIAL: for markers only. Do not give to candidates.</strong>",
                f"Form {_e(m['id'])}: {total['items']} questions, {total['max_score']:g} marks. "
                "Keys use the letters printed on this form's candidate paper.",
                f'<span class="ib-meta">Blueprint {_e(m["blueprint"])}, seed {m["seed"]}, '
                f"bank commit {_e(m['bank_commit'][:12])}</span>",
            ],
        ),
        "<h2>Answer key</h2><table><thead><tr><th>Q</th><th>Item</th><th>Key</th>"
        "<th>Marking</th><th>Standards</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>",
        '<h2 class="ib-break">Marking scheme: rationales</h2>',
        *details,
    ]
    return render_document(
        f"{title}: answer key ({m['id']})",
        blocks,
        footer=f"Form {m['id']}: answer key (confidential)",
    )


# ---- scenarios --------------------------------------------------------------------------------


def _scenario_header(bundle: ScenarioBundle, what: str, lines: Sequence[str]) -> str:
    s = bundle.scenario
    return _header(f"{s['title']}", [f"<strong>{_e(what)}</strong>", *lines])


def candidate_brief(bundle: ScenarioBundle, large_print: bool = False) -> bytes:
    s = bundle.scenario
    edition = " (large print)" if large_print else ""
    blocks = [
        _scenario_header(
            bundle,
            "Candidate brief" + edition,
            [f"Scenario {_e(s['id'])}"],
        ),
        "<h2>Background</h2>" + markdown_html(s["background"]),
    ]
    for exercise in s["exercises"]:
        blocks.append(
            f'<h2>{_e(exercise["title"])}</h2><p class="ib-meta">Preparation: '
            f"{exercise.get('preparation_minutes', 0)} minutes. Exercise: "
            f"{exercise.get('duration_minutes', '?')} minutes.</p>"
            + markdown_html(exercise["candidate_brief"])
        )
    if s.get("reflective"):
        blocks.append(
            f"<h2>Reflective assessment ({s['reflective'].get('duration_minutes', '?')} "
            f"minutes)</h2>" + markdown_html(s["reflective"]["prompt"])
        )
    if s.get("written"):
        blocks.append(
            f"<h2>Written assessment ({s['written'].get('duration_minutes', '?')} minutes)</h2>"
            + markdown_html(s["written"]["task"])
        )
    return render_document(
        f"{s['title']}: candidate brief{edition}",
        blocks,
        footer=f"Scenario {s['id']}: candidate brief",
        large_print=large_print,
    )


def _list(values: Any) -> str:
    if isinstance(values, str):
        return markdown_html(values)
    if isinstance(values, list):
        items = []
        for v in values:
            if isinstance(v, Mapping):
                items.append(
                    "<li>"
                    + " ".join(
                        f"<strong>{_e(k.replace('_', ' ').capitalize())}:</strong> "
                        f"{markdown_html(val)}"
                        for k, val in v.items()
                    )
                    + "</li>"
                )
            else:
                items.append(f"<li>{markdown_html(v)}</li>")
        return "<ul>" + "".join(items) + "</ul>"
    return markdown_html(values)


def actor_briefs(bundle: ScenarioBundle) -> bytes:
    s = bundle.scenario
    blocks = [
        _scenario_header(
            bundle,
            "Actor briefs",
            ["<strong>For the actors only. Do not give to candidates.</strong>"],
        )
    ]
    for exercise in s["exercises"]:
        for k, brief in enumerate(exercise.get("actor_briefs", [])):
            parts = [f'<h2{" class=ib-break" if blocks[1:] else ""}>'
                     f"{_e(exercise['title'])}: actor {k + 1}</h2>"]  # fmt: skip
            for field, value in brief.items():
                parts.append(f"<h3>{_e(field.replace('_', ' ').capitalize())}</h3>{_list(value)}")
            blocks.append("".join(parts))
    return render_document(
        f"{s['title']}: actor briefs", blocks, footer=f"Scenario {s['id']}: actor briefs"
    )


def marking_sheet(bundle: ScenarioBundle) -> bytes:
    s = bundle.scenario
    scheme = s["marking_scheme"]
    blocks = [
        _scenario_header(
            bundle,
            "Assessor's marking sheet",
            [
                "<strong>For assessors only.</strong>",
                '<div class="ib-candidate-box">Candidate:</div>'
                '<div class="ib-candidate-box">Assessor and date:</div>',
            ],
        )
    ]
    for criterion in scheme["criteria"]:
        standards = "; ".join(
            _e(
                f"{m['statement']} {bundle.titles.get((m['framework'], m['statement']), '')}"
            ).strip()
            for m in criterion.get("standards", [])
        )
        bands = "".join(
            f'<tr><td class="ib-tick">&#9744; {_e(b["score"])}</td><td><strong>'
            f"{_e(b['label'])}</strong>{markdown_html(b['descriptor'])}</td></tr>"
            for b in criterion["bands"]
        )
        applies = ", ".join(_e(a) for a in criterion.get("applies_to", []))
        blocks.append(
            f'<div class="ib-question"><h3>{_e(criterion["id"])}: {_e(criterion["title"])}</h3>'
            f'<p class="ib-small">Applies to: {applies}. Standards: {standards}.</p>'
            f"<table><tbody>{bands}</tbody></table>"
            '<div class="ib-candidate-box">Evidence noted:</div></div>'
        )
    if scheme.get("pass_rule"):
        blocks.append("<h2>Pass rule</h2>" + markdown_html(scheme["pass_rule"]))
    for key, title in (("mixed_evidence", "Mixed evidence"), ("second_marking", "Second marking")):
        if scheme.get(key):
            blocks.append(f"<h2>{title}</h2>" + markdown_html(scheme[key]))
    return render_document(
        f"{s['title']}: marking sheet", blocks, footer=f"Scenario {s['id']}: marking sheet"
    )


def documents(
    bundle: Bundle, variant: str = "standard", progress: Progress | None = None
) -> dict[str, bytes]:
    """Every paper for a form or a scenario, as HTML: the standard set (the candidate's paper
    and, separately, what markers, actors and assessors use) or, for a reasonable adjustment,
    only the candidate's document in that variant ("large-print", or "accessible": HTML for a
    screen reader and plain text). The answer key of the standard set fits every variant: the
    option letters are the same. progress("render", done, total) follows each document."""
    from itembank.forms.exporters import accessible

    if variant not in VARIANTS:
        raise ValueError(f"unknown paper variant {variant!r}: one of {', '.join(VARIANTS)}")
    builders: list[tuple[str, Callable[[], bytes]]]
    if isinstance(bundle, FormBundle):
        ident, form = bundle.manifest["id"], bundle
        builders = {
            "standard": [
                (f"{ident}-candidate-paper.html", lambda: candidate_paper(form)),
                (f"{ident}-answer-key.html", lambda: answer_key(form)),
            ],
            "large-print": [
                (f"{ident}-candidate-paper-large-print.html", lambda: candidate_paper(form, True))
            ],
            "accessible": [
                (f"{ident}-candidate-paper-accessible.html", lambda: accessible.paper(form)),
                (f"{ident}-candidate-paper.txt", lambda: accessible.paper_text(form)),
            ],
        }[variant]
    else:
        ident, scenario = bundle.scenario["id"], bundle
        builders = {
            "standard": [
                (f"{ident}-candidate-brief.html", lambda: candidate_brief(scenario)),
                (f"{ident}-actor-briefs.html", lambda: actor_briefs(scenario)),
                (f"{ident}-marking-sheet.html", lambda: marking_sheet(scenario)),
            ],
            "large-print": [
                (
                    f"{ident}-candidate-brief-large-print.html",
                    lambda: candidate_brief(scenario, True),
                )
            ],
            "accessible": [
                (f"{ident}-candidate-brief-accessible.html", lambda: accessible.brief(scenario)),
                (f"{ident}-candidate-brief.txt", lambda: accessible.brief_text(scenario)),
            ],
        }[variant]
    out = {}
    for done, (name, build) in enumerate(builders):
        if progress:
            progress("render", done, len(builders))
        out[name] = build()
    if progress:
        progress("render", len(builders), len(builders))
    return out


def export(
    bundle: Bundle, variant: str = "standard", progress: Progress | None = None
) -> dict[str, bytes]:
    """The html exporter: documents() as they are."""
    return documents(bundle, variant, progress)


__all__ = [
    "VARIANTS",
    "candidate_paper",
    "css_string",
    "documents",
    "export",
    "how_to_answer",
    "render_document",
    "sanitise",
]
