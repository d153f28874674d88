"""Kernels and memory of the served panel apps after many page loads (not part of the suite).

Starts the hardened standalone Voila that `itembank serve` runs (as tests/voila_server.py does)
over a copy of the sample bank, and loads the review app N times in Debian's Chromium, each page
closed once its sign-in box shows:

- "closed": the tab is closed normally (the page says goodbye: Voila shuts its kernel down);
- "lost": the tab disappears without a goodbye (crash, network lost): only culling frees it.

After each batch it counts the server's live kernels and sums the resident memory (RSS) of the
server and its kernels, then waits (bounded) for culling and measures again.

    python benchmarks/panels.py [--loads 100] [--cull-idle 20] [--cull-interval 5]

Prints a Markdown table; copy it into docs/panels.md with the machine it was measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.conftest import SAMPLE_BANK, make_repo  # noqa: E402
from tests.voila_server import Server, voila  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def measure(server: Server) -> tuple[int, float]:
    """(live kernels, MiB resident in the server and its kernels)."""
    root = psutil.Process(server.process.pid)
    kernels, rss = 0, root.memory_info().rss
    for child in root.children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            rss += child.memory_info().rss
            kernels += "ipykernel" in " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
    return kernels, rss / 2**20


def load_and_close(browser: Any, server: Server, goodbye: bool) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(server.url("/voila/render/panel_review.ipynb"), timeout=180_000)
    expect(page.locator(".ib-signin-name select")).to_be_visible(timeout=180_000)
    page.close(run_before_unload=goodbye)


def settle(server: Server, seconds: float) -> tuple[int, float, float]:
    """Wait until no kernel is left (bounded); (kernels, MiB, seconds waited)."""
    start = time.monotonic()
    while measure(server)[0] and time.monotonic() - start < seconds:
        time.sleep(1)
    kernels, mib = measure(server)
    return kernels, mib, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--cull-idle", type=int, default=20)
    parser.add_argument("--cull-interval", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bank = make_repo(Path(tmp), SAMPLE_BANK, "item_bank")
        with voila(bank, Path(tmp) / "voila.log", cull_idle_seconds=args.cull_idle,
                   cull_interval_seconds=args.cull_interval) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            idle = measure(server)
            rows.append(("server started, no page", *idle, "", ""))
            for mode, goodbye in (("closed", True), ("lost", False)):
                started = time.monotonic()
                peak = 0
                for _ in range(args.loads):
                    load_and_close(browser, server, goodbye)
                    peak = max(peak, measure(server)[0])
                took = time.monotonic() - started
                after = measure(server)
                rows.append((f"after {args.loads} loads, tabs {mode}", *after,
                             f"peak {peak} kernels", f"{took:.0f} s"))
                kernels, mib, waited = settle(server, args.cull_idle + 4 * args.cull_interval + 60)
                rows.append((f"then culled ({mode})", kernels, mib, "", f"+{waited:.0f} s"))
            browser.close()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()};"
          f" cull_idle_timeout {args.cull_idle} s, cull_interval {args.cull_interval} s\n")
    print("| moment | live kernels | RSS server + kernels (MiB) | note | time |")
    print("|---|---|---|---|---|")
    for name, kernels, mib, note, took in rows:
        print(f"| {name} | {kernels} | {mib:.0f} | {note} | {took} |")


if __name__ == "__main__":
    main()
