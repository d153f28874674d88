"""The bank's files are what git records: links, folders named like records, FIFOs, sockets and
devices are findings and are never followed or read; an oversized file is found without reading
it; JSON is strict; and the validation cache never vouches for bytes it did not check.

Non-regular files cannot be committed as test data, so they are made here, at test time, in a
real temporary repository. Anything that could hang if a FIFO were opened runs in a subprocess
with a bound, so the test finishes either way."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError

from .conftest import TESTER, git

T3 = "items/TS-0003.json"
NOT_REGULAR = "not-a-regular-file"


def findings(bank: Bank) -> list[tuple[str, str, str, str]]:
    return sorted((f.path, f.pointer, f.code, f.severity) for f in bank.validate().findings)


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter, bounded, so a read that blocked would fail the test
    instead of hanging it."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def item_like(bank: Path, ident: str) -> bytes:
    record = json.loads((bank / T3).read_text())
    record["id"] = ident
    return json.dumps(record, indent=2, sort_keys=True).encode() + b"\n"


def test_links_folders_fifos_and_sockets_are_findings_never_read(
    valid_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_bytes(item_like(valid_bank, "TS-0005"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "TS-0010.json").write_bytes(item_like(valid_bank, "TS-0010"))
    items = valid_bank / "items"
    (items / "TS-0005.json").symlink_to(outside)  # a link out of the bank
    (items / "TS-0006.json").symlink_to("TS-0003.json")  # a link within it
    (items / "TS-0007.json").symlink_to("/dev/zero")  # endless bytes
    os.mkfifo(items / "TS-0008.json")  # opening it for reading would wait for a writer
    (items / "GK-0960.json").mkdir()  # a folder named like a record ...
    (items / "GK-0960.json" / "TS-0011.json").write_bytes(item_like(valid_bank, "TS-0011"))
    (valid_bank / "more").symlink_to(elsewhere, target_is_directory=True)  # a linked folder
    monkeypatch.chdir(valid_bank / "stimuli")  # a socket's path must be short
    server = socket.socket(socket.AF_UNIX)
    server.bind("notes.sock")  # a socket, with no .json in its name
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("itembank")), "validate", "--bank", str(valid_bank),
             "--format", "json"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    got = sorted((f["path"], f["pointer"], f["code"]) for f in report["errors"])
    assert got == [
        ("items/GK-0960.json", "", NOT_REGULAR),
        ("items/TS-0005.json", "", NOT_REGULAR),
        ("items/TS-0006.json", "", NOT_REGULAR),
        ("items/TS-0007.json", "", NOT_REGULAR),
        ("items/TS-0008.json", "", NOT_REGULAR),
        ("more", "", NOT_REGULAR),
        ("stimuli/notes.sock", "", NOT_REGULAR),
    ]
    assert report["warnings"] == []
    assert report["files_checked"] == 14 + 7
    messages = {f["path"]: f["message"] for f in report["errors"]}
    assert f"symbolic link (to {str(outside)!r})" in messages["items/TS-0005.json"]
    assert "symbolic link (to '/dev/zero')" in messages["items/TS-0007.json"]
    assert "named pipe (FIFO)" in messages["items/TS-0008.json"]
    assert "It is a folder, not a regular file" in messages["items/GK-0960.json"]
    assert "It is a socket" in messages["stimuli/notes.sock"]


def test_the_service_refuses_to_read_or_save_over_what_is_not_a_file(
    valid_bank: Path, tmp_path: Path
) -> None:
    items = valid_bank / "items"
    (items / "TS-0007.json").symlink_to("/dev/zero")
    (items / "GK-0960.json").mkdir()
    os.mkfifo(items / "TS-0008.json")
    head = git(valid_bank, "rev-parse", "HEAD")
    bank = open_bank(valid_bank)
    with pytest.raises(ItembankError) as zero:
        bank.get("TS-0007")
    assert str(zero.value).startswith("items/TS-0007.json was not read. It is a symbolic link")
    with pytest.raises(ItembankError) as folder:
        bank.get("GK-0960")
    assert str(folder.value).startswith("items/GK-0960.json was not read. It is a folder")
    record = bank.get("TS-0003")
    record["id"] = "GK-0960"
    with pytest.raises(ItembankError) as saving:
        bank.save(record, TESTER)
    assert not isinstance(saving.value, OSError)
    assert str(saving.value).startswith("items/GK-0960.json was not read. It is a folder")
    assert (items / "GK-0960.json").is_dir()
    assert git(valid_bank, "rev-parse", "HEAD") == head
    # the FIFO, in a bounded subprocess: opening it the ordinary way would block for ever
    done = run_python(
        "import sys\n"
        "from itembank import open_bank\n"
        "from itembank.core.errors import ItembankError\n"
        "try:\n"
        "    open_bank(sys.argv[1]).get('TS-0008')\n"
        "except ItembankError as exc:\n"
        "    print(exc)\n",
        str(valid_bank),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("items/TS-0008.json was not read. It is a named pipe (FIFO)")


def test_a_committed_link_is_never_vouched_for_by_the_cache(
    valid_bank: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_bytes(item_like(valid_bank, "TS-0005"))
    (valid_bank / "items" / "TS-0005.json").symlink_to(outside)
    git(valid_bank, "add", "-A")
    git(valid_bank, "commit", "-q", "-m", "a linked item")
    want = [("items/TS-0005.json", "", NOT_REGULAR, "error")]
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0  # let the cache vouch for everything git does
    assert findings(bank) == want
    outside.write_bytes(b"{}")  # the target changes; git's record of the link does not
    assert findings(bank) == want
    assert findings(open_bank(valid_bank)) == want


def test_a_link_in_place_of_a_folder_is_not_followed(valid_bank: Path, tmp_path: Path) -> None:
    moved = tmp_path / "stimuli"
    (valid_bank / "stimuli").rename(moved)
    (valid_bank / "stimuli").symlink_to(moved, target_is_directory=True)
    bank = open_bank(valid_bank)
    with pytest.raises(ItembankError) as linked:
        bank.get("CS-0001")
    assert str(linked.value).startswith("stimuli was not read. It is a symbolic link")
    got = findings(bank)
    assert ("stimuli", "", NOT_REGULAR, "error") in got
    # the items that name the case now name one the bank does not have
    assert [g for g in got if g[0] != "stimuli"] == [
        ("items/TS-0004.json", "/stimulus", "unknown-stimulus", "error")
    ]


def test_a_huge_file_is_too_large_and_never_read(valid_bank: Path) -> None:
    huge = valid_bank / "items" / "TS-0009.json"
    with open(huge, "wb") as handle:
        handle.truncate(1 << 40)  # 1 TiB, sparse: reading it whole would fail or never end
    bank = open_bank(valid_bank)
    report = bank.validate()
    assert [(f.path, f.pointer, f.code, f.severity) for f in report.findings] == [
        ("items/TS-0009.json", "", "too-large", "error"),
        ("items/TS-0009.json", "", "uncommitted-change", "warning"),  # never committed
    ]
    assert (
        "1,099,511,627,776 bytes, over the bank's limit of 1,048,576" in report.findings[0].message
    )
    with pytest.raises(ItembankError) as reading:
        bank.get("TS-0009")
    assert "items/TS-0009.json was not read. The file is 1,099,511,627,776 bytes" in str(
        reading.value
    )


def test_the_size_limit_is_set_in_bank_json_and_the_cache_follows_it(valid_bank: Path) -> None:
    limit = 1 << 20
    padded = item_like(valid_bank, "TS-0003")
    (valid_bank / T3).write_bytes(padded + b" " * (limit + 1 - len(padded)))
    git(valid_bank, "commit", "-q", "-am", "one byte over the default limit")
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0  # let the cache vouch for everything git does
    assert findings(bank) == [(T3, "", "too-large", "error")]
    settings = json.loads((valid_bank / "bank.json").read_text())
    settings["max_record_bytes"] = limit + 1
    (valid_bank / "bank.json").write_text(json.dumps(settings, indent=2))
    edited = ("bank.json", "", "uncommitted-change", "warning")
    assert findings(bank) == [edited]  # within the raised limit: read, checked and cached clean
    settings["max_record_bytes"] = 12
    (valid_bank / "bank.json").write_text(json.dumps(settings, indent=2))
    assert findings(bank) == [
        edited,
        ("bank.json", "/max_record_bytes", "out-of-range", "error"),
        # an unusable setting leaves the default, and the clean verdict cached under the
        # higher limit is not reused
        (T3, "", "too-large", "error"),
    ]


@pytest.mark.parametrize(
    "setup",
    [
        [],
        ["config", "core.trustctime", "false"],
        ["config", "core.checkStat", "minimal"],
        ["update-index", "--assume-unchanged", T3],
        ["update-index", "--skip-worktree", T3],
    ],
    ids=["default", "trustctime-false", "checkstat-minimal", "assume-unchanged", "skip-worktree"],
)
def test_the_cache_never_vouches_for_changed_bytes_with_the_old_stat(
    valid_bank: Path, setup: list[str]
) -> None:
    """Git compares stat at one-second resolution (so a same-second rewrite with its mtime put
    back looks clean to `git status`), and these settings loosen it further."""
    target = valid_bank / T3
    hour_ago = target.stat().st_mtime_ns - 3600 * 10**9
    os.utime(target, ns=(hour_ago, hour_ago))  # not "racily clean" for git: it trusts its stat
    if setup:
        git(valid_bank, *setup)
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0  # remember every hash: only the full stat protects the cache
    assert findings(bank) == []
    assert T3 in bank.store.fingerprints()
    before = target.stat()
    data = target.read_bytes()
    changed = data.replace(b'"status": "draft"', b'"status": "drafx"')
    assert len(changed) == len(data) and changed != data
    target.write_bytes(changed)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (before.st_size, hour_ago)
    fresh = open_bank(valid_bank)
    fresh.store.racy_seconds = 0
    got = findings(fresh)
    # the changed bytes are always read and checked; whether git ALSO calls the file modified
    # (the 'uncommitted-change' warning) depends on whether the rewrite fell in the same second
    # as git's last look (its ctime check is to the second): either answer is git's to give
    assert (T3, "/status", "not-allowed-value", "error") in got
    assert set(got) <= {
        (T3, "/status", "not-allowed-value", "error"),
        (T3, "", "uncommitted-change", "warning"),
    }
    assert T3 not in fresh.store.fingerprints()


def test_a_hash_taken_within_the_racy_window_is_not_remembered(valid_bank: Path) -> None:
    """A file changed in the same clock tick as it was hashed could keep its stat: like git's
    "racily clean" entries, its hash is not reused; it is hashed again next time."""
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 3600  # everything here changed within the window
    assert T3 in bank.store.fingerprints()
    assert bank.store.read_cache("stat") is None  # so no hash was remembered
    bank.store.racy_seconds = 0
    assert T3 in bank.store.fingerprints()
    assert remembered(bank, T3)


def remembered(bank: Bank, relpath: str) -> bool:
    """Whether the stat cache holds a hash of this file against its stat."""
    cache = bank.store.read_cache("stat") or {}
    if relpath not in cache.get("paths", []):
        return False
    width = len(cache["keys"]) // len(cache["paths"])
    at = cache["paths"].index(relpath) * width
    return bool(cache["keys"][at : at + width].strip(b"\xff")) and bool(
        cache["blobs"][cache["paths"].index(relpath)]
    )


@pytest.mark.parametrize("racy_seconds", [0, 3600], ids=["remembered", "not-remembered"])
def test_a_file_replaced_by_a_link_to_the_same_bytes_is_never_vouched_for(
    valid_bank: Path, tmp_path: Path, racy_seconds: int
) -> None:
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0
    assert T3 in bank.store.fingerprints()  # every hash remembered: the cache exists
    (valid_bank / T3).write_bytes((valid_bank / T3).read_bytes())  # same bytes, new stat
    bank.store.racy_seconds = racy_seconds
    assert T3 in bank.store.fingerprints()
    assert remembered(bank, T3) == (racy_seconds == 0)
    copy = tmp_path / "same.json"
    copy.write_bytes((valid_bank / T3).read_bytes())
    (valid_bank / T3).unlink()
    (valid_bank / T3).symlink_to(copy)  # git's index still records the same blob, a file
    assert T3 not in bank.store.fingerprints()
    assert not remembered(bank, T3)
    assert (T3, "", NOT_REGULAR, "error") in findings(open_bank(valid_bank))


def test_the_stat_cache_follows_files_added_removed_and_renamed(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0
    before = bank.store.fingerprints()
    assert T3 in before
    renamed = "items/TS-0099.json"
    git(valid_bank, "mv", T3, renamed)
    git(valid_bank, "commit", "-q", "-m", "renamed")
    after = bank.store.fingerprints()
    assert T3 not in after and renamed in after
    assert after[renamed] == before[T3]  # the same bytes: the same blob
    assert set(after) - {renamed} == set(before) - {T3}
    assert remembered(bank, renamed) and not remembered(bank, T3)
    (valid_bank / renamed).write_bytes((valid_bank / renamed).read_bytes() + b"\n")
    assert renamed not in bank.store.fingerprints()  # no longer what the index records


def test_duplicate_keys_and_nan_cannot_be_loaded(valid_bank: Path) -> None:
    text = (valid_bank / T3).read_text()
    (valid_bank / T3).write_text(
        text.replace('"text": "False"', '"text": "True", "text": "False"').replace(
            '"difficulty_estimate": 0.6', '"difficulty_estimate": NaN'
        )
    )
    bank = open_bank(valid_bank)
    assert findings(bank) == [
        (T3, "", "uncommitted-change", "warning"),
        (T3, "/difficulty_estimate", "not-a-json-number", "error"),
        (T3, "/options/1/text", "duplicate-key", "error"),
    ]
    with pytest.raises(ItembankError) as loading:
        bank.get("TS-0003")
    assert str(loading.value).startswith(
        "items/TS-0003.json cannot be read: /difficulty_estimate: NaN is not a JSON number"
    )
    assert "/options/1/text: The key 'text' appears more than once" in str(loading.value)
    assert "TS-0003" not in {i["id"] for i in bank.items()}  # never used, e.g. by assembly


@pytest.mark.parametrize(
    ("field", "value"),
    [("difficulty_estimate", math.nan), ("difficulty_estimate", -math.inf)],
)
def test_a_record_holding_nan_is_refused_by_save_and_not_written(
    valid_bank: Path, field: str, value: float
) -> None:
    bank = open_bank(valid_bank)
    record = bank.get("TS-0003")
    record[field] = value
    record["scoring"]["max_score"] = math.inf
    before = (valid_bank / T3).read_bytes()
    head = git(valid_bank, "rev-parse", "HEAD")
    with pytest.raises(ValidationFailedError) as refused:
        bank.save(record, TESTER)
    got = [(f.path, f.pointer, f.code, f.severity) for f in refused.value.findings]
    assert got == [
        (T3, "/difficulty_estimate", "not-a-json-number", "error"),
        (T3, "/scoring/max_score", "not-a-json-number", "error"),
    ]
    assert str(refused.value).startswith(f"{T3} was not saved:")
    assert (valid_bank / T3).read_bytes() == before
    assert git(valid_bank, "rev-parse", "HEAD") == head
    assert git(valid_bank, "status", "--porcelain") == ""


def test_a_first_run_lets_the_workers_hash_and_vouches_only_for_what_git_records(
    valid_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no stat cache, validation reads every file anyway: fingerprints leaves the hashing
    to the analysis, which vouches only for bytes equal to git's index."""
    target = valid_bank / T3
    target.write_bytes(target.read_bytes().replace(b'"status": "draft"', b'"status": "drafx"'))

    def no_hashing_here(data: bytes) -> str:
        raise AssertionError("the first run hashed a file before the analysis")

    monkeypatch.setattr("itembank.storage.repo.git_blob_sha", no_hashing_here)
    bank = open_bank(valid_bank)
    bank.store.racy_seconds = 0
    got = findings(bank)
    assert (T3, "/status", "not-allowed-value", "error") in got
    assert (T3, "", "uncommitted-change", "warning") in got
    monkeypatch.undo()
    committed = git(valid_bank, "ls-files").split()
    fingerprints = bank.store.fingerprints()  # from the hashes the analysis remembered
    assert set(fingerprints) == {p.removeprefix("bank/") for p in committed} - {T3}
    assert all(remembered(bank, p) for p in [*fingerprints, T3])  # T3: its own bytes' hash
    assert findings(open_bank(valid_bank)) == got
    # a clean first run is vouched for whole, so its report is kept for the next run
    git(valid_bank, "checkout", "--", T3)
    shutil.rmtree(bank.store.state_dir)
    monkeypatch.setattr("itembank.storage.repo.git_blob_sha", no_hashing_here)
    assert findings(open_bank(valid_bank)) == []
    assert open_bank(valid_bank).store.read_cache("report") is not None
