"""Files of candidate-level results outside the content repository: a marks source read as a
stream, its digest, and a decisions file written where the repository cannot take it in. The
results store itself is resultstore.py."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from itembank.core.errors import ItembankError
from itembank.storage.files import atomic_write, os_words
from itembank.storage.resultstore import ResultsFolderError


@contextmanager
def open_source(path: str | os.PathLike[str]) -> Iterator[tuple[str, BinaryIO]]:
    """(name, binary stream) of one source file, read as it is consumed (a large file is
    never held whole); a missing or unreadable file is a plain error."""
    given = Path(path)
    if not given.is_file():
        raise ItembankError(f"{given} is not a file: name one marks CSV (.csv or .csv.gz).")
    try:
        handle = open(given, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise ItembankError(f"{given} cannot be read ({os_words(exc)}).") from None
    with handle:
        yield str(given), handle


def stream_digest(stream: BinaryIO) -> str:
    """SHA-256 of a seekable stream, read in blocks; the stream is left at its start."""
    digest = hashlib.sha256()
    while block := stream.read(1 << 20):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def outside(target: str | os.PathLike[str], worktree: Path) -> Path:
    """`target` resolved, refused (ResultsFolderError) inside the bank's repository."""
    path = Path(target).expanduser().resolve()
    top = worktree.resolve()
    if path == top or top in path.parents:
        raise ResultsFolderError(
            f"{path} is inside the bank's git repository ({top}): candidate-level results must "
            "stay out of the content repository. Write it elsewhere (e.g. beside the results "
            "folder)."
        )
    return path


def write_private(target: str | os.PathLike[str], data: bytes, worktree: Path) -> Path:
    """Write candidate-level data (e.g. decisions) to one file OUTSIDE the bank's repository,
    whole or not at all, readable by its owner only; refused inside the repository."""
    path = outside(target, worktree)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)  # a private temporary file (0600), renamed into place
    except OSError as exc:
        raise ItembankError(f"{path} cannot be written: {os_words(exc)}.") from None
    return path


__all__ = ["open_source", "outside", "stream_digest", "write_private"]
