"""The maintainers' command line: itembank validate | coverage | currency | history."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from itembank import __version__
from itembank.authoring.csvimport import COLUMNS
from itembank.bank import Bank, open_bank
from itembank.checks.reporting import coverage_text, findings_text, report_text, to_json
from itembank.core.errors import ItembankError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _bank_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bank", metavar="PATH", help="the bank folder (default: $ITEMBANK_PATH, else ./item_bank)"
    )


def _format_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="itembank",
        description=(
            "Check and report on an item bank: schema and rule validation, coverage of the "
            "standards, currency of the law and guidance cited, and each record's history."
        ),
    )
    parser.add_argument("--version", action="version", version=f"itembank {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "validate",
        help="check every file of the bank",
        description="Check every file against its schema and the bank's rules. "
        "Exit 0: no errors; 1: errors found; 2: bad invocation or no bank.",
    )
    _bank_arg(p)
    _format_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress messages")

    p = sub.add_parser(
        "coverage",
        help="items per standard, role, section and format",
        description="Count items per standards statement and role by workflow "
        "state, flag statements without approved items, and with --blueprint say "
        "how many disjoint forms the approved items could fill.",
    )
    _bank_arg(p)
    p.add_argument("--blueprint", metavar="ID", help="a blueprint id (blueprints/ID.json)")
    _format_arg(p)

    p = sub.add_parser(
        "currency",
        help="content citing superseded law or guidance",
        description="List content that cites superseded or not-yet-in-force "
        "references or uses their flag terms. Exit 1 if any is found.",
    )
    _bank_arg(p)
    _format_arg(p)

    p = sub.add_parser(
        "history",
        help="the git history of one record",
        description="Show the commits that changed an item, stimulus or scenario.",
    )
    p.add_argument("id", help="the record's id, e.g. GK-0012")
    _bank_arg(p)
    _format_arg(p)
    _add_import_command(sub)
    _add_form_commands(sub)
    _add_kept_command(sub)
    _add_serve_command(sub)
    return parser


def _progress(done: int, total: int) -> None:
    print(f"  checked {done} of {total} files", file=sys.stderr, flush=True)


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        bank = open_bank(args.bank)
        return COMMANDS[args.command](bank, args)
    except ItembankError as exc:
        print(f"itembank: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"itembank: error: {exc.strerror or exc}{where}; nothing was changed by this "
            "command's failed step.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("itembank: interrupted; nothing was changed.", file=sys.stderr)
        return 130


def _validate(bank: Bank, args: argparse.Namespace) -> int:
    quiet = args.quiet or args.format == "json" or not sys.stderr.isatty()
    report = bank.validate(progress=None if quiet else _progress)
    print(to_json(report.to_dict()) if args.format == "json" else report_text(report))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _coverage(bank: Bank, args: argparse.Namespace) -> int:
    result = bank.coverage(blueprint=args.blueprint)
    print(to_json(result.to_dict()) if args.format == "json" else coverage_text(result))
    return EXIT_OK


def _currency(bank: Bank, args: argparse.Namespace) -> int:
    findings = bank.currency()
    if args.format == "json":
        print(to_json([f.to_dict() for f in findings]))
    else:
        print(
            findings_text(findings)
            if findings
            else "No content cites superseded or pending law or guidance."
        )
    return EXIT_FINDINGS if findings else EXIT_OK


def _history(bank: Bank, args: argparse.Namespace) -> int:
    commits = bank.history(args.id)
    if args.format == "json":
        print(to_json([c.__dict__ for c in commits]))
    else:
        for c in commits:
            print(f"{c.sha[:10]}  {c.date}  {c.author}\n    {c.message}")
        if not commits:
            print(f"{args.id} has no committed history yet.")
    return EXIT_OK


COMMANDS = {
    "validate": _validate,
    "coverage": _coverage,
    "currency": _currency,
    "history": _history,
}


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


def _add_form_commands(sub: Any) -> None:
    p = sub.add_parser(
        "assemble",
        help="build parallel test forms from a blueprint",
        description="Build N parallel forms for a blueprint at once (a mixed-integer programme), "
        "and commit their manifests to forms/<id>/manifest.json, or with --out write them to a "
        "new folder instead. The same bank commit, blueprint and seed give identical forms. "
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
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    _bank_arg(p)
    _format_arg(p)

    p = sub.add_parser(
        "form",
        help="check an assembled form",
        description="Work with assembled forms. 'form verify FORM' re-derives a form from its "
        "manifest and confirms nothing changed since it was assembled.",
    )
    form_sub = p.add_subparsers(dest="form_command", metavar="ACTION", parser_class=_Parser)
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
    _bank_arg(v)
    _format_arg(v)
    p.set_defaults(bank=None, form_command=None)

    p = sub.add_parser(
        "export",
        help="export a form to QTI 2.1, QTI 3.0, HTML or PDF",
        description="Export a verified form: qti21 and qti30 write a content package (zip) for "
        "a delivery platform; html and pdf write the candidate paper, and the answer key and "
        "marking scheme as a separate document. Given a scenario id (e.g. SIM-0001), html and "
        "pdf write the candidate brief, the actor briefs and the assessor's marking sheet. "
        "A form is rebuilt from the bank commit its manifest records, so it gives the same "
        "bytes years later; it is refused while any record it names is not approved-or-"
        "retired now, lacks the approvals the review policy required at that commit, or has "
        "uncommitted changes. --force replaces only a folder itembank wrote (it holds a "
        ".itembank-export file), never the bank, its repository, a git repository, the "
        "current folder or one above it. Exit 0: written; 1: refused (each id and why); 2: "
        "bad invocation, an output folder that may not be replaced, or no bank.",
    )
    p.add_argument("form", metavar="FORM", help="a form id or manifest path, or a scenario id")
    p.add_argument(
        "--format",
        dest="export_format",
        required=True,
        choices=("qti21", "qti30", "html", "pdf"),
        help="what to write",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="a new folder for the files")
    p.add_argument("--force", action="store_true", help="replace the folder if itembank wrote it")
    p.add_argument(
        "--as-delivered",
        action="store_true",
        help="re-export a form exactly as candidates saw it, for the record (e.g. an appeal), "
        "even if an item has since gone back to review",
    )
    _bank_arg(p)


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
                "cases": [s["stimulus"] for s in m["sections"] if s.get("stimulus")],
            }
            for m in outcome.manifests
        ],
        "overlap": outcome.assembly.overlap(),
        "solver": outcome.assembly.solver,
        "commit": outcome.commit,
        "written": [str(p) for p in outcome.written or []],
    }
    if args.format == "json":
        print(to_json(summary))
        return EXIT_OK
    for f in summary["forms"]:
        print(
            f"{f['id']}: {f['items']} items, max score {f['max_score']:g}, mean difficulty "
            f"{f['difficulty_mean']:.3f}, case(s) {', '.join(f['cases']) or 'none'}"
        )
    for o in summary["overlap"]:
        shared = ", ".join(o["shared_cases"]) or "none"
        print(
            f"  forms {o['forms'][0]} and {o['forms'][1]} share {o['shared_items']} item(s): "
            f"{o['shared_items_outside_cases']} outside cases; shared case(s): {shared}"
        )
    solver = summary["solver"]
    print(
        f"Solver: {solver['name']} {solver['version']}, {solver['status']}, {solver['seconds']}s."
    )
    if outcome.commit:
        print(f"Committed {len(outcome.manifests)} manifest(s) in {outcome.commit[:10]}.")
    else:
        print(f"Wrote {len(summary['written'])} manifest(s) under {args.out} (not committed).")
    return EXIT_OK


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


def _export(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.forms.manifests import StaleFormError

    try:
        written = bank.forms.export(
            args.form, args.export_format, args.out, args.force, args.as_delivered
        )
    except StaleFormError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    for path in written:
        print(path)
    return EXIT_OK


FORM_COMMANDS = {"assemble": _assemble, "form": _form, "export": _export}
COMMANDS.update(FORM_COMMANDS)


# ---- bulk import of drafted items (issue 3) ----------------------------------------------------


def _add_import_command(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="draft items from a spreadsheet (CSV)",
        description="Create draft items from a CSV file in one commit. Every bad row is "
        "reported by line and column; if any row is bad nothing is imported (unless "
        "--skip-bad). Columns: " + ", ".join(COLUMNS) + ". Exit 0: imported; 1: bad rows; "
        "2: bad call, unreadable file or no bank.",
        epilog="Column details: "
        "python -c 'import itembank.authoring.csvimport as m; print(m.__doc__)'",
    )
    p.add_argument("file", help="the CSV file (UTF-8, header row first)")
    _bank_arg(p)
    p.add_argument(
        "--author",
        metavar="'NAME <EMAIL>'",
        help="who the commit is recorded against (default: JUPYTERHUB_USER or git config)",
    )
    p.add_argument(
        "--skip-bad", action="store_true", help="import the good rows even if some are bad"
    )
    p.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    _format_arg(p)


def _import_progress(every: float = 0.5) -> Callable[[str, int, int], None]:
    """Progress on stderr: a stage's first and last report, and at most one line per `every`
    seconds between them (stdout stays the result, for --format json)."""
    last: dict[str, Any] = {"at": 0.0, "line": None}
    words = {"read": "rows read", "checked": "rows checked", "written": "items written"}

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if (done == total or now - last["at"] >= every) and last["line"] != (stage, done):
            last["at"], last["line"] = now, (stage, done)
            print(f"{done:,} of {total:,} {words.get(stage, stage)}", file=sys.stderr, flush=True)

    return show


def _import(bank: Bank, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ItembankError(f"cannot read {path}: {exc.strerror}") from None
    result = bank.authoring.import_items(
        data,
        str(path),
        bank.identity(args.author),
        skip_bad=args.skip_bad,
        dry_run=args.dry_run,
        progress=_import_progress(),
    )
    bad = [{"line": r.line, "problems": r.problems} for r in result.bad]
    if args.format == "json":
        print(
            to_json(
                {
                    "imported": result.imported,
                    "commit": result.commit,
                    "bad_rows": bad,
                    "file_errors": [f.to_dict() for f in result.file_findings],
                }
            )
        )
    else:
        for finding in result.file_findings:
            print(f"{path}: {finding.message}")
        for row in result.bad:
            for problem in row.problems:
                print(f"{path}:{row.line}: {problem}")
        if result.imported:
            ids = result.imported
            named = ", ".join(ids) if len(ids) <= 20 else f"{ids[0]} ... {ids[-1]}"
            print(
                f"Imported {len(ids)} draft item(s) ({named}) in commit {str(result.commit)[:8]}."
            )
        elif args.dry_run and not result.bad and not result.file_findings:
            print(f"{len(result.rows)} row(s) checked: all good (dry run, nothing imported).")
        elif result.bad and not args.skip_bad:
            print(
                f"{len(result.bad)} bad row(s): nothing was imported. Fix them, or use "
                "--skip-bad to import the rest."
            )
    if result.file_findings:
        return EXIT_USAGE
    return EXIT_FINDINGS if result.bad else EXIT_OK


COMMANDS["import"] = _import


# ---- kept versions (issue 8): versions that could not be saved ----------------------------------


def _add_kept_command(sub: Any) -> None:
    p = sub.add_parser(
        "kept",
        help="versions that could not be saved: list, show or restore them",
        description="Every version a save refused or lost to a conflict is kept, never "
        "overwritten. Without ID: all kept versions. With ID: that record's, numbered; --show N "
        "prints one; --restore N saves it as your next save of the record (one commit by you, "
        "checked like any save).",
    )
    p.add_argument("id", nargs="?", help="the record's id, e.g. GK-0012")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--show", type=int, metavar="N", help="print kept version N")
    action.add_argument("--restore", type=int, metavar="N", help="save kept version N")
    p.add_argument("--author", metavar="'NAME <EMAIL>'", help="who commits (default: git config)")
    _bank_arg(p)
    _format_arg(p)


def _kept(bank: Bank, args: argparse.Namespace) -> int:
    if (args.show is not None or args.restore is not None) and not args.id:
        raise ItembankError("--show and --restore need the record's id: itembank kept ID --show N")
    if args.show is not None:
        sys.stdout.write(bank.kept_text(args.id, args.show).decode("utf-8", "replace"))
        return EXIT_OK
    if args.restore is not None:
        sha = bank.restore_kept(args.id, args.restore, bank.identity(args.author))
        print(f"Restored kept version {args.restore} of {args.id} (commit {sha[:8]}).")
        return EXIT_OK
    versions = bank.kept(args.id)
    if args.format == "json":
        print(
            to_json(
                [
                    {
                        "number": k.number,
                        "record": k.record,
                        "who": k.who,
                        "when": k.when,
                        "why": k.why,
                        "path": str(k.path),
                    }
                    for k in versions
                ]
            )
        )
        return EXIT_OK
    if not versions:
        print(f"No kept versions{' of ' + args.id if args.id else ''}.")
    for k in versions:
        print(f"{k.record} #{k.number}  {k.when}  {k.why:<18}  {k.who}  {k.path}")
    return EXIT_OK


COMMANDS["kept"] = _kept


# ---- panel apps (issue 4): serve ----------------------------------------------------------------


def _add_serve_command(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="start the panel apps (standalone Voila) on 127.0.0.1",
        description="Serve the review, standard-setting and coverage apps with standalone "
        "Voila: 127.0.0.1, a token, no tracebacks or sources, no template or theme from the URL, "
        "kernels of closed pages culled, security headers on every response, /logout. Prints the "
        "URLs; Ctrl-C, SIGTERM or SIGHUP stops. With --lab, "
        "JupyterLab for writers starts beside it, with a token of its own.",
    )
    _bank_arg(p)
    p.add_argument(
        "--apps",
        metavar="DIR",
        help="folder of the app notebooks (default: the "
        "nearest review_apps/ at or above the current folder)",
    )
    p.add_argument("--port", type=int, default=8866, help="Voila's port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--token", help="access token (default: a new random one)")
    p.add_argument(
        "--cull-idle",
        type=int,
        default=900,
        metavar="SECONDS",
        help="shut down the kernel of a page that is gone (closed, crashed, network lost) after "
        "this long idle (default 900); an open page's kernel is never culled",
    )
    p.add_argument("--lab", metavar="DIR", help="also start JupyterLab over DIR for writers")
    p.add_argument("--lab-port", type=int, default=8888, help="JupyterLab's port (default 8888)")
    p.add_argument("--lab-open", metavar="NOTEBOOK", help="notebook JupyterLab opens first")


def _serve(bank: Bank, args: argparse.Namespace) -> int:
    import secrets

    from itembank.serve import Settings, find_apps, serve

    apps = Path(args.apps).resolve() if args.apps else find_apps()
    if not apps.is_dir():
        raise ItembankError(f"--apps {apps} is not a folder.")
    settings = Settings(
        bank=bank.path,
        apps=apps,
        port=args.port,
        ip=args.ip,
        token=args.token or secrets.token_urlsafe(24),
        cull_idle_seconds=args.cull_idle,
        lab_root=Path(args.lab).resolve() if args.lab else None,
        lab_port=args.lab_port,
        lab_open=args.lab_open,
    )
    return serve(settings, lambda line: print(line, flush=True))


COMMANDS["serve"] = _serve


def main() -> None:
    sys.exit(run())
