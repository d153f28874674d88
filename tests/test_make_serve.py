"""`make serve` shows the sample administration (issue 12): before starting the servers it
imports sample_results/ (both forms) into a results folder outside the repository, once, and
hands that folder to the servers through ITEMBANK_RESULTS. The Make recipe's own commands are
run here (make with the set-up step marked done), not a copy of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from itembank.storage.resultstore import ResultStore
from tests.conftest import ROOT
from tests.test_results_import import FORM1, FORM2, results_bank  # noqa: F401 (fixture)

BIN = Path(sys.executable).parent
# -o: the virtual environment counts as set up (this test runs inside one)
MAKE = ["make", "--no-print-directory", "-s", "-o", ".venv/.installed", f"BIN={BIN}"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def test_the_sample_results_are_imported_once(results_bank: Path, tmp_path: Path) -> None:  # noqa: F811
    store = tmp_path / "bank-results"
    command = [*MAKE, "sample-results", f"BANK={results_bank}", f"RESULTS={store}"]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    summaries = [line for line in first.stdout.splitlines() if not line.startswith("  ")]
    assert [s.split(". Import ")[0] for s in summaries] == [
        f"Imported {FORM1}: 2000 candidate(s), 60000 response(s) (596 omitted), 7 disagreement(s) "
        "with the platform's score",
        f"Imported {FORM2}: 2000 candidate(s), 60000 response(s) (616 omitted), 7 disagreement(s) "
        "with the platform's score"]
    imports = ResultStore(store).imports()
    # the responses, then the simulated-practice marks (32,218 and 32,190 marks) of each form
    assert sorted((i["form"], i["candidates"], i["responses"]) for i in imports) == [
        (FORM1, 2000, 32218), (FORM1, 2000, 60000), (FORM2, 2000, 32190), (FORM2, 2000, 60000)]
    before = _snapshot(store)
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert [line.split(":")[0] for line in again.stdout.splitlines() if not line.startswith("  ")] == [
        "Already imported (nothing changed)"] * 2
    assert _snapshot(store) == before  # a second run changes nothing


def test_serve_imports_first_and_hands_the_folder_to_the_servers() -> None:
    plan = subprocess.run([*MAKE, "-n", "serve", "RESULTS=/elsewhere/res"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    imports = plan.index("itembank results import")
    serve = plan.index("itembank serve")
    assert imports < serve and "--results /elsewhere/res" in plan[imports:serve]
    assert f"ITEMBANK_RESULTS=/elsewhere/res {BIN}/itembank serve" in plan
    default = subprocess.run([*MAKE, "-n", "serve"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    outside = f"{ROOT}-results"  # beside the repository, never inside it
    assert f"ITEMBANK_RESULTS={outside} {BIN}/itembank serve" in default
    assert f"--results {outside}" in default
