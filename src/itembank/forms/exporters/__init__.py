"""Exporters turn a verified form (or a scenario) into files, one module per format, registered
by name: ``qti21``, ``qti30``, ``html``, ``pdf``, and the candidate papers' reasonable
adjustments ``html-large-print``, ``pdf-large-print`` and ``html-accessible`` (screen reader
HTML and plain text), which the html and pdf modules write as variants. Each takes a bundle of
records and returns {relative path: bytes}; nothing in an export depends on the clock, so the
same form always gives the same bytes. ``write_tree`` puts the files in a new folder all at
once."""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from itembank.core.errors import ItembankError
from itembank.core.parsing import parse_record

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
    language: str = "en-GB"  # bank.json "language" at the form's commit (xml:lang in QTI)


@dataclass(frozen=True)
class ScenarioBundle:
    """A simulated-practice scenario (papers only: briefs and marking sheet)."""

    scenario: Record
    titles: Mapping[tuple[str, str], str]
    bank_title: str


Bundle = FormBundle | ScenarioBundle
#: progress(stage, done, total): what an exporter (and export around it) reports as it works
Progress = Callable[[str, int, int], None]


class Exporter(Protocol):
    """Every exporter: a bundle in, its files out, progress reported on the way if asked."""

    def __call__(self, bundle: Bundle, *, progress: Progress | None = None) -> dict[str, bytes]: ...


#: format name -> module that defines export(bundle)
EXPORTERS: dict[str, str] = {
    "qti21": "qti21",
    "qti30": "qti30",
    "html": "html",
    "pdf": "pdf",
}
#: paper variant formats -> (the format that writes them, its variant of the candidate's paper)
PAPER_VARIANTS: dict[str, tuple[str, str]] = {
    "html-large-print": ("html", "large-print"),
    "pdf-large-print": ("pdf", "large-print"),
    "html-accessible": ("html", "accessible"),
}


def paper_format(name: str, large_print: bool = False, accessible: bool = False) -> str:
    """The format name for `name` (html or pdf) with a reasonable adjustment, e.g. ('pdf',
    large_print=True) -> 'pdf-large-print'; ItembankError for a pair that does not exist."""
    wanted = "large-print" if large_print else "accessible" if accessible else ""
    if large_print and accessible:
        raise ItembankError(
            "Choose one adjustment: --large-print (a printed paper) or --accessible (HTML for "
            "a screen reader, and plain text)."
        )
    if not wanted:
        return name
    found = next((f for f, pair in PAPER_VARIANTS.items() if pair == (name, wanted)), None)
    if found is None:
        bases = sorted(b for b, v in PAPER_VARIANTS.values() if v == wanted)
        raise ItembankError(
            f"The {wanted} paper is written as {' or '.join(bases)}, not {name}: "
            f"use --format {bases[0]}."
        )
    return found


def exporter(name: str) -> Exporter:
    """The export function registered under `name` (a paper variant: its module's export with
    that variant)."""
    if name in PAPER_VARIANTS:
        base, variant = PAPER_VARIANTS[name]
        module = importlib.import_module(f"{__name__}.{EXPORTERS[base]}")
        variant_of: Exporter = functools.partial(module.export, variant=variant)
        return variant_of
    if name not in EXPORTERS:
        raise ItembankError(
            f"Unknown export format {name!r}: choose one of "
            f"{', '.join(sorted([*EXPORTERS, *PAPER_VARIANTS]))}."
        )
    module = importlib.import_module(f"{__name__}.{EXPORTERS[name]}")
    function: Exporter = module.export
    return function


def export(name: str, bundle: Bundle) -> dict[str, bytes]:
    """Run one exporter."""
    return exporter(name)(bundle)


#: The file write_tree puts in every folder it writes: --force replaces only such folders.
MARKER = ".itembank-export"
MARKER_TEXT = b"This folder was written by itembank. itembank --force may replace it.\n"


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def replace_refusal(out: Path, protected: Sequence[Path] = ()) -> str | None:
    """Why the existing folder `out` must not be replaced (None if it may be): only an empty
    folder or one itembank wrote (it holds MARKER) may go, and never a protected folder (the
    bank, the git working tree holding it) or anything inside or above one, a git repository,
    the current folder or one above it, the home folder or /."""
    if out.is_symlink():
        return "it is a symbolic link: give the real folder's path"
    if not out.is_dir():
        return "it exists and is not a folder"
    real = out.resolve()
    home = Path.home().resolve()
    if real == Path(real.anchor):
        return "it is the root folder"
    if real == home:
        return "it is the home folder"
    if _is_within(Path.cwd().resolve(), real):
        return "it is the current folder or one above it"
    for folder in protected:
        guarded = Path(folder).resolve()
        if _is_within(real, guarded) or _is_within(guarded, real):
            return f"it is, holds or is inside {guarded} (the bank or its git repository)"
    for where, dirs, names in os.walk(out):
        if ".git" in dirs or ".git" in names:
            return f"{where} is a git repository"
    if not any(out.iterdir()):
        return None
    marker = out / MARKER
    if marker.is_symlink() or not marker.is_file():
        return (
            f"itembank did not write it (it has no {MARKER} file): choose a new folder, "
            "or remove this one yourself"
        )
    return None


def write_tree(
    out: Path,
    files: Mapping[str, bytes],
    force: bool = False,
    protected: Sequence[Path] = (),
) -> list[Path]:
    """Write files under a new folder `out` all at once: into a temporary sibling first, then
    renamed into place, so a failure leaves nothing half-written. The folder gets a MARKER file
    saying itembank wrote it. An existing `out` is refused unless force, and even then it is
    replaced only if replace_refusal() finds no reason against it (so --force never deletes
    what itembank did not write; the git check walks the folder: exports are small). A new
    folder is never made inside the first protected folder (the bank itself)."""
    out = Path(out)
    if out.is_symlink():
        raise ItembankError(f"{out} is a symbolic link: give the real folder's path.")
    if out.exists() and not force:
        raise ItembankError(f"{out} already exists: choose another folder, or use --force.")
    if out.exists():
        why = replace_refusal(out, protected)
        if why:
            raise ItembankError(f"Refusing to replace {out}: {why}. Nothing was changed.")
    elif protected and _is_within(out.resolve(), Path(protected[0]).resolve()):
        raise ItembankError(
            f"Refusing to write {out}: it is inside the bank {Path(protected[0]).resolve()}. "
            "Choose a folder outside the bank."
        )
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        for rel, data in sorted(files.items()):
            if rel.startswith("/") or ".." in Path(rel).parts or rel == MARKER:
                raise ItembankError(f"refusing to write outside the folder: {rel}")
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / MARKER).write_bytes(MARKER_TEXT)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            out.rename(old / out.name)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    return [out / rel for rel in sorted(files)]


def bank_words(files: Mapping[str, bytes]) -> tuple[dict[tuple[str, str], str], str, str]:
    """From the files of one commit: each standard statement's title, the bank's title, and
    its language (bank.json "language", en-GB when it has none) -- the words every export
    prints around the content, read at the commit the form records, not today's."""
    titles: dict[tuple[str, str], str] = {}
    bank_title, language = "Item bank", "en-GB"
    for relpath, data in sorted(files.items()):
        if relpath != "bank.json" and not relpath.startswith("standards/"):
            continue
        record, _ = parse_record(relpath, data)
        if not isinstance(record, dict):
            continue
        if relpath == "bank.json":
            bank_title = str(record.get("title", bank_title))
            lang = record.get("language")
            language = lang if isinstance(lang, str) and lang else language
        else:
            for statement in record.get("statements", []):
                titles[(str(record.get("id")), statement["id"])] = statement["title"]
    return titles, bank_title, language


__all__ = [
    "EXPORTERS",
    "MARKER",
    "PAPER_VARIANTS",
    "Exporter",
    "FormBundle",
    "Progress",
    "ScenarioBundle",
    "bank_words",
    "export",
    "exporter",
    "paper_format",
    "replace_refusal",
    "write_tree",
]
