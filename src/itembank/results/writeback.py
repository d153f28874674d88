"""From an analysed administration (FormResults) to the statistics records the bank keeps.

Why a module of its own: which figures go into the bank, under which names, is a decision that
must be made once and tested -- the classical statistics per item, the DIF entries of the
comparisons actually made (never the skipped ones: a record with no DIF entry for a
characteristic says "not screened", not "no bias"), the flags that send an item back to its
panel, and the IRT parameters. Pure: the caller (bank.results.write_back) supplies the form's
manifest entries and saves the records in one commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from itembank.results.administration import FormResults
from itembank.results.analysis import ItemStats
from itembank.results.dif import DifRules, jodoin_gierl
from itembank.results.records import statistics_record

Record = dict[str, Any]

#: names the analysis version in every record, so figures from different code are not compared
ANALYSIS_VERSION = "itembank results 1 (classical, MH+logistic DIF, girth MML)"


def _options(stats: ItemStats) -> Record | None:
    """Proportion of each score group choosing each option letter (an option counts as chosen
    when it is part of the candidate's response, so multiple-response items give one row per
    option, not per pattern). None without raw choices, or for true/false statement grids
    (their responses are judgements per statement, not options)."""
    if not stats.options or not stats.groups:
        return None
    letters: dict[str, list[float]] = {}
    for option in stats.options:
        parts = option.option.split("|")
        if any(len(p) != 1 or not p.isupper() for p in parts):
            return None
        for letter in parts:
            row = letters.setdefault(letter, [0.0] * len(stats.groups))
            for g, share in enumerate(option.by_group):
                row[g] += share
    return {
        "groups": list(stats.groups),
        "options": [
            {"option": letter, "by_group": [min(v, 1.0) for v in values]}
            for letter, values in sorted(letters.items())
        ],
    }


def dif_entries(results: FormResults, item: str, significance: float) -> list[Record]:
    """The DIF entries of one item, one per method per comparison made: Mantel-Haenszel (MH
    chi-square, delta_MH, ETS class) and, when it was fitted, logistic regression uniform and
    non-uniform (LR statistic, Nagelkerke delta R^2, Jodoin-Gierl class of that test)."""
    out: list[Record] = []
    for c in results.dif.comparisons:
        if c.skipped is not None:
            continue
        base = {
            "characteristic": c.characteristic,
            "reference": c.reference,
            "focal": c.focal,
            "n_reference": c.n_reference,
            "n_focal": c.n_focal,
        }
        for mh in c.mantel_haenszel:
            if mh.item == item and mh.skipped is None and mh.ets_class is not None:
                out.append(
                    {
                        **base,
                        "method": "mantel_haenszel",
                        "statistic": mh.chi_square,
                        "p_value": mh.p_value,
                        "effect_size": mh.delta_mh,
                        "class": mh.ets_class,
                    }
                )
        for lr in c.logistic:
            if lr.item != item or lr.skipped is not None:
                continue
            for kind, stat, p, r2 in (
                ("uniform", lr.lr_uniform, lr.p_uniform, lr.delta_r2_uniform),
                ("nonuniform", lr.lr_nonuniform, lr.p_nonuniform, lr.delta_r2_nonuniform),
            ):
                grade = jodoin_gierl(r2, p, significance)
                if stat is None or grade is None:
                    continue
                out.append(
                    {
                        **base,
                        "method": f"logistic_{kind}",
                        "statistic": max(stat, 0.0),  # a fit a hair worse than nested: 0
                        "p_value": p,
                        "effect_size": r2,
                        "class": grade,
                    }
                )
    return out


def item_flags(results: FormResults, item: str) -> list[Record]:
    """The analysis' flags of one item, and one per class C DIF finding (these send the item
    back to its panel with the reason)."""
    out: list[Record] = [
        {"code": f.code, "reason": f.reason} for f in results.analysis.flags if f.item == item
    ]
    for f in results.dif_findings(("C",)):
        if f.item == item:
            delta = "" if f.delta_mh is None else f", delta_MH {f.delta_mh:.2f}"
            favoured = f", favours {f.favoured}" if f.favoured else ""
            out.append(
                {
                    "code": "dif-class-c",
                    "reason": f"{f.characteristic}: ETS class C DIF between {f.reference} and "
                    f"{f.focal}{delta}{favoured}: check the item for content that works "
                    "differently for one group",
                }
            )
    return out


def statistics_records(
    results: FormResults,
    entries: Sequence[Mapping[str, Any]],
    delivery_ids: Mapping[str, str],
    analysed_by: str,
    settings: Mapping[str, Any] | None,
    analysed_at: str,
) -> list[Record]:
    """One statistics record per item on the form (`entries`: the manifest's, for the content
    hashes), from `results`. Each item's figures come from its ItemStats.to_dict()."""
    rules = DifRules.from_settings(settings)
    by_item = {s.item: s for s in results.analysis.items}
    params = {} if results.calibration is None else {p.item: p for p in results.calibration.items}
    out = []
    for entry in entries:
        ident = str(entry["id"])
        stats = by_item[ident]
        figures = stats.to_dict()
        options = _options(stats)
        if options is None:
            figures.pop("options", None)
        else:
            figures["options"], figures["groups"] = options["options"], options["groups"]
        p = params.get(ident)
        out.append(
            statistics_record(
                administration=results.administration,
                form=results.form,
                item=ident,
                content_hash=str(entry["content_hash"]),
                delivery_id=delivery_ids[ident],
                analysed_by=analysed_by,
                analysis_version=ANALYSIS_VERSION,
                item_stats=figures,
                irt=None
                if p is None or results.calibration is None
                else {"model": results.calibration.model, **p.to_dict()},
                dif=dif_entries(results, ident, rules.significance),
                flags=item_flags(results, ident),
                analysed_at=analysed_at,
                min_group_size=rules.min_group_size,
            )
        )
    return out


__all__ = [
    "ANALYSIS_VERSION",
    "dif_entries",
    "item_flags",
    "statistics_records",
]
