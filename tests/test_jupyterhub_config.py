"""deploy/jupyterhub_config.py loads, and its spawn hook gives writers JupyterLab and panel
members only the hardened standalone Voila (JupyterHub itself is not needed to check this)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub_config.py"


def load() -> Config:
    c = Config()
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), {"get_config": lambda: c, "__name__": "cfg"})
    return c


def spawner(name: str, group: str) -> SimpleNamespace:
    user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=group)])
    return SimpleNamespace(user=user, environment={}, cmd=None, default_url="", notebook_dir="")


def test_writers_get_lab_and_panels_only_voila() -> None:
    c = load()
    hook = c.Spawner.pre_spawn_hook
    writer = spawner("tom.whitfield", "writers")
    hook(writer)
    assert writer.cmd == ["jupyterhub-singleuser"] and writer.default_url == "/lab"
    member = spawner("helen.marsh", "panel")
    hook(member)
    command = " ".join(member.cmd)
    assert member.cmd[0] == "jhsingle-native-proxy" and "jupyterhub-singleuser" not in command
    for option in ("{--}VoilaConfiguration.show_tracebacks=False", "{--}VoilaConfiguration.strip_sources=True",
                   "{--}VoilaConfiguration.allow_template_override=NO", "{--}Voila.ip=127.0.0.1",
                   "{--}MappingKernelManager.cull_idle_timeout=900", "{--}Voila.port={port}"):
        assert option in member.cmd, option
    assert member.default_url == "/voila/render/panel_review.ipynb"
    assert member.environment["ITEMBANK_PATH"]
    with pytest.raises(PermissionError):
        hook(spawner("mallory", "other"))
