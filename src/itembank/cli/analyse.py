"""Psychometricians' commands on an imported administration: `results analyse` (item and test
statistics, DIF, IRT; --write commits the statistics) and `results report` (the technical
report as HTML, and PDF through the papers' printer). Aggregates only are printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from itembank.bank import Bank
from itembank.checks.reporting import to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, bank_arg, output_arg, results_arg

EXIT_WORDS = (
    "Exit 0: analysed, no item flagged and no DIF of class C; 1: analysed (and written, with "
    "--write) but at least one item is flagged or shows class C DIF, or the write was refused; "
    "2: bad invocation, unknown form, no results imported for it, a pass mark outside the "
    "possible totals, or no bank."
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("form", metavar="FORM", help="the form id (or manifest path)")
    results_arg(p)
    p.add_argument(
        "--pass-mark",
        type=float,
        metavar="X",
        help="the pass mark in raw marks on this form (default: the recommended cut of a closed "
        "standard-setting exercise on exactly the form's items; else none)",
    )
    p.add_argument(
        "--model", choices=("rasch", "2pl"), default="rasch", help="IRT model (default: rasch)"
    )
    p.add_argument(
        "--administration",
        metavar="ID",
        help="the administration id (default: the form id and the date of its first import)",
    )
    bank_arg(p)


def add_analyse(rsub: Any) -> None:
    """`results analyse` and `results report`, under `itembank results`."""
    a = rsub.add_parser(
        "analyse",
        help="item analysis, DIF screen and IRT calibration of one form's results",
        description="Analyse the imported results of FORM: test statistics (n, mean, SD, alpha "
        "with Feldt's 95%% interval, SEM; conditional SEM and decision consistency at the pass "
        "mark), an item table with the flags of bank.json results.flags, Mantel-Haenszel and "
        "logistic DIF for each equality characteristic with enough candidates (ETS classes B "
        "and C listed with the group favoured) and a Rasch or 2PL calibration. --write commits "
        "one statistics record per item (aggregates only) as one commit by --as; flagged items "
        "then go back to their panel's review queue. " + EXIT_WORDS,
    )
    _common(a)
    a.add_argument("--write", action="store_true", help="commit the statistics to the bank")
    a.add_argument(
        "--as",
        dest="analyst",
        metavar="'NAME <EMAIL>'",
        help="who ran the analysis and commits (default: git config)",
    )
    output_arg(a)
    r = rsub.add_parser(
        "report",
        help="the technical report of one form's results (HTML, optionally PDF)",
        description="Write the technical report of FORM's administration to --out: "
        "<administration>-technical-report.html (reliability, decision consistency, CSEM at "
        "the cut, item table, flagged items and what was done, DIF log with the comparisons "
        "skipped and why, IRT summary), and with --pdf the same printed to PDF by chromium. "
        "Aggregates only: no candidate id, no group below the minimum size. Exit 0: written "
        "(whatever it shows); 2: bad invocation, unknown form, no results, no chromium for "
        "--pdf, or no bank.",
    )
    _common(r)
    r.add_argument("--out", metavar="DIR", required=True, help="the folder to write into")
    r.add_argument("--pdf", action="store_true", help="also print the report to PDF")


def _f(value: object, places: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{places}f}"  # type: ignore[arg-type]


def _text(data: dict[str, Any]) -> list[str]:
    """The analysis as a person reads it (the JSON output carries every figure)."""
    t = data["analysis"]["test"]
    lines = [
        f"Form {data['form']}, administration {data['administration']}: {t['n']} candidates, "
        f"{t['k']} items, {t['max_total']:g} marks.",
        f"  mean {_f(t['mean'], 2)}, SD {_f(t['sd'], 2)} (n - 1), alpha {_f(t['alpha'])} "
        f"(Feldt 95% interval "
        + (
            "-"
            if t["alpha_ci95"] is None
            else f"{_f(t['alpha_ci95'][0])} to {_f(t['alpha_ci95'][1])}"
        )
        + f"), SEM {_f(t['sem'], 2)}",
    ]
    if data["pass_mark"] is None:
        lines.append("  pass mark: none")
    else:
        dc = t["decision_consistency"] or {}
        lines.append(
            f"  pass mark {data['pass_mark']:g} ({data['pass_mark_source']}): pass rate "
            f"{_f(t['pass_rate'])}, CSEM at the cut {_f(t['csem_at_pass'], 2)} "
            f"({t['csem_method']}), decision consistency "
            + (
                f"{_f(dc.get('agreement'))} agreement, kappa {_f(dc.get('kappa'))} "
                f"({dc.get('method')})"
                if dc
                else "not estimated"
            )
        )
    params = {p["item"]: p for p in (data["calibration"] or {}).get("items", [])}
    dif: dict[str, list[str]] = {}
    for f in data["dif_findings"]:
        dif.setdefault(f["item"], []).append(f"{f['class']}")
    flags: dict[str, list[str]] = {}
    for f in data["analysis"]["flags"]:
        flags.setdefault(f["item"], []).append(f["code"])
    lines += [
        "",
        "  item        facility  item-rest  upper-lower  omit    a       b     DIF  flags",
    ]
    for i in data["analysis"]["items"]:
        p = params.get(i["item"], {})
        lines.append(
            f"  {i['item']:<10}  {_f(i['facility']):>8}  {_f(i['item_rest_r']):>9}  "
            f"{_f(i['upper_lower']):>11}  {_f(i['omit_rate']):>5}  {_f(p.get('a'), 2):>5}  "
            f"{_f(p.get('b'), 2):>6}  {max(dif.get(i['item'], ['-'])):>3}  "
            f"{', '.join(flags.get(i['item'], [])) or '-'}"
        )
    lines += ["", "DIF (Mantel-Haenszel, ETS classes; logistic regression beside it):"]
    for c in data["dif"]["comparisons"]:
        head = f"  {c['characteristic']}: {c['focal'] or '-'} against {c['reference'] or '-'}"
        if c["skipped"]:
            lines.append(f"{head}: skipped: {c['skipped']}")
            continue
        found = [
            f for f in data["dif_findings"]
            if (f["characteristic"], f["focal"]) == (c["characteristic"], c["focal"])
        ]  # fmt: skip
        lines.append(
            f"{head} ({c['n_focal']} and {c['n_reference']} candidates): "
            + (f"{len(found)} item(s) of class B or C" if found else "every item class A")
        )
        for f in found:
            lines.append(
                f"    {f['item']}: class {f['class']}, delta_MH {_f(f['delta_mh'], 2)}, "
                f"favours {f['favoured'] or 'neither'}"
            )
    cal = data["calibration"]
    if cal is not None:
        lines += [
            "",
            f"IRT calibration ({cal['model']}, {cal['method']}): {len(cal['items'])} item(s) "
            f"calibrated, {len(cal['excluded'])} excluded; "
            f"{'converged' if cal['converged'] else 'NOT converged'}; log-likelihood "
            f"{cal['log_likelihood']}, AIC {cal['aic']}, BIC {cal['bic']}",
        ]
        lines += [f"  excluded {e['item']}: {e['reason']}" for e in cal["excluded"]]
    lines += [f"note: {n}" for n in data["notes"]]
    flagged = data["flagged_items"]
    lines += [
        "",
        f"{len(flagged)} item(s) flagged or with class C DIF"
        + (f": {', '.join(flagged)}" if flagged else ""),
    ]
    return lines


def analyse(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.core.errors import ConflictError, SaveRefusedError

    analysed = bank.results.analyse(
        args.form,
        results=args.results,
        pass_mark=args.pass_mark,
        model=args.model,
        administration=args.administration,
    )
    data = analysed.to_dict()
    commit = None
    refused = None
    already: dict[str, Any] | None = None
    if args.write:
        analyst = bank.identity(args.analyst)
        already = bank.results.written(analysed)
        if already is not None and already["analysed_by"].lower() == analyst.lower():
            commit = str(already["commit"])  # the same figures are there: nothing to commit
        else:
            already = None
            try:
                commit = bank.results.write_back(analysed, analyst)
            except (ConflictError, SaveRefusedError) as exc:
                refused = str(exc)
    if args.output == "json":
        print(to_json({**data, "commit": commit, "write_refused": refused}))
    else:
        print("\n".join(_text(data)))
        if already is not None:
            print(
                f"The same statistics are already in the bank (commit {str(commit)[:12]} by "
                f"{already['analysed_by']}): nothing to commit."
            )
        elif commit is not None:
            print(
                f"Statistics of {len(data['analysis']['items'])} item(s) committed: {commit[:12]}"
                " (flagged items are back in their panel's review queue)."
            )
    if refused is not None:
        print(f"itembank: the statistics were not written: {refused}", file=sys.stderr)
    return EXIT_FINDINGS if analysed.needs_attention or refused else EXIT_OK


def report(bank: Bank, args: argparse.Namespace) -> int:
    written = bank.results.report(
        args.form,
        Path(args.out),
        results=args.results,
        pass_mark=args.pass_mark,
        model=args.model,
        administration=args.administration,
        pdf=args.pdf,
    )
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


__all__ = ["add_analyse", "analyse", "report"]
