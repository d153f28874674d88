"""The results team's commands on simulated-practice marks and decisions, under `itembank
results`: import-marks (assessors' bands into the results store), agreement (per criterion)
and decisions (met / not met / pending from the adopted pass mark). Candidate-level output
goes only to a file outside the repository (--csv); the screen shows counts."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from itembank.bank import Bank
from itembank.checks.reporting import to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, bank_arg, output_arg, results_arg


def _common(p: argparse.ArgumentParser) -> None:
    results_arg(p)
    output_arg(p)
    bank_arg(p)


def add_marks(rsub: Any) -> None:
    """`results import-marks`, `results agreement` and `results decisions`."""
    i = rsub.add_parser(
        "import-marks",
        help="import assessors' simulated-practice marks for one form",
        description="Import a CSV (optionally gzipped) of simulated-practice marks with the "
        "columns candidate,scenario,criterion,assessor,band: one row per assessor's mark on one "
        "criterion, the band as its score in the scenario's marking scheme. Every row is checked "
        "against the bank's approved scenarios and the candidates with results of FORM; the "
        "file is read as a stream. All or nothing; importing the same file again changes "
        "nothing; a later file may add third marks. Exit 0: imported (or already there); 1: "
        "refused, nothing imported (each problem with its line, column and fix, or a mark "
        "already imported from another file); 2: bad invocation, unknown form, no results of "
        "the form imported yet, a results folder inside the repository, or no bank.",
    )
    i.add_argument("path", metavar="FILE", help="the marks CSV (.csv or .csv.gz)")
    i.add_argument("--form", metavar="FORM", required=True, help="the form id (or manifest path)")
    _common(i)
    a = rsub.add_parser(
        "agreement",
        help="how far the assessors agree on each criterion",
        description="For each criterion of FORM's marks, between the first two assessors: "
        "candidates marked twice (n), exact and within-one-band agreement, Cohen's weighted "
        "kappa (linear and quadratic weights), the intraclass correlation ICC(2,1) (two-way "
        "random, absolute agreement, single rater; Shrout & Fleiss 1979), and how many "
        "candidates need a third mark (bands further apart than bank.json's "
        "results.decision.assessor_tolerance) and how many of those still lack one. Exit 0: "
        "shown; 1: no marks imported for FORM; 2: bad invocation, unknown form, or no bank.",
    )
    a.add_argument("form", metavar="FORM", help="the form id (or manifest path)")
    _common(a)
    d = rsub.add_parser(
        "decisions",
        help="met / not met / pending for each candidate, from the adopted pass mark",
        description="Decide each candidate of FORM: the knowledge score at or above the "
        "ADOPTED pass mark and the simulated-practice criteria by the rule in bank.json "
        "results.decision (met / not met, never a grade; pending while a required mark is "
        "missing). Prints the counts and the rule; --csv writes one row per candidate to a "
        "file OUTSIDE the bank's repository. Exit 0: decided (pending ones counted); 1: "
        "refused, no pass mark has been adopted for FORM (itembank standard-setting adopt); 2: "
        "bad invocation, unknown form, no results imported, a --csv path inside the "
        "repository, or no bank.",
    )
    d.add_argument("form", metavar="FORM", help="the form id (or manifest path)")
    d.add_argument(
        "--csv", metavar="OUT", help="write the decisions to this CSV (outside the repo)"
    )
    _common(d)


def _import_marks(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.results.service import ImportConflictError, ResultsImportError

    try:
        outcome = bank.results.marks.import_marks(args.path, args.form, args.results)
    except (ResultsImportError, ImportConflictError) as exc:
        from itembank.cli.results import refused_import

        return refused_import(exc, args.output)
    if args.output == "json":
        print(to_json(outcome.to_dict()))
        return EXIT_OK
    done = "Imported" if outcome.stored else "Already imported (nothing changed):"
    print(
        f"{done} {outcome.form}: {outcome.marks} mark(s) for {outcome.candidates} candidate(s) "
        f"on {outcome.criteria} criteria. Import {outcome.import_id[:12]} in {outcome.folder}."
    )
    return EXIT_OK


def _figure(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.0f}%" if percent else f"{value:.2f}"


def _agreement(bank: Bank, args: argparse.Namespace) -> int:
    rows = bank.results.marks.agreement(args.form, args.results)
    if args.output == "json":
        print(to_json({"form": args.form, "criteria": [r.to_dict() for r in rows]}))
        return EXIT_OK if rows else EXIT_FINDINGS
    if not rows:
        print(f"No simulated-practice marks of {args.form} are imported (results import-marks).")
        return EXIT_FINDINGS
    print(
        "Agreement of the first two assessors per criterion (kappa weighted linear / quadratic; "
        "ICC(2,1): two-way random, absolute agreement, single rater)."
    )
    print(
        f"  {'criterion':<16} {'n':>6} {'exact':>6} {'±1':>5} {'kappa-l':>8} {'kappa-q':>8} "
        f"{'ICC':>6} {'3rd needed':>10} {'3rd missing':>11} {'one mark':>8}"
    )
    for r in rows:
        print(
            f"  {r.scenario + '/' + r.criterion:<16} {r.n:>6} {_figure(r.exact, True):>6} "
            f"{_figure(r.within_one, True):>5} {_figure(r.kappa_linear):>8} "
            f"{_figure(r.kappa_quadratic):>8} {_figure(r.icc):>6} {r.third_needed:>10} "
            f"{r.third_missing:>11} {r.single:>8}"
        )
    return EXIT_OK


def _decisions(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.results.decision import NoAdoptedPassMarkError, outcome_word

    try:
        if args.csv:
            path, made = bank.results.marks.write_decisions(args.form, args.csv, args.results)
        else:
            path, made = None, bank.results.marks.decisions(args.form, args.results)
    except NoAdoptedPassMarkError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    counts = {
        w: sum(1 for d in made if outcome_word(d) == w) for w in ("met", "not met", "pending")
    }
    rule = made[0].rule if made else ""
    mark = made[0].pass_mark if made else None
    if args.output == "json":
        print(
            to_json(
                {
                    "form": args.form,
                    "candidates": len(made),
                    **{k.replace(" ", "_"): v for k, v in counts.items()},
                    "rule": rule,
                    "pass_mark": None if mark is None else mark.pass_mark,
                    "adopted_by": None if mark is None else mark.decided_by,
                    "csv": None if path is None else str(path),
                }
            )
        )
        return EXIT_OK
    print(
        f"{args.form}: {len(made)} candidate(s): {counts['met']} met, {counts['not met']} not "
        f"met, {counts['pending']} pending."
    )
    if mark is not None:
        print(f"Pass mark {mark.pass_mark:g} of {mark.max_score:g}, adopted by {mark.decided_by}.")
    if rule:
        print(f"Rule: {rule}")
    for d in [d for d in made if d.met is None][:10]:
        print(f"  pending {d.candidate}: {'; '.join(d.pending)}")
    if counts["pending"] > 10:
        print(f"  ... and {counts['pending'] - 10} more pending (--csv lists every candidate)")
    if path is not None:
        print(f"Wrote {path} (candidate-level: keep it out of the repository).")
    return EXIT_OK


COMMANDS = {"import-marks": _import_marks, "agreement": _agreement, "decisions": _decisions}
__all__ = ["COMMANDS", "EXIT_USAGE", "add_marks"]
