"""Validation of a whole bank: per-file analysis (reused from a cache for files git says are
unchanged, run in parallel for the rest) followed by the bank-wide rules."""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from itembank.checks.analysis import Facts, FileResult, analyse_file, unreadable_file
from itembank.checks.bankrules import check_bank
from itembank.checks.coverage import Tally, tally_of
from itembank.checks.currency import TermMatcher, build_matcher
from itembank.checks.incremental import is_global, is_live, keys_of
from itembank.core.canonical import git_blob_sha
from itembank.core.findings import Finding, Report
from itembank.core.parsing import parse_record
from itembank.core.schemas import schema_fingerprint

#: Bump when analysis changes, so old caches are ignored.
ANALYSIS_VERSION = "8"  # 5: ranges, adoptions; 6: learning points; 7: releases; 8: ordered
PARALLEL_THRESHOLD = 2000
Progress = Callable[[int, int], None]


def references_of(data: bytes | None) -> list[dict[str, Any]]:
    """The entries of references.json, or [] if it is missing or unusable (a finding says so)."""
    if data is None:
        return []
    record, _ = parse_record("references.json", data)
    if isinstance(record, dict) and isinstance(record.get("references"), list):
        return [r for r in record["references"] if isinstance(r, dict)]
    return []


def cache_header(matcher: TermMatcher, max_record_bytes: int) -> dict[str, str]:
    """What cached results depend on besides the file itself (a file's `too-large` finding
    depends on the bank's size limit)."""
    return {
        "analysis": ANALYSIS_VERSION,
        "schemas": schema_fingerprint(),
        "terms": matcher.fingerprint,
        "python": sys.version.split()[0],
        "max_record_bytes": str(max_record_bytes),
    }


_worker_matcher: TermMatcher | None = None


def _init_worker(references: list[dict[str, Any]]) -> None:
    global _worker_matcher
    _worker_matcher = build_matcher(references)


def _analyse_chunk(chunk: list[tuple[str, bytes]]) -> list[tuple[str, FileResult]]:
    assert _worker_matcher is not None
    return [(path, analyse_file(path, data, _worker_matcher)) for path, data in chunk]


def analyse_many(
    files: Sequence[tuple[str, bytes]],
    references: list[dict[str, Any]],
    progress: Progress | None = None,
) -> dict[str, FileResult]:
    """Analyse many files, on every core when there are enough to be worth it."""
    matcher = build_matcher(references)
    total = len(files)
    workers = min(os.cpu_count() or 1, 8)
    if total < PARALLEL_THRESHOLD or workers < 2:
        out = {}
        for done, (path, data) in enumerate(files, 1):
            out[path] = analyse_file(path, data, matcher)
            if progress and done % 500 == 0:
                progress(done, total)
        return out
    size = max(200, total // (workers * 8))
    chunks = [list(files[i : i + size]) for i in range(0, total, size)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    out = {}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(references,)
    ) as pool:
        for results in pool.map(_analyse_chunk, chunks):
            out.update(results)
            if progress:
                progress(len(out), total)
    return out


Reader = Callable[[str], "bytes | tuple[str, str]"]
_worker_reader: Reader | None = None


def _init_reader(references: list[dict[str, Any]], reader: Reader) -> None:
    global _worker_matcher, _worker_reader
    # A forked worker inherits the parent's objects (and its paused collector): they are set
    # aside from collection, and the worker's own garbage is collected as usual.
    gc.freeze()
    gc.enable()
    _worker_matcher = build_matcher(references)
    _worker_reader = reader


FindingRow = tuple[str, str, str, str, str]
#: One file's analysis as the cache keeps it: its findings as rows, its facts (and marshalled,
#: as the cache stores them), whether it is live and global, its keys and its coverage tally
#: rows (see checks/incremental.py). Workers send this, not a FileResult, so the cache's
#: columns are worked out in parallel rather than by the parent once the workers are done.
#: Last, the git blob sha of the bytes read (None if not read), for GitStore.vouch.
Analysed = tuple[
    list[FindingRow], Facts | None, bytes | None, bool, bool, list[str], list[Tally], str | None
]


def _read_and_analyse(path: str, reader: Reader, matcher: TermMatcher) -> Analysed:
    data = reader(path)
    blob = None
    if isinstance(data, tuple):  # not read: (code, advice)
        result = unreadable_file(path, *data)
    else:
        result = analyse_file(path, data, matcher)
        blob = git_blob_sha(data)
    facts = result.facts
    return (
        [(f.path, f.pointer, f.code, f.severity, f.message) for f in result.findings],
        facts,
        None if facts is None else marshal.dumps(facts),
        is_live(facts),
        is_global(facts),
        keys_of(facts),
        tally_of(facts),
        blob,
    )


def _analyse_paths_chunk(chunk: list[str]) -> bytes:
    """A chunk's results, marshalled: plain values only, and marshal reads and writes them
    several times faster than pickle (the parent unpacks 50,000 of them on its own)."""
    assert _worker_matcher is not None and _worker_reader is not None
    gc.disable()  # the chunk's results pile up until sent: collections would walk them all
    try:
        return marshal.dumps(
            [(p, _read_and_analyse(p, _worker_reader, _worker_matcher)) for p in chunk]
        )
    finally:
        gc.enable()


def analyse_paths(
    paths: Sequence[str],
    reader: Reader,
    references: list[dict[str, Any]],
    progress: Progress | None = None,
    arrived: Callable[[list[tuple[str, Analysed]]], None] | None = None,
) -> dict[str, Analysed]:
    """Read and analyse many files: the workers read their own files (`reader` gives a file's
    bytes, or the finding code and advice saying why it was not read), so the parent neither
    reads nor ships the bytes. `arrived` is given each batch of results as it comes in (the
    parent's work on it overlaps the workers' on the next)."""
    total = len(paths)
    workers = min(os.cpu_count() or 1, 8)
    if total < PARALLEL_THRESHOLD or workers < 2:
        matcher = build_matcher(references)
        out = {}
        for done, path in enumerate(paths, 1):
            out[path] = _read_and_analyse(path, reader, matcher)
            if progress and done % 500 == 0:
                progress(done, total)
        if arrived:
            arrived(list(out.items()))
        return out
    size = max(200, total // (workers * 16))  # small chunks: the last one keeps one worker alone
    chunks = [list(paths[i : i + size]) for i in range(0, total, size)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    out = {}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_reader, initargs=(references, reader)
    ) as pool:
        for results in pool.map(_analyse_paths_chunk, chunks):
            batch = marshal.loads(results)
            out.update(batch)
            if arrived:
                arrived(batch)
            if progress:
                progress(len(out), total)
    return out


def to_cache(blob: str, result: FileResult) -> tuple[str, list[Any], Any]:
    return (
        blob,
        [(f.path, f.pointer, f.code, f.severity, f.message) for f in result.findings],
        result.facts,
    )


def report_from(results: Mapping[str, FileResult], files_checked: int) -> Report:
    """Combine per-file findings with the bank-wide rules."""
    facts = {path: r.facts for path, r in results.items()}
    groups: list[list[Finding]] = [r.findings for r in results.values()]
    groups.append(check_bank(facts))
    return Report.merge(files_checked, groups)
