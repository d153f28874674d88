"""Incremental validation (validating.py, storage/factstore.py): after any sequence of edits the
report of a run that reuses the cache equals, exactly, the report of a cold run with no cache;
a damaged or foreign cache is set aside with a note and rebuilt; two processes validating at
once leave a cache that still gives the cold report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itembank import open_bank
from itembank.core.canonical import dumps
from itembank.core.findings import Report
from itembank.storage.factstore import FORMAT, FactStore

from .conftest import VALID_BANK, git, make_repo

CACHES = ("facts.cache", "facts.cache-journal")
CACHES += ("report.cache", "duplicates.cache")


def state_dir(bank: Path) -> Path:
    return open_bank(bank).store.state_dir


def cold(bank: Path, what: str = "validate") -> Any:
    """The report (or coverage) of a run with no validation cache (the cache is put back
    afterwards)."""
    state = state_dir(bank)
    aside = state.parent / "itembank-aside"
    aside.mkdir(exist_ok=True)
    for name in CACHES:
        if (state / name).exists():
            shutil.move(state / name, aside / name)
    try:
        fresh = open_bank(bank)
        report = fresh.validate() if what == "validate" else fresh.coverage().to_dict()
    finally:
        for name in CACHES:
            (state / name).unlink(missing_ok=True)
            if (aside / name).exists():
                shutil.move(aside / name, state / name)
    return report


def warm(bank: Path) -> Report:
    return open_bank(bank).validate()


def read(bank: Path, rel: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bank / rel).read_text())
    return data


def write(bank: Path, rel: str, record: dict[str, Any]) -> None:
    (bank / rel).parent.mkdir(parents=True, exist_ok=True)
    (bank / rel).write_text(dumps(record))


ITEMS = ["TS-0001", "TS-0002", "TS-0003", "TS-0004"]


def edit(bank: Path, op: str, n: int) -> None:
    """One edit of the kinds an incremental run must follow (n picks the item and values)."""
    items = sorted(p.stem for p in (bank / "items").glob("*.json"))
    if not items:
        shutil.copy(VALID_BANK / "items/TS-0003.json", bank / "items/TS-0003.json")
        return
    ident = items[n % len(items)]
    rel = f"items/{ident}.json"
    record = read(bank, rel)
    if op == "stem":
        record["stem"] = f"{record['stem']} Revised {n}."
    elif op == "status":
        record["status"] = ["draft", "in_review", "approved", "retired"][n % 4]
    elif op == "delete":
        (bank / rel).unlink()
        return
    elif op == "rename":  # a new file name: the id no longer matches it
        (bank / rel).unlink()
        rel = f"items/TS-{9000 + n % 7:04d}.json"
    elif op == "duplicate-id":  # another item's id: duplicate and mismatch
        record["id"] = items[(n + 1) % len(items)]
    elif op == "fix-id":
        record["id"] = ident
    elif op == "break-link":
        record["enemies"] = ["TS-0999"] if n % 2 else [items[(n + 2) % len(items)]]
    elif op == "repair-link":
        record["enemies"] = []
    elif op == "stimulus":
        record["stimulus"] = "CS-0001" if n % 2 else "CS-0404"
    elif op == "plant-duplicate":  # a copy under a new id, live: a near-duplicate
        record["id"] = f"TS-{8000 + n % 5:04d}"
        record["status"] = "in_review"
        record["enemies"] = []
        record.pop("stimulus", None)
        rel = f"items/{record['id']}.json"
    elif op == "review":
        reviews = sorted((bank / "reviews").rglob("*.json"))
        if reviews:
            review = reviews[n % len(reviews)]
            data = json.loads(review.read_text())
            data["decision"] = ["approve", "request_changes", "reject"][n % 3]
            review.write_text(dumps(data))
        return
    elif op == "settings":  # a global file: every rule runs again
        settings_ = read(bank, "bank.json")
        settings_["roles"] = (
            settings_["roles"][:1] if n % 2 else read(VALID_BANK, "bank.json")["roles"]
        )
        write(bank, "bank.json", settings_)
        return
    write(bank, rel, record)


OPS = [
    "stem",
    "status",
    "delete",
    "rename",
    "duplicate-id",
    "fix-id",
    "break-link",
    "repair-link",
    "stimulus",
    "plant-duplicate",
    "review",
    "settings",
    "commit",
]


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 1000)), min_size=1, max_size=6))
def test_incremental_report_equals_cold_after_any_edits(
    tmp_path_factory: Any, steps: list[tuple[str, int]]
) -> None:
    bank = make_repo(tmp_path_factory.mktemp("incr"), VALID_BANK)
    assert warm(bank) == cold(bank)
    for op, n in steps:
        if op == "commit":
            git(bank.parent, "add", "-A")
            git(bank.parent, "commit", "-q", "--allow-empty", "-m", f"step {n}")
        else:
            edit(bank, op, n)
        got, want = warm(bank), cold(bank)
        assert got.files_checked == want.files_checked
        assert got.findings == want.findings, (op, n)
        assert open_bank(bank).coverage().to_dict() == cold(bank, "coverage"), (op, n)


def test_each_kind_of_change_is_followed(valid_bank: Path) -> None:
    """The named cases, one after another, each checked against a cold run."""
    assert warm(valid_bank).findings == []
    steps = [
        ("duplicate-id", 0, "duplicate-id"),  # TS-0001 takes TS-0002's id
        ("fix-id", 0, None),
        ("break-link", 1, "unknown-enemy"),  # TS-0002 names the enemy TS-0999, which is absent
        ("repair-link", 1, None),
        ("plant-duplicate", 0, "near-duplicate"),  # a live copy of TS-0001
        ("delete", 3, None),
        ("rename", 0, "id-mismatch"),
    ]
    for op, n, code in steps:
        edit(valid_bank, op, n)
        got = warm(valid_bank)
        assert got == cold(valid_bank), op
        assert open_bank(valid_bank).coverage().to_dict() == cold(valid_bank, "coverage"), op
        if code is not None:
            assert code in {f.code for f in got.findings}, op


def test_a_damaged_cache_is_rebuilt_with_a_note(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    edit(valid_bank, "break-link", 1)
    want = bank.validate()
    cache = bank.store.state_dir / "facts.cache"
    (bank.store.state_dir / "report.cache").unlink(missing_ok=True)
    for suffix in ("-journal",):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    cache.write_bytes(b"this is not a database at all" * 100)
    again = open_bank(valid_bank)
    assert again.validate() == want
    assert len(again.validation.notes) == 1
    assert "could not be read" in again.validation.notes[0]
    assert open_bank(valid_bank).validate() == want  # and it was rebuilt: no note now
    third = open_bank(valid_bank)
    third.validate()
    assert third.validation.notes == []


def test_a_cache_of_another_version_is_rebuilt_with_a_note(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    edit(valid_bank, "stem", 0)  # uncommitted: no report cache is kept
    want = bank.validate()
    cache = bank.store.state_dir / "facts.cache"
    db = FactStore(cache, "whatever header")  # as another version would open it
    db.db.execute("UPDATE meta SET value = 'old' WHERE name = 'format'")
    db.close()
    assert FORMAT != "old"
    again = open_bank(valid_bank)
    assert again.validate() == want
    assert len(again.validation.notes) == 1
    assert "another version" in again.validation.notes[0]


def test_a_write_killed_half_way_leaves_the_previous_state(valid_bank: Path) -> None:
    """A process killed (SIGKILL) inside the cache's write transaction: the next run reads
    the state before it and still reports exactly what a cold run does."""
    bank = open_bank(valid_bank)
    bank.validate()
    edit(valid_bank, "break-link", 1)
    script = (
        "import os, signal, sys\n"
        "from itembank import open_bank\n"
        "from itembank.storage import factstore\n"
        "def dying(self, *args):\n"  # the files' rows are written, the bank's not yet
        "    print('inside', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "factstore.FactStore.replace_bank_findings = dying\n"
        f"open_bank({str(valid_bank)!r}).validate()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -9 and done.stdout == "inside\n", done.stderr
    assert warm(valid_bank) == cold(valid_bank)
    assert "unknown-enemy" in {f.code for f in warm(valid_bank).findings}


def test_two_processes_validating_at_once(valid_bank: Path) -> None:
    """Two real processes validate while the bank changes between their runs; afterwards the
    cache still gives exactly the cold report."""
    script = (
        "import sys\nfrom itembank import open_bank\n"
        "for _ in range(int(sys.argv[2])):\n"
        "    open_bank(sys.argv[1]).validate()\n"
        "print('ok')\n"
    )
    for round_ in range(3):
        edit(valid_bank, ["break-link", "plant-duplicate", "duplicate-id"][round_], round_)
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(valid_bank), "3"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for run in runs:
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0 and out == "ok\n", err
        assert warm(valid_bank) == cold(valid_bank)
