"""`itembank serve` hardened, against real servers: security headers on every response (pages,
static files, login, 404, 500), a login cookie that scripts cannot read and other sites cannot
send, a /logout that signs out, and SIGTERM / SIGHUP / Ctrl-C stopping both servers and every
kernel."""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from itembank.serve import HEADERS
from tests.conftest import SAMPLE_BANK, make_repo
from tests.voila_server import APPS, Server, free_port, voila


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("hardening")
    apps = tmp / "apps"
    shutil.copytree(APPS, apps)
    (apps / "folder.ipynb").mkdir()  # Voila fails on it with a 500: a real server error page
    with voila(make_repo(tmp, SAMPLE_BANK, "item_bank"), tmp / "voila.log", apps=apps) as running:
        yield running


# path, token?, expected status
RESPONSES = [
    ("/voila/render/panel_review.ipynb", True, 200),  # an app page
    ("/voila/static/voila.js", True, 200),  # a static file
    ("/login", False, 200),  # the login page
    ("/voila/render/panel_review.ipynb", False, 200),  # no token: the login page
    ("/no/such/page", True, 404),  # Tornado's own 404
    ("/voila/render/no-such-app.ipynb", True, 404),  # Voila's 404 page
    ("/voila/render/folder.ipynb", True, 500),  # a server error page
    ("/logout", True, 200),
]


@pytest.mark.parametrize(("path", "token", "status"), RESPONSES)
def test_security_headers_on_every_response(server: Server, path: str, token: bool, status: int) -> None:
    got, headers, body = server.get(path, token=token)
    assert got == status, (path, got)
    assert {name: headers.get(name) for name in HEADERS} == HEADERS
    assert "Traceback" not in body


def test_the_header_values_forbid_framing_sniffing_and_referrers() -> None:
    assert HEADERS["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in HEADERS["Content-Security-Policy"]
    assert "object-src 'none'" in HEADERS["Content-Security-Policy"]
    assert HEADERS["X-Content-Type-Options"] == "nosniff"
    assert HEADERS["Referrer-Policy"] == "no-referrer"


def browser_like(server: Server) -> tuple[http.cookiejar.CookieJar, urllib.request.OpenerDirector]:
    jar = http.cookiejar.CookieJar()
    return jar, urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def fetch(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, list[str], str]:
    try:
        with opener.open(url, timeout=120) as response:
            return response.status, response.headers.get_all("Set-Cookie") or [], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_all("Set-Cookie") or [], exc.read().decode(errors="replace")


APP_WIDGET = "application/vnd.jupyter.widget-view+json"


def test_login_cookie_is_httponly_and_samesite_strict(server: Server) -> None:
    _, opener = browser_like(server)
    status, cookies, page = fetch(opener, server.url("/voila/render/panel_review.ipynb"))
    assert status == 200 and APP_WIDGET in page
    login = [c for c in cookies if c.startswith("username-")]
    assert len(login) == 1
    attributes = {part.strip().split("=")[0].lower() for part in login[0].split(";")[1:]}
    assert {"httponly", "samesite"} <= attributes
    assert "SameSite=Strict" in login[0]
    _, cookies, _ = fetch(opener, server.url("/login", token=False))
    xsrf = [c for c in cookies if c.startswith("_xsrf=")]
    assert len(xsrf) == 1 and "SameSite=Strict" in xsrf[0]


def test_logout_signs_out_and_the_app_asks_for_the_token_again(server: Server) -> None:
    jar, opener = browser_like(server)
    assert APP_WIDGET in fetch(opener, server.url("/voila/render/panel_review.ipynb"))[2]
    signed_in = list(jar)
    # the cookie alone (no token in the URL) opens the app
    assert APP_WIDGET in fetch(opener, server.url("/voila/render/panel_review.ipynb", token=False))[2]
    status, cookies, page = fetch(opener, server.url("/logout", token=False))
    assert status == 200 and "You are signed out" in page
    assert any(c.startswith("username-") and 'username-' in c and '=""' in c for c in cookies)
    status, _, page = fetch(opener, server.url("/voila/render/panel_review.ipynb", token=False))
    assert APP_WIDGET not in page and "password" in page.lower()  # the login form
    for cookie in signed_in:  # a copy of the old cookie is refused too
        jar.set_cookie(cookie)
    status, _, page = fetch(opener, server.url("/voila/render/panel_review.ipynb", token=False))
    assert APP_WIDGET not in page
    assert APP_WIDGET in fetch(opener, server.url("/voila/render/panel_review.ipynb"))[2]  # token


# ---- signals ------------------------------------------------------------------------------------


def wait_for(condition: object, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_serve_stops_both_servers_and_their_kernels_on_a_signal(tmp_path: Path, signum: int) -> None:
    bank = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    port, lab_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    command = [str(Path(sys.executable).parent / "itembank"), "serve", "--bank", str(bank), "--apps", str(APPS),
               "--port", str(port), "--token", "t0ken", "--lab", str(tmp_path), "--lab-port", str(lab_port)]
    with open(log, "wb") as out:
        # started as a non-interactive shell starts a background job (as CI may run it): with
        # SIGINT ignored, which Python inherits and then never raises KeyboardInterrupt for
        serve = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                 env={k: v for k, v in os.environ.items() if k != "JUPYTERHUB_USER"},
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    children: list[psutil.Process] = []
    try:
        wait_for(lambda: listening(port) and listening(lab_port), "Voila and JupyterLab to listen")
        # open an app page, so Voila has a kernel: it must go too
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/render/coverage.ipynb?token=t0ken",
                                    timeout=120) as page:
            assert page.status == 200
        # a short-lived helper (a git call of the kernel's, say) may have ended but not yet been
        # reaped: it has no command line, and there is nothing of it to stop, so leave it out
        found = {c: _command_line(c) for c in psutil.Process(serve.pid).children(recursive=True)}
        children = [c for c, line in found.items() if line is not None]
        commands = [line for line in found.values() if line is not None]
        assert sum("itembank.serve voila" in c for c in commands) == 1, commands
        assert sum("jupyterlab" in c for c in commands) == 1, commands
        assert sum("ipykernel" in c for c in commands) >= 1, commands
        serve.send_signal(signum)
        assert serve.wait(60) == 0, log.read_text()[-3000:]
        wait_for(lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children),
                 "every child process to end", 60)
        assert not listening(port) and not listening(lab_port)
    finally:
        for process in [psutil.Process(serve.pid), *children] if serve.poll() is None else children:
            if process.is_running():  # a failed test leaves nothing behind (only what it started)
                process.kill()


def _command_line(process: psutil.Process) -> str | None:
    """The process's command line, or None when it has already ended (a zombie or gone)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return None
