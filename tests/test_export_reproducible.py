"""The same form exports to the same bytes in any process at any time: two runs of the installed
`itembank export`, with different PYTHONHASHSEED and one with its clock moved 23 years ahead
(a sitecustomize.py that shifts time.time, time.time_ns, time.localtime, time.gmtime,
time.strftime and datetime's now/utcnow/today), compared file by file by sha256."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from itembank import open_bank

from .conftest import SAMPLE_BANK, TESTER, make_repo

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")
BLUEPRINT = "practitioner-knowledge-live"
SHIFT_YEARS = 23

SITECUSTOMIZE = f'''
"""Moves this process's clock {SHIFT_YEARS} years ahead (loaded because its folder is on PYTHONPATH)."""
import datetime as _dt
import time as _time

SHIFT = {SHIFT_YEARS} * 365.25 * 86400
_time_, _time_ns, _localtime, _gmtime, _strftime = (
    _time.time, _time.time_ns, _time.localtime, _time.gmtime, _time.strftime)
_time.time = lambda: _time_() + SHIFT
_time.time_ns = lambda: _time_ns() + int(SHIFT * 1e9)
_time.localtime = lambda secs=None: _localtime(_time.time() if secs is None else secs)
_time.gmtime = lambda secs=None: _gmtime(_time.time() if secs is None else secs)
_time.strftime = lambda fmt, t=None: _strftime(fmt, _time.localtime() if t is None else t)


class _Shifted(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.fromtimestamp(_time.time(), tz)

    @classmethod
    def utcnow(cls):
        return _dt.datetime.fromtimestamp(_time.time(), _dt.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls):
        return cls.now()


class _ShiftedDate(_dt.date):
    @classmethod
    def today(cls):
        return _dt.date.fromtimestamp(_time.time())


_dt.datetime = _Shifted
_dt.date = _ShiftedDate
'''


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    bank = make_repo(tmp_path_factory.mktemp("repro"), SAMPLE_BANK, "item_bank")
    return bank, open_bank(bank).forms.assemble(BLUEPRINT, 1, 11, author=TESTER).manifests[0]["id"]


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a process whose clock runs SHIFT_YEARS ahead, hash seed 2."""
    folder = tmp_path_factory.mktemp("clock")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "2"}


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_shifted_clock_is_really_shifted(shifted: dict[str, str]) -> None:
    probe = (
        "import datetime, time; print(datetime.datetime.now().year, "
        "datetime.datetime.now(datetime.timezone.utc).year, time.localtime().tm_year, "
        "time.gmtime().tm_year, time.strftime('%Y'), datetime.date.today().year, "
        "datetime.datetime.fromtimestamp(time.time_ns() / 1e9, datetime.timezone.utc).year)"
    )
    python = Path(sys.executable)
    here = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "1"})
    there = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, env=shifted)
    now = time.time()
    assert [int(y) for y in here.stdout.split()] == [time.gmtime(now).tm_year] * 7
    shift = SHIFT_YEARS * 365.25 * 86400
    assert [int(y) for y in there.stdout.split()] == [time.gmtime(now + shift).tm_year] * 7


@pytest.mark.parametrize("fmt", ["qti21", "qti30", "html", "pdf"])
def test_exports_are_byte_identical_across_processes_and_clocks(form: tuple[Path, str], shifted: dict[str, str], tmp_path: Path, fmt: str) -> None:
    assert EXE, "the itembank console script is not installed"
    if fmt == "pdf" and not Path("/usr/bin/chromium").is_file():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    bank, form_id = form
    outputs = []
    for name, env in (("a", {**os.environ, "PYTHONHASHSEED": "1"}), ("b", shifted)):
        out = tmp_path / name
        done = subprocess.run(
            [EXE, "export", form_id, "--format", fmt, "--out", str(out), "--bank", str(bank)],
            capture_output=True, text=True, timeout=300, env=env, check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(digests(out))
    assert len(outputs[0]) >= 2  # the export itself and itembank's marker
    assert outputs[0] == outputs[1]


def test_chromium_node_numbers_are_made_steady() -> None:
    """Chromium's structure-element ids all started one higher in 1 print of 12 (the only
    difference between the two PDFs); renumbering by rank makes both prints the same bytes,
    same length, order kept."""
    from itembank.forms.exporters.pdf import steady_node_ids

    def printed(first: int) -> bytes:
        ids = [first, first + 1, first + 3, first, first + 1]
        return b"".join(b"<</S /TH /ID (node%08d)>>\n" % n for n in ids) + b"/Names [(node%08d) 5 0 R]" % first

    a, b = printed(90), printed(89)
    assert a != b
    assert steady_node_ids(a) == steady_node_ids(b)
    assert len(steady_node_ids(a)) == len(a)
    assert steady_node_ids(a).count(b"(node00000001)") == 3 and b"(node00000003)" in steady_node_ids(a)
