"""Psychometricians' commands: bring delivered results into the results store (results import,
list, remove). Candidate-level data goes to the results folder, never to the bank."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from itembank.bank import Bank
from itembank.checks.reporting import to_json
from itembank.cli import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Handler,
    Parser,
    bank_arg,
    output_arg,
    results_arg,
)
from itembank.cli.analyse import add_analyse, analyse, report
from itembank.cli.letters import add_letters, employer_report, letters, release
from itembank.cli.marks import COMMANDS as MARKS_COMMANDS
from itembank.cli.marks import add_marks

if TYPE_CHECKING:
    from itembank.results.service import ImportConflictError, ResultsImportError

SHOWN = 20  # disagreements listed in text output (all of them with --output json)


def add_results(sub: Any) -> None:
    p = sub.add_parser(
        "results",
        help="import delivered results, analyse them, write the technical report",
        description="Work with results coming back from delivery. Candidate-level data lives "
        "in a results folder outside the bank's repository (Parquet files read through "
        "DuckDB); see docs/results.md. Each action says its exit codes (--help); with no "
        "action: exit 2.",
    )
    rsub = p.add_subparsers(dest="results_command", metavar="ACTION", parser_class=Parser)
    i = rsub.add_parser(
        "import",
        help="import results for one form",
        description="Import the results of one administration of FORM: QTI 3.0 or QTI 2.1/2.2 "
        "assessmentResult documents (a file, or a folder of them), or a CSV with the columns "
        "candidate,form,item,response,score ('response' in the letters shown on the form, e.g. "
        "B, A|C, A=T|B=F; or 'response_id' in the item's own option ids), optionally gzipped. "
        "--candidates names a CSV with candidate,employer and equality characteristics as "
        "further columns. Every response is matched to the form's manifest, re-scored by the "
        "bank on the item version delivered, and a disagreement with the platform's score is "
        "reported (the bank's score is stored, the platform's kept beside it). All or "
        "nothing; importing the same source again changes nothing. Exit 0: imported (or "
        "already there), disagreements listed; 1: refused, nothing imported (each problem "
        "with its line or XPath and the fix, or a conflict with an earlier import); 2: bad "
        "invocation, unknown form, a results folder inside the repository, or no bank.",
    )
    i.add_argument("paths", metavar="PATH", nargs="+", help="results file(s) or folder(s)")
    i.add_argument("--form", metavar="FORM", required=True, help="the form id (or manifest path)")
    i.add_argument("--candidates", metavar="FILE", help="the candidates CSV")
    i.add_argument(
        "--format",
        dest="source_format",
        choices=("auto", "qti30", "qti21", "csv"),
        default="auto",
        help="the source's format (default: auto, by content)",
    )
    i.add_argument("--quiet", action="store_true", help="no progress messages")
    results_arg(i)
    output_arg(i)
    bank_arg(i)
    ls = rsub.add_parser(
        "list",
        help="list the imports in the results store",
        description="List every import in the results store: its id, form, source, format, "
        "when, and how many candidates, responses and disagreements. Exit 0: listed (even "
        "none); 2: bad invocation, a results folder inside the repository, or no bank.",
    )
    results_arg(ls)
    output_arg(ls)
    bank_arg(ls)
    rm = rsub.add_parser(
        "remove",
        help="take one import out of the results store",
        description="Remove one import (by its id, or the first 6 or more characters of it) "
        "from the results store, e.g. before importing a corrected file for the same "
        "candidates. Exit 0: removed; 2: no such import, or no bank.",
    )
    rm.add_argument("import_id", metavar="IMPORT", help="the import id (see results list)")
    results_arg(rm)
    bank_arg(rm)
    add_analyse(rsub)
    add_marks(rsub)
    add_letters(rsub)
    p.set_defaults(bank=None, results_command=None)


def refused_import(exc: ResultsImportError | ImportConflictError, output: str) -> int:
    """Say why an import (of results or of marks) was refused, each problem with its place and
    fix (as JSON too with --output json); nothing was imported."""
    from itembank.results.service import ResultsImportError

    if isinstance(exc, ResultsImportError):
        if output == "json":
            print(to_json({"imported": False, "problems": [f.to_dict() for f in exc.findings]}))
        print(f"itembank: {exc}", file=sys.stderr)
        for f in exc.findings:
            print(f"  {f.path}: {f.pointer}: {f.code}: {f.message}", file=sys.stderr)
    else:
        print(f"itembank: {exc}", file=sys.stderr)
    return EXIT_FINDINGS


def _import(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.results.service import ImportConflictError, ResultsImportError

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr, flush=True)

    try:
        outcome = bank.results.import_results(
            args.paths, args.form, args.candidates, args.results, args.source_format, progress
        )
    except (ResultsImportError, ImportConflictError) as exc:
        return refused_import(exc, args.output)
    if args.output == "json":
        print(to_json(outcome.to_dict()))
        return EXIT_OK
    done = "Imported" if outcome.stored else "Already imported (nothing changed):"
    print(
        f"{done} {outcome.form}: {outcome.candidates} candidate(s), {outcome.responses} "
        f"response(s) ({outcome.omitted} omitted), {len(outcome.disagreements)} disagreement(s) "
        f"with the platform's score. Import {outcome.import_id[:12]} in {outcome.folder}."
    )
    for f in outcome.disagreements[:SHOWN]:
        print(f"  {f.path}: {f.pointer}: {f.message}")
    if len(outcome.disagreements) > SHOWN:
        print(f"  ... and {len(outcome.disagreements) - SHOWN} more (--output json lists all)")
    for note in outcome.notes:
        print(f"  note: {note}")
    return EXIT_OK


def _list(bank: Bank, args: argparse.Namespace) -> int:
    rows = bank.results.imports(args.results)
    if args.output == "json":
        print(to_json({"folder": str(bank.results.store(args.results).folder), "imports": rows}))
        return EXIT_OK
    print(f"Results folder {bank.results.store(args.results).folder}: {len(rows)} import(s).")
    for r in rows:
        if r["format"] == "marks":  # a marks import: `responses` counts its marks
            print(
                f"  {r['import_id'][:12]}  {r['form']}  {r['imported_at']}  marks  "
                f"{r['responses']} marks of {r['candidates']} candidates  ({r['source']})"
            )
            continue
        print(
            f"  {r['import_id'][:12]}  {r['form']}  {r['imported_at']}  {r['format']}  "
            f"{r['candidates']} candidates, {r['responses']} responses, {r['disagreements']} "
            f"disagreements  ({r['source']})"
        )
    return EXIT_OK


def _remove(bank: Bank, args: argparse.Namespace) -> int:
    record = bank.results.remove(args.import_id, args.results)
    print(f"Removed import {record['import_id'][:12]} of {record['form']} ({record['source']}).")
    return EXIT_OK


def _results(bank: Bank, args: argparse.Namespace) -> int:
    handlers = {
        "import": _import,
        "list": _list,
        "remove": _remove,
        "analyse": analyse,
        "report": report,
        **MARKS_COMMANDS,
        "letters": letters,
        "employer-report": employer_report,
        "release": release,
    }
    if args.results_command is None:
        print(
            "itembank results: say what to do: import, list, remove, analyse, report, "
            "import-marks, agreement, decisions, letters, employer-report or release",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return handlers[args.results_command](bank, args)


COMMANDS: dict[str, Handler] = {"results": _results}
