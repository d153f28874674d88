"""A panel page left open keeps its kernel however long it idles; the kernel of a page that is
gone is culled. Proved by state with short culling settings (not by waiting an hour): page A stays
open and idle, page B is opened and closed without a goodbye (a lost tab); once B's kernel is
culled, A (idle longer than B) still works."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from ..conftest import SAMPLE_BANK, make_repo
from ..voila_server import Server, voila
from .conftest import offline_page, require_chromium
from .test_blind_browser import LOAD, STEP


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    require_chromium()
    bank = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    # 10 s, not less: a kernel that has rendered a page is idle and not yet connected until the
    # page's script connects, and a busy machine can take seconds for that
    with voila(bank, tmp_path / "voila.log", cull_idle_seconds=10, cull_interval_seconds=1) as running:
        yield running



def kernels(server: Server) -> set[int]:
    """The pids of the server's live kernels (an ended one may linger as a zombie: not live)."""
    live = set()
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                live.add(process.pid)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return live


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def open_app(browser: Any, server: Server) -> Any:
    from playwright.sync_api import expect

    page = offline_page(browser)
    page.goto(server.url("/voila/render/panel_review.ipynb"), timeout=LOAD)
    expect(page.locator(".ib-signin-name select")).to_be_visible(timeout=LOAD)
    return page


def test_an_open_idle_page_keeps_its_kernel_and_a_closed_one_is_culled(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    page_a = open_app(browser, server)
    wait_for(lambda: len(kernels(server)) == 1, "page A's kernel")
    (kernel_a,) = kernels(server)
    page_b = open_app(browser, server)
    wait_for(lambda: len(kernels(server)) == 2, "page B's kernel")
    (kernel_b,) = kernels(server) - {kernel_a}
    page_b.close(run_before_unload=False)  # gone without a goodbye, like a crashed tab
    wait_for(lambda: kernel_b not in kernels(server), "the culler to shut down B's kernel")
    # A has been idle longer than B: were connected kernels culled, A's would be gone too
    assert kernels(server) == {kernel_a}
    page_a.select_option(".ib-signin-name select", label="Helen Marsh")
    page_a.click(".ib-signin")
    expect(page_a.locator(".ib-signed-in")).to_contain_text("Signed in as Helen Marsh", timeout=STEP)
    expect(page_a.locator(".ib-queue select option", has_text="GK-0064")).to_have_count(1)
    assert kernels(server) == {kernel_a}
    page_a.close()
