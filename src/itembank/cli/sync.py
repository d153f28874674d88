"""Sharing a bank through its git remote: `itembank sync` pulls others' work and pushes one's
own (every save already pushes; this catches up after working offline)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from itembank.bank import Bank
from itembank.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Handler, bank_arg
from itembank.core.errors import RemoteUnreachableError, SyncRefusedError


def add_sync(sub: Any) -> None:
    p = sub.add_parser(
        "sync",
        help="pull others' work from the bank's git remote and push your own",
        description="Fetch the remote branch bank.json's \"sync\" names, replay this clone's "
        "commits not yet on it (automatically when they touch other records), fast-forward to "
        "others' work and push; never a force-push. A local commit whose record was changed on "
        "the remote is undone and its version kept, as for any conflicting save "
        "('itembank kept ID' lists them). Progress goes to stderr. Exit codes: 0 in sync; "
        "1 conflict (the records and where your versions are kept are listed); 2 bad "
        "invocation, no remote configured, remote unreachable or a state that needs a person "
        "(the message names the fix). ITEMBANK_SYNC=off turns syncing off.",
    )
    bank_arg(p)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        help="report every stage (default: when stderr is a terminal)",
    )
    shown.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _progress(every: float = 0.5) -> Callable[[str, int, int], None]:
    """Stage, done and total to stderr: each new stage, its end, and at most every `every` s."""
    last_time, last_stage = 0.0, ""

    def show(stage: str, done: int, total: int) -> None:
        nonlocal last_time, last_stage
        now = time.monotonic()
        if stage != last_stage or done >= total or now - last_time >= every:
            print(f"sync: {stage} {done}/{total}", file=sys.stderr, flush=True)
            last_time, last_stage = now, stage

    return show


def _sync(bank: Bank, args: argparse.Namespace) -> int:
    progress = args.progress or (not args.quiet and sys.stderr.isatty())
    try:
        outcome = bank.sync.sync(_progress() if progress else None)
    except (RemoteUnreachableError, SyncRefusedError) as exc:
        print(f"itembank sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        print(f"Pushed {outcome.pushed} commit(s); received {outcome.received} from the remote.")
    if outcome.dropped:
        for dropped in outcome.dropped:
            kept = ", ".join(dropped.kept) or "in its commit only"
            print(
                f"conflict: {', '.join(dropped.records)} changed on the remote; your commit "
                f"'{dropped.message}' was undone and your version is kept at {kept}",
                file=sys.stderr,
            )
        return EXIT_FINDINGS
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"sync": _sync}
