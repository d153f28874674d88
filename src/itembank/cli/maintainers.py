"""Maintainers' commands: check the bank and look back (validate, coverage, currency, audit,
history, kept)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from itembank.authoring.remap import NEEDS_ACTION, OUTCOMES, RemapPlan
from itembank.bank import Bank
from itembank.checks.cues import audit, audit_text
from itembank.checks.currency import parse_day
from itembank.checks.reporting import coverage_text, findings_text, report_text, to_json
from itembank.cli import EXIT_FINDINGS, EXIT_OK, Handler, bank_arg, format_arg
from itembank.core.errors import ItembankError
from itembank.core.layout import CONTENT_KINDS


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
        "how many disjoint forms the approved items could fill. Exit 0: counted; 2: bad "
        "invocation, no bank, or an unknown blueprint or framework.",
    )
    bank_arg(p)
    p.add_argument("--blueprint", metavar="ID", help="a blueprint id (blueprints/ID.json)")
    p.add_argument(
        "--framework",
        metavar="ID",
        help="only this framework's statements, e.g. ecs-2026 (standards/ID.json)",
    )
    format_arg(p)

    p = sub.add_parser(
        "currency",
        help="content out of date in law or standards on a date",
        description="List what will be out of date on a date: content that cites superseded or "
        "not-yet-in-force references or uses their flag terms, content on a position that a "
        "provision commenced by then has changed (from references.json's commencement data), "
        "and content mapped only to a framework past its effective_to. "
        "Exit 0: nothing found; 1: findings; 2: bad invocation (e.g. a bad --on date) or no bank.",
    )
    bank_arg(p)
    p.add_argument(
        "--on",
        metavar="YYYY-MM-DD",
        type=_day,
        help="the day to check, e.g. 2027-04-01 (default: today)",
    )
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


def _day(text: str) -> str:
    """argparse type for --on: a bad date is a usage error (exit 2) in plain words."""
    try:
        return parse_day(text)
    except ItembankError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _progress(done: int, total: int) -> None:
    print(f"  checked {done} of {total} files", file=sys.stderr, flush=True)


def _validate(bank: Bank, args: argparse.Namespace) -> int:
    quiet = args.quiet or args.format == "json" or not sys.stderr.isatty()
    report = bank.validate(progress=None if quiet else _progress)
    for note in bank.validation.notes:  # e.g. an unreadable cache, set aside and rebuilt
        print(f"note: {note}", file=sys.stderr)
    print(to_json(report.to_dict()) if args.format == "json" else report_text(report))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _coverage(bank: Bank, args: argparse.Namespace) -> int:
    result = bank.coverage(blueprint=args.blueprint)
    if args.framework is not None:
        known = sorted({s["framework"] for s in result.statements})
        if args.framework not in known:
            raise ItembankError(
                f"There is no framework {args.framework!r} in standards/ (the bank has: "
                f"{', '.join(known) or 'none'})."
            )
        result = result.only(args.framework)
    if args.format == "json":
        print(to_json(result.to_dict()))
        return EXIT_OK
    if args.framework is not None:
        print(_framework_heading(bank, args.framework))
    print(coverage_text(result))
    return EXIT_OK


def _framework_heading(bank: Bank, ident: str) -> str:
    """Which framework the counts are for, when it applies, and how to map content to it."""
    frameworks = bank.frameworks()
    fw = frameworks.get(ident, {})
    dates = f"from {fw.get('effective_from')}" + (
        f" to {fw['effective_to']}" if fw.get("effective_to") else ""
    )
    lines = [f"{ident}: {fw.get('title', '')} ({fw.get('status', '')}, {dates})"]
    mapped = any(
        m.get("framework") == ident
        for kind in ("item", "stimulus", "scenario")
        for r in bank.records(kind)
        for m in r.get("standards", [])
        if isinstance(m, dict)
    )
    sources = sorted(
        fid
        for fid, f in frameworks.items()
        if isinstance(f.get("crosswalk"), dict) and f["crosswalk"].get("to") == ident
    )
    if not mapped and sources:
        lines.append(
            f"No content maps to {ident} yet: 'itembank remap --from {sources[0]} --to {ident}' "
            "proposes mappings from the crosswalk."
        )
    return "\n".join(lines)


def _currency(bank: Bank, args: argparse.Namespace) -> int:
    findings = bank.currency(on=args.on)
    day = args.on or date.today().isoformat()
    if args.format == "json":
        print(to_json([f.to_dict() for f in findings]))
    else:
        print(
            f"On {day}:\n{findings_text(findings)}"
            if findings
            else f"Nothing is out of date on {day}: no content cites superseded or pending law "
            "or guidance, states a position changed by a commenced provision, or maps only to "
            "an ended framework."
        )
    _say_left_out(bank, CONTENT_KINDS)
    return EXIT_FINDINGS if findings else EXIT_OK


def _audit(bank: Bank, args: argparse.Namespace) -> int:
    result = audit(bank.items(), by_writer=args.by_writer)
    print(to_json(result.to_dict()) if args.format == "json" else audit_text(result))
    _say_left_out(bank, ("item",))
    return EXIT_FINDINGS if result.significant else EXIT_OK


def _say_left_out(bank: Bank, kinds: tuple[str, ...]) -> None:
    """Say on stderr which record files a report left out because they cannot be read."""
    left = bank.unreadable(kinds)
    if left:
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        print(
            f"Left out {len(left)} file(s) that cannot be read as records ({shown}): "
            "'itembank validate' says what is wrong with each.",
            file=sys.stderr,
        )


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


# ---- remap (issue 10): content onto the next version of a framework ------------------------------


def add_remap(sub: Any) -> None:
    """remap: propose (and with --apply save) mappings to a framework's next version."""
    p = sub.add_parser(
        "remap",
        help="map content to a framework's next version through its crosswalk",
        description="Propose, for every item, case and scenario mapped to --from, the statements "
        "of --to that the crosswalk in standards/FROM.json gives, and list the content it gives "
        "no target (to map by hand). A dry run unless --apply, which saves every accepted "
        "proposal in ONE commit by --author. Mappings are not part of the approved content, so "
        "approved content stays approved. Exit 0: every record has a proposal (saved with "
        "--apply); 1: some records need mapping by hand (listed; the rest are saved with "
        "--apply); 2: bad invocation, no bank, no such framework or crosswalk, or a refused save.",
    )
    p.add_argument("--from", dest="source", required=True, metavar="ID", help="the old framework")
    p.add_argument("--to", dest="target", required=True, metavar="ID", help="the new framework")
    p.add_argument("--apply", action="store_true", help="save the proposals (default: dry run)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the old mappings instead of adding beside them (once the old one has ended)",
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="ID",
        help="leave this record's proposal out (repeatable): proposals you do not accept",
    )
    p.add_argument("--author", metavar="'NAME <EMAIL>'", help="who commits (default: git config)")
    bank_arg(p)
    format_arg(p)


def _remap(bank: Bank, args: argparse.Namespace) -> int:
    author = bank.identity(args.author) if args.apply else None
    if args.apply and args.format == "text":
        print(f"Planning and saving as {author} ...", file=sys.stderr, flush=True)
    plan = bank.authoring.remap(
        args.source,
        args.target,
        author=author,
        apply=args.apply,
        replace=args.replace,
        skip=tuple(args.skip),
    )
    if args.format == "json":
        print(to_json(plan.to_dict()))
    else:
        print(remap_text(plan, args.apply))
    return EXIT_FINDINGS if plan.needs_action else EXIT_OK


def remap_text(plan: RemapPlan, applied: bool) -> str:
    """One line per record, those needing a maintainer last, then the counts and the commit."""
    walk = plan.crosswalk
    lines = [f"Remap {walk.source} -> {walk.target}" + ("" if applied else " (dry run)")]
    for p in plan.proposals:
        if p.outcome in NEEDS_ACTION:
            continue
        what = {
            "remap": f"add {', '.join(p.added)}",
            "already": "already mapped",
            "skipped": f"skipped (would add {', '.join(p.added)})",
        }[p.outcome]
        extra = f"; no target for {', '.join(p.unmapped)}" if p.unmapped else ""
        lines.append(f"  {p.id:<9} {p.status:<17} {','.join(p.source_statements)} -> {what}{extra}")
        lines.extend(f"            note: {r}" for r in p.remarks)
    if plan.needs_action:
        lines.append("Not remapped (a maintainer must act):")
        for p in plan.needs_action:
            lines.append(f"  {p.id:<9} {p.status:<17} {OUTCOMES[p.outcome]}")
            lines.extend(f"            {r}" for r in p.remarks)
    counts = ", ".join(f"{len(plan.by_outcome(o))} {o}" for o in OUTCOMES)
    lines.append(f"{len(plan.proposals)} record(s) map to {walk.source}: {counts}.")
    if plan.commit:
        lines.append(
            f"Saved {len(plan.accepted)} record(s) in one commit {plan.commit[:10]}; approved "
            "content stays approved (mappings are not part of the approved content)."
        )
    elif applied:
        lines.append("Nothing to save.")
    else:
        lines.append("Nothing was saved: add --apply to save the proposals.")
    return "\n".join(lines)


COMMANDS: dict[str, Handler] = {
    "validate": _validate,
    "coverage": _coverage,
    "currency": _currency,
    "audit": _audit,
    "history": _history,
    "kept": _kept,
    "remap": _remap,
}
