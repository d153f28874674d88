"""Serving the apps: the panels' Voila apps and, with --lab, writers' JupyterLab (serve)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from itembank.bank import Bank
from itembank.cli import Handler, bank_arg
from itembank.core.errors import ItembankError

# ---- panel apps (issue 4): serve ----------------------------------------------------------------


def add_serve(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="start the panel apps (standalone Voila) on 127.0.0.1",
        description="Serve the review, standard-setting and coverage apps with standalone "
        "Voila: 127.0.0.1, a token, no tracebacks or sources, no template or theme from the URL, "
        "kernels of closed pages culled, security headers on every response, /logout. Prints the "
        "URLs; Ctrl-C, SIGTERM or SIGHUP stops. With --lab, "
        "JupyterLab for writers starts beside it, with a token of its own.",
    )
    bank_arg(p)
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


COMMANDS: dict[str, Handler] = {"serve": _serve}
