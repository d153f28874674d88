"""The panel apps behind a real standalone Voila server on 127.0.0.1: they render, the Jupyter
API is closed, pages carry no source code and no answer key, and the hardening holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from itembank.cli import build_parser
from itembank.serve import APPS, Settings, lab_command, urls, voila_command
from tests.conftest import SAMPLE_BANK, make_repo
from tests.voila_server import Server, voila


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    with voila(make_repo(tmp, SAMPLE_BANK, "item_bank"), tmp / "voila.log") as running:
        yield running


def test_command_is_hardened() -> None:
    command = voila_command(Settings(bank=Path("/b"), apps=Path("/a"), token="t"))
    for option in ("--Voila.ip=127.0.0.1", "--VoilaConfiguration.show_tracebacks=False",
                   "--VoilaConfiguration.strip_sources=True",
                   "--VoilaConfiguration.allow_template_override=NO",
                   "--VoilaConfiguration.allow_theme_override=NO", "--Voila.token=t",
                   "--MappingKernelManager.cull_idle_timeout=900",
                   # an open page's kernel is never culled, however long the reviewer reads
                   "--MappingKernelManager.cull_connected=False"):
        assert option in command
    assert command[1:4] == ["-m", "itembank.serve", "voila"]  # standalone, not the extension
    assert "jupyter" not in " ".join(command)


def test_urls_carry_the_token_and_the_cli_knows_serve() -> None:
    apps = Path(__file__).resolve().parents[1] / "review_apps"
    listed = urls(Settings(bank=Path("/b"), apps=apps, port=9999, token="abc"))
    assert "http://127.0.0.1:9999/voila/render/panel_review.ipynb?token=abc" in listed
    with_lab = Settings(bank=Path("/b"), apps=apps, token="abc", lab_root=Path("/l"))
    lab = [u for u in urls(with_lab) if "/lab?" in u]
    assert len(lab) == 1 and "token=abc" not in lab[0]  # a panel's URL never opens JupyterLab
    assert f"--IdentityProvider.token={with_lab.lab_token}" in lab_command(with_lab)
    assert with_lab.lab_token != with_lab.token
    args = build_parser().parse_args(["serve", "--port", "9000", "--lab", "x"])
    assert args.command == "serve" and args.port == 9000 and args.ip == "127.0.0.1"


@pytest.mark.parametrize("app", [a for a in APPS if (Path(__file__).resolve().parents[1] / "review_apps" / a).is_file()])
def test_apps_render_without_source_or_tracebacks(server: Server, app: str) -> None:
    status, _, page = server.get(f"/voila/render/{app}")
    assert status == 200
    for leak in ("open_bank", "from itembank", "ReviewApp(", "Traceback", '"output_type": "error"'):
        assert leak not in page, leak
    assert "application/vnd.jupyter.widget-view+json" in page  # the app's widget is on the page


# The answer key before the blind answer is guarded where an item can be open: in a live page
# (tests/browser/test_blind_browser.py reads every websocket frame) and in the widget tests
# (tests/test_review_app.py walks every widget's state). A page fetched here has no item open,
# so a check of it could never fail.


@pytest.mark.parametrize("path", ["/api/kernels", "/api/contents", "/api/sessions",
                                  "/api/kernelspecs", "/api/terminals", "/lab", "/tree",
                                  "/api/contents/panel_review.ipynb", "/panel_review.ipynb",
                                  "/voila/files/panel_review.ipynb",
                                  "/voila/static/../../../../etc/passwd"])
def test_jupyter_api_and_files_are_refused(server: Server, path: str) -> None:
    status, _, body = server.get(path)
    assert status in (403, 404), (path, status)
    assert "open_bank" not in body


def test_without_the_token_no_app_is_served(server: Server) -> None:
    status, _, page = server.get("/voila/render/panel_review.ipynb", token=False)
    assert "application/vnd.jupyter.widget-view+json" not in page and "Item review" not in page
    assert status in (200, 302, 403)  # a sign-in page at most


# Security headers on every response (static files, login, 404 and 500 included) are tested in
# tests/test_serve_hardening.py.


def test_template_and_theme_cannot_be_chosen_from_the_url(server: Server) -> None:
    _, _, plain = server.get("/voila/render/panel_review.ipynb")
    _, _, asked = server.get("/voila/render/panel_review.ipynb?template=reveal&theme=dark")
    assert "reveal.js" not in asked and "jp-theme-dark" not in asked.replace("light", "")
    assert ("theme-dark" in plain) == ("theme-dark" in asked)
