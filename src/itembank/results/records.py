"""The statistics record written back to the bank: one per item version per administration
(statistics/<administration>/<ITEM-ID>.json, schemas/item_statistics.schema.json).

Built from plain mappings (the analysis, calibration and DIF results' ``to_dict()``) by copying
named aggregates only: whatever else a mapping carries -- a candidate id, a row of responses,
one person's characteristic -- is never copied, so nothing that could single someone out
reaches the content repository. DIF comparisons of a group smaller than the bank's minimum are
refused rather than dropped, because a silently missing comparison looks like "no bias found".
Pure: no files, no git; the caller saves the records with ``Bank.save_many`` and
``commit_message`` in one commit by whoever ran the analysis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from itembank.core.errors import ItembankError

Record = dict[str, Any]

#: Figures are kept to 4 decimals: enough for every published comparison, and re-running the
#: same analysis writes the same bytes (no diff noise from the last floating-point digit).
DECIMALS = 4

#: Where each figure of the record comes from in ``ItemStats.to_dict()`` (results.analysis):
#: the record's name on the left, the analysis' on the right, so the mapping is stated once.
FROM_ANALYSIS: Mapping[str, str] = {
    "n": "n",
    "facility": "facility",
    "item_rest": "item_rest_r",
    "upper_lower": "upper_lower",
    "omit_rate": "omit_rate",
}


class StatisticsInputError(ItembankError):
    """The figures handed over cannot make a statistics record; the message says which."""


def _pick(stats: Mapping[str, Any], name: str) -> Any:
    key = FROM_ANALYSIS.get(name, name)
    if key not in stats:
        raise StatisticsInputError(f"The item analysis gives no {key} (for the record's {name}).")
    return stats[key]


def _number(value: Any, what: str, *, nullable: bool = False) -> float | None:
    """A finite float rounded to DECIMALS; None for an undefined (NaN/None) figure if allowed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if nullable:
            return None
        raise StatisticsInputError(f"{what} is undefined; it must be a number.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars
        except (TypeError, ValueError):
            raise StatisticsInputError(f"{what} is {value!r}, not a number.") from None
    if not math.isfinite(float(value)):
        raise StatisticsInputError(f"{what} is {value}, not a finite number.")
    return round(float(value), DECIMALS) + 0.0  # + 0.0: no "-0.0" in the file


def _slug(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "flag"


def _stamp(when: datetime | str) -> str:
    if isinstance(when, str):
        return when
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _options(stats: Mapping[str, Any]) -> Record | None:
    """Option proportions by score group (lowest first), when raw responses were known: the
    analysis' "groups" and each of its "options" entries' "option" and "by_group"."""
    options = stats.get("options")
    if not options:
        return None
    groups = [str(g) for g in stats["groups"]]
    proportions = {
        str(o["option"]): [
            _number(v, f"the proportion choosing {o['option']}") for v in o["by_group"]
        ]
        for o in sorted(options, key=lambda o: str(o["option"]))
    }
    return {"groups": groups, "proportions": proportions}


def _irt(params: Mapping[str, Any] | None) -> Record | None:
    """Slope-intercept parameters with b = -d/a; whichever of b and d is missing is derived."""
    if not params:
        return None
    model = str(params.get("model", "2pl")).lower()
    model = {"1pl": "rasch", "2plm": "2pl"}.get(model, model)
    a = _number(params.get("a", 1.0), "the IRT slope a")
    assert a is not None
    if "d" in params and params["d"] is not None:
        d = _number(params["d"], "the IRT intercept d")
        assert d is not None
        b = _number(-d / a, "the IRT difficulty b") if a else None
    else:
        b = _number(params.get("b"), "the IRT difficulty b")
        assert b is not None
        d = _number(-a * b, "the IRT intercept d")
    if b is None:
        raise StatisticsInputError("The IRT slope a is 0, so the difficulty b is undefined.")
    out: Record = {"model": model, "a": a, "b": b, "d": d}
    for name in ("se_a", "se_b", "se_d"):
        if params.get(name) is not None:
            out[name] = _number(params[name], f"the IRT standard error {name}")
    return out


def _dif(entries: Sequence[Mapping[str, Any]], item: str, minimum: int) -> list[Record]:
    out = []
    for entry in entries:
        n_ref, n_focal = int(entry["n_reference"]), int(entry["n_focal"])
        if min(n_ref, n_focal) < minimum:
            raise StatisticsInputError(
                f"The {entry['method']} DIF result for {item} on {entry['characteristic']} "
                f"compares groups of {n_ref} and {n_focal}: below the minimum group size "
                f"({minimum}), figures could single people out. Leave that comparison out."
            )
        record: Record = {
            "characteristic": _slug(entry["characteristic"]),
            "method": str(entry["method"]),
            "reference": str(entry["reference"]),
            "focal": str(entry["focal"]),
            "n_reference": n_ref,
            "n_focal": n_focal,
            "statistic": _number(entry["statistic"], "the DIF statistic"),
            "effect_size": _number(entry["effect_size"], "the DIF effect size"),
            "class": str(entry["class"]),
        }
        if entry.get("p_value") is not None:
            record["p_value"] = _number(entry["p_value"], "the DIF p-value")
        out.append(record)
    return sorted(out, key=lambda r: (r["characteristic"], r["method"], r["focal"]))


def statistics_record(
    *,
    administration: str,
    form: str,
    item: str,
    content_hash: str,
    delivery_id: str,
    analysed_by: str,
    analysis_version: str,
    item_stats: Mapping[str, Any],
    irt: Mapping[str, Any] | None = None,
    dif: Sequence[Mapping[str, Any]] = (),
    flags: Sequence[Mapping[str, Any]] = (),
    analysed_at: datetime | str | None = None,
    min_group_size: int = 100,
) -> Record:
    """The statistics record of one item version in one administration (see the module note).

    `item_stats` is an ``ItemStats.to_dict()`` (FROM_ANALYSIS names what is read; optionally
    "groups" and "options": [{"option": letter, "by_group": [...]}]); `irt` model, a and b or d (and
    SEs); each `dif` entry characteristic, method, reference, focal, n_reference, n_focal,
    statistic, effect_size, class (p_value optional); each flag code and reason.
    """
    n = int(_pick(item_stats, "n"))
    if n < 1:
        raise StatisticsInputError(f"No candidate was given {item}: there is nothing to record.")
    record: Record = {
        "schema_version": "1.0",
        "administration": administration,
        "form": form,
        "item": item,
        "content_hash": content_hash,
        "delivery_id": delivery_id,
        "analysed_at": _stamp(analysed_at or datetime.now(UTC)),
        "analysis_version": analysis_version,
        "analysed_by": analysed_by,
        "n": n,
        "facility": _number(_pick(item_stats, "facility"), "the facility"),
        "item_rest": _number(_pick(item_stats, "item_rest"), "item-rest r", nullable=True),
        "upper_lower": _number(_pick(item_stats, "upper_lower"), "upper-lower D", nullable=True),
        "omit_rate": _number(_pick(item_stats, "omit_rate"), "the omit rate"),
        "dif": _dif(dif, item, min_group_size),
        "flags": [{"code": _slug(f["code"]), "reason": str(f["reason"])} for f in flags],
    }
    if (options := _options(item_stats)) is not None:
        record["options"] = options
    if (parameters := _irt(irt)) is not None:
        record["irt"] = parameters
    return record


def commit_message(administration: str, form: str, count: int, analysed_by: str) -> str:
    """The one commit that writes an administration's statistics names it and who ran it."""
    name = analysed_by.split("<")[0].strip()
    return (
        f"statistics: administration {administration}, form {form} "
        f"({count} item{'s' if count != 1 else ''}) analysed by {name}"
    )


def dif_class(record: Mapping[str, Any]) -> str:
    """The worst DIF class of a record (C > B > A), or '' when no DIF was screened."""
    classes = {str(d.get("class")) for d in record.get("dif", [])}
    return next((c for c in ("C", "B", "A") if c in classes), "")


def history_rows(
    records: Sequence[Mapping[str, Any]], current_hash: str | None = None
) -> list[dict[str, str]]:
    """An item's statistics history as display rows, newest first: what the item editor and
    the review app show (one row per administration). Given the item's current content hash,
    each row says whether it measured this version or an earlier one."""
    rows = []
    for r in sorted(records, key=lambda r: str(r.get("analysed_at", "")), reverse=True):
        item_rest = r.get("item_rest")
        rows.append(
            {
                "administration": str(r.get("administration", "")),
                "form": str(r.get("form", "")),
                "version": ""
                if current_hash is None
                else ("this" if r.get("content_hash") == current_hash else "earlier"),
                "analysed": str(r.get("analysed_at", ""))[:10],
                "n": str(r.get("n", "")),
                "facility": f"{float(r['facility']):.2f}" if "facility" in r else "",
                "item_rest": "n/a" if item_rest is None else f"{float(item_rest):.2f}",
                "dif": dif_class(r) or "-",
                "flags": "; ".join(str(f.get("reason", "")) for f in r.get("flags", [])) or "-",
            }
        )
    return rows


__all__ = [
    "StatisticsInputError",
    "commit_message",
    "dif_class",
    "history_rows",
    "statistics_record",
]
