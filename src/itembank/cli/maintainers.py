"""Maintainers' commands: check the bank and look back (validate, coverage, currency, audit,
history, kept)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from itembank.bank import Bank
from itembank.checks.cues import audit, audit_text
from itembank.checks.reporting import coverage_text, findings_text, report_text, to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, Handler, bank_arg, format_arg
from itembank.core.errors import ItembankError


def add_checks(sub: Any) -> None:
    """validate, coverage, currency, audit and history: the checks and the look back."""
    p = sub.add_parser(
        "validate",
        help="check every file of the bank",
        description="Check every file against its schema and the bank's rules. "
        "Exit 0: no errors; 1: errors found; 2: bad invocation or no bank.",
    )
    bank_arg(p)
    format_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress messages")

    p = sub.add_parser(
        "coverage",
        help="items per standard, role, section and format",
        description="Count items per standards statement and role by workflow "
        "state, flag statements without approved items, and with --blueprint say "
        "how many disjoint forms the approved items could fill.",
    )
    bank_arg(p)
    p.add_argument("--blueprint", metavar="ID", help="a blueprint id (blueprints/ID.json)")
    format_arg(p)

    p = sub.add_parser(
        "currency",
        help="content citing superseded law or guidance",
        description="List content that cites superseded or not-yet-in-force "
        "references or uses their flag terms. Exit 1 if any is found.",
    )
    bank_arg(p)
    format_arg(p)

    p = sub.add_parser(
        "audit",
        help="cues that give the key away, against chance",
        description="Count how often the key is the longest option, the keyed options are "
        "longer than the distractors, only keyed options agree with the stem's grammar or "
        "repeat a stem word, absolute words appear only in distractors, and where the key sits "
        "in fixed-order items; each rate against its chance value with an exact one-sided "
        "binomial test. Exit 0: no rate significantly above chance (every p > 0.05); 1: at "
        "least one is; 2: bad invocation or no bank.",
    )
    p.add_argument("--by-writer", action="store_true", help="also each writer's rates")
    bank_arg(p)
    format_arg(p)

    p = sub.add_parser(
        "history",
        help="the git history of one record",
        description="Show the commits that changed an item, stimulus or scenario.",
    )
    p.add_argument("id", help="the record's id, e.g. GK-0012")
    bank_arg(p)
    format_arg(p)


def _progress(done: int, total: int) -> None:
    print(f"  checked {done} of {total} files", file=sys.stderr, flush=True)


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


def _audit(bank: Bank, args: argparse.Namespace) -> int:
    result = audit(bank.items(), by_writer=args.by_writer)
    print(to_json(result.to_dict()) if args.format == "json" else audit_text(result))
    return EXIT_FINDINGS if result.significant else EXIT_OK


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


# ---- kept versions (issue 8): versions that could not be saved ----------------------------------


def add_kept(sub: Any) -> None:
    """Apart from add_checks because `itembank --help` lists kept after the forms' commands."""
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
    bank_arg(p)
    format_arg(p)


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


COMMANDS: dict[str, Handler] = {
    "validate": _validate,
    "coverage": _coverage,
    "currency": _currency,
    "audit": _audit,
    "history": _history,
    "kept": _kept,
}
