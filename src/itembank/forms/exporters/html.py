"""Printable papers as HTML, rendered through nbconvert's template machinery: each document is a
notebook of raw HTML cells (every piece of writer text rendered from Markdown and sanitised),
turned into one self-contained page by the `paper` template (no scripts, no web fonts, nothing
fetched). For a form: the candidate paper (instructions, timings, no key) and, separately, the
answer key and marking scheme (rationales, standards). For a scenario: the candidate brief,
the actor briefs and the assessor's marking sheet, each its own document."""

from __future__ import annotations

import html as html_lib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from itembank.core.render import instruction, markdown_html, sanitise
from itembank.forms.exporters import Bundle, FormBundle, ScenarioBundle

Record = dict[str, Any]
TEMPLATES = Path(__file__).parent / "templates"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _e(text: object) -> str:
    return html_lib.escape(str(text))


def render_document(title: str, blocks: Sequence[str]) -> bytes:
    """One printable page from blocks of trusted HTML, via nbconvert's TemplateExporter."""
    import nbformat
    from nbconvert.exporters import TemplateExporter

    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_raw_cell(block) for block in blocks]  # type: ignore[no-untyped-call]
    exporter = TemplateExporter(  # type: ignore[no-untyped-call]
        extra_template_basedirs=[str(TEMPLATES)], template_name="paper", file_extension=".html"
    )
    output, _ = exporter.from_notebook_node(notebook, resources={"paper": {"title": title}})
    return str(output).encode("utf-8")


def _header(title: str, lines: Sequence[str], candidate_box: bool = False) -> str:
    parts = [f'<div class="ib-header"><h1>{_e(title)}</h1>']
    parts += [f"<p>{line}</p>" for line in lines]
    if candidate_box:
        parts.append('<div class="ib-candidate-box">Candidate name / number:</div>')
    parts.append("</div>")
    return "".join(parts)


def _numbered(bundle: FormBundle) -> list[tuple[int, Record, Record]]:
    """(question number, section, manifest entry) in the order the paper shows them."""
    out = []
    n = 0
    for section in bundle.manifest["sections"]:
        for entry in section["items"]:
            n += 1
            out.append((n, section, entry))
    return out


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


def candidate_paper(bundle: FormBundle) -> bytes:
    m = bundle.manifest
    blueprint = bundle.blueprint or {}
    title = str(blueprint.get("title", m["id"]))
    total = m["totals"]
    blocks = [
        _header(
            title,
            [
                f"<strong>Time allowed: {total.get('time_minutes', '?')} minutes.</strong> "
                f"{total['items']} questions; {total['max_score']:g} marks in all.",
                f'<span class="ib-meta">Form {_e(m["id"])}</span>',
            ],
            candidate_box=True,
        ),
        "<h2>Instructions</h2>"
        + markdown_html(
            blueprint.get(
                "instructions", "Answer every question. There is no penalty for a wrong answer."
            )
        )
        + "<p>Mark your answer by ticking or circling the letter of each option you choose. "
        "Where a question asks you to choose a number of answers, choosing more than that "
        "number scores no marks for that question.</p>",
    ]
    current = None
    for n, section, entry in _numbered(bundle):
        if section["id"] != current:
            current = section["id"]
            timing = f" ({section['time_minutes']} minutes)" if section.get("time_minutes") else ""
            block = f'<h2 class="ib-break">{_e(section["title"])}{_e(timing)}</h2>'
            if section.get("stimulus"):
                case = bundle.stimuli[section["stimulus"]]
                block += (
                    f"<h3>Case: {_e(case['title'])}</h3>"
                    f'<div class="ib-case">{markdown_html(case["text"])}</div>'
                    "<p><em>Answer the questions that follow about this case.</em></p>"
                )
            blocks.append(block)
        item = bundle.items[entry["id"]]
        blocks.append(
            f'<div class="ib-question"><p class="ib-qnum">Question {n}'
            f' <span class="ib-meta">({float(entry["max_score"]):g} mark'
            f"{'s' if float(entry['max_score']) != 1 else ''})</span></p>"
            f"{markdown_html(item['stem'])}"
            f'<p class="ib-instruction">{_e(instruction(item))}</p>'
            f"{_options_html(item, entry['option_order'])}</div>"
        )
    blocks.append('<p class="ib-end">End of the paper</p>')
    return render_document(f"{title}: candidate paper ({m['id']})", blocks)


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
    for n, _section, entry in _numbered(bundle):
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
    return render_document(f"{title}: answer key ({m['id']})", blocks)


# ---- scenarios --------------------------------------------------------------------------------


def _scenario_header(bundle: ScenarioBundle, what: str, lines: Sequence[str]) -> str:
    s = bundle.scenario
    return _header(f"{s['title']}", [f"<strong>{_e(what)}</strong>", *lines])


def candidate_brief(bundle: ScenarioBundle) -> bytes:
    s = bundle.scenario
    blocks = [
        _scenario_header(
            bundle,
            "Candidate brief",
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
    return render_document(f"{s['title']}: candidate brief", blocks)


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
    return render_document(f"{s['title']}: actor briefs", blocks)


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
    return render_document(f"{s['title']}: marking sheet", blocks)


def documents(bundle: Bundle) -> dict[str, bytes]:
    """Every paper for a form or a scenario, as HTML."""
    if isinstance(bundle, FormBundle):
        ident = bundle.manifest["id"]
        return {
            f"{ident}-candidate-paper.html": candidate_paper(bundle),
            f"{ident}-answer-key.html": answer_key(bundle),
        }
    ident = bundle.scenario["id"]
    return {
        f"{ident}-candidate-brief.html": candidate_brief(bundle),
        f"{ident}-actor-briefs.html": actor_briefs(bundle),
        f"{ident}-marking-sheet.html": marking_sheet(bundle),
    }


def export(bundle: Bundle) -> dict[str, bytes]:
    return documents(bundle)


__all__ = ["documents", "export", "render_document", "sanitise"]
