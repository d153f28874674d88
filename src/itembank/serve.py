"""Serve the panel apps with standalone Voila (not the Jupyter server extension, which would
expose the whole Jupyter API), hardened for people who must never see code: bound to 127.0.0.1,
a token, no tracebacks, no sources, no template or theme from the URL, kernels of closed pages
culled (never those of open pages, however long idle), security headers on every response and a
login cookie scripts cannot read. Optionally JupyterLab for writers beside it.

Run as `python -m itembank.serve voila ...`: Voila with Tornado's response headers hardened."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from itembank.core.errors import ItembankError

LOCAL = "127.0.0.1"
APPS = (
    "panel_review.ipynb",
    "standard_setting.ipynb",
    "coverage.ipynb",
    "results.ipynb",
    "release.ipynb",
)
#: Voila's page needs inline scripts and styles and eval (widget managers); everything else is
#: same-origin only, and no other site may frame the apps.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: The login cookie: never readable by scripts, never sent from another site.
COOKIE = {"httponly": True, "samesite": "Strict"}


@dataclass
class Settings:
    """What to serve where."""

    bank: Path
    apps: Path
    port: int = 8866
    ip: str = LOCAL
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    #: a kernel whose page is gone (closed, crashed, network lost) is shut down after this long
    #: idle; a kernel with an open page is never culled (a reviewer may read a case for hours)
    cull_idle_seconds: int = 900
    cull_interval_seconds: int = 60
    #: websocket pings keep an idle page's connection alive through proxies, and find a dead one
    ping_seconds: int = 30
    lab_root: Path | None = None  # also start JupyterLab for writers over this folder
    #: JupyterLab's own token: never the panels' one, so a panel URL cannot open JupyterLab
    lab_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lab_port: int = 8888
    lab_open: str | None = None  # notebook JupyterLab opens first


def find_apps(start: Path | None = None) -> Path:
    """The nearest review_apps/ folder at or above `start` (the project's checkout)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "review_apps" / APPS[0]).is_file():
            return folder / "review_apps"
    raise ItembankError(
        f"No review_apps/ folder with {APPS[0]} at or above {here}: run this from the "
        "project's checkout, or pass --apps PATH."
    )


def voila_command(s: Settings) -> list[str]:
    """The standalone Voila command line with every hardening option spelt out."""
    tornado = {
        "headers": HEADERS,
        "websocket_ping_interval": s.ping_seconds,
        "websocket_ping_timeout": 3 * s.ping_seconds,
        "xsrf_cookie_kwargs": {"samesite": "Strict"},
    }
    return [
        sys.executable,
        "-m",
        "itembank.serve",
        "voila",
        str(s.apps),
        "--no-browser",
        f"--Voila.ip={s.ip}",
        f"--Voila.port={s.port}",
        "--Voila.port_retries=0",
        f"--Voila.token={s.token}",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--VoilaConfiguration.file_allowlist=[]",
        f"--MappingKernelManager.cull_idle_timeout={s.cull_idle_seconds}",
        f"--MappingKernelManager.cull_interval={s.cull_interval_seconds}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
        "--Voila.identity_provider_class=itembank.webauth.SigningOutIdentityProvider",
        "--PasswordIdentityProvider.logout_handler_class=itembank.webauth.SignOutHandler",
        f"--PasswordIdentityProvider.cookie_options={COOKIE!r}",  # a Python literal
        f"--Voila.tornado_settings={json.dumps(tornado)}",
    ]


def lab_command(s: Settings) -> list[str]:
    """JupyterLab for writers, on 127.0.0.1 with its own token (as `make serve` always ran it)."""
    assert s.lab_root is not None
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={s.ip}",
        f"--ServerApp.port={s.lab_port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={s.lab_root}",
        f"--IdentityProvider.token={s.lab_token}",
    ]
    if os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    if s.lab_open:
        command.append(f"--LabApp.default_url=/lab/tree/{s.lab_open}")
    return command


def urls(s: Settings) -> list[str]:
    """What to open: each app, and JupyterLab when it runs."""
    base = f"http://{s.ip}:{s.port}/voila/render"
    out = [f"{base}/{app}?token={s.token}" for app in APPS if (s.apps / app).is_file()]
    if s.lab_root is not None:
        out.append(f"http://{s.ip}:{s.lab_port}/lab?token={s.lab_token}")
    return out


def environment(s: Settings) -> dict[str, str]:
    """The servers' environment: the bank for every kernel, and no hub identity by accident."""
    env = {k: v for k, v in os.environ.items() if k != "JUPYTERHUB_USER"}
    env["ITEMBANK_PATH"] = str(s.bank)
    # Traitlets warns about the list and dict options on the command line; panels never see it.
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env


class _Stop(Exception):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP arrived: stop both servers."""


#: Handled explicitly, SIGINT included: a process started in the background by a
#: non-interactive shell inherits SIGINT ignored, and Python then raises no KeyboardInterrupt.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _on_signal(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def serve(s: Settings, say: Callable[[str], None] = print) -> int:
    """Start Voila (and JupyterLab), print the URLs, stay in the foreground; Ctrl-C, SIGTERM
    (a service manager) and SIGHUP (the terminal closed) all stop both servers."""
    if s.ip != LOCAL:
        say(f"warning: listening on {s.ip}, not {LOCAL}: put it behind a hub or proxy with TLS.")
    commands = [voila_command(s)] + ([lab_command(s)] if s.lab_root is not None else [])
    env = environment(s)
    processes: list[subprocess.Popen[bytes]] = []
    previous = {sig: signal.signal(sig, _on_signal) for sig in _STOP_SIGNALS}
    try:
        for command in commands:
            processes.append(subprocess.Popen(command, env=env, cwd=str(s.apps)))
        say(
            "Panel apps (standalone Voila) and writers' JupyterLab:"
            if s.lab_root
            else "Panel apps (standalone Voila):"
        )
        for url in urls(s):
            say(f"  {url}")
        say("Press Ctrl-C to stop.")
        return _wait(processes)
    except _Stop as stop:
        say(f"{stop}: stopping.")
        return 0
    finally:
        for sig in _STOP_SIGNALS:  # a second signal must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(processes: Sequence[subprocess.Popen[bytes]]) -> int:
    while True:
        for process in processes:
            code = process.poll()
            if code is not None:
                return code
        time.sleep(0.5)


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each server (each shuts down its kernels), then wait; kill what is left."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _harden_tornado(headers: dict[str, str]) -> None:
    """Every Tornado response gets the security headers: pages, static files, the login page,
    404 and 500 pages alike. RequestHandler.clear() runs when a handler starts and again before
    an error page is written, so headers set there are on every response."""
    import tornado.web

    original = tornado.web.RequestHandler.clear

    def clear(self: tornado.web.RequestHandler) -> None:
        original(self)
        for name, value in headers.items():
            self.set_header(name, value)

    tornado.web.RequestHandler.clear = clear  # type: ignore[method-assign]


def main(argv: Sequence[str]) -> int:
    """`python -m itembank.serve voila ARGS`: standalone Voila with hardened headers."""
    if not argv or argv[0] != "voila":
        print("usage: python -m itembank.serve voila [VOILA OPTIONS]", file=sys.stderr)
        return 2
    _harden_tornado(HEADERS)
    from voila.app import main as voila_main  # type: ignore[import-untyped]

    sys.argv = ["voila", *argv[1:]]
    voila_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
