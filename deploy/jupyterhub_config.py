"""JupyterHub for a real panel session: writers get JupyterLab; panel members get ONLY the panel
apps, served by standalone Voila (hardened exactly as `itembank serve` runs it) behind
jhsingle-native-proxy, which lets in only the hub user the server belongs to. Panel members never
reach a Jupyter API, a terminal or a notebook's code. See docs/panels.md.

Needs on the hub machine: jupyterhub, jhsingle-native-proxy and this project installed
(`pip install -c constraints.txt -e '.[apps]' jupyterhub jhsingle-native-proxy`), and one clone of
the bank's repository that every single-user server can write (commits are serialised by the
bank's lock). Run: jupyterhub -f deploy/jupyterhub_config.py
"""

from __future__ import annotations

import os
import sys
from typing import Any

from itembank.serve import Settings, voila_command

c: Any = get_config()  # type: ignore[name-defined]  # noqa: F821 - provided by JupyterHub

BANK = os.environ.get("ITEMBANK_PATH", "/srv/itembank/item_bank")
APPS = os.environ.get("ITEMBANK_APPS", "/srv/itembank/review_apps")
LAB_ROOT = os.environ.get("ITEMBANK_NOTEBOOKS", "/srv/itembank/authoring_notebooks")

# Behind a TLS-terminating proxy in production; the hub itself listens locally.
c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL", "http://127.0.0.1:8000")
# Use your organisation's sign-in (e.g. oauthenticator's AzureAdOAuthenticator). PAM here.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set()  # everyone allowed must be in a group below
# Hub user names are matched to bank.json panel members by email, email local part or name slug
# (itembank.core.identity.member_for_login): e.g. "helen.marsh" is Helen Marsh <helen.marsh@example.org>.
c.JupyterHub.load_groups = {
    "writers": {"users": ["daniel.hughes", "tom.whitfield"]},
    "panel": {
        "users": [
            "helen.marsh", "kwame.mensah", "sarah.lloyd",  # expert-panel-a
            "ruth.adeyemi", "gareth.price", "nadia.hussain",  # expert-panel-b
            "joanne.kelly", "marcus.reid", "leila.farah", "owen.davies",  # standard-setting-1
            "claire.benson", "tunde.bello", "fiona.grant", "simon.patel",  # standard-setting-2
        ]
    },
}
c.Authenticator.allowed_groups = {"writers", "panel"}  # needs manage_groups off: groups from config
# Panel members may only start and use their own server: no admin, no other users' servers.
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self"]},
]
c.Spawner.environment = {"ITEMBANK_PATH": BANK}
c.Spawner.args = []


def _voila_behind_proxy() -> list[str]:
    """The hardened standalone Voila command, with the port and base URL jhsingle-native-proxy
    hands it ({port} and {base_url}; '{--}' stops the proxy reading Voila's options as its own)."""
    settings = Settings(bank=__import__("pathlib").Path(BANK), apps=__import__("pathlib").Path(APPS))
    command = voila_command(settings)
    keep = [a for a in command[command.index("voila") + 1 :] if not a.startswith(("--Voila.port=", "--Voila.token=",
                                                        "--Voila.port_retries=", "--no-browser"))]
    args = [a.replace("--", "{--}", 1) if a.startswith("--") else a for a in keep]
    return [
        "jhsingle-native-proxy", "--destport", "0", "--authtype", "oauth",
        sys.executable, "{-}m", "itembank.serve", "voila", *args,  # Voila with hardened headers
        "{--}no-browser", "{--}Voila.port={port}", "{--}Voila.base_url={base_url}/",
        "{--}Voila.server_url=/",
    ]


def pre_spawn_hook(spawner: Any) -> None:
    """Panel members get the panel apps only; writers get JupyterLab over the notebooks."""
    groups = {g.name for g in spawner.user.groups}
    spawner.environment = {**spawner.environment, "ITEMBANK_PATH": BANK}
    if "writers" in groups:
        spawner.cmd = ["jupyterhub-singleuser"]
        spawner.notebook_dir = LAB_ROOT
        spawner.default_url = "/lab"
    elif "panel" in groups:
        spawner.cmd = _voila_behind_proxy()
        spawner.default_url = "/voila/render/panel_review.ipynb"
    else:
        raise PermissionError(f"{spawner.user.name} is neither a writer nor on a panel.")


c.Spawner.pre_spawn_hook = pre_spawn_hook
# Idle servers are stopped by the hub too (pip install jupyterhub-idle-culler):
c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]},
]
c.JupyterHub.load_roles.append(
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}
)
