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
        "--progress", action="store_true", help="report every stage (default: when stderr is a terminal)"
    )
    shown.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _progress(every: float = 0.5) -> Callable[[str, int, int], None]:
    last = [0.0, ""]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != last[1] or done >= total or now - float(last[0]) >= every:
            print(f"sync: {stage} {done}/{total}", file=sys.stderr, flush=True)
            last[0], last[1] = now, stage

    return show


def _sync(bank: Bank, args: argparse.Namespace) -> int:
    progress = args.progress or (not args.quiet and sys.stderr.isatty())
    try:
        outcome = bank.sync.sync(_progress() if progress else None)
    except (RemoteUnreachableError, SyncRefusedError) as exc:
        print(f"itembank sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        print(
            f"Pushed {outcome.pushed} commit(s); received {outcome.received} from the remote."
        )
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
