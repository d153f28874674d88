"""Validation of a whole bank, cold or after a change (bank.validate, bank.facts, coverage):
per-file analysis for the files git does not vouch for (workers read their own files), the
bank-wide rules re-run only over what the changed files touch (checks/incremental.py), and the
near-duplicate pass; results kept in the SQLite cache (storage/factstore.py). An incremental
report equals a cold one exactly: the findings are ordered by file for the per-file ones, then
by rule and file for the bank-wide ones (check_bank_numbered), then the near-duplicates."""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from itembank.checks.bankrules import check_bank_numbered
from itembank.checks.coverage import Coverage, coverage_of, tally_of
from itembank.checks.currency import build_matcher
from itembank.checks.incremental import (
    changed_facts,
    is_global,
    is_local_path,
    keys_of,
)
from itembank.checks.validation import (
    Analysed,
    Progress,
    analyse_paths,
    cache_header,
    references_of,
)
from itembank.core.errors import ItembankError
from itembank.core.findings import Finding, Report
from itembank.storage import GitStore
from itembank.storage.factstore import FactStore, FileReader

Record = dict[str, Any]
Snapshot = tuple[list[str], dict[str, str]]
CACHE_FILE = "facts.cache"  # SQLite; ".cache" like the others (exports ignore them)


@dataclass
class Analysis:
    """Every file's own findings (only files that have some) and facts, and the bank-wide
    findings as (rule, path, seq, finding)."""

    files_checked: int
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    facts: dict[str, Any] | None = None  # every file's facts, when asked for
    bank: list[tuple[int, str, int, Finding]] = field(default_factory=list)
    live: list[str] = field(default_factory=list)
    tallies: list[tuple[Any, int]] = field(default_factory=list)  # coverage's, when asked for
    notes: list[str] = field(default_factory=list)

    def report(self, duplicates: list[Finding]) -> Report:
        own = [f for path in sorted(self.findings) for f in self.findings[path]]
        bank = [f for *_, f in sorted(self.bank, key=lambda r: (r[0], r[1], r[2]))]
        return Report(self.files_checked, own + bank + duplicates)


class Validation:
    """The validation of one bank's files through its store (the Bank composes it)."""

    def __init__(self, store: GitStore, load: Callable[[str], Record]) -> None:
        self.store = store
        self._load = load
        self.notes: list[str] = []  # e.g. that the cache was unreadable and rebuilt

    def _header(self) -> tuple[list[Record], str]:
        references = references_of(self.store.read_optional("references.json"))
        header = cache_header(build_matcher(references), self.store.record_limit())
        return references, repr(sorted(header.items()))

    def analyse(
        self,
        snapshot: Snapshot,
        progress: Progress | None = None,
        want_facts: bool = False,
        want_tallies: bool = False,
    ) -> Analysis:
        """Analyse what changed since the cached state, bring the bank-wide findings up to
        date for what it touches, and save the new state (unless another process did first)."""
        files, fingerprints = snapshot
        references, header = self._header()
        db = FactStore(self.store.state_dir / CACHE_FILE, header)
        try:
            with _collector_paused():
                return self._analyse(
                    db, files, fingerprints, references, progress, want_facts, want_tallies
                )
        finally:
            if db.note:
                self.notes.append(db.note)
            db.close()

    def _analyse(
        self,
        db: FactStore,
        files: list[str],
        fingerprints: dict[str, str],
        references: list[Record],
        progress: Progress | None,
        want_facts: bool,
        want_tallies: bool = False,
    ) -> Analysis:
        listed = set(files)
        with db.snapshot():
            stored = db.blobs()
            complete = db.has_bank_findings()
            own = dict(db.file_findings())
            bank_rows = db.bank_findings()
            live = db.live()
        todo = [p for p in files if p not in fingerprints or stored.get(p) != fingerprints[p]]
        removed = [p for p in stored if p not in listed]
        reader = FileReader(str(self.store.root), self.store.record_limit())

        deferred = self.store.deferred  # files whose hash the workers take (GitStore.vouch)

        def blob(path: str, result: Analysed) -> str | None:
            found = fingerprints.get(path)
            return found if found or deferred.get(path) != result[7] else result[7]

        def stage(batch: list[tuple[str, Analysed]]) -> None:  # the cache's rows, in advance
            db.stage([(p, blob(p, r), r[0], *r[2:7]) for p, r in batch])

        try:
            fresh: dict[str, Analysed] = analyse_paths(todo, reader, references, progress, stage)
        finally:
            reader.close()
        fingerprints.update(self.store.vouch({p: r[7] for p, r in fresh.items()}))
        old = {p: f for p, (_, f) in db.entries([*todo, *removed]).items()} if stored else {}
        new = {p: r[1] for p, r in fresh.items()}
        changed = changed_facts(old, new, removed)
        for path in removed:
            own.pop(path, None)
            live.pop(path, None)
        for path, (findings, _, _, is_live_, *_) in fresh.items():
            own.pop(path, None)
            if findings:
                own[path] = findings
            live.pop(path, None)
            if is_live_:
                live[path] = fingerprints.get(path)
        analysis = Analysis(len(files), {p: [Finding(*f) for f in fs] for p, fs in own.items()})
        analysis.live = sorted(live)
        everything = not complete or any(
            is_global(old.get(p)) or is_global(new.get(p)) for p in changed
        )
        all_facts: dict[str, Any] | None = None
        if everything or want_facts:
            all_facts = {p: f for p, f in db.all_facts().items() if p not in removed}
            all_facts.update({p: f for p, f in new.items() if f is not None})
            for path, facts in new.items():
                if facts is None:
                    all_facts.pop(path, None)
        kept: list[tuple[str, bool, int, int, list[Any]]]
        touched: set[str] | None
        if everything:
            assert all_facts is not None
            kept = _numbered(all_facts, None)
            touched = None
        elif changed:
            touched, context = self._neighbourhood(db, changed, old, new, removed)
            kept = _numbered(context, touched)
        else:
            kept, touched = [], set()
        if touched is None:
            bank_rows = []
        elif touched:
            bank_rows = [r for r in bank_rows if is_local_path(r[0]) and r[0] not in touched]
        analysis.bank = [(rule, p, seq, Finding(*f)) for p, rule, seq, f in bank_rows]
        analysis.bank += [(rule, p, seq, Finding(*f)) for p, _, rule, seq, f in kept]
        analysis.facts = all_facts
        saved = True
        if fresh or removed or not complete:
            saved = db.save([], removed, kept, touched)  # the files' rows were staged
        if want_tallies:
            if saved:  # the cache now holds exactly this run's view
                analysis.tallies = db.tallies()
                analysis.facts = db.global_facts()
            else:
                every = {p: f for p, f in db.all_facts().items() if p not in removed}
                every.update(new)
                analysis.tallies = list(
                    Counter(t for f in every.values() for t in tally_of(f)).items()
                )
                analysis.facts = {p: f for p, f in every.items() if is_global(f)}
        return analysis

    def _neighbourhood(
        self,
        db: FactStore,
        changed: set[str],
        old: dict[str, Any],
        new: dict[str, Any],
        removed: list[str],
    ) -> tuple[set[str], dict[str, Any]]:
        """The files a change touches, and the facts the rules need to re-check them."""
        gone = set(removed)
        keys = {k for p in changed for k in (*keys_of(old.get(p)), *keys_of(new.get(p)))}
        touched = (changed | db.paths_with_keys(keys)) - gone
        everywhere = db.global_paths()  # re-checked every time, with what they point at
        around = db.keys_of((touched | everywhere) - changed) | {
            k for p in changed for k in keys_of(new.get(p))
        }
        context_paths = (touched | everywhere | db.paths_with_keys(around)) - gone
        wanted = [p for p in context_paths if p not in new]
        context = {p: facts for p, (_, facts) in db.entries(wanted).items() if facts is not None}
        context.update({p: f for p, f in new.items() if f is not None and p in context_paths})
        return touched | changed, context

    def duplicates(self, live: list[str], blobs: dict[str, str]) -> list[Finding]:
        """Near-duplicates among live items that are not enemies (needs the items' texts);
        reused while no live item changed, e.g. after a review is saved."""
        if not live:  # nothing to compare (and the similarity module is not imported)
            return []
        from itembank.checks.similarity import duplicate_findings, duplicates_key

        key = duplicates_key(live, blobs)
        cached = self.store.read_cache("duplicates")
        if key is not None and cached and cached.get("key") == key:
            return [Finding(*f) for f in cached["findings"]]
        items = []
        for relpath in live:
            with contextlib.suppress(ItembankError):
                items.append(self._load(relpath))
        found = duplicate_findings(items)
        if key is not None:
            rows = [_row(f) for f in found]
            self.store.write_cache({"key": key, "findings": rows}, "duplicates")
        return found

    def item_text(self, snapshot: Snapshot) -> list[Finding]:
        """Learning points that share a run of words with live content (needs the texts);
        reused while no item, case, scenario or learning point changed. A bank without
        learning points pays nothing."""
        files, blobs = snapshot
        if not any(p.startswith("learning_points/") for p in files):
            return []
        from itembank.checks.learningrules import LIVE_KINDS, SHARED_WORDS, shared_item_text

        facts = self.facts(snapshot)
        kinds = {p: str(f["kind"]) for p, f in facts.items() if f.get("valid")}
        points = sorted(p for p, k in kinds.items() if k == "learning_point")
        if not points:
            return []
        live = sorted(p for p, k in kinds.items() if k in LIVE_KINDS)
        key: str | None = None
        if all(p in blobs for p in [*points, *live, "references.json"]):
            digest = hashlib.sha256(f"item-text {SHARED_WORDS}\n".encode())
            for relpath in [*points, *live, "references.json"]:  # its titles are names
                digest.update(f"{relpath}\0{blobs[relpath]}\n".encode())
            key = digest.hexdigest()
            cached = self.store.read_cache("itemtext")
            if cached and cached.get("key") == key:
                return [Finding(*f) for f in cached["findings"]]
        records: dict[str, Record] = {}
        for relpath in points + live:
            with contextlib.suppress(ItembankError):
                records[relpath] = self._load(relpath)
        found = shared_item_text(
            {p: records[p] for p in points if p in records},
            [(kinds[p], records[p]) for p in live if p in records],
            [str(r.get("title", "")) for r in self._header()[0]],
        )
        if key is not None:
            self.store.write_cache({"key": key, "findings": [_row(f) for f in found]}, "itemtext")
        return found

    def signature(self, files: list[str], fingerprints: dict[str, str]) -> str | None:
        """A hash of every file's committed blob and the analysis settings, or None if any file
        is modified or untracked (then it must be read)."""
        if not all(map(fingerprints.__contains__, files)):
            return None
        digest = hashlib.sha256(self._header()[1].encode())
        digest.update("".join([f"{p}\0{fingerprints[p]}\n" for p in files]).encode())
        return digest.hexdigest()

    def validate(self, snapshot: Snapshot, progress: Progress | None = None) -> Report:
        """Every finding of the files and the bank-wide rules (not the uncommitted-change
        warnings, which are never cached). When git vouches for every file and nothing changed
        since the last run, the previous report is returned without reading any file."""
        signature = self.signature(*snapshot)
        if signature is not None:
            cached = self.store.read_cache("report")
            if cached and cached.get("signature") == signature:
                return Report(cached["files_checked"], [Finding(*f) for f in cached["findings"]])
        with _collector_paused():
            analysis = self.analyse(snapshot, progress)
            report = analysis.report(
                self.duplicates(analysis.live, snapshot[1]) + self.item_text(snapshot)
            )
        if signature is None:  # a first run's workers may have hashed every file (vouch)
            signature = self.signature(*snapshot)
        if signature is not None:
            self.store.write_cache(
                {
                    "signature": signature,
                    "files_checked": report.files_checked,
                    "findings": [_row(f) for f in report.findings],
                },
                "report",
            )
        return report

    def facts(self, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
        """The facts of every readable record (what coverage and the review queue use)."""
        facts = self.analyse(snapshot, want_facts=True).facts or {}
        return {p: f for p, f in facts.items() if f is not None}

    def coverage(self, snapshot: Snapshot) -> Coverage:
        """Coverage from the cache's tally rows and the frameworks: after a change only the
        changed files are read; the counts are added up by SQLite, not from every item."""
        analysis = self.analyse(snapshot, want_tallies=True)
        facts = analysis.facts or {}
        frameworks = {
            f["file_id"]: f for f in facts.values() if f["kind"] == "framework" and f["valid"]
        }
        return coverage_of(analysis.tallies, frameworks)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a run builds its facts and rows: they hold no
    cycles (refcounting frees them), yet each collection walks every object made so far, which
    on a 50,000-file bank took more time than the rules themselves (the workers start with it
    running again, see checks/validation.py)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _row(f: Finding) -> tuple[str, str, str, str, str]:
    return (f.path, f.pointer, f.code, f.severity, f.message)


def _numbered(
    facts: dict[str, Any], touched: set[str] | None
) -> list[tuple[str, bool, int, int, list[Any]]]:
    """The bank-wide findings over these facts as cache rows (path, local, rule, seq, finding):
    all of them, or (touched given) those about touched files and the global ones."""
    out = []
    for seq, (rule, f) in enumerate(check_bank_numbered(facts)):
        local = is_local_path(f.path)
        if touched is None or not local or f.path in touched:
            out.append((f.path, local, rule, seq, list(_row(f))))
    return out
