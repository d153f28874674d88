"""Kept versions: what a refused save would have written, kept under a name never used before
with who, when and why beside it, so that nothing anyone typed is lost; and listing them."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itembank.core.errors import SaveRefusedError
from itembank.storage.files import atomic_write, os_words, write_new
from itembank.storage.repo import Reading


@dataclass(frozen=True)
class Kept:
    """A version that could not be saved, kept so that nothing typed is lost."""

    number: int
    record: str
    path: Path
    who: str
    when: str
    why: str


class Keeping(Reading):
    """Keeping a version that could not be saved, and listing the kept ones."""

    def _keep(
        self, relpath: str, data: bytes, author: str = "", why: str = "conflict"
    ) -> tuple[Path | None, str]:
        """Keep a version that could not be saved, under a name never used before (time to the
        nanosecond, pid and a random part, created exclusively), with who/when/why beside it.

        Returns (where, note): where is None when it could not be kept anywhere; note is what
        to add to the message when the bank's own kept folder could not be used."""
        when = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when // 1_000_000_000))
        base = f"{relpath.replace('/', '__')}.{stamp}.{when % 1_000_000_000:09d}Z.{os.getpid()}"
        meta = {
            "record": relpath,
            "who": author,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when // 1_000_000_000))
            + f".{when % 1_000_000_000:09d}Z",
            "why": why,
        }
        folder = self.kept_dir
        try:
            kept = write_new(folder, base, data)
        except OSError as exc:
            problem = os_words(exc)
            fallback = Path(tempfile.gettempdir()) / f"itembank-kept-{os.getuid()}"
            try:
                kept = write_new(fallback, base, data)
            except OSError:
                return None, (
                    f" Your version could NOT be kept: the bank's kept folder ({folder}) "
                    f"cannot be written ({problem}), nor can {fallback}. Your text is only in "
                    "what you were editing: copy it somewhere safe before closing."
                )
            return kept, (
                f" (The bank's kept folder {folder} cannot be written: {problem}; so it is "
                f"kept outside the bank, at {kept}.)"
            )
        with contextlib.suppress(OSError):
            (folder / ".meta").mkdir(exist_ok=True)
            atomic_write(folder / ".meta" / kept.name, json.dumps(meta).encode("utf-8"))
        return kept, ""

    def _refuse(
        self, changes: Mapping[str, bytes | None], author: str, why: str, words: str
    ) -> SaveRefusedError:
        """Keep every version of a save that cannot be made, and say so plainly."""
        kept: list[Path] = []
        notes = []
        for relpath, data in changes.items():
            if data is None:
                continue
            where, note = self._keep(relpath, data, author, why)
            if where is not None:
                kept.append(where)
            if note:
                notes.append(note)
        names = ", ".join(changes) or "the change"
        words = words if words.endswith(".") else words + "."
        if kept:
            told = "Your version is kept at " + ", ".join(str(k) for k in kept) + "."
        elif any(d is not None for d in changes.values()):
            told = ""
        else:
            told = "Nothing was deleted."
        text = f"{names} was not saved: {words} {told}{''.join(notes)}".rstrip()
        return SaveRefusedError(text, kept_at=str(kept[0]) if kept else None, why=why)

    def kept_versions(self, relpath: str | None = None) -> list[Kept]:
        """Kept versions (of one record, or all), oldest first, numbered from 1 per record."""
        try:
            names = sorted(
                e.name
                for e in os.scandir(self.kept_dir)
                if e.is_file() and not e.name.startswith(".")
            )
        except OSError:
            return []
        found: list[tuple[str, str, Path, dict[str, Any]]] = []
        for name in names:
            path = self.kept_dir / name
            meta: dict[str, Any] = {}
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads((self.kept_dir / ".meta" / name).read_bytes())
                if isinstance(loaded, dict):
                    meta = loaded
            record = str(
                meta.get("record") or name.split(".json.", 1)[0].replace("__", "/") + ".json"
            )
            if relpath is not None and record != relpath:
                continue
            when = str(meta.get("when") or "")
            if not when:
                with contextlib.suppress(OSError):
                    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))
            found.append((record, when, path, meta))
        found.sort(key=lambda f: (f[0], f[1], f[2].name))
        out: list[Kept] = []
        counts: dict[str, int] = {}
        for record, when, path, meta in found:
            counts[record] = counts.get(record, 0) + 1
            out.append(
                Kept(
                    number=counts[record],
                    record=record,
                    path=path,
                    who=str(meta.get("who") or "unknown"),
                    when=when,
                    why=str(meta.get("why") or "unknown"),
                )
            )
        return out
