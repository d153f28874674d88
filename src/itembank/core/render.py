"""Item text to safe HTML. Markdown is rendered with raw HTML disabled, then sanitised with nh3,
so nothing a writer types or pastes (a <script>, an onerror=, a javascript: link) reaches a
browser. Two views: what a candidate sees, and what a reviewer sees (key and rationales)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "div",
    "a",
    "hr",
    "del",
    "sup",
    "sub",
    "label",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "li": {"class"},
    "td": {"class"},
    "th": {"class"},
    "label": {"class"},
    "ol": {"class", "type", "start"},  # type="A": options are lettered as the key names them
}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitise(fragment: str) -> str:
    """Remove anything but plain formatting from an HTML fragment."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https", "mailto"},
        link_rel="noopener noreferrer",
    )


def markdown_html(text: object) -> str:
    """Markdown to sanitised HTML; anything that is not text is shown as escaped text."""
    if not isinstance(text, str):
        return html.escape(repr(text))
    return sanitise(_markdown().render(text))


def _options(item: Mapping[str, Any], order: Sequence[str] | None) -> list[Mapping[str, Any]]:
    options = [o for o in item.get("options", []) if isinstance(o, Mapping)]
    if order:
        by_id = {o.get("id"): o for o in options}
        options = [by_id[i] for i in order if i in by_id]
    return options


def instruction(item: Mapping[str, Any]) -> str:
    """What the candidate is told to do, from the item's format."""
    fmt = item.get("format")
    if fmt == "multiple_response":
        return f"Choose {item.get('select_count', 'the correct')} answers."
    if fmt == "multiple_true_false":
        return "Mark each statement true or false."
    return "Choose one answer."


def _opening(view: str, item: Mapping[str, Any], stimulus: Mapping[str, Any] | None) -> list[str]:
    """What both views start with: the case (if any) and the stem."""
    parts = [f'<div class="ib-item {view}">']
    if stimulus is not None:
        parts.append(f'<div class="ib-stimulus">{markdown_html(stimulus.get("text", ""))}</div>')
    parts.append(f'<div class="ib-stem">{markdown_html(item.get("stem", ""))}</div>')
    return parts


def candidate_html(
    item: Mapping[str, Any],
    stimulus: Mapping[str, Any] | None = None,
    order: Sequence[str] | None = None,
) -> str:
    """The item exactly as a candidate sees it: no key, no rationale, no mappings."""
    parts = _opening("ib-candidate", item, stimulus)
    parts.append(f'<p class="ib-instruction"><em>{html.escape(instruction(item))}</em></p>')
    parts.append('<ol class="ib-options" type="A">')
    for option in _options(item, order):
        parts.append(f'<li class="ib-option">{markdown_html(option.get("text", ""))}</li>')
    parts.append("</ol></div>")
    return sanitise("".join(parts))


def key_text(item: Mapping[str, Any]) -> str:
    """The key in words: 'B' / 'A, C, F' / 'A true, B false'."""
    key = item.get("key")
    if isinstance(key, Mapping):
        return ", ".join(f"{k} {'true' if v else 'false'}" for k, v in key.items())
    if isinstance(key, list):
        return ", ".join(map(str, key))
    return ""


def reviewer_html(
    item: Mapping[str, Any],
    stimulus: Mapping[str, Any] | None = None,
    titles: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """The item with its key, every option's rationale, standards and references."""
    key = item.get("key")
    keyed = set(key) if isinstance(key, (list, Mapping)) else set()
    parts = _opening("ib-reviewer", item, stimulus)
    parts.append(f'<p class="ib-key"><strong>Key:</strong> {html.escape(key_text(item))}</p>')
    parts.append('<ol class="ib-options" type="A">')
    for option in _options(item, None):
        mark = "ib-keyed" if option.get("id") in keyed else "ib-distractor"
        answer = ""
        if isinstance(key, Mapping) and option.get("id") in key:
            answer = " (true)" if key[option["id"]] else " (false)"
        parts.append(
            f'<li class="ib-option {mark}">{markdown_html(option.get("text", ""))}'
            f"<strong>{html.escape(answer)}</strong>"
            f'<div class="ib-rationale">{markdown_html(option.get("rationale", ""))}</div></li>'
        )
    parts.append("</ol>")
    parts.append(
        f'<div class="ib-rationale"><strong>Rationale:</strong>'
        f"{markdown_html(item.get('rationale', ''))}</div>"
    )
    standards = []
    for mapping in item.get("standards", []) or []:
        if isinstance(mapping, Mapping):
            ref = (str(mapping.get("framework")), str(mapping.get("statement")))
            title = (titles or {}).get(ref, "")
            standards.append(html.escape(f"{ref[1]} {title}".strip()))
    parts.append(f'<p class="ib-standards"><strong>Standards:</strong> {"; ".join(standards)}</p>')
    refs = ", ".join(html.escape(str(r)) for r in item.get("references", []) or [])
    parts.append(f'<p class="ib-references"><strong>References:</strong> {refs}</p></div>')
    return sanitise("".join(parts))


def css_string(text: str) -> str:
    """`text` as the inside of a double-quoted CSS string, safe inside a <style> element (a
    paged-media footer or banner of a printed paper or letter)."""
    return re.sub(r'[\\"<>&\n\r]', lambda m: f"\\{ord(m.group()):x} ", text)


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:[0-9]{14}[^)]*\)")
_NODE_ID = re.compile(rb"\(node([0-9]{8})\)")


def fixed_pdf_dates(data: bytes, stamp: str) -> bytes:
    """Chromium stamps the print time in a PDF's information dictionary: replace it with the
    fixed `stamp` (ISO time) at the same length, so the same document gives the same bytes."""
    digits = re.sub(r"\D", "", stamp)[:14].ljust(14, "0").encode()
    return _PDF_DATE.sub(lambda m: b"/" + m.group(1) + b" (D:" + digits + b"+00'00')", data)


def steady_node_ids(data: bytes) -> bytes:
    """Chromium names the tagged PDF's structure elements after DOM node numbers, which now and
    then all start one higher (seen in 1 print of 12 on a busy machine). Renumber them by rank,
    at the same width: their order (the ID tree is sorted) and every byte offset are kept."""
    ranks = {old: b"%08d" % k for k, old in enumerate(sorted(set(_NODE_ID.findall(data))), 1)}
    return _NODE_ID.sub(lambda m: b"(node" + ranks[m.group(1)] + b")", data)
