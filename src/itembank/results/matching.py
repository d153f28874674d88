"""Matching parsed results to the form that was delivered, and re-scoring them.

Each response is matched to the form's manifest entry by the identifier the platform saw
(`delivery_id(entry)`: bank id + hash of content version and option order; the bare bank id
is accepted too, as a form holds one variant of each item), converted to the item's own option
ids (through the option order the form showed, when the source gives the letters shown), and
scored again by the bank's scorer on the item version the manifest names. The platform's score
is kept beside ours; a disagreement is a finding, never silently overwritten. Pure: the
scorer and the delivery-id function are passed in (the results room does not import forms).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from itembank.core.findings import Finding, error, warning
from itembank.results.columns import ResponseColumns
from itembank.results.importer import CandidateRow, RawResponse

LETTERS = string.ascii_uppercase
Scorer = Callable[[Mapping[str, Any], Any], float]
DeliveryId = Callable[[Mapping[str, Any]], str]
#: scores closer than this are the same (platforms round partial credit, e.g. 0.666667)
TOLERANCE = 0.001
TRUTH = {"T": True, "TRUE": True, "F": False, "FALSE": False}


@dataclass
class Matched:
    """Rows ready for the store, and what was wrong (errors refuse the whole import;
    disagreements are reported and the import goes ahead)."""

    #: column -> values, one per response (columns, not row dicts: a million rows is ordinary)
    responses: dict[str, list[Any]] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    characteristics: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    disagreements: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def entries(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's item entries in the order the form shows them."""
    return [dict(e) for s in manifest["sections"] for e in s["items"]]


def _convert(
    item: Mapping[str, Any], entry: Mapping[str, Any], raw: RawResponse
) -> tuple[Any, str] | str:
    """(the response in the scorer's terms, its stored string) or why it names no option."""
    order = [str(o) for o in entry["option_order"]]
    shown = {LETTERS[k]: oid for k, oid in enumerate(order)}
    names = (
        "letters " + "".join(LETTERS[: len(order)])
        if raw.notation == "shown"
        else ("option ids " + ", ".join(sorted(order)))
    )

    def own(token: str) -> str | None:
        if raw.notation == "shown":
            return shown.get(token.upper())
        return token if token in order else None

    if item["format"] == "multiple_true_false":
        answers: dict[str, bool] = {}
        for token in raw.values:
            left, _, right = token.partition("=")
            oid, truth = own(left.strip()), TRUTH.get(right.strip().upper())
            if oid is None or truth is None or oid in answers:
                return (
                    f"{token!r} names no statement of the item, or not as STATEMENT=T|F "
                    f"once each (the {names})"
                )
            answers[oid] = truth
        text = "|".join(f"{k}={'T' if v else 'F'}" for k, v in sorted(answers.items()))
        return answers, text
    chosen = []
    for token in raw.values:
        oid = own(token)
        if oid is None:
            return f"{token!r} names no option of the item (its {names})"
        chosen.append(oid)
    chosen = sorted(set(chosen))
    return chosen, "|".join(chosen)


def _name(path: str) -> str:
    """A file's name without its folders (messages stay short and portable)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _key_text(item: Mapping[str, Any]) -> str:
    key = item["key"]
    if isinstance(key, Mapping):
        return "|".join(f"{k}={'T' if v else 'F'}" for k, v in sorted(key.items()))
    return "|".join(sorted(str(k) for k in key))


def _per_item(
    form_entries: Sequence[Mapping[str, Any]],
    items: Mapping[str, Mapping[str, Any]],
    delivered: list[str],
) -> dict[str, list[Any]]:
    """What every response row repeats from its item's manifest entry, in the form's order."""
    return {
        "item": [str(e["id"]) for e in form_entries],
        "delivery_id": delivered,
        "content_hash": [str(e["content_hash"]) for e in form_entries],
        "max_score": [float(e["max_score"]) for e in form_entries],
        "key": [_key_text(items[str(e["id"])]) for e in form_entries],
    }


def match(
    form_id: str,
    manifest: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
    responses: Sequence[RawResponse],
    candidates: Sequence[CandidateRow] | None,
    score: Scorer,
    delivery_id: DeliveryId,
    candidates_name: str = "candidates file",
) -> Matched:
    """Match, convert and re-score every response (see the module docstring). `items`: bank
    id -> the item record at the content hash the manifest names."""
    out = Matched()
    by_name: dict[str, tuple[int, dict[str, Any]]] = {}
    form_entries = entries(manifest)
    delivered = [delivery_id(e) for e in form_entries]
    for position, entry in enumerate(form_entries):
        by_name[delivered[position]] = (position, entry)
        by_name[str(entry["id"])] = (position, entry)
    first: dict[tuple[str, str], RawResponse] = {}
    seen_candidates: dict[str, tuple[str, str]] = {}
    known: dict[tuple[str, tuple[str, ...], str], tuple[str, float] | str] = {}
    columns = ("candidate", "position", "response", "omitted", "score", "platform_score")
    cols: dict[str, list[Any]] = {c: [] for c in columns}
    for raw in responses:
        place = (raw.source, raw.where)
        if raw.form is not None and raw.form != form_id:
            out.errors.append(
                error(
                    *place,
                    "unknown-form",
                    f"names form {raw.form!r}, but this import is for {form_id}: "
                    "import each form's results with its own --form",
                )
            )
            continue
        found = by_name.get(raw.item)
        if found is None:
            bank_id = raw.item.rsplit("-", 1)[0]
            hint = next(
                (
                    f"; the form delivers {bank_id} as {delivery_id(e)} (this names another "
                    "content version or option order: check the results are for this form)"
                    for e in form_entries
                    if str(e["id"]) == bank_id
                ),
                ": check the results are for this form",
            )
            out.errors.append(
                error(*place, "unknown-item", f"item {raw.item!r} is not on form {form_id}{hint}")
            )
            continue
        position, entry = found
        bank_id = str(entry["id"])
        earlier = first.get((raw.candidate, bank_id))
        if earlier is not None:
            if earlier.source != raw.source and raw.where.startswith("/"):
                out.errors.append(
                    error(
                        *place,
                        "duplicate-candidate",
                        f"candidate {raw.candidate} is also reported in "
                        f"{_name(earlier.source)}: keep one results document per candidate",
                    )
                )
            else:
                out.errors.append(
                    error(
                        *place,
                        "duplicate-response",
                        f"candidate {raw.candidate} already answered {bank_id} "
                        + (
                            f"on {earlier.where}"
                            if earlier.source == raw.source
                            else f"in {_name(earlier.source)} {earlier.where}"
                        )
                        + ": keep one row per candidate and item",
                    )
                )
            continue
        first[(raw.candidate, bank_id)] = raw
        seen_candidates.setdefault(raw.candidate, place)
        item = items[bank_id]
        memo = (bank_id, raw.values, raw.notation)  # responses repeat: convert and score once
        converted = known.get(memo)
        if converted is None:
            made = _convert(item, entry, raw)
            converted = made if isinstance(made, str) else (
                made[1], 0.0 if not raw.values else float(score(item, made[0])))  # fmt: skip
            known[memo] = converted
        if isinstance(converted, str):
            out.errors.append(
                error(
                    *place,
                    "no-such-option",
                    f"candidate {raw.candidate}, item {bank_id}: {converted}",
                )
            )
            continue
        text, ours = converted
        if raw.platform_score is not None and abs(raw.platform_score - ours) > TOLERANCE:
            out.disagreements.append(
                warning(
                    *place,
                    "score-disagreement",
                    f"candidate {raw.candidate}, item {bank_id}: the "
                    f"platform scored {raw.platform_score:g}, the bank's "
                    f"key ({_key_text(item)}) gives {ours:g} for "
                    f"{text or 'no response'}",
                )
            )
        cols["candidate"].append(raw.candidate)
        cols["position"].append(position)
        cols["response"].append(text or None)
        cols["omitted"].append(not raw.values)
        cols["score"].append(ours)
        cols["platform_score"].append(raw.platform_score)
    per_item = _per_item(form_entries, items, delivered)
    for name, values in per_item.items():
        cols[name] = [values[p] for p in cols["position"]]
    cols["form"] = [form_id] * len(cols["candidate"])
    out.responses = cols
    _candidates(form_id, seen_candidates, candidates, candidates_name, out)
    if out.errors:
        out.responses = {}
        out.candidates.clear()
        out.characteristics.clear()
    return out


def match_columns(
    form_id: str,
    manifest: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
    rows: ResponseColumns,
    candidates: Sequence[CandidateRow] | None,
    score: Scorer,
    delivery_id: DeliveryId,
    candidates_name: str = "candidates file",
) -> Matched | None:
    """What match() gives for the same responses, computed over whole columns: each distinct
    (item, response) is converted and scored once, then mapped to its rows. None when match()
    would find an error (another form, an unknown item, a duplicate, a response naming no
    option): the caller runs match() on the rows to name each one exactly."""
    out = Matched()
    form_entries = entries(manifest)
    delivered = [delivery_id(e) for e in form_entries]
    by_name: dict[str, int] = {}
    for position, entry in enumerate(form_entries):
        by_name[delivered[position]] = position
        by_name[str(entry["id"])] = position
    if not set(pd.unique(rows.form)) <= {form_id, None}:
        return None
    codes, names = pd.factorize(rows.item)
    if any(str(n) not in by_name for n in names):
        return None
    position = np.array([by_name[str(n)] for n in names], dtype=np.int64)[codes]
    people, seen = pd.factorize(rows.candidate)  # candidates in order of first response
    k = len(form_entries)
    if pd.Series(people * k + position).duplicated().any():
        return None
    answers, texts = pd.factorize(rows.response)
    which, distinct = pd.factorize((position * 2 + rows.ids) * max(len(texts), 1) + answers)
    text_of = np.empty(len(distinct), dtype=object)
    ours = np.zeros(len(distinct), dtype=np.float64)
    for u, row in enumerate(pd.Series(np.arange(len(which))).groupby(which).first()):
        entry = form_entries[position[row]]
        item = items[str(entry["id"])]
        raw = RawResponse("", None, "", rows.tokens(row), rows.notation(row), None, "", "")
        made = _convert(item, entry, raw)
        if isinstance(made, str):
            return None
        text_of[u] = made[1] or None
        ours[u] = 0.0 if not raw.values else float(score(item, made[0]))
    scored = ours[which]
    platform = rows.platform_score
    with np.errstate(invalid="ignore"):
        wrong = np.flatnonzero(~np.isnan(platform) & (np.abs(platform - scored) > TOLERANCE))
    for row in wrong:
        bank_id = str(form_entries[position[row]]["id"])
        text = text_of[which[row]]
        out.disagreements.append(
            warning(
                *rows.place(int(row)),
                "score-disagreement",
                f"candidate {rows.candidate[row]}, item {bank_id}: the "
                f"platform scored {platform[row]:g}, the bank's "
                f"key ({_key_text(items[bank_id])}) gives {scored[row]:g} for "
                f"{text or 'no response'}",
            )
        )
    platform_column = platform.astype(object)
    platform_column[np.isnan(platform)] = None
    cols: dict[str, Any] = {
        "candidate": rows.candidate,
        "position": position,
        "response": text_of[which],
        "omitted": rows.response == "",
        "score": scored,
        "platform_score": platform_column,
    }
    per_item = _per_item(form_entries, items, delivered)
    for name, values in per_item.items():
        column = np.empty(k, dtype=np.float64 if name == "max_score" else object)
        column[:] = values
        cols[name] = column[position]
    cols["form"] = np.full(len(position), form_id, dtype=object)
    out.responses = cols
    first = pd.Series(np.arange(len(people))).groupby(people).first().to_numpy()
    wheres = (
        rows.where[first].tolist()
        if rows.where is not None
        else [f"line {x}" for x in rows.line[first].tolist()]
    )
    sources = rows.source[first].tolist()
    places = dict(zip(map(str, seen), zip(sources, wheres, strict=True), strict=True))
    _candidates(form_id, places, candidates, candidates_name, out)
    if out.errors:
        return None
    return out


def _candidates(
    form_id: str,
    seen: Mapping[str, tuple[str, str]],
    listed: Sequence[CandidateRow] | None,
    name: str,
    out: Matched,
) -> None:
    """Candidates rows (and equality characteristics, kept apart) for everyone who answered."""
    if listed is None:
        out.candidates.extend({"form": form_id, "candidate": c, "employer": None} for c in seen)
        if seen:
            out.notes.append(
                "no candidates file: employers and equality characteristics are "
                "unknown for this import"
            )
        return
    known = {c.id: c for c in listed}
    for cand, (source, where) in seen.items():
        if cand not in known:
            out.errors.append(
                error(
                    source,
                    where,
                    "unknown-candidate",
                    f"candidate {cand} has responses but is not in {_name(name)}: add "
                    "them to it (pseudonymous id, employer)",
                )
            )
    absent = [c.id for c in listed if c.id not in seen]
    if absent:
        out.notes.append(f"{len(absent)} candidate(s) in {name} have no responses (not stored)")
    for cand in seen:
        row = known.get(cand)
        if row is None:
            continue
        out.candidates.append({"form": form_id, "candidate": cand, "employer": row.employer})
        out.characteristics.extend(
            {"form": form_id, "candidate": cand, "name": k, "value": v}
            for k, v in row.characteristics.items()
        )


__all__ = ["DeliveryId", "Matched", "Scorer", "entries", "match", "match_columns"]
