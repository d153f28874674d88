"""What git recorded: a record's commits and versions, and the bank's files as they were at
a commit (forms are rebuilt from the commit their manifest names)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import git

from itembank.core.errors import ItembankError
from itembank.storage.repo import Reading


@dataclass(frozen=True)
class Commit:
    """One entry of a record's history."""

    sha: str
    author: str
    date: str
    message: str


class History(Reading):
    """A record's history, and the bank at a recorded commit."""

    def history(self, relpath: str) -> list[Commit]:
        """Commits that changed the file, newest first."""
        if self.head() is None:
            return []
        out = []
        for commit in self.repo.iter_commits(paths=self.prefix + relpath):
            out.append(
                Commit(
                    sha=commit.hexsha,
                    author=f"{commit.author.name} <{commit.author.email}>",
                    date=commit.authored_datetime.isoformat(),
                    message=str(commit.message).strip(),
                )
            )
        return out

    def show(self, sha: str, relpath: str) -> bytes:
        """The file as it was at a commit."""
        blob = self.repo.commit(sha).tree / (self.prefix + relpath)
        return bytes(blob.data_stream.read())

    def versions(self, relpath: str, limit: int = 50) -> list[tuple[Commit, bytes]]:
        """The file's committed versions, newest first, with the commit of each."""
        out = []
        for commit in self.history(relpath)[:limit]:
            with contextlib.suppress(KeyError):
                out.append((commit, self.show(commit.sha, relpath)))
        return out

    # ---- reading at a recorded commit (forms are rebuilt from the commit they name) --------------

    def files_at(
        self,
        sha: str,
        relpaths: list[str],
        folders: list[str] | None = None,
        bank_path: str | None = None,
    ) -> dict[str, bytes]:
        """The bank files named, and every file directly in the folders named, as they were at
        commit `sha` (absent ones are left out), the bank being at `bank_path` in the
        repository then (default: where it is now). One git process answers all of them."""
        prefix = self.prefix if bank_path is None else (bank_path.strip("/") + "/").lstrip("/")
        try:
            tree = self.repo.commit(sha).tree
        except (ValueError, git.BadName, git.GitCommandError):
            raise ItembankError(
                f"The commit {sha} is not in the bank's repository at {self.worktree}: fetch "
                "the history that holds it (a shallow or rewritten clone lacks it)."
            ) from None
        out: dict[str, bytes] = {}
        for relpath in relpaths:
            with contextlib.suppress(KeyError):
                blob = tree / (prefix + relpath)
                if blob.type == "blob":
                    out[relpath] = bytes(blob.data_stream.read())
        for folder in folders or []:
            with contextlib.suppress(KeyError):
                sub = tree / (prefix + folder.rstrip("/"))
                for blob in sub.blobs if sub.type == "tree" else ():
                    out[f"{folder.rstrip('/')}/{blob.name}"] = bytes(blob.data_stream.read())
        return out
