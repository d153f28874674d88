"""Exporters' commands: build parallel forms, check them and export them (assemble, form
verify, export)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from itembank.bank import Bank
from itembank.checks.reporting import to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Handler, Parser, bank_arg, format_arg

# ---- form assembly and export (issue 5): assemble | form verify | export ----------------------


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the seed must be 0 or more")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("ask for between 1 and 100 forms")
    return value


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not 0 < value <= 0.2:
        raise argparse.ArgumentTypeError("the tolerance must be above 0 and at most 0.2")
    return value


def add_form_commands(sub: Any) -> None:
    p = sub.add_parser(
        "assemble",
        help="build parallel test forms from a blueprint",
        description="Build N parallel forms for a blueprint at once (a mixed-integer programme "
        "that minimises the largest deviation of any form from the target mean difficulty, and "
        "of the forms' characteristic and information curves once item statistics exist), and "
        "commit their manifests to forms/<id>/manifest.json, or with --out write them to a new "
        "folder instead. The output gives each form's deviation, the spread between forms and "
        "the solver's proven bound on the best parity. The same bank commit, blueprint and "
        "seed give identical forms; other seeds give other forms equally parallel within the "
        "tolerance. "
        "Exit 0: forms built; 1: the blueprint cannot be met (the conflicts are listed); "
        "2: bad invocation, unknown or invalid blueprint, or no bank.",
    )
    p.add_argument("--blueprint", metavar="ID", required=True, help="blueprints/ID.json")
    p.add_argument("--forms", metavar="N", type=_count, default=1, help="how many forms (1)")
    p.add_argument("--seed", metavar="S", type=_seed, required=True, help="a whole number")
    p.add_argument("--out", metavar="DIR", help="write manifests here instead of committing")
    p.add_argument("--force", action="store_true", help="replace existing forms or --out folder")
    p.add_argument("--author", metavar="'NAME <EMAIL>'", help="who commits (default: git config)")
    p.add_argument(
        "--time-limit",
        metavar="SECONDS",
        type=float,
        default=60.0,
        help="the solver's time limit (60)",
    )
    p.add_argument(
        "--tolerance",
        metavar="T",
        type=_tolerance,
        help="parity tolerance: stop once the largest deviation of any form is proven within T "
        "of the best possible (default: the blueprint's parity.tolerance, else 0.002)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    bank_arg(p)
    format_arg(p)

    p = sub.add_parser(
        "form",
        help="check an assembled form",
        description="Work with assembled forms. 'form verify FORM' re-derives a form from its "
        "manifest and confirms nothing changed since it was assembled.",
    )
    form_sub = p.add_subparsers(dest="form_command", metavar="ACTION", parser_class=Parser)
    v = form_sub.add_parser(
        "verify",
        help="confirm a form still matches the bank",
        description="Check a form as recorded, reading every record at the manifest's bank "
        "commit (content hash, approvals as of that commit, option order, key, totals), and "
        "say what changed since, per id: edited, retired, went back to review, approval no "
        "longer valid (approval-stale, not-approved), gone, or an uncommitted change. Exit 0: "
        "deliverable as it stands; 1: something is listed; 2: no such form or commit, or no "
        "bank.",
    )
    v.add_argument("form", metavar="FORM", help="a form id (forms/FORM/manifest.json) or a path")
    bank_arg(v)
    format_arg(v)
    p.set_defaults(bank=None, form_command=None)

    p = sub.add_parser(
        "export",
        help="export a form to QTI 2.1, QTI 3.0, HTML or PDF",
        description="Export a verified form: qti21 and qti30 write a content package (zip) for "
        "a delivery platform; html and pdf write the candidate paper, and the answer key and "
        "marking scheme as a separate document. Given a scenario id (e.g. SIM-0001), html and "
        "pdf write the candidate brief, the actor briefs and the assessor's marking sheet. "
        "Reasonable adjustments write only the candidate's document: --large-print (html or "
        "pdf) and --accessible (html for a screen reader, and plain text). "
        "A form is rebuilt from the bank commit its manifest records, so it gives the same "
        "bytes years later; it is refused while any record it names is not approved-or-"
        "retired now, lacks the approvals the review policy required at that commit, or has "
        "uncommitted changes. --force replaces only a folder itembank wrote (it holds a "
        ".itembank-export file), never the bank, its repository, a git repository, the "
        "current folder or one above it. Each QTI package is checked as a platform reads it "
        "(identifiers unique, every file, dependency, stimulus and item reference resolves, "
        "every key names a choice, max scores match the rules) and refused if that finds "
        "errors. --check writes nothing: it prints what a platform will receive (per item: "
        "identifier, title, format, max score; stimuli; tests and sections; totals) and every "
        "error and warning, or for html and pdf what each paper will contain. Progress goes "
        "to stderr when it is a terminal (--progress: always; --quiet: never). Exit 0: "
        "written, or --check found no error; 1: refused (each id and why), or --check found "
        "errors; 2: bad invocation (e.g. an adjustment the format does not offer), an "
        "output folder that may not be replaced, or no bank.",
    )
    p.add_argument("form", metavar="FORM", help="a form id or manifest path, or a scenario id")
    p.add_argument(
        "--format",
        dest="export_format",
        required=True,
        choices=("qti21", "qti30", "html", "pdf"),
        help="what to write",
    )
    p.add_argument("--out", metavar="DIR", help="a new folder for the files (not with --check)")
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing: list what a platform will receive and every problem",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--progress", action="store_true", help="progress lines even when not a terminal"
    )
    p.add_argument("--force", action="store_true", help="replace the folder if itembank wrote it")
    p.add_argument(
        "--as-delivered",
        action="store_true",
        help="re-export a form exactly as candidates saw it, for the record (e.g. an appeal), "
        "even if an item has since gone back to review",
    )
    p.add_argument(
        "--large-print",
        action="store_true",
        help="reasonable adjustment, html or pdf: only the candidate's paper (or brief), every "
        "text 18 pt or more, one question per page, black on white; the standard answer key "
        "fits it (same letters)",
    )
    p.add_argument(
        "--accessible",
        action="store_true",
        help="reasonable adjustment, html only: the candidate's paper (or brief) as one HTML "
        "page for a screen reader (headings, a labelled control per option) and as plain text",
    )
    bank_arg(p)


def _assemble(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.forms.manifests import NotDeliverableError
    from itembank.forms.pool import AssemblyError

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr, flush=True)

    try:
        outcome = bank.forms.assemble(
            args.blueprint,
            args.forms,
            args.seed,
            out=args.out,
            force=args.force,
            author=args.author,
            time_limit=args.time_limit,
            progress=progress,
            tolerance=args.tolerance,
        )
    except (AssemblyError, NotDeliverableError) as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    summary = {
        "forms": [
            {
                "id": m["id"],
                "items": m["totals"]["items"],
                "max_score": m["totals"]["max_score"],
                "difficulty_mean": m["totals"]["difficulty_mean"],
                "deviation": m["solver"].get("deviation"),
                "cases": [s["stimulus"] for s in m["sections"] if s.get("stimulus")],
            }
            for m in outcome.manifests
        ],
        "overlap": outcome.assembly.overlap(),
        "solver": outcome.assembly.solver,
        "parity": outcome.assembly.parity,
        "commit": outcome.commit,
        "written": [str(p) for p in outcome.written or []],
    }
    if args.format == "json":
        print(to_json(summary))
        return EXIT_OK
    for f in summary["forms"]:
        print(
            f"{f['id']}: {f['items']} items, max score {f['max_score']:g}, mean difficulty "
            f"{f['difficulty_mean']:.4f} ({f['deviation']:+.4f} from the target), "
            f"case(s) {', '.join(f['cases']) or 'none'}"
        )
    for o in summary["overlap"]:
        shared = ", ".join(o["shared_cases"]) or "none"
        print(
            f"  forms {o['forms'][0]} and {o['forms'][1]} share {o['shared_items']} item(s): "
            f"{o['shared_items_outside_cases']} outside cases; shared case(s): {shared}"
        )
    solver = summary["solver"]
    for line in _parity_lines(outcome.assembly.parity, solver):
        print(line)
    print(
        f"Solver: {solver['name']} {solver['version']}, {solver['status']}, {solver['seconds']}s "
        f"(start: {solver['start']}; decomposition: {solver['decomposition']})."
    )
    if outcome.commit:
        print(f"Committed {len(outcome.manifests)} manifest(s) in {outcome.commit[:10]}.")
    else:
        print(f"Wrote {len(summary['written'])} manifest(s) under {args.out} (not committed).")
    return EXIT_OK


def _parity_lines(parity: dict[str, Any], solver: dict[str, Any]) -> list[str]:
    """How parallel the forms are, measure by measure, and the solver's proof."""
    out = []
    for name, m in parity["measures"].items():
        what = "mean difficulty" if name == "difficulty" else name
        devs = ", ".join(f"{d:+.4f}" for d in m["deviations"])
        out.append(
            f"Parity on {what}: spread {m['spread']:.4f} between forms; deviations from the "
            f"target {m['target']:.4f} ({m['target_from']}): {devs}"
        )
    if parity.get("theta"):
        at = ", ".join(f"{t:g}" for t in parity["theta"])
        out.append(f"Curves matched at abilities {at}: {parity['theta_from']}.")
    scope = "" if solver["bound_scope"] == "whole pool" else " (within the candidate sets)"
    out.append(
        f"Largest deviation {solver['objective']:.4f}; the best possible is proven at least "
        f"{solver['parity_bound']:.4f}{scope}, so these forms are within "
        f"{solver['objective'] - solver['parity_bound']:.4f} of the best parity "
        f"(tolerance {solver['tolerance']:g})."
    )
    return out


def _form(bank: Bank, args: argparse.Namespace) -> int:
    if args.form_command is None:
        print("itembank form: say what to do: itembank form verify FORM", file=sys.stderr)
        return EXIT_USAGE
    check = bank.forms.verify(args.form)
    if args.format == "json":
        print(to_json(check.to_dict()))
    elif check.ok:
        print(
            f"{check.form}: every item, option order, key and total matches the bank, and "
            f"every record carries its approvals (as at {check.commit[:10]} and now)."
        )
    else:
        print(f"{check.form}: does NOT match the bank:")
        for line in check.lines():
            print(f"  - {line}")
    if args.format != "json":
        for note in check.notes:
            print(f"  note: {note}")
    return EXIT_OK if check.ok else EXIT_FINDINGS


def _progress(args: argparse.Namespace) -> Callable[[str, int, int], None] | None:
    """Progress lines on stderr: on a terminal (one line per stage, rewritten in place), or
    with --progress (one line per call, for logs); never with --quiet."""
    tty = sys.stderr.isatty()
    if args.quiet or not (args.progress or tty):
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\r" if tty and done < total else "\n"
        print(f"  {stage} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _export(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.forms.exporters import paper_format
    from itembank.forms.manifests import StaleFormError

    if not args.check and not args.out:
        print(
            "itembank export: error: say where to write with --out DIR (or --check to write "
            "nothing)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    progress = _progress(args)
    fmt = paper_format(args.export_format, args.large_print, args.accessible)
    delivered = args.as_delivered
    try:
        if args.check:
            report = bank.forms.export(
                args.form, fmt, as_delivered=delivered, check=True, progress=progress
            )
            print("\n".join(report.lines()))
            return EXIT_OK if report.ok else EXIT_FINDINGS
        written = bank.forms.export(
            args.form, fmt, args.out, args.force, delivered, progress=progress
        )
    except StaleFormError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    for path in written:
        print(path)
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"assemble": _assemble, "form": _form, "export": _export}
