"""JupyterHub for a real panel session: writers get JupyterLab; panel members get ONLY the panel
apps, served by standalone Voila (hardened exactly as `itembank serve` runs it) behind
jhsingle-native-proxy, which lets in only the hub user the server belongs to. Panel members never
reach a Jupyter API, a terminal or a notebook's code. Who is who comes from bank.json (its
`writers` and its panels' members), never from a guess. See docs/panels.md.

One file for both uses, chosen by environment variables (deploy/hub.py sets them for `make hub`):

  ITEMBANK_REMOTE        the bank's central git repository (a bare repository here; ssh or https
                         in production). Each user's server gets its own clone of it, made by the
                         spawn hook under ITEMBANK_USERS_DIR/<hub user>/bank; every save there is
                         committed locally and pushed to it.
  ITEMBANK_USERS_DIR     where the per-user clones live (default /srv/itembank/users)
  ITEMBANK_BANK_SUBDIR   the bank's folder inside the repository (default item_bank)
  ITEMBANK_HUB_DEMO_PASSWORD  set: NOT FOR PRODUCTION. Everyone signs in with this one shared
                         password (SharedPasswordAuthenticator, 8+ characters) and servers run as the hub's own system
                         user (SimpleLocalProcessSpawner). Unset: PAM sign-in and
                         LocalProcessSpawner (one system user per hub user) - replace both with
                         your organisation's sign-in and KubeSpawner (deploy/z2jh-values.yaml).
  HUB_BIND_URL           where the hub listens (default http://127.0.0.1:8000; put TLS in front)
  HUB_API_PORT, HUB_PROXY_API_PORT  the hub's and the proxy's own ports on 127.0.0.1 (8081, 8001)
  ITEMBANK_HUB_STATE     folder for the hub's database and cookie secret (default: current dir)
  CONFIGPROXY_PATH       folder holding configurable-http-proxy (default: on PATH)

Without ITEMBANK_REMOTE every server uses the one clone at ITEMBANK_PATH (the old set-up: saves
serialised by the bank's lock); identity still comes from that bank's bank.json.
Run: jupyterhub -f deploy/jupyterhub_config.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from itembank.core.errors import IdentityError
from itembank.core.identity import hub_role
from itembank.serve import Settings, voila_command

c: Any = get_config()  # type: ignore[name-defined]  # noqa: F821 - provided by JupyterHub

BANK = os.environ.get("ITEMBANK_PATH", "/srv/itembank/item_bank")
APPS = os.environ.get("ITEMBANK_APPS", "/srv/itembank/review_apps")
LAB_ROOT = os.environ.get("ITEMBANK_NOTEBOOKS", "/srv/itembank/authoring_notebooks")
REMOTE = os.environ.get("ITEMBANK_REMOTE", "")
USERS = Path(os.environ.get("ITEMBANK_USERS_DIR", "/srv/itembank/users"))
SUBDIR = os.environ.get("ITEMBANK_BANK_SUBDIR", "item_bank")
DEMO_PASSWORD = os.environ.get("ITEMBANK_HUB_DEMO_PASSWORD", "")
STATE = Path(os.environ.get("ITEMBANK_HUB_STATE", "."))

c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
if os.environ.get("CONFIGPROXY_PATH"):
    c.ConfigurableHTTPProxy.command = [
        str(Path(os.environ["CONFIGPROXY_PATH"]) / "configurable-http-proxy")
    ]

# The hub's own API and the proxy's API: fixed ports by default, free ones for `make hub`/tests.
if os.environ.get("HUB_API_PORT"):
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ['HUB_API_PORT']}"
if os.environ.get("HUB_PROXY_API_PORT"):
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['HUB_PROXY_API_PORT']}"

if DEMO_PASSWORD:
    # NOT FOR PRODUCTION: one shared password for every name, servers run as the hub's user.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = DEMO_PASSWORD
    c.Authenticator.allow_all = True  # anyone may sign in; only bank.json's people get a server
    c.JupyterHub.spawner_class = "simple"
else:
    # Production: replace PAM with your organisation's sign-in (e.g. oauthenticator's
    # AzureAdOAuthenticator) and list who may sign in (bank.json's people, see docs/panels.md).
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"
# Everyone may only start and use their own server: no admin, no other users' servers.
c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self"]}]
c.Spawner.environment = {"ITEMBANK_PATH": BANK}
c.Spawner.args = []
c.Spawner.http_timeout = 120  # a loaded machine takes a while to start Voila or JupyterLab
c.Spawner.start_timeout = 180


def _voila_behind_proxy(apps: str, bank: str) -> list[str]:
    """The hardened standalone Voila command, with the port and base URL jhsingle-native-proxy
    hands it ({port} and {base_url}; '{--}' stops the proxy reading Voila's options as its own).
    Voila's own token is off: the proxy in front admits only the server's hub user."""
    command = voila_command(Settings(bank=Path(bank), apps=Path(apps)))
    dropped = ("--Voila.port=", "--Voila.token=", "--Voila.port_retries=", "--no-browser")
    keep = [a for a in command[command.index("voila") + 1 :] if not a.startswith(dropped)]
    # the proxy fills {...} with str.format: braces of Voila's own options are doubled
    escaped = [a.replace("{", "{{").replace("}", "}}") for a in keep]
    args = [a.replace("--", "{--}", 1) if a.startswith("--") else a for a in escaped]
    return [
        sys.executable, str(Path(__file__).resolve().parent / "voila_proxy.py"),  # jhsingle-native-proxy
        "--ip", "127.0.0.1", "--destport", "0", "--authtype", "oauth", "--ready-timeout", "120",
        sys.executable, "{-}m", "itembank.serve", "voila", *args,  # Voila with hardened headers
        "{--}no-browser", "{--}Voila.port={port}", "{--}Voila.base_url={base_url}/",
        "{--}Voila.server_url=/", "{--}Voila.token=",
    ]


def _git(*args: str, cwd: Path | None = None) -> None:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")


def _clone(repo: Path) -> Path:
    """A clone of the remote at `repo` (made if absent, brought up to date if there)."""
    if (repo / ".git").is_dir():
        _git("pull", "--quiet", "--ff-only", cwd=repo)
    else:
        repo.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", REMOTE, str(repo))
    return repo


def user_clone(name: str, person: str) -> Path:
    """The user's own clone of the remote (made on first spawn, then theirs: never reset), its
    git identity the bank.json person the hub user stands for. Returns the repository folder."""
    repo = USERS / name / "bank"
    if not (repo / ".git").is_dir():
        _clone(repo)
    who, _, email = person.partition("<")
    _git("config", "user.name", who.strip(), cwd=repo)
    _git("config", "user.email", email.rstrip(">").strip(), cwd=repo)
    return repo


def _settings(bank: Path) -> dict[str, Any]:
    try:
        found = json.loads((bank / "bank.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IdentityError(f"{bank / 'bank.json'} cannot be read ({error}).") from error
    return found if isinstance(found, dict) else {}


def pre_spawn_hook(spawner: Any) -> None:
    """Writers get JupyterLab over their clone's notebooks; panel members get only the panel
    apps; a hub user who is neither in bank.json gets a clear refusal, and no server (nor a
    clone). Who is who is read from the remote's current bank.json (the hub's own read-only
    clone, refreshed at every spawn), so a chair's edit to the lists takes effect at once."""
    name = spawner.user.name
    if REMOTE:
        reference = _clone(USERS / ".hub-reference") / SUBDIR
        role, person = hub_role(_settings(reference), name)
        repo = user_clone(name, person)
        bank, apps, notebooks = repo / SUBDIR, repo / "review_apps", repo / "authoring_notebooks"
    else:
        bank, apps, notebooks = Path(BANK), Path(APPS), Path(LAB_ROOT)
        role, person = hub_role(_settings(bank), name)
    spawner.environment = {**spawner.environment, "ITEMBANK_PATH": str(bank)}
    if role == "writer":
        # as root (a container, this demo run by root) Jupyter Server wants it said explicitly
        spawner.cmd = ["jupyterhub-singleuser"] + (["--allow-root"] if os.geteuid() == 0 else [])
        spawner.notebook_dir = str(notebooks)
        spawner.default_url = "/lab"
    else:
        spawner.cmd = _voila_behind_proxy(str(apps), str(bank))
        spawner.notebook_dir = str(apps)
        spawner.default_url = "/voila/render/panel_review.ipynb"


c.Spawner.pre_spawn_hook = pre_spawn_hook
