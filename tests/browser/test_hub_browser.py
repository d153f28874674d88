"""A real JupyterHub (deploy/hub.py, as `make hub` runs it) with the real configurable-http-proxy,
driven by Debian's Chromium: a writer signs in, gets JupyterLab over their own clone and saves an
item through the Bank; a panel member signs in, gets only the Voila apps (no Jupyter API, no
JupyterLab, no other user's server) and reviews an item; both commits are by the signed-in
person and reach the shared bare remote; the writer then sees the review.

Waits are for state (the hub's API, the server's page, a widget), each with a generous cap."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from playwright.sync_api import expect

from itembank.core.workflow import CRITERIA

from .conftest import offline_page, require_chromium

ROOT = Path(__file__).resolve().parents[2]
CHP = ROOT / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
WRITER, MEMBER, OTHER = "tom.whitfield", "helen.marsh", "kwame.mensah"
@dataclass
class Hub:
    url: str
    state: Path
    password: str

    def remote_log(self, count: int) -> list[str]:
        return git(self.state / "remote.git", "log", f"-{count}", "--format=%an <%ae>|%s")

    def clone(self, user: str) -> Path:
        return self.state / "users" / user / "bank"


def git(repo: Path, *args: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_api(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the hub's REST API answers (its version), or the hub died, or 180 s passed."""
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=5) as answer:
                if "version" in json.loads(answer.read()):
                    return
        except (OSError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("JupyterHub did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the hub's process group (the hub stops the proxy and every user's server), then
    kill whatever it started that is still there: nothing outlives the test."""
    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for child in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    require_chromium()
    if not CHP.exists():
        pytest.fail(f"configurable-http-proxy is not installed at {CHP}: run `make test`")
    port, password, state = _free_port(), secrets.token_urlsafe(12), tmp_path / "hub"
    log = tmp_path / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "deploy" / "hub.py"), "--port", str(port), "--state",
             str(state), "--password", password],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_api(url, process, log)
        text = log.read_text()
        assert "NOT FOR PRODUCTION" in text and f"password    {password}" in text
        yield Hub(url, state, password)
    finally:
        _stop(process)


def sign_in(browser: Any, hub: Hub, user: str) -> Any:
    page = offline_page(browser, viewport={"width": 1280, "height": 1600})
    page.set_default_timeout(180_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return page


def status(page: Any, url: str) -> tuple[int, str]:
    """The status of a GET with the page's cookies (redirects not followed) and where it goes."""
    answer = page.request.get(url, max_redirects=0, fail_on_status_code=False)
    return answer.status, answer.headers.get("location", "")


WRITE = (
    "import copy; from itembank import open_bank; b = open_bank(); r = copy.deepcopy(b.get('{src}')); "
    "r.update(id=b.authoring.next_id('{prefix}'), status='draft', author=b.identity()); "
    "print('SAVED', r['id'], b.save(r, b.identity(), 'hub test: a new draft'))"
)


def run_in_lab(page: Any, code: str, cell: int) -> str:
    """Run `code` in cell number `cell` of a notebook made from the launcher (cell 0 makes it;
    running a cell adds the next one): its output."""
    if cell == 0:
        # the kernel's websocket open and answering first: on a loaded machine it connects long
        # after the notebook shows, and a cell run before that is silently dropped
        with page.expect_websocket(lambda ws: "/channels" in ws.url, timeout=180_000) as socket:
            page.locator(".jp-LauncherCard[data-category='Notebook']").first.click()
        socket.value.wait_for_event("framereceived", timeout=180_000)
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=180_000)
    editor = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".cm-content")
    expect(editor).to_be_visible(timeout=120_000)
    editor.click()
    page.keyboard.insert_text(code)  # typed as text: no bracket or quote completion
    expect(editor).to_contain_text("print('SAVED'", timeout=60_000)  # the code is in the cell
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-OutputArea-output")
    expect(output).to_contain_text("SAVED", timeout=180_000)
    return str(output.inner_text())


def review_in_voila(page: Any, item: str) -> str:
    """The review app as the hub user: no name to choose; blind answer, key, approve."""
    page.wait_for_selector(".ib-signed-in strong", timeout=180_000)
    assert page.locator(".ib-signin-name select").is_hidden()
    page.wait_for_selector(".ib-queue select option", timeout=120_000)
    label = page.locator(".ib-queue select option", has_text=item).inner_text()
    page.select_option(".ib-queue select", label=label)
    page.click(".ib-open")
    page.wait_for_selector(".ib-blind-one", timeout=120_000)
    page.locator(".ib-blind-one").get_by_text("A", exact=True).click()
    page.click(".ib-reveal")
    expect(page.locator(".ib-blind-ok")).to_be_visible(timeout=120_000)
    for criterion in CRITERIA["item"]:
        page.locator(f".ib-rating-{criterion}").get_by_text("Yes", exact=True).click()
    page.locator(".ib-decision").get_by_text("Approve", exact=True).click()
    page.click(".ib-submit")
    expect(page.locator(".ib-message .ib-msg-ok")).to_contain_text(item, timeout=120_000)
    return str(page.inner_text(".ib-message"))


def test_writer_and_panel_member_on_a_real_hub(hub: Hub, browser: Any) -> None:
    # --- the writer: JupyterLab over their own clone, a save as themselves -------------------
    writer = sign_in(browser, hub, WRITER)
    writer.wait_for_url(f"**/user/{WRITER}/lab**", timeout=180_000)
    writer.wait_for_selector(".jp-LauncherCard", timeout=180_000)
    out = run_in_lab(writer, WRITE.format(src="AK-0001", prefix="AK"), 0)
    new_item = out.split()[1]
    clone = hub.clone(WRITER)
    assert git(clone, "log", "-1", "--format=%an <%ae>|%s") == [
        "Tom Whitfield <tom.whitfield@example.org>|hub test: a new draft"]
    assert json.loads((clone / "item_bank" / "items" / f"{new_item}.json").read_text())["author"] == (
        "Tom Whitfield <tom.whitfield@example.org>")
    assert hub.remote_log(1) == ["Tom Whitfield <tom.whitfield@example.org>|hub test: a new draft"]

    # --- the panel member: only Voila, nothing else reachable --------------------------------
    member = sign_in(browser, hub, MEMBER)
    # signed in, the hub sends her to her own server (Voila's list of the apps, rendered by its
    # own scripts: not relied on here; the review app itself is opened below)
    member.wait_for_url(re.compile(rf"/user/{re.escape(MEMBER)}/"), timeout=180_000)
    base = f"{hub.url}/user/{MEMBER}"
    for path in ("/api/contents", "/api/kernels", "/api/sessions", "/api/terminals", "/lab",
                 "/tree", "/terminals/1"):
        assert status(member, base + path) == (404, ""), path  # no Jupyter server behind it
    for url in (f"{hub.url}/user/{WRITER}/lab", f"{hub.url}/user/{WRITER}/api/contents"):
        # another user's server sends her to the hub (to sign in to it), and the hub refuses
        code, where = status(member, url)
        assert code == 403 or (code == 302 and where.startswith((
            f"/hub/api/oauth2/authorize?client_id=jupyterhub-user-{WRITER}&", "/hub/user/"))), where
        final = member.request.get(url, fail_on_status_code=False)
        assert final.status == 403, (url, final.status, final.url)
        assert "jp-LabShell" not in final.text() and '"content"' not in final.text()
    member.goto(f"{base}/voila/render/panel_review.ipynb")
    message = review_in_voila(member, "GK-0064")
    assert "GK-0064 stays in review (1 of 2" in message, message
    mclone = hub.clone(MEMBER)
    assert git(mclone, "log", "-2", "--format=%an <%ae>|%s") == [
        "Helen Marsh <helen.marsh@example.org>|GK-0064: approve (review by Helen Marsh)",
        "Helen Marsh <helen.marsh@example.org>|GK-0064: blind answer by Helen Marsh",
    ]
    assert hub.remote_log(2) == [
        "Helen Marsh <helen.marsh@example.org>|GK-0064: approve (review by Helen Marsh)",
        "Helen Marsh <helen.marsh@example.org>|GK-0064: blind answer by Helen Marsh",
    ]

    # --- the writer syncs and sees the review -------------------------------------------------
    pull = ["itembank", "sync", "--bank", "{bank}"]
    sync = ("import subprocess, pathlib; from itembank import open_bank; b = open_bank(); "
            f"subprocess.run([a.format(bank=b.path) for a in {pull!r}], cwd=b.path, check=True); "
            "print('SAVED', sorted(p.name.split('-', 1)[-1] for p in "
            "(pathlib.Path(b.path) / 'reviews' / 'GK-0064').glob('*.json')))")
    writer.bring_to_front()
    seen = run_in_lab(writer, sync, 1)
    assert "helen-marsh.json" in seen, seen
