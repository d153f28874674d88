"""Generated documents (candidate letters, employer reports) written to a folder OUTSIDE the
content repository: a letter is personal data and must never be committed with the content,
so a folder inside the bank's work tree is refused, as the results store refuses one.

Writing is resumable: a file whose bytes are already there is not written again (a run cut
short picks up where it stopped), and each file is written whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from itembank.core.errors import ItembankError
from itembank.storage.files import atomic_write, os_words


class OutputFolderError(ItembankError):
    """The output folder cannot be used (inside the content repository, not writable...)."""


def outside(folder: str | os.PathLike[str], worktree: Path) -> Path:
    """`folder`, resolved; refused when it is the bank's repository or inside it."""
    chosen = Path(folder).expanduser().resolve()
    top = worktree.resolve()
    if chosen == top or top in chosen.parents:
        raise OutputFolderError(
            f"The output folder {chosen} is inside the bank's git repository ({top}): letters "
            "and reports about candidates must stay out of the content repository. Choose a "
            f"folder outside it with --out DIR (for example {top.parent / 'letters'})."
        )
    return chosen


def same(folder: Path, name: str, data: bytes) -> bool:
    """Whether `folder/name` already holds exactly `data`."""
    target = folder / name
    try:
        return (
            target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data
        )
    except OSError:
        return False


def present(folder: Path, names: Iterable[str]) -> bool:
    """Whether every named file exists and is not empty."""
    try:
        return all((folder / n).is_file() and (folder / n).stat().st_size > 0 for n in names)
    except OSError:
        return False


def write(folder: Path, name: str, data: bytes) -> None:
    """Write one file whole (made readable by its owner's group: a document to hand on)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / name, data)
        (folder / name).chmod(0o640)
    except OSError as exc:
        raise OutputFolderError(f"{folder} cannot be written: {os_words(exc)}.") from None


__all__ = ["OutputFolderError", "outside", "present", "same", "write"]
