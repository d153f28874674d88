"""The candidate's paper for a screen reader (a reasonable adjustment): one self-contained HTML
file with the page's language set, a heading for every section, case and question in order
(h1 > h2 > h3), each question a fieldset whose legend says what to do, and every option a
native radio button or checkbox with its own label (a true/false statement is a fieldset of
its own with True and False), so a screen reader announces the question, the option and its
state. No tables for layout, no scripts, nothing fetched; the style sheet only enlarges and
outlines, so the page reads the same without it. Nothing is saved or sent: the candidate
gives their answers as the centre arranges (a scribe, or a printout showing the selections).

The plain-text variant is the same document for typing answers: the answer options as letters,
the instructions telling the candidate to write letters, converted to wrapped text."""

from __future__ import annotations

import html as html_lib
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from itembank.core.render import instruction, markdown_html
from itembank.forms.exporters import FormBundle, ScenarioBundle
from itembank.forms.exporters.instructions import Medium, answer_rules, numbered

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STYLE = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:1.25rem;line-height:1.6;"
    "max-width:48em;margin:0 auto;padding:1em;color:#000;background:#fff}"
    "fieldset{border:2px solid #000;margin:1em 0;padding:0.5em 1em}"
    "legend{font-weight:bold}.ib-option{margin:0.5em 0}"
    "input{width:1.3em;height:1.3em;vertical-align:middle;margin-right:0.5em}"
    ":focus{outline:3px solid #000;outline-offset:2px}"
)
_BLOCK = re.compile(
    r"</?(p|ul|ol|li|blockquote|h3|h4|pre|div|table|thead|tbody|tr|th|td|hr)\b[^>]*>"
)


def _e(text: object) -> str:
    return html_lib.escape(str(text))


def inline(text: object) -> str:
    """Writer Markdown as phrasing content (for a label or legend, where blocks are invalid):
    a single paragraph unwrapped, anything else with its block tags turned into spaces."""
    rendered = markdown_html(text).strip()
    single = re.fullmatch(r"<p>(.*)</p>", rendered, re.DOTALL)
    if single and "<p>" not in single.group(1):
        return single.group(1)
    return re.sub(r"\s+", " ", _BLOCK.sub(" ", rendered)).strip()


def _page(title: str, body: Sequence[str]) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    ).encode("utf-8")


def _choices(q: str, item: Mapping[str, Any], order: Sequence[str], medium: Medium) -> str:
    """The answer controls of one question (screen) or its lettered options (text)."""
    options = {str(o["id"]): o for o in item["options"]}
    fmt = item["format"]
    legend = f"<legend>Question {q[1:]}: {_e(instruction(item))}</legend>"
    if medium == "text":
        if fmt == "multiple_true_false":
            rows = "".join(
                f"<li>Statement {LETTERS[k]}: {inline(options[sid]['text'])} (True or False?)</li>"
                for k, sid in enumerate(order)
            )
        else:
            rows = "".join(
                f"<li>{LETTERS[k]}. {inline(options[oid]['text'])}</li>"
                for k, oid in enumerate(order)
            )
        return (
            f"<p>{_e(instruction(item))}</p><ul>{rows}</ul><p>Your answer to question {q[1:]}:</p>"
        )
    if fmt == "multiple_true_false":
        groups = []
        for k, sid in enumerate(order):
            name = f"{q}-{LETTERS[k]}"
            controls = "".join(
                f'<div class="ib-option"><input type="radio" name="{name}" '
                f'id="{name}-{value.lower()}" value="{value.lower()}"> '
                f'<label for="{name}-{value.lower()}">{value}</label></div>'
                for value in ("True", "False")
            )
            groups.append(
                f"<fieldset><legend>Statement {LETTERS[k]}: "
                f"{inline(options[sid]['text'])}</legend>{controls}</fieldset>"
            )
        return f'<fieldset aria-describedby="{q}-stem">{legend}{"".join(groups)}</fieldset>'
    kind = "checkbox" if fmt == "multiple_response" else "radio"
    controls = "".join(
        f'<div class="ib-option"><input type="{kind}" name="{q}" id="{q}-{LETTERS[k]}" '
        f'value="{LETTERS[k]}"> <label for="{q}-{LETTERS[k]}">{LETTERS[k]}. '
        f"{inline(options[oid]['text'])}</label></div>"
        for k, oid in enumerate(order)
    )
    return f'<fieldset aria-describedby="{q}-stem">{legend}{controls}</fieldset>'


_ABOUT: dict[Medium, str] = {
    "screen": "This page is not an online test: nothing you select is saved or sent. Give your "
    "answers as your centre has arranged (for example to a scribe, or by printing this page "
    "with your selections).",
    "text": "Write your answer after each question, as your centre has arranged: the letter "
    "of each option you choose, or for a true/false list each statement's letter with True "
    "or False (for example: A True, B False).",
}


def _form_body(bundle: FormBundle, medium: Medium) -> tuple[str, list[str]]:
    m = bundle.manifest
    blueprint = bundle.blueprint or {}
    title = str(blueprint.get("title", m["id"]))
    total = m["totals"]
    rules = answer_rules(m, bundle.items, bundle.stimuli, medium)
    body = [
        f"<header><h1>{_e(title)}</h1>",
        f"<p>Form {_e(m['id'])}. Candidate paper for a screen reader.</p>",
        f"<p>Time allowed: {total.get('time_minutes', '?')} minutes. {total['items']} "
        f"questions; {total['max_score']:g} marks in all.</p></header>",
        "<main>",
        '<section aria-labelledby="instructions"><h2 id="instructions">Instructions</h2>',
        markdown_html(
            blueprint.get(
                "instructions", "Answer every question. There is no penalty for a wrong answer."
            )
        ),
        f"<p>{_e(_ABOUT[medium])}</p>",
        '<h3 id="how-to-answer">How to answer</h3><ul>'
        + "".join(f"<li>{_e(rule)}</li>" for rule in rules)
        + "</ul></section>",
    ]
    current = None
    case_note = ""
    for n, section, entry in numbered(m):
        if section["id"] != current:
            if current is not None:
                body.append("</section>")
            current = section["id"]
            case_note = ""
            timing = f" ({section['time_minutes']} minutes)" if section.get("time_minutes") else ""
            sid = f"section-{_e(section['id'])}"
            body.append(
                f'<section aria-labelledby="{sid}"><h2 id="{sid}">'
                f"{_e(section['title'])}{_e(timing)}</h2>"
            )
            if section.get("stimulus"):
                case = bundle.stimuli[section["stimulus"]]
                case_note = (
                    f"<p>This question is about the case {_e(case['title'])}, "
                    f"given before question {n}.</p>"
                )
                body.append(
                    f'<section aria-labelledby="case-{n}"><h3 id="case-{n}">Case: '
                    f"{_e(case['title'])}</h3>{markdown_html(case['text'])}"
                    "<p>Answer the questions that follow about this case.</p></section>"
                )
        item = bundle.items[entry["id"]]
        marks = float(entry["max_score"])
        q = f"q{n}"
        body.append(
            f'<section aria-labelledby="{q}"><h3 id="{q}">Question {n} ({marks:g} mark'
            f"{'s' if marks != 1 else ''})</h3>{case_note}"
            f'<div id="{q}-stem">{markdown_html(item["stem"])}</div>'
            f"{_choices(q, item, entry['option_order'], medium)}</section>"
        )
    if current is not None:
        body.append("</section>")
    body += ["<p>End of the paper.</p>", "</main>"]
    return title, body


def paper(bundle: FormBundle) -> bytes:
    """The candidate paper as one accessible HTML page (no key, no rationale)."""
    title, body = _form_body(bundle, "screen")
    return _page(f"{title}: candidate paper for a screen reader ({bundle.manifest['id']})", body)


def _brief_body(bundle: ScenarioBundle) -> tuple[str, list[str]]:
    s = bundle.scenario
    body = [
        f"<header><h1>{_e(s['title'])}</h1><p>Scenario {_e(s['id'])}. Candidate brief.</p>"
        "</header><main>",
        '<section aria-labelledby="background"><h2 id="background">Background</h2>'
        f"{markdown_html(s['background'])}</section>",
    ]
    for k, exercise in enumerate(s["exercises"], 1):
        body.append(
            f'<section aria-labelledby="exercise-{k}"><h2 id="exercise-{k}">'
            f"{_e(exercise['title'])}</h2><p>Preparation: "
            f"{exercise.get('preparation_minutes', 0)} minutes. Exercise: "
            f"{exercise.get('duration_minutes', '?')} minutes.</p>"
            f"{markdown_html(exercise['candidate_brief'])}</section>"
        )
    for key, what, field in (
        ("reflective", "Reflective", "prompt"),
        ("written", "Written", "task"),
    ):
        if s.get(key):
            body.append(
                f'<section aria-labelledby="{key}"><h2 id="{key}">{what} assessment '
                f"({s[key].get('duration_minutes', '?')} minutes)</h2>"
                f"{markdown_html(s[key][field])}</section>"
            )
    body.append("</main>")
    return str(s["title"]), body


def brief(bundle: ScenarioBundle) -> bytes:
    """A scenario's candidate brief as one accessible HTML page (nothing for actors or
    assessors)."""
    title, body = _brief_body(bundle)
    return _page(f"{title}: candidate brief ({bundle.scenario['id']})", body)


# ---- plain text -------------------------------------------------------------------------------

WIDTH = 78
_HEADINGS = {"h1": "=", "h2": "-"}


def to_text(document: bytes) -> bytes:
    """A document of this module as wrapped plain text: headings underlined (h1 '=', h2 '-') or
    in capitals (h3, h4), paragraphs wrapped at 78 columns, list entries as '- ', table rows
    joined by ' | ' (writer content rarely has tables; a long row is not wrapped)."""
    import lxml.html

    root = lxml.html.document_fromstring(document)
    blocks: list[str] = []

    def flat(element: Any) -> str:
        return re.sub(r"\s+", " ", element.text_content()).strip()

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("style", "script", "title", "head"):
            return
        if tag in ("h1", "h2", "h3", "h4"):
            rule = _HEADINGS.get(tag)
            text = textwrap.fill(flat(element) if rule else flat(element).upper(), WIDTH)
            width = max(len(line) for line in text.splitlines()) if text else 0
            blocks.append(f"{text}\n{rule * width}" if rule else text)
        elif tag in ("p", "legend"):
            blocks.append(textwrap.fill(flat(element), WIDTH))
        elif tag == "li":
            blocks.append(
                textwrap.fill(flat(element), WIDTH, initial_indent="- ", subsequent_indent="  ")
            )
        elif tag == "tr":
            blocks.append(" | ".join(flat(cell) for cell in element))
        elif tag == "pre":
            blocks.append(element.text_content().rstrip())
        else:
            if element.text and element.text.strip() and tag not in ("ul", "ol", "table"):
                blocks.append(textwrap.fill(element.text.strip(), WIDTH))
            for child in element:
                walk(child)
                if child.tail and child.tail.strip():
                    blocks.append(textwrap.fill(child.tail.strip(), WIDTH))

    walk(root.body)
    return ("\n\n".join(b for b in blocks if b) + "\n").encode("utf-8")


def paper_text(bundle: FormBundle) -> bytes:
    """The candidate paper as plain text, for typing answers with a screen reader or braille."""
    title, body = _form_body(bundle, "text")
    return to_text(_page(title, body))


def brief_text(bundle: ScenarioBundle) -> bytes:
    """A scenario's candidate brief as plain text."""
    title, body = _brief_body(bundle)
    return to_text(_page(title, body))


__all__ = ["brief", "brief_text", "inline", "paper", "paper_text", "to_text"]
