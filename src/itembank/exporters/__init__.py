"""Exporters turn a verified form (or a scenario) into files, one module per format, registered
by name: ``qti21``, ``qti30``, ``html``, ``pdf``. Each takes a bundle of records and returns
{relative path: bytes}; nothing in an export depends on the clock, so the same form always
gives the same bytes. ``write_tree`` puts the files in a new folder all at once."""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ItembankError

Record = dict[str, Any]


@dataclass(frozen=True)
class FormBundle:
    """A form manifest with the records it names (already verified against the bank)."""

    manifest: Record
    blueprint: Record | None
    items: Mapping[str, Record]
    stimuli: Mapping[str, Record]
    titles: Mapping[tuple[str, str], str]  # (framework, statement) -> title
    bank_title: str


@dataclass(frozen=True)
class ScenarioBundle:
    """A simulated-practice scenario (papers only: briefs and marking sheet)."""

    scenario: Record
    titles: Mapping[tuple[str, str], str]
    bank_title: str


Bundle = FormBundle | ScenarioBundle
Exporter = Callable[[Bundle], dict[str, bytes]]

#: format name -> module that defines export(bundle)
EXPORTERS: dict[str, str] = {
    "qti21": "qti21",
    "qti30": "qti30",
    "html": "html",
    "pdf": "pdf",
}


def exporter(name: str) -> Exporter:
    """The export function registered under `name`."""
    if name not in EXPORTERS:
        raise ItembankError(
            f"Unknown export format {name!r}: choose one of {', '.join(sorted(EXPORTERS))}."
        )
    module = importlib.import_module(f"{__name__}.{EXPORTERS[name]}")
    function: Exporter = module.export
    return function


def export(name: str, bundle: Bundle) -> dict[str, bytes]:
    """Run one exporter."""
    return exporter(name)(bundle)


def write_tree(out: Path, files: Mapping[str, bytes], force: bool = False) -> list[Path]:
    """Write files under a new folder `out` all at once: into a temporary sibling first, then
    renamed into place, so a failure leaves nothing half-written. An existing `out` is refused
    unless force (then replaced)."""
    out = Path(out)
    if out.exists() and not force:
        raise ItembankError(f"{out} already exists: choose another folder, or use --force.")
    if out.exists() and not out.is_dir():
        raise ItembankError(f"{out} exists and is not a folder.")
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        for rel, data in sorted(files.items()):
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise ItembankError(f"refusing to write outside the folder: {rel}")
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            old = parent / f".{out.name}.old.{os.getpid()}"
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    return [out / rel for rel in sorted(files)]


__all__ = ["EXPORTERS", "FormBundle", "ScenarioBundle", "export", "exporter", "write_tree"]
