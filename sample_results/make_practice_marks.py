"""Simulate assessors' simulated-practice marks: SIMULATED candidates, SIMULATED marks.

    .venv/bin/python sample_results/make_practice_marks.py [--bank item_bank] [--out sample_results]

For each form folder under <out> (the candidates of candidates-SIMULATED.csv.gz) this writes
<out>/<form>/practice-marks-SIMULATED.csv.gz: candidate,scenario,criterion,assessor,band.

Model: each candidate takes one of the bank's approved scenarios (SIM-0001 or SIM-0002) and
has a practice level p ~ N(0, 1); on each criterion the true band is p + the criterion's
difficulty (N(0, 0.35), per form) + N(0, 0.45), cut at -2.4, -1.6, 0.3 into bands 0 to 3.
Two different assessors (of 12, pseudonymous codes) each mark every criterion: their own
band is the true band (88%), one band off (11.5%) or two bands off (0.5%), kept within 0 to
3. Where the two differ by more than one band (bank.json's tolerance) a third assessor
marks it, except for MISSING_THIRD of those criteria per form (so some decisions are
pending). Seeded: the same
bank and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np

from itembank import open_bank

SEED = 20261201
SCENARIOS = ("SIM-0001", "SIM-0002")
ASSESSORS = tuple(f"ASR-{i:02d}" for i in range(1, 13))
CUTS = (-2.4, -1.6, 0.3)  # true level -> band 0..3
OFF = (0.88, 0.115, 0.005)  # an assessor's band: exact, one off, two off
MISSING_THIRD = 3  # criteria per form whose required third mark has not come in
TOLERANCE = 1
LEVEL = (0.0, 1.0)  # practice level: mean, SD
NOISE = 0.45  # a criterion's own variation around the level


def _band(level: float) -> int:
    return int(sum(level > c for c in CUTS))


def _assess(rng: np.random.Generator, true: int) -> int:
    off = int(rng.choice(3, p=OFF))
    if off == 0:
        return true
    sign = 1 if rng.random() < 0.5 else -1
    band = true + sign * off
    return band if 0 <= band <= 3 else true - sign * off if 0 <= true - sign * off <= 3 else true


def marks_for(form: str, candidates: list[str], criteria: dict[str, list[str]]) -> bytes:
    """The marks CSV (gzipped, fixed mtime) of one form's candidates."""
    rng = np.random.default_rng([SEED, sum(form.encode())])
    difficulty = {(s, c): float(rng.normal(0, 0.35)) for s in SCENARIOS for c in criteria[s]}
    rows: list[list[str]] = []
    thirds: list[int] = []  # row index where a third mark would go
    for candidate in candidates:
        scenario = SCENARIOS[int(rng.integers(0, len(SCENARIOS)))]
        level = float(rng.normal(*LEVEL))
        pair = rng.choice(len(ASSESSORS), size=3, replace=False)
        for criterion in criteria[scenario]:
            true = _band(level + difficulty[(scenario, criterion)] + float(rng.normal(0, NOISE)))
            first, second = _assess(rng, true), _assess(rng, true)
            for who, band in ((pair[0], first), (pair[1], second)):
                rows.append([candidate, scenario, criterion, ASSESSORS[who], str(band)])
            if abs(first - second) > TOLERANCE:
                thirds.append(len(rows))
                rows.append(
                    [candidate, scenario, criterion, ASSESSORS[pair[2]], str(_assess(rng, true))]
                )
    dropped = set(rng.choice(thirds, size=min(MISSING_THIRD, len(thirds)), replace=False).tolist())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["candidate", "scenario", "criterion", "assessor", "band"])
    writer.writerows(r for i, r in enumerate(rows) if i not in dropped)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bank", default=str(here.parent / "item_bank"))
    parser.add_argument("--out", default=str(here))
    args = parser.parse_args()
    bank = open_bank(args.bank)
    criteria = {
        str(r["id"]): [str(c["id"]) for c in r["marking_scheme"]["criteria"]]
        for r in bank.records("scenario")
        if r["id"] in SCENARIOS
    }
    for manifest in sorted(bank.forms.committed(), key=lambda m: str(m["id"])):
        folder = Path(args.out) / str(manifest["id"])
        listed = folder / "candidates-SIMULATED.csv.gz"
        if not listed.is_file():
            continue
        with gzip.open(listed, "rt", encoding="utf-8", newline="") as handle:
            people = [row["candidate"] for row in csv.DictReader(handle)]
        target = folder / "practice-marks-SIMULATED.csv.gz"
        target.write_bytes(marks_for(str(manifest["id"]), people, criteria))
        print(f"wrote {target} ({len(people)} candidates)")


if __name__ == "__main__":
    main()
