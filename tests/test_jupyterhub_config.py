"""deploy/jupyterhub_config.py loads, and its spawn hook gives writers JupyterLab and panel
members only the hardened standalone Voila, each over their own clone of a real bare remote,
as the bank.json person they sign in as; anyone else is refused, with no clone made. JupyterHub
itself is not needed for this (tests/browser/test_hub_browser.py runs the real hub)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from traitlets.config import Config

from itembank.core.errors import IdentityError
from itembank.core.identity import bank_people, hub_role, resolve_identity

from .conftest import SAMPLE_BANK, make_repo

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "jupyterhub_config.py"


def hub_module() -> Any:
    spec = importlib.util.spec_from_file_location("itembank_deploy_hub", ROOT / "deploy" / "hub.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load() -> Config:
    c = Config()
    # as traitlets loads it for JupyterHub: get_config and __file__ in its namespace
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"),
         {"get_config": lambda: c, "__name__": "cfg", "__file__": str(CONFIG)})
    return c


def spawner(name: str) -> SimpleNamespace:
    user = SimpleNamespace(name=name, groups=[])
    return SimpleNamespace(user=user, environment={}, cmd=None, default_url="", notebook_dir="")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def remote_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, Path]:
    """The config as `make hub` runs it: a bare remote made from the sample bank."""
    remote = tmp_path / "remote.git"
    assert hub_module().make_remote(remote) is True
    assert hub_module().make_remote(remote) is False  # an existing remote is never replaced
    for key, value in {"ITEMBANK_REMOTE": str(remote), "ITEMBANK_USERS_DIR": str(tmp_path / "users"),
                       "ITEMBANK_HUB_DEMO_PASSWORD": "not-for-production",
                       "ITEMBANK_HUB_STATE": str(tmp_path)}.items():
        monkeypatch.setenv(key, value)
    return load(), tmp_path / "users"


def test_demo_settings_are_marked_and_local(remote_hub: tuple[Config, Path]) -> None:
    c, _ = remote_hub
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.SharedPasswordAuthenticator.user_password == "not-for-production"
    assert c.JupyterHub.spawner_class == "simple"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert c.JupyterHub.load_roles == [{"name": "user", "scopes": ["self"]}]


def test_production_settings_without_the_demo_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITEMBANK_HUB_DEMO_PASSWORD", raising=False)
    c = load()
    assert c.JupyterHub.authenticator_class == "pam"
    assert c.JupyterHub.spawner_class == "localprocess"


def test_writer_gets_lab_over_their_own_clone(remote_hub: tuple[Config, Path]) -> None:
    c, users = remote_hub
    writer = spawner("tom.whitfield")
    c.Spawner.pre_spawn_hook(writer)
    clone = users / "tom.whitfield" / "bank"
    assert writer.cmd[0] == "jupyterhub-singleuser" and writer.default_url == "/lab"
    assert writer.cmd[1:] == (["--allow-root"] if os.geteuid() == 0 else [])
    assert writer.notebook_dir == str(clone / "authoring_notebooks")
    assert writer.environment["ITEMBANK_PATH"] == str(clone / "item_bank")
    assert (clone / "item_bank" / "bank.json").is_file()
    assert git(clone, "config", "user.name") == "Tom Whitfield"
    assert git(clone, "config", "user.email") == "tom.whitfield@example.org"
    assert git(clone, "remote", "get-url", "origin") == str(users.parent / "remote.git")
    (clone / "mine.txt").write_text("kept")
    c.Spawner.pre_spawn_hook(writer)  # a second spawn keeps the user's clone as it is
    assert (clone / "mine.txt").read_text() == "kept"


def test_panel_member_gets_only_hardened_voila(remote_hub: tuple[Config, Path]) -> None:
    c, users = remote_hub
    member = spawner("helen.marsh")
    c.Spawner.pre_spawn_hook(member)
    clone = users / "helen.marsh" / "bank"
    command = " ".join(member.cmd)
    # jhsingle-native-proxy (with its websocket origin check fixed) on 127.0.0.1 only
    assert member.cmd[:2] == [sys.executable, str(ROOT / "deploy" / "voila_proxy.py")]
    assert member.cmd[member.cmd.index("--ip") + 1] == "127.0.0.1"
    assert "jupyterhub-singleuser" not in command
    # the proxy formats {...}: Voila's own braces are doubled, so they reach Voila unchanged
    cookie = next(a for a in member.cmd if a.startswith("{--}PasswordIdentityProvider.cookie_options"))
    assert cookie.format(**{"--": "--"}) == "--PasswordIdentityProvider.cookie_options={'httponly': True, 'samesite': 'Strict'}"
    assert member.cmd[member.cmd.index("--authtype") + 1] == "oauth"
    for option in ("{--}VoilaConfiguration.show_tracebacks=False", "{--}VoilaConfiguration.strip_sources=True",
                   "{--}VoilaConfiguration.allow_template_override=NO", "{--}Voila.ip=127.0.0.1",
                   "{--}MappingKernelManager.cull_idle_timeout=900", "{--}Voila.port={port}",
                   str(clone / "review_apps")):
        assert option in member.cmd, option
    assert member.default_url == "/voila/render/panel_review.ipynb"
    assert member.environment["ITEMBANK_PATH"] == str(clone / "item_bank")
    assert git(clone, "config", "user.email") == "helen.marsh@example.org"


@pytest.mark.parametrize("name", ["mallory", "helen", "example.org", ""])
def test_a_hub_user_on_neither_list_is_refused_and_gets_no_clone(
        remote_hub: tuple[Config, Path], name: str) -> None:
    c, users = remote_hub
    with pytest.raises(IdentityError) as refused:
        c.Spawner.pre_spawn_hook(spawner(name))
    assert str(refused.value) == (
        f"You signed in to the hub as {name!r}, who is neither a writer nor a panel member in "
        "bank.json. Ask the bank's maintainers to add you.")
    assert not (users / name / "bank").exists()


def test_single_clone_set_up_reads_identity_from_that_bank(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    bank = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    monkeypatch.delenv("ITEMBANK_REMOTE", raising=False)
    monkeypatch.setenv("ITEMBANK_PATH", str(bank))
    c = load()
    member = spawner("tunde.bello")  # a standard-setting judge: the panel apps
    c.Spawner.pre_spawn_hook(member)
    assert member.cmd[1].endswith("voila_proxy.py")
    assert member.environment["ITEMBANK_PATH"] == str(bank)
    with pytest.raises(IdentityError):
        c.Spawner.pre_spawn_hook(spawner("mallory"))


SETTINGS = {
    "writers": ["Tom Whitfield <tom.whitfield@example.org>"],
    "panels": [{"id": "p", "kind": "review", "members": ["Helen Marsh <helen.marsh@example.org>"]},
               {"id": "r", "kind": "results", "members": ["Rahul Menon <rahul.menon@example.org>"]}],
}


def test_hub_role_from_bank_json() -> None:
    assert hub_role(SETTINGS, "tom.whitfield") == ("writer", "Tom Whitfield <tom.whitfield@example.org>")
    assert hub_role(SETTINGS, "Helen.Marsh@example.org") == ("panel", "Helen Marsh <helen.marsh@example.org>")
    assert hub_role(SETTINGS, "rahul-menon") == ("panel", "Rahul Menon <rahul.menon@example.org>")
    with pytest.raises(IdentityError):
        hub_role(SETTINGS, "tom")


def test_identity_behind_the_hub_is_the_bank_json_person(monkeypatch: pytest.MonkeyPatch) -> None:
    people = bank_people(SETTINGS)
    assert people == ["Tom Whitfield <tom.whitfield@example.org>", "Helen Marsh <helen.marsh@example.org>",
                      "Rahul Menon <rahul.menon@example.org>"]
    monkeypatch.setenv("JUPYTERHUB_USER", "tom.whitfield")
    assert resolve_identity(None, "git", "git@example.org", people) == people[0]
    assert resolve_identity("Tom W <TOM.WHITFIELD@example.org>", None, None, people) == people[0]
    with pytest.raises(IdentityError) as other:  # no typing in somebody else's name
        resolve_identity("Helen Marsh <helen.marsh@example.org>", None, None, people)
    assert str(other.value) == (
        "You are signed in to the hub as Tom Whitfield <tom.whitfield@example.org>: a change "
        "cannot be recorded as Helen Marsh <helen.marsh@example.org>. Sign in as that person instead.")
    monkeypatch.setenv("JUPYTERHUB_USER", "mallory")
    with pytest.raises(IdentityError):  # never a guess, never git config's identity instead
        resolve_identity(None, "git", "git@example.org", people)
    assert bank_people({"panels": []}) is None  # a bank without writers: names as they come


def test_the_sample_bank_names_its_writers_and_the_bank_refuses_strangers(
        sample_bank_rw: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from itembank.bank import open_bank

    bank = open_bank(sample_bank_rw)
    monkeypatch.setenv("JUPYTERHUB_USER", "priya.shah")
    assert bank.identity() == "Priya Shah <priya.shah@example.org>"
    monkeypatch.setenv("JUPYTERHUB_USER", "kwame.mensah")
    assert bank.identity() == "Kwame Mensah <kwame.mensah@example.org>"
    monkeypatch.setenv("JUPYTERHUB_USER", "someone.else")
    with pytest.raises(IdentityError):
        bank.identity()
