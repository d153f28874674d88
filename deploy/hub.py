"""`make hub`: a real JupyterHub on 127.0.0.1 over the sample bank, NOT FOR PRODUCTION.

Makes (once) a bare git repository from the sample bank, the notebooks and the panel apps, which
acts as the central remote; then runs JupyterHub with deploy/jupyterhub_config.py, whose spawn
hook gives each signed-in user their own clone of it. Everyone signs in with one shared demo
password (printed); servers run as this machine's user. Ctrl-C stops the hub, the proxy and every
user's server. The same files serve production with other settings: see docs/panels.md.

  python deploy/hub.py [--port 8000] [--state DIR] [--password WORD]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what the central repository holds: the bank, the writers' notebooks, the panel apps
CONTENT = ("item_bank", "authoring_notebooks", "review_apps")
SETUP_AUTHOR = ("-c", "user.name=itembank hub set-up", "-c", "user.email=hub-setup@example.org")


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_remote(remote: Path, root: Path = ROOT) -> bool:
    """The bare central repository at `remote`, made from the project's sample bank when absent
    (an existing one is the team's work: never replaced). True when it was made now."""
    if (remote / "HEAD").is_file():
        return False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "bank"
        for part in CONTENT:
            shutil.copytree(root / part, work / part, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__", ".itembank*"))
        # every save in a user's clone then commits and pushes to the remote (itembank sync)
        settings_file = work / "item_bank" / "bank.json"
        settings = json.loads(settings_file.read_text(encoding="utf-8"))
        settings["sync"] = {"remote": "origin", "branch": "main"}
        settings_file.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
        _git("init", "--quiet", "-b", "main", cwd=work)
        _git("add", "-A", cwd=work)
        _git(*SETUP_AUTHOR, "commit", "--quiet", "-m", "the sample bank, for make hub", cwd=work)
        remote.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", "--bare", str(work), str(remote))
    return True


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the hub's and the proxy's own APIs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_environment(state: Path, port: int, password: str, root: Path = ROOT) -> dict[str, str]:
    """The settings deploy/jupyterhub_config.py reads for the demo hub."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **{k: v for k, v in os.environ.items() if k != "JUPYTERHUB_USER"},
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "HUB_BIND_URL": f"http://127.0.0.1:{port}",
        "HUB_API_PORT": str(free_port()),
        "HUB_PROXY_API_PORT": str(free_port()),
        "ITEMBANK_REMOTE": str(state / "remote.git"),
        "ITEMBANK_USERS_DIR": str(state / "users"),
        "ITEMBANK_HUB_STATE": str(state),
        "ITEMBANK_HUB_DEMO_PASSWORD": password,
        "CONFIGPROXY_PATH": str(root / ".hub" / "node_modules" / ".bin"),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start a demo JupyterHub (NOT FOR PRODUCTION) over the sample bank. Exit "
        "codes: 0 stopped normally, 1 the hub failed, 2 bad usage or a missing part.")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (8000)")
    parser.add_argument("--state", type=Path, default=Path(f"{ROOT}-hub"),
                        help="folder for the remote, the users' clones and the hub's database "
                        "(default: beside the project, outside its repository)")
    parser.add_argument("--password", default=os.environ.get("ITEMBANK_HUB_DEMO_PASSWORD", ""),
                        help="the shared demo password (default: a new random one, printed)")
    args = parser.parse_args(argv)
    proxy = ROOT / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        print(f"configurable-http-proxy is not installed at {proxy}: run `make hub`, which "
              "installs it.", file=sys.stderr)
        return 2
    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    made = make_remote(state / "remote.git")
    password = args.password or secrets.token_urlsafe(12)
    settings = json.loads((ROOT / "item_bank" / "bank.json").read_text(encoding="utf-8"))
    writers = [w.split("@")[0].split("<")[-1] for w in settings.get("writers", [])]
    members = [m.split("@")[0].split("<")[-1] for p in settings["panels"] for m in p["members"]]
    say = print
    say("=" * 72)
    say("itembank demo hub: NOT FOR PRODUCTION (one shared password, no TLS, servers run as "
        "this machine's user)")
    say(f"  open        http://127.0.0.1:{args.port}/")
    say(f"  password    {password}   (the same for every user name below)")
    say(f"  writers     {', '.join(writers)}  -> JupyterLab")
    say(f"  panels      {', '.join(members[:4])}, ... -> the panel apps only")
    say(f"  remote      {state / 'remote.git'}" + ("  (made now from item_bank/)" if made else ""))
    say(f"  clones      {state / 'users'}/<user>/bank")
    say("Ctrl-C stops the hub and every user's server.")
    say("=" * 72, flush=True)
    env = hub_environment(state, args.port, password)
    hub = [sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "deploy" / "jupyterhub_config.py")]
    try:
        return subprocess.run(hub, env=env, cwd=state, check=False).returncode and 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
