"""Plain files, no git: reading a bank file only if it is a regular file within the size
limit, and writing atomically (temporary file, fsync, rename) so a crash never leaves half a file.

Also the plain words for OS errors, so every refusal says what went wrong on the disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat as stat_module
import tempfile
import uuid
from pathlib import Path

from itembank.core.errors import ItembankError

#: The temporary files atomic_write makes (tempfile.mkstemp's 8 random characters).
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")

#: A bank file larger than this is a `too-large` finding and is never read (bank.json's
#: max_record_bytes changes it, within MIN_RECORD_BYTES..MAX_RECORD_BYTES_CAP).
DEFAULT_MAX_RECORD_BYTES = 1 << 20
MIN_RECORD_BYTES = 1 << 10
MAX_RECORD_BYTES_CAP = 1 << 28


class UnreadableFileError(ItembankError):
    """A bank path itembank refuses to read: not a regular file, or over the size limit.

    `code` is the finding's code and `advice` its message (what it is and what to do)."""

    def __init__(self, relpath: str, code: str, advice: str) -> None:
        super().__init__(f"{relpath} was not read. {advice}")
        self.relpath = relpath
        self.code = code
        self.advice = advice


def _too_large(relpath: str, size: int, limit: int) -> UnreadableFileError:
    return UnreadableFileError(
        relpath,
        "too-large",
        f"The file is {size:,} bytes, over the bank's limit of {limit:,} bytes per record, so "
        "it was not read. Shorten it (large media belong outside the record), or raise "
        "max_record_bytes in bank.json.",
    )


def _not_regular(relpath: str, mode: int | None, root: Path) -> UnreadableFileError:
    """Say what is at the path instead of a file, and how to put it right."""
    if mode is None or stat_module.S_ISLNK(mode):
        try:
            target = os.readlink(root / relpath)
            what = f"a symbolic link (to {target[:200]!r})"
        except OSError:
            what = "a symbolic link"
        fix = (
            "itembank never follows links (git would record the link, not the record). "
            "Replace it with the record's own file, or delete it."
        )
    else:
        what = {
            stat_module.S_IFDIR: "a folder",
            stat_module.S_IFIFO: "a named pipe (FIFO)",
            stat_module.S_IFSOCK: "a socket",
            stat_module.S_IFCHR: "a character device",
            stat_module.S_IFBLK: "a block device",
            stat_module.S_IFREG: "a file",
        }.get(stat_module.S_IFMT(mode), "not a regular file")
        fix = "A bank holds only regular files, which git records. Move or delete it."
    return UnreadableFileError(
        relpath, "not-a-regular-file", f"It is {what}, not a regular file, and was not read. {fix}"
    )


def _open_regular(root: Path, relpath: str) -> tuple[int, int]:
    """Open a bank file for reading without following any link on the way, and return
    (descriptor, size) only if it is a regular file. The type is checked before opening
    (so a FIFO or device is never opened) and again on the opened descriptor (so a file
    swapped for a link or FIFO in between is still refused)."""
    parts = relpath.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ItembankError(f"{relpath!r} is not a path inside the bank.")
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    folder = os.open(root, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY)
    try:
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            try:
                stat = os.stat(part, dir_fd=folder, follow_symlinks=False)
            except NotADirectoryError:
                raise FileNotFoundError(relpath) from None
            if not last and stat_module.S_ISREG(stat.st_mode):
                raise FileNotFoundError(relpath)
            wanted = stat_module.S_ISREG if last else stat_module.S_ISDIR
            if not wanted(stat.st_mode):
                raise _not_regular("/".join(parts[: depth + 1]), stat.st_mode, root)
            try:
                fd = os.open(
                    part,
                    flags | (os.O_NONBLOCK | os.O_NOCTTY if last else os.O_DIRECTORY),
                    dir_fd=folder,
                )
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                    raise _not_regular("/".join(parts[: depth + 1]), None, root) from None
                raise
            opened = os.fstat(fd)
            if not wanted(opened.st_mode):
                os.close(fd)
                raise _not_regular("/".join(parts[: depth + 1]), opened.st_mode, root)
            os.close(folder)
            folder = fd
        return folder, opened.st_size
    except BaseException:
        os.close(folder)
        raise


def read_regular(root: Path, relpath: str, limit: int) -> bytes:
    """The bytes of the bank file at `relpath` under `root`, read only if it is a regular
    file (never through a link) of at most `limit` bytes.

    Raises UnreadableFileError (a clear message and a finding code) otherwise, and
    FileNotFoundError if nothing is there.
    """
    try:
        fd, size = _open_regular(root, relpath)
    except (FileNotFoundError, ItembankError):
        raise
    except OSError as exc:  # permissions, I/O: said plainly, as a finding or an error
        raise UnreadableFileError(
            relpath,
            "unreadable-file",
            f"It could not be read ({exc.strerror or exc}). Check its permissions and the "
            "disk, then try again.",
        ) from None
    try:
        if size > limit:
            raise _too_large(relpath, size, limit)
        chunks = []
        total = 0
        while total <= limit:  # a bounded read: the file may grow after fstat
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_large(relpath, total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(target: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over the target."""
    tmp = write_temp(target, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)


def write_temp(target: Path, data: bytes) -> Path:
    """A fsynced temporary file beside `target` holding `data` (named as TEMP_NAME)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def link_backup(target: Path) -> Path:
    """A hard link to `target` under a temporary name: restoring it is a rename, which needs
    no free space."""
    while True:
        backup = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            os.link(target, backup)
            return backup
        except FileExistsError:
            continue


def fsync_dir(folder: Path) -> None:
    """Make a rename or new name in `folder` survive a power cut (best effort)."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_new(folder: Path, base: str, data: bytes) -> Path:
    """Write `data` whole under a name that did not exist (base + random part), never
    replacing anything: written to a temporary file, then hard-linked to the new name."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(folder / base, data)
    try:
        while True:
            kept = folder / f"{base}.{uuid.uuid4().hex[:12]}.json"
            try:
                os.link(tmp, kept)
                break
            except FileExistsError:
                continue
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(folder)
    return kept


_OS_WORDS = {
    errno.ENOSPC: ("disk-full", "the disk holding the bank is full"),
    errno.EDQUOT: ("disk-full", "the disk quota is used up"),
    errno.EROFS: ("read-only", "the disk holding the bank is read-only"),
    errno.EACCES: ("permission", "permission denied"),
    errno.EPERM: ("permission", "permission denied"),
}


def os_why(exc: OSError) -> str:
    """The refusal's `why` code for an OS error (disk-full, read-only, permission, disk)."""
    return _OS_WORDS.get(exc.errno or 0, ("disk", ""))[0]


def os_words(exc: OSError) -> str:
    """An OS error in plain words, with the file it concerns."""
    words = _OS_WORDS.get(exc.errno or 0, ("disk", exc.strerror or str(exc)))[1]
    return f"{words} ({exc.filename})" if exc.filename else words
