"""The item-text scan: does any generated document (HTML, PDF, plain text) contain a sentence of
the bank's live content -- an item's stem, an option, a rationale, a case's text? Every
sentence of six or more words is looked for, after normalising case, punctuation, Markdown and
whitespace, so a reformatted copy is still found."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MIN_WORDS = 6
_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")
_TAG = re.compile(r"<[^>]+>")


def normalise(text: str) -> str:
    """Lower case, words only, single spaces (so markup, punctuation and line breaks vanish)."""
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'").replace("'", "")))


def sentences(text: str) -> set[str]:
    """The normalised sentences (and lines) of a text with at least MIN_WORDS words."""
    out = set()
    for part in _SPLIT.split(text or ""):
        words = normalise(part)
        if len(words.split()) >= MIN_WORDS:
            out.add(words)
    return out


def _texts(record: Any) -> Iterable[str]:
    """Every string in a record (stem, options, rationales, case text, briefs...): stricter than
    the candidate's view, and short strings (ids, dates) are under six words anyway."""
    if isinstance(record, str):
        yield record
    elif isinstance(record, Mapping):
        for value in record.values():
            yield from _texts(value)
    elif isinstance(record, list):
        for value in record:
            yield from _texts(value)


def bank_sentences(bank: Path) -> set[str]:
    """Every sentence of six or more words of the bank's items, cases and scenarios."""
    out: set[str] = set()
    for folder in ("items", "stimuli", "scenarios"):
        for path in sorted((bank / folder).glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            for text in _texts(record):
                out |= sentences(text)
    return out


def document_text(name: str, data: bytes) -> str:
    """The readable text of a generated document, normalised."""
    if name.endswith(".pdf"):
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return normalise(" ".join(page.extract_text() or "" for page in reader.pages))
    return normalise(data.decode("utf-8", errors="replace"))


def scan(documents: Mapping[str, bytes], live: set[str]) -> list[tuple[str, str]]:
    """(document, sentence) for every live sentence found in a document."""
    found = []
    for name, data in sorted(documents.items()):
        text = f" {document_text(name, data)} "
        found += [(name, s) for s in sorted(live) if f" {s} " in text]
    return found
