"""A real standalone Voila server for the panel apps on 127.0.0.1 (a free port), started with
exactly the command `itembank serve` uses, for the server and browser tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from itembank.serve import Settings, environment, voila_command

APPS = Path(__file__).resolve().parents[1] / "review_apps"
TOKEN = "test-token-4f1c2a"


@dataclass
class Server:
    base: str
    token: str
    bank: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str, token: bool = True) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}" if token else f"{self.base}{path}"

    def get(self, path: str, token: bool = True) -> tuple[int, dict[str, str], str]:
        try:
            with urllib.request.urlopen(self.url(path, token), timeout=120) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def voila(bank: Path, log: Path, apps: Path = APPS, **settings_: int) -> Iterator[Server]:
    """`itembank serve`'s Voila on a free port; `settings_` overrides Settings (culling)."""
    port = free_port()
    settings = Settings(bank=bank, apps=apps, port=port, token=TOKEN,
                        **{"cull_idle_seconds": 600, **settings_})  # type: ignore[arg-type]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            voila_command(settings), env=environment(settings), cwd=str(apps),
            stdout=out, stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}", TOKEN, bank, process)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"Voila did not start: {log.read_text()[-2000:]}") from None
                    time.sleep(0.3)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
