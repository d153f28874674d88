"""Replaying this clone's commits onto the remote's branch, with git plumbing only: a
temporary index, write-tree and commit-tree make each replayed commit (same author, message and
files), and the branch moves after the working tree, with a journal in the git folder that the
next save finishes if the process is killed in between. A local commit whose files the remote
changed is dropped and its versions kept, as for a local conflict. No `git rebase`, `merge` or
force-push is run, so a killed sync never leaves a rebase in progress."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from itembank.core.errors import ItembankError, SyncRefusedError
from itembank.storage.files import atomic_write
from itembank.storage.saving import Saving

ZERO = "0" * 40

SyncProgress = Callable[[str, int, int], None]
"""(stage, done, total): fetch, replay, push."""


@dataclass(frozen=True)
class SyncConfig:
    """bank.json's `sync`: the git remote (its URL is in each clone's git config) and branch."""

    remote: str
    branch: str

    @property
    def tracking(self) -> str:
        return f"refs/remotes/{self.remote}/{self.branch}"


@dataclass(frozen=True)
class Dropped:
    """A local commit undone because the remote changed the same records; kept versions."""

    commit: str
    message: str
    records: tuple[str, ...]
    kept: tuple[str, ...]


@dataclass
class SyncOutcome:
    """What a push or sync did: commits pushed and received, commits dropped, and why the
    remote could not be reached (None when it was)."""

    pushed: int = 0
    received: int = 0
    dropped: list[Dropped] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    #: each replayed commit's original sha (a commit may be replayed more than once)
    origin: dict[str, str] = field(default_factory=dict)
    #: the original sha of a commit that conflicts by record, not only by file (a review:
    #: anything else recorded about the same item means it must be decided again)
    wide: str | None = None


class Replaying(Saving):
    """Bringing HEAD onto the remote tip: fast-forward, or replay; moving the branch."""

    def _integrate(
        self,
        config: SyncConfig,
        outcome: SyncOutcome,
        show: SyncProgress | None,
        keep: bool,
    ) -> None:
        """Bring HEAD onto the fetched remote tip: fast-forward, or replay the local commits
        on top of it, dropping (and keeping) those whose files the remote changed."""
        tip = self._rev(config.tracking)
        head = self.head()
        if tip is None or head is None or self._is_ancestor(tip, head):
            return
        if self._is_ancestor(head, tip):
            outcome.received += self._count(head, tip)
            self._move(head, tip)
            return
        base = self._git("merge-base", head, tip).stdout.strip()
        if not base:
            raise SyncRefusedError(
                f"The remote branch {config.branch} shares no history with this clone, so "
                "nothing was changed. Clone the bank again from the remote, then copy in your "
                "work (itembank never mixes unrelated histories)."
            )
        theirs = set(_names(self._git("diff", "--name-only", "-z", base, tip).stdout))
        theirs_records = {self._record_of(path) for path in theirs}
        local = self._since(base, head)[::-1]
        new = tip
        dropped: list[tuple[str, list[tuple[str, str, str, str]]]] = []
        for number, commit in enumerate(local, 1):
            if show is not None:
                show("replay", number, len(local))
            entries = self._changes(commit)
            first = outcome.origin.get(commit, commit)
            if first == outcome.wide:
                clash = bool({self._record_of(e[3]) for e in entries} & theirs_records)
            else:
                clash = any(path in theirs for _, _, _, path in entries)
            if clash:
                dropped.append((commit, entries))
                continue
            if entries:
                new = self._replay(commit, new, entries)
                outcome.renamed[first] = new
                outcome.origin[new] = first
        for commit, entries in dropped:
            kept = self._keep_dropped(commit, entries, theirs, keep)
            outcome.dropped.append(replace(kept, commit=outcome.origin.get(commit, commit)))
        outcome.received += self._count(head, tip)
        self._move(head, new)

    def _record_of(self, path: str) -> str:
        """The content a file is about, for a review's conflicts: the id for items/ID.json,
        stimuli/ID.json, scenarios/ID.json and everything under reviews/ID/; else the path."""
        rel = path[len(self.prefix) :] if path.startswith(self.prefix) else path
        parts = rel.split("/")
        if parts[0] == "reviews" and len(parts) >= 3:
            return "content:" + parts[1]
        if parts[0] in ("items", "stimuli", "scenarios") and len(parts) == 2:
            return "content:" + parts[1].removesuffix(".json")
        return path

    def _changes(self, commit: str) -> list[tuple[str, str, str, str]]:
        """(mode, blob, status, path) of each file a commit changed against its first parent."""
        raw = self._git(
            "diff-tree", "-r", "-z", "--no-commit-id", "--no-renames", f"{commit}^", commit
        ).stdout
        parts = raw.split("\0")
        out = []
        for meta, path in zip(parts[0::2], parts[1::2], strict=False):
            if meta.startswith(":"):
                fields = meta[1:].split()
                out.append((fields[1], fields[3], fields[4], path))
        return out

    def _replay(self, commit: str, onto: str, entries: list[tuple[str, str, str, str]]) -> str:
        """The same change as `commit`, by the same author, as a child of `onto`."""
        index = str(self.state_dir / f"sync-{os.getpid()}.index")
        info = "".join(
            f"0 {ZERO}\t{path}\0" if status == "D" else f"{mode} {blob}\t{path}\0"
            for mode, blob, status, path in entries
        )
        try:
            self._git("read-tree", onto, index=index)
            self._git("update-index", "-z", "--index-info", stdin=info, index=index)
            tree = self._git("write-tree", index=index).stdout.strip()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(index)
        meta = self._git("log", "-1", "--date=raw", "--format=%an%x00%ae%x00%ad%x00%B", commit)
        name, email, date, message = meta.stdout.split("\0", 3)
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        made = self._git("commit-tree", tree, "-p", onto, "-F", "-", stdin=message, env=env)
        return made.stdout.strip()

    def _keep_dropped(
        self,
        commit: str,
        entries: list[tuple[str, str, str, str]],
        theirs: set[str],
        keep: bool,
    ) -> Dropped:
        """Keep every file version of a commit being undone, as a local conflict keeps it."""
        meta = self._git("log", "-1", "--format=%an <%ae>%x00%s", commit).stdout
        author, subject = meta.rstrip("\n").split("\0", 1)
        size = len(self.prefix)
        records, kept = [], []
        clashing = [e for e in entries if e[3] in theirs] + [
            e for e in entries if e[3] not in theirs
        ]
        for _, blob, status, path in clashing:
            relpath = path[size:] if path.startswith(self.prefix) else path
            records.append(relpath)
            if keep and status != "D":
                data = self._git_bytes("cat-file", "blob", blob)
                where, _ = self._keep(relpath, data, author, "conflict")
                if where is not None:
                    kept.append(str(where))
        return Dropped(commit, subject, tuple(records), tuple(kept))

    # ---- moving the branch: working tree first, then the ref, with a journal ----------------

    def _move(self, old: str, new: str) -> None:
        """Move the working tree and the current branch from `old` to `new`, refusing (with the
        fix) when a file to update has uncommitted changes; finish a killed move first."""
        if old == new:
            return
        paths = _names(self._git("diff", "--name-only", "-z", old, new).stdout)
        size = len(self.prefix)
        dirty = set(self.uncommitted())
        for path in paths:
            rel = path[size:]
            if path.startswith(self.prefix) and rel in dirty:
                raise SyncRefusedError(
                    "Others' changes could not be brought in, as a file they changed differs "
                    "here from the last commit. Nothing was lost or changed. "
                    + self.uncommitted_words(rel)
                )
        journal = self.state_dir / "sync-move.json"
        atomic_write(journal, json.dumps({"old": old, "new": new}).encode())
        try:
            self._git("read-tree", "-m", "-u", old, new)
        except ItembankError as exc:
            journal.unlink(missing_ok=True)
            raise SyncRefusedError(
                f"Others' changes could not be brought into the working tree: {exc} Nothing "
                "was changed; commit or discard the files named, then run 'itembank sync'."
            ) from None
        self._git("update-ref", "-m", "itembank sync", "HEAD", new, old)
        journal.unlink(missing_ok=True)

    def _tidy(self) -> None:
        """Also finish a move a killed sync left between the working tree and the branch."""
        super()._tidy()
        journal = self.state_dir / "sync-move.json"
        try:
            move = json.loads(journal.read_bytes())
        except (OSError, ValueError):
            return
        old, new = str(move.get("old")), str(move.get("new"))
        if self.head() == old and self._rev(new) == new:
            paths = _names(self._git("diff", "--name-only", "-z", old, new).stdout)
            wanted: dict[str, bytes | None] = {}
            for path in paths:  # each file must be as before or as after the move
                target = self.worktree / path
                wanted[path] = self._file_at(new, path)
                now = target.read_bytes() if target.is_file() else None
                if now not in (self._file_at(old, path), wanted[path]):
                    return  # edited by hand meanwhile: the save's own checks say what to do
            for path, data in wanted.items():
                target = self.worktree / path
                if data is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(target, data)
            self._git("read-tree", new)
            self._git("update-index", "-q", "--refresh", check=False)
            self._git("update-ref", "-m", "itembank sync (finished)", "HEAD", new, old)
        journal.unlink(missing_ok=True)

    # ---- git helpers ------------------------------------------------------------------------

    def _git(
        self,
        *args: str,
        stdin: str = "",
        index: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        extra = {"GIT_INDEX_FILE": index} if index else {}
        done = subprocess.run(
            ["git", *args],
            cwd=self.worktree,
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **extra, **(env or {})},
            check=False,
        )
        if check and done.returncode != 0:
            raise ItembankError(f"git {args[0]} failed: {done.stderr.strip()}")
        return done

    def _file_at(self, commit: str, path: str) -> bytes | None:
        """A file's bytes at a commit (path from the top of the repository), or None."""
        done = subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:{path}"],
            cwd=self.worktree,
            capture_output=True,
            check=False,
        )
        return done.stdout if done.returncode == 0 else None

    def _git_bytes(self, *args: str) -> bytes:
        return subprocess.run(
            ["git", *args], cwd=self.worktree, capture_output=True, check=True
        ).stdout

    def _rev(self, name: str) -> str | None:
        done = self._git("rev-parse", "--verify", "-q", f"{name}^{{object}}", check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def _count(self, old: str, new: str) -> int:
        """How many commits `new` has that `old` lacks."""
        base = self._git("merge-base", old, new, check=False).stdout.strip() or None
        return len(self._since(base, new))

    def _since(self, base: str | None, tip: str) -> list[str]:
        """The commits from `tip` back to `base` (excluded), newest first, along first parents.

        Not `git rev-list tip ^base`: with commit dates out of order (a clock set wrong on one
        machine) that walk can stop early and list commits `base` already has, so a sync would
        replay the whole history. Walking back from `tip` to `base` does not depend on dates."""
        walk = subprocess.Popen(
            ["git", "rev-list", "--first-parent", tip],
            cwd=self.worktree,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        out: list[str] = []
        found = base is None
        assert walk.stdout is not None
        with walk:
            for line in walk.stdout:
                if line.strip() == base:
                    found = True
                    break
                out.append(line.strip())
            walk.kill()
        if found:
            return out
        # base reached only through a merge made by hand: git's own walk (dates in order)
        listed = self._git("rev-list", "--topo-order", tip, f"^{base}").stdout
        return listed.split()


def _names(text: str) -> list[str]:
    return [name for name in text.split("\0") if name]
