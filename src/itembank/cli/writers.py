"""Content writers' command: draft items in bulk from a spreadsheet (import)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from itembank.authoring.csvimport import COLUMNS
from itembank.bank import Bank
from itembank.checks.reporting import to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Handler, bank_arg, format_arg
from itembank.core.errors import ItembankError

# ---- bulk import of drafted items (issue 3) ----------------------------------------------------


def add_import(sub: Any) -> None:
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
    bank_arg(p)
    p.add_argument(
        "--author",
        metavar="'NAME <EMAIL>'",
        help="who the commit is recorded against (default: JUPYTERHUB_USER or git config)",
    )
    p.add_argument(
        "--skip-bad", action="store_true", help="import the good rows even if some are bad"
    )
    p.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    format_arg(p)


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


COMMANDS: dict[str, Handler] = {"import": _import}
