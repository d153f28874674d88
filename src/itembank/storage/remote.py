"""Sharing a bank through a git remote: every save is committed locally (saving.py) and then
pushed to the remote and branch that bank.json's `sync` names. A push refused because others
pushed first is followed by a fetch and a replay of the local commits onto theirs when they
touch other files; a local commit whose files changed remotely is undone, its version kept as
for a local conflict, and the clone left on the remote's version. An unreachable remote keeps
the commits "ahead" until the next save or `itembank sync` pushes them.

No `git rebase`, `merge` or force-push is ever run: the replay is made with plumbing (a
temporary index, write-tree, commit-tree) and the branch moves only after the working tree,
with a journal in the git folder that the next save finishes if the process is killed in
between. So a killed sync leaves no rebase in progress, and a commit is either on the local
branch or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from itembank.core.errors import (
    ConflictError,
    ItembankError,
    RemoteUnreachableError,
    SyncRefusedError,
)
from itembank.core.parsing import parse_record
from itembank.storage.files import atomic_write
from itembank.storage.replay import (
    Dropped,
    Replaying,
    SyncConfig,
    SyncOutcome,
    SyncProgress,
)

#: ITEMBANK_SYNC=off (or 0/no/false) turns pushing and fetching off: tests and offline use.
SYNC_ENV = "ITEMBANK_SYNC"
#: How often a save retries a push refused because others keep pushing first.
PUSH_ATTEMPTS = 20
#: How often a review (save_with) is decided again when others keep recording the same item.
REBUILD_ATTEMPTS = 5
#: Seconds any one network command (fetch, push) may take before the remote counts as down.
NETWORK_TIMEOUT = float(os.environ.get("ITEMBANK_SYNC_TIMEOUT", "120"))
#: A remote or branch name safe to hand to git (never an option, never a path outside refs).
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")

#: What git says when a push is refused because the remote branch moved on (others pushed
#: first, or at the same moment: the remote's ref lock): fetch, replay and push again.
_MOVED_ON = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)


@dataclass(frozen=True)
class SyncStatus:
    """Where the clone stands against the remote as last fetched."""

    configured: bool
    remote: str | None
    branch: str | None
    ahead: int
    behind: int
    last_fetch: str | None
    problem: str | None


class _Rebuild(Exception):
    """A save_with commit was undone by a remote change to the same content: build again."""


class Syncing(Replaying):
    """Pushing every save, replaying on refusal, and `sync`."""

    sync_note: str | None = None
    _rebuilding = False

    # ---- configuration and status -----------------------------------------------------------

    def sync_config(self) -> SyncConfig | None:
        """bank.json's `sync`, or None (no remote; or ITEMBANK_SYNC=off)."""
        if os.environ.get(SYNC_ENV, "").strip().lower() in ("off", "0", "no", "false"):
            return None
        with contextlib.suppress(OSError, ItembankError):
            settings, _ = parse_record("bank.json", self.read("bank.json"))
            value = (settings or {}).get("sync")
            if isinstance(value, dict) and isinstance(value.get("remote"), str):
                branch = value.get("branch", "main")
                remote = value["remote"]
                if _SAFE.fullmatch(remote) and isinstance(branch, str) and _SAFE.fullmatch(branch):
                    return SyncConfig(remote, branch)
                # otherwise not a usable setting: validate reports it against the schema
        return None

    def sync_status(self, fetch: bool = False) -> SyncStatus:
        """Ahead/behind counts against the remote branch as last fetched (fetch=True fetches
        first; an unreachable remote is reported in `problem`, not raised)."""
        config = self.sync_config()
        state = self._read_state()
        if config is None:
            return SyncStatus(False, None, None, 0, 0, None, None)
        problem = state.get("problem")
        if fetch:
            try:
                with self.lock():
                    self._fetch(config)
                problem = None
            except ItembankError as exc:
                problem = str(exc)
            state = self._read_state()
        tip = self._rev(config.tracking)
        ahead = behind = 0
        if tip is None:
            ahead = len(self._since(None, "HEAD"))
        else:
            ahead, behind = self._count(tip, "HEAD"), self._count("HEAD", tip)
        return SyncStatus(
            True, config.remote, config.branch, ahead, behind, state.get("last_fetch"), problem
        )

    # ---- the hooks into saving ---------------------------------------------------------------

    def _save_locked(
        self,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, str | None],
        author: str,
        message: str,
    ) -> str:
        before = self.head()
        sha = super()._save_locked(changes, expected, author, message)
        return self._after_commit(sha if sha != before else None, sha, keep=True)

    def _bulk_locked(
        self,
        changes: Mapping[str, bytes],
        expected: Mapping[str, str | None],
        message: str,
        progress: Callable[[int, int], None] | None,
        progress_every: int,
        run: Callable[..., str],
    ) -> str:
        before = self.head()
        sha = super()._bulk_locked(changes, expected, message, progress, progress_every, run)
        # an import's rows stay in its CSV: a refused import keeps no copies of 1,000s of files
        return self._after_commit(sha if sha != before else None, sha, keep=False)

    def save_with(
        self,
        build: Callable[[], tuple[Mapping[str, bytes | None], Mapping[str, str | None], str]],
        author: str,
    ) -> str:
        """As Saving.save_with; and when the remote recorded anything about the same content
        meanwhile (e.g. another panel member's review of the item), the local commit is undone
        and `build` decides again on the bank as it is now (so the review policy counts both
        reviews), a bounded number of times."""
        for _ in range(REBUILD_ATTEMPTS):
            self._rebuilding = True
            try:
                return super().save_with(build, author)
            except _Rebuild:
                continue
            finally:
                self._rebuilding = False
        raise ConflictError(
            f"Others kept recording changes to the same content ({REBUILD_ATTEMPTS} attempts), "
            "so nothing was recorded. Open it again and submit again."
        )

    def _after_commit(self, own: str | None, sha: str, keep: bool) -> str:
        """Push after a commit; raise the ordinary conflict error when the remote changed the
        same records (the commit is undone, the clone on the remote's version, the person's
        version kept). An unreachable remote only leaves a note: the commit is made."""
        config = self.sync_config()
        self.sync_note = None
        if config is None:
            return sha
        rebuild = self._rebuilding and own is not None
        outcome = self._publish(config, keep=keep and not rebuild, wide=own if rebuild else None)
        mine = [d for d in outcome.dropped if d.commit == own]
        if mine and rebuild:
            raise _Rebuild
        others = [d for d in outcome.dropped if d.commit != own]
        notes = [self._dropped_words(d) for d in others]
        if outcome.problem:
            notes.append(outcome.problem)
        self.sync_note = " ".join(notes) or None
        if mine:
            dropped = mine[0]
            relpath = dropped.records[0] if dropped.records else "the record"
            last = self.history(relpath)[:1] if dropped.records else []
            by = f" (last change {last[0].sha[:8]} by {last[0].author})" if last else ""
            where = ", ".join(dropped.kept) or "nowhere: it could not be kept"
            raise ConflictError(
                f"{relpath} was changed by someone else on the shared remote{by} since you "
                f"opened it. Your version was not saved over it and is kept at {where}. The "
                "bank now shows their version: open the record again, apply your changes, and "
                "save.",
                kept_at=dropped.kept[0] if dropped.kept else None,
            )
        return outcome.renamed.get(sha, sha) if own else (self.head() or sha)

    # ---- sync ---------------------------------------------------------------------------------

    def sync(self, progress: SyncProgress | None = None) -> SyncOutcome:
        """Fetch, replay local commits not yet on the remote (dropping and keeping those whose
        records changed there), fast-forward to others' work, push. Raises
        RemoteUnreachableError / SyncRefusedError; dropped commits are in the outcome."""
        config = self.sync_config()
        if config is None:
            raise SyncRefusedError(
                'This bank has no remote to sync with: add "sync": {"remote": "origin", '
                '"branch": "main"} to bank.json and \'git remote add origin URL\' in this '
                f"clone{' (or unset ITEMBANK_SYNC=off)' if os.environ.get(SYNC_ENV) else ''}."
            )
        show = progress or (lambda stage, done, total: None)
        with self.lock():
            problem = self._git_state_problem()
            if problem is not None:
                raise SyncRefusedError(f"Nothing was synced: {problem[1]}")
            owned = self._own_record is None
            if owned:
                self._record_owner()
            try:
                show("fetch", 0, 1)
                self._fetch(config)
                show("fetch", 1, 1)
                outcome = SyncOutcome()
                self._integrate(config, outcome, show, keep=True)
                for attempt in range(PUSH_ATTEMPTS):
                    show("push", attempt, 1)
                    if self._push(config, outcome):
                        show("push", 1, 1)
                        return outcome
                    self._fetch(config)
                    self._integrate(config, outcome, show, keep=True)
                raise RemoteUnreachableError(
                    f"Others kept pushing first: {PUSH_ATTEMPTS} pushes were refused. Your "
                    "commits are kept here; run 'itembank sync' again."
                )
            finally:
                if owned:
                    self._clear_owner()

    def _publish(self, config: SyncConfig, keep: bool, wide: str | None = None) -> SyncOutcome:
        """Push what is ahead; on refusal fetch, replay and push again (bounded). Never
        raises: failures become the outcome's `problem` (the commit stays local)."""
        outcome = SyncOutcome(wide=wide)
        owned = self._own_record is None
        try:
            if owned:
                self._record_owner()
            for attempt in range(PUSH_ATTEMPTS):
                if self._push(config, outcome):
                    return outcome
                time.sleep(random.uniform(0, 0.02 * attempt))  # others are pushing: stagger
                self._fetch(config)
                self._integrate(config, outcome, None, keep=keep)
            outcome.problem = (
                f"Saved here, not yet shared: others kept pushing first ({PUSH_ATTEMPTS} "
                "attempts). It will be pushed by the next save or 'itembank sync'."
            )
        except (RemoteUnreachableError, SyncRefusedError) as exc:
            outcome.problem = f"Saved here, not yet shared: {exc}"
        except (OSError, subprocess.SubprocessError, ItembankError) as exc:
            outcome.problem = f"Saved here, not yet shared: {exc}"
        finally:
            if owned:
                self._clear_owner()
        self._write_state(problem=outcome.problem)
        return outcome

    # ---- the parts: push, fetch, integrate ------------------------------------------------------

    def _push(self, config: SyncConfig, outcome: SyncOutcome) -> bool:
        """Push HEAD to the remote branch (never forced). True when the remote has it; False
        when refused because the remote moved on; RemoteUnreachableError otherwise."""
        head = self.head()
        tip = self._rev(config.tracking)
        if head is None or head == tip:
            return True
        if tip is not None and self._is_ancestor(head, tip):
            return True  # nothing of ours to push
        ahead = self._count(tip, head) if tip else len(self._since(None, head))
        done = self._net(
            "push", "--porcelain", "--no-verify", config.remote,
            f"{head}:refs/heads/{config.branch}",
        )  # fmt: skip
        text = done.stdout + done.stderr
        if done.returncode == 0:
            self._git("update-ref", config.tracking, head)
            outcome.pushed += ahead
            self._write_state(problem=None)
            return True
        if any(sign in text for sign in _MOVED_ON):
            return False
        raise RemoteUnreachableError(self._network_words(config, "push to", text))

    def _fetch(self, config: SyncConfig) -> str | None:
        """Fetch the remote branch; refuse a rewritten (force-pushed) one. Returns its tip."""
        done = self._net(
            # --refmap= : git must not move the tracking ref itself before it is checked
            "fetch", "--no-tags", "--quiet", "--refmap=", config.remote,
            f"+refs/heads/{config.branch}:refs/itembank/fetched",
        )  # fmt: skip
        text = done.stdout + done.stderr
        if done.returncode != 0:
            if "couldn't find remote ref" in text:
                self._write_state(last_fetch=_now(), problem=None)
                return None  # an empty remote: the first push makes the branch
            raise RemoteUnreachableError(self._network_words(config, "fetch from", text))
        new = self._rev("refs/itembank/fetched")
        old = self._rev(config.tracking)
        if old is not None and new is not None and not self._is_ancestor(old, new):
            raise SyncRefusedError(
                f"The branch {config.branch} on the remote '{config.remote}' was rewritten "
                f"(force-pushed): it no longer contains {old[:8]}, which it held when last "
                "fetched. Nothing was changed here, and itembank never force-pushes. Ask whoever "
                "manages the remote to restore the branch; if the rewrite was intended, accept "
                f"it with: git -C '{self.worktree}' update-ref {config.tracking} {new[:12]} , "
                "then run 'itembank sync' (your commits not on it are replayed, not lost)."
            )
        if new is not None:
            self._git("update-ref", config.tracking, new)
        self._write_state(last_fetch=_now(), problem=None)
        return new

    def _dropped_words(self, dropped: Dropped) -> str:
        where = ", ".join(dropped.kept) or "in its commit only"
        return (
            f"An earlier save not yet shared ({dropped.message}) was undone: "
            f"{', '.join(dropped.records)} changed on the shared remote meanwhile. Your "
            f"version is kept at {where}."
        )

    def _net(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command that reaches the remote: no prompt for a password, bounded in time."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        chosen = "GIT_SSH_COMMAND" in env or "GIT_SSH" in env
        if not chosen and not self._git("config", "core.sshCommand", check=False).stdout.strip():
            # ssh must not ask for a password either (a person's own ssh set-up is kept)
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=20"
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.worktree,
                capture_output=True,
                text=True,
                env=env,
                timeout=NETWORK_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 124, "", f"timed out after {NETWORK_TIMEOUT}s")

    def _network_words(self, config: SyncConfig, verb: str, text: str) -> str:
        said = " ".join(
            line.strip().removeprefix("fatal:").removeprefix("error:").strip()
            for line in text.splitlines()
            if line.strip() and not line.startswith(("To ", "Done"))
        )
        url = self._git("remote", "get-url", config.remote, check=False).stdout.strip()
        if not url:
            return (
                f"this clone has no git remote named '{config.remote}' (bank.json's sync "
                f"names it): add it with git -C '{self.worktree}' remote add {config.remote} URL."
            )
        if "remote rejected" in text or "hook declined" in text:
            why = f"the remote refused the push ({said})"
        elif "not a git repository" in text or "does not appear to be a git repository" in text:
            why = f"{url} is not a git repository, or cannot be reached ({said})"
        else:
            why = f"could not {verb} {url} ({said or 'no answer'})"
        return (
            f"{why}. Your saves are kept in this clone and will be pushed by the next save or "
            "'itembank sync'."
        )

    # ---- what the last fetch and push said, kept in the git folder ---------------------------

    def _read_state(self) -> dict[str, str | None]:
        try:
            data = json.loads((self.state_dir / "sync.json").read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, **values: str | None) -> None:
        state = {**self._read_state(), **values}
        with contextlib.suppress(OSError):
            self.state_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.state_dir / "sync.json", json.dumps(state).encode())


class RemoteSync:
    """bank.sync: where the clone stands against its remote, and syncing it (what the CLI and
    the apps call; the Bank and the rooms never run git themselves)."""

    def __init__(self, store: Syncing) -> None:
        self._store = store

    @property
    def configured(self) -> bool:
        return self._store.sync_config() is not None

    def status(self, fetch: bool = False) -> SyncStatus:
        """Ahead and behind counts, the last fetch and the last problem (fetch=True fetches
        first; an unreachable remote is reported in `problem`, never raised)."""
        return self._store.sync_status(fetch)

    def sync(self, progress: SyncProgress | None = None) -> SyncOutcome:
        """Pull others' work and push one's own (see Syncing.sync)."""
        return self._store.sync(progress)

    @property
    def note(self) -> str | None:
        """What the last save said about sharing (e.g. the remote was unreachable), or None."""
        return self._store.sync_note


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
