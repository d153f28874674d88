"""Form assembly benchmark (issue 14): parallel forms from synthetic pools of 1,000 and 5,000
approved items (10 standards, 4 formats, case sets of 8, enemy pairs) and from the sample bank,
by three engines side by side in one run:

* new: itembank.forms.assembly (parity objective, greedy warm start, decomposition, highspy);
* previous: the assembler as of commit fac7773 (seeded random objective, scipy.optimize.milp,
  5% gap), its sources extracted with `git archive fac7773 src` into a temporary folder and run
  in a subprocess with that folder first on the path, on the very same pool (sent as JSON);
* naive: random draw-and-reject (a random case and random general items, kept only when the
  form meets every per-form constraint and the overlap, exposure and case rules against the
  forms kept so far).

    .venv/bin/python benchmarks/assembly.py [--runs 3] [--quick] [--old-time-limit 300]
    .venv/bin/python benchmarks/assembly.py --curves [--runs 5]

--curves matches the 2PL curves too (10 x 30 from 1,000 over --runs seeds, at least 5; 20 x 30
from 1,000 and from 5,000 over 3) and runs this tree's assembler beside main's as of MAIN (its
sources extracted like the previous assembler's), seed by seed, reporting medians and the worst.

Each figure is the median of --runs runs (seeds 1..runs); `uptime` is recorded before and after.
Prints a Markdown table (for benchmarks/README.md) and writes benchmarks/results/assembly.json.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itembank.forms.assembly import assemble
from itembank.forms.pool import AssemblyError, build_pool, counted_standards

ROOT = Path(__file__).resolve().parents[1]

PREVIOUS = "fac7773"
#: main before the curve-parity work (issue 14, second round): the baseline of --curves
MAIN = "5cfb101"
FORMATS = ["single_best_answer"] * 10 + ["multiple_response"] * 5 + ["true_false"] * 3 + ["multiple_true_false"] * 2
FW = "synthetic-framework"
STATEMENTS = [f"SY-{k:02d}" for k in range(1, 11)]

BLUEPRINT: dict[str, Any] = {
    "id": "synthetic-30",
    "role": "practitioner",
    "time_minutes": 60,
    "sections": [
        {"id": "general", "title": "General", "section": "general", "items": 22},
        {"id": "applied", "title": "Applied", "section": "applied", "items": 8, "stimuli": 1},
    ],
    "standards": [{"framework": FW, "statement": s, "min": 2, "max": 5} for s in STATEMENTS],
    "formats": [
        {"format": "single_best_answer", "min": 12},
        {"format": "multiple_response", "min": 5},
        {"format": "true_false", "min": 2, "max": 6},
    ],
    "difficulty": {"source": "writer", "target": 0.68, "tolerance": 0.02},
    "exposure_cap": 2,
    "max_overlap": 5,
    "max_shared_cases": 0,
}
#: the same rules for 60-item forms: 52 general items and one case of 8, bounds scaled
BLUEPRINT_60: dict[str, Any] = {
    **copy.deepcopy(BLUEPRINT),
    "id": "synthetic-60",
    "time_minutes": 120,
    "sections": [
        {"id": "general", "title": "General", "section": "general", "items": 52},
        {"id": "applied", "title": "Applied", "section": "applied", "items": 8, "stimuli": 1},
    ],
    "standards": [{"framework": FW, "statement": s, "min": 4, "max": 9} for s in STATEMENTS],
    "formats": [
        {"format": "single_best_answer", "min": 24},
        {"format": "multiple_response", "min": 10},
        {"format": "true_false", "min": 4, "max": 12},
    ],
    "max_overlap": 10,
}


def synthetic_pool(n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """n approved items: 80% general, 20% applied in cases of 8; 5% of general items in enemy
    pairs; writer difficulty ~ N(0.68, 0.12) clipped to 0.2-0.95."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    stimuli: list[dict[str, Any]] = []
    n_applied = (n // 5) // 8 * 8
    for k in range(n):
        applied = k >= n - n_applied
        items.append(
            {
                "id": f"SY-{k + 1:05d}",
                "status": "approved",
                "roles": ["practitioner"],
                "section": "applied" if applied else "general",
                "format": rng.choice(FORMATS[:15] if applied else FORMATS),
                "standards": [{"framework": FW, "statement": rng.choice(STATEMENTS), "primary": True}],
                "difficulty_estimate": min(0.95, max(0.2, rng.gauss(0.68, 0.12))),
                "enemies": [],
            }
        )
    general = [i for i in items if i["section"] == "general"]
    rng.shuffle(general)
    for a, b in itertools.islice(zip(general[::2], general[1::2], strict=False), len(general) // 40):
        a["enemies"].append(b["id"])
        b["enemies"].append(a["id"])
    applied_items = [i for i in items if i["section"] == "applied"]
    for c in range(0, len(applied_items), 8):
        case_id = f"SC-{c // 8 + 1:04d}"
        members = applied_items[c : c + 8]
        for m in members:
            m["stimulus"] = case_id
        stimuli.append({"id": case_id, "status": "approved", "roles": ["practitioner"], "items": [m["id"] for m in members]})
    return items, stimuli


def synthetic_case(size: int, blueprint: dict[str, Any]) -> dict[str, Any]:
    items, stimuli = synthetic_pool(size, seed=size)
    return {"blueprint": blueprint, "items": items, "stimuli": stimuli,
            "difficulty": {i["id"]: i["difficulty_estimate"] for i in items}, "exposure": {}, "roles": None}


def sample_case(blueprint_id: str = "practitioner-knowledge-live", target: bool = True) -> dict[str, Any]:
    """The sample bank's pool as the service builds it (committed forms count for exposure),
    read from a temporary copy: nothing is assembled into the sample bank itself."""
    import shutil

    from itembank import open_bank
    from itembank.forms.pool import difficulty_values, exposure_counts

    tmp = Path(tempfile.mkdtemp(prefix="asm-bench-"))
    shutil.copytree(ROOT / "item_bank", tmp / "item_bank")
    subprocess.run(["git", "init", "-q"], cwd=tmp, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp, check=True)
    subprocess.run(["git", "-c", "user.name=Benchmark", "-c", "user.email=benchmark@example.org",
                    "commit", "-qm", "copy"], cwd=tmp, check=True)
    bank = open_bank(tmp / "item_bank")
    blueprint = dict(bank.forms.blueprint(blueprint_id))
    if not target:
        blueprint.pop("difficulty")
    items = bank.items()
    return {
        "blueprint": blueprint,
        "items": items,
        "stimuli": bank.records("stimulus"),
        "difficulty": difficulty_values("writer", items),
        "exposure": dict(exposure_counts(bank.forms.committed())),
        "roles": {fw: str(r.get("role")) for fw, r in bank.frameworks().items()},
    }


def spread(case: dict[str, Any], forms: list[list[str]]) -> float:
    means = [sum(case["difficulty"][i] for i in ids) / len(ids) for ids in forms]
    return max(means) - min(means)


def largest_deviation(case: dict[str, Any], forms: list[list[str]]) -> float:
    target = case["blueprint"].get("difficulty", {}).get("target")
    means = [sum(case["difficulty"][i] for i in ids) / len(ids) for ids in forms]
    centre = target if target is not None else (max(means) + min(means)) / 2
    return max(abs(m - centre) for m in means)


def with_curves(case: dict[str, Any]) -> dict[str, Any]:
    """The case with synthetic 2PL parameters for every item (a ~ U(0.6, 2), intercept ~
    N(0.8, 1)) and the curves matched at -0.5, 0 and 0.5 logits, tolerance 0.01."""
    rng = random.Random(1)
    blueprint = {**copy.deepcopy(case["blueprint"]), "parity": {"tolerance": 0.01, "theta": [-0.5, 0.0, 0.5]}}
    return {**case, "blueprint": blueprint, "irt": {i["id"]: (rng.uniform(0.6, 2.0), rng.gauss(0.8, 1.0)) for i in case["items"]}}


def run_new(case: dict[str, Any], n_forms: int, seed: int, limit: float) -> dict[str, Any]:
    start = time.perf_counter()
    bp = case["blueprint"]
    pool = build_pool(bp, case["items"], case["stimuli"], case["difficulty"], case["exposure"], case["roles"])
    try:
        result = assemble(bp, pool, n_forms, seed, time_limit=limit, irt=case.get("irt"))
    except AssemblyError as exc:
        return {"seconds": round(time.perf_counter() - start, 3), "ok": False, "error": str(exc)[:300]}
    seconds = time.perf_counter() - start
    forms = [f.items for f in result.forms]
    return {"seconds": round(seconds, 3), "ok": True, "status": result.solver["status"],
            "largest_deviation_all_measures": result.parity["largest_deviation"],
            "spreads": {k: v["spread"] for k, v in result.parity["measures"].items()},
            "spread": round(spread(case, forms), 6), "largest_deviation": round(largest_deviation(case, forms), 6),
            "bound": result.solver["parity_bound"], "bound_scope": result.solver["bound_scope"],
            "start": result.solver["start"], "decomposition": result.solver["decomposition"], "forms": forms}


OLD_RUNNER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from itembank.forms.assembly import assemble
from itembank.forms.pool import AssemblyError, build_pool
case = json.load(open(sys.argv[2]))
n, seed, limit = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
start = time.perf_counter()
bp = case["blueprint"]
pool = build_pool(bp, case["items"], case["stimuli"], case["difficulty"], case["exposure"], case["roles"])
try:
    result = assemble(bp, pool, n, seed, time_limit=limit)
    out = {"ok": True, "status": result.solver["status"], "forms": [f.items for f in result.forms]}
except AssemblyError as exc:
    out = {"ok": False, "error": str(exc)[:300]}
out["seconds"] = round(time.perf_counter() - start, 3)
print(json.dumps(out))
"""


def previous_sources(commit: str = PREVIOUS) -> Path:
    """The assembler as of `commit`, extracted (git archive) into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="asm-previous-"))
    archive = subprocess.run(["git", "archive", commit, "src", "schemas"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


MAIN_RUNNER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from itembank.forms.assembly import assemble
from itembank.forms.pool import AssemblyError, build_pool
case = json.load(open(sys.argv[2]))
n, seed, limit = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
irt = {k: tuple(v) for k, v in case.get("irt", {}).items()} or None
start = time.perf_counter()
bp = case["blueprint"]
pool = build_pool(bp, case["items"], case["stimuli"], case["difficulty"], case["exposure"], case["roles"])
try:
    result = assemble(bp, pool, n, seed, time_limit=limit, irt=irt)
    out = {"ok": True, "status": result.solver["status"], "start": result.solver["start"],
           "largest_deviation_all_measures": result.parity["largest_deviation"],
           "objective": result.solver["objective"],
           "spreads": {k: v["spread"] for k, v in result.parity["measures"].items()},
           "forms": [f.items for f in result.forms]}
except AssemblyError as exc:
    out = {"ok": False, "error": str(exc)[:300]}
out["seconds"] = round(time.perf_counter() - start, 3)
print(json.dumps(out))
"""


def run_main(src: Path, case_file: Path, case: dict[str, Any], n_forms: int, seed: int, limit: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", MAIN_RUNNER, str(src), str(case_file), str(n_forms), str(seed), str(limit)],
                          capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["ok"]:
        out["spread"] = round(spread(case, out["forms"]), 6)
    return out


def curves_main(args: argparse.Namespace) -> None:
    """Curve parity (or with --difficulty-only, difficulty alone), this tree beside main (MAIN),
    seed by seed in one run."""
    seeds_10 = range(1, max(5, args.runs) + 1)
    curves = (lambda case: case) if args.difficulty_only else with_curves
    cases = [("10 x 30 from 1,000", 10, curves(synthetic_case(1000, BLUEPRINT)), seeds_10),
             ("20 x 30 from 1,000", 20, curves(synthetic_case(1000, BLUEPRINT)), range(1, 4)),
             ("20 x 30 from 5,000", 20, curves(synthetic_case(5000, BLUEPRINT)), range(1, 4))]
    load_before = uptime()
    print(load_before, flush=True)
    main_src = previous_sources(MAIN)
    rows = []
    for name, n, case, seeds in cases:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(case, fh)
        new, old = [], []
        for s in seeds:
            new.append(run_new(case, n, s, args.time_limit))
            old.append(run_main(main_src, Path(fh.name), case, n, s, args.time_limit))
            for engine, r in (("new", new[-1]), ("main", old[-1])):
                print(f"{name} seed {s} {engine}: {r.get('seconds')} s, {r.get('status')}, largest deviation "
                      f"{r.get('largest_deviation_all_measures')} [{uptime()}]", flush=True)
        rows.append({"case": name, "forms": n, "seeds": list(seeds), "new": new, "main": old})
    load_after = uptime()
    for row in rows:
        for r in row["new"] + row["main"]:
            r.pop("forms", None)
    out = Path(__file__).parent / "results" / f"assembly_{'difficulty' if args.difficulty_only else 'curves'}_main.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "load_before": load_before, "load_after": load_after, "main": MAIN,
                               "time_limit": args.time_limit, "rows": rows}, indent=2) + "\n")
    print(f"\nload before: {load_before}\nload after: {load_after}\n")
    what = "difficulty only; tolerance 0.002" if args.difficulty_only else "2PL curves at -0.5, 0, 0.5; tolerance 0.01"
    print(f"| case ({what}) | seeds | engine | time: median | time: worst | "
          "within tolerance | largest deviation, every measure: median | worst |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for row in rows:
        for engine in ("main", "new"):
            runs = row[engine]
            ok = [r for r in runs if r.get("ok")]
            within = sum(r.get("status") in ("optimal", "within tolerance") for r in ok)
            secs = [r["seconds"] for r in runs]
            devs = [r["largest_deviation_all_measures"] for r in ok]
            label = f"main ({MAIN})" if engine == "main" else "this branch"
            print(f"| {row['case']} | {len(runs)} | {label} | {statistics.median(secs):.2f} s | {max(secs):.2f} s | "
                  f"{within} of {len(runs)} | {statistics.median(devs):.4f} | {max(devs):.4f} |")


def run_old(src: Path, case_file: Path, case: dict[str, Any], n_forms: int, seed: int, limit: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", OLD_RUNNER, str(src), str(case_file), str(n_forms), str(seed), str(limit)],
                          capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["ok"]:
        out["spread"] = round(spread(case, out["forms"]), 6)
        out["largest_deviation"] = round(largest_deviation(case, out["forms"]), 6)
    return out


def form_ok(blueprint: dict[str, Any], ids: list[str], by_id: dict[str, dict[str, Any]]) -> bool:
    """Every per-form constraint of the blueprint."""
    counts = Counter(s for i in ids for s in counted_standards(by_id[i]["standards"]))
    for b in blueprint["standards"]:
        if not b["min"] <= counts[(b["framework"], b["statement"])] <= b.get("max", 99):
            return False
    formats = Counter(by_id[i]["format"] for i in ids)
    for b in blueprint["formats"]:
        if not b["min"] <= formats[b["format"]] <= b.get("max", 99):
            return False
    chosen = set(ids)
    if any(set(by_id[i]["enemies"]) & chosen for i in ids):
        return False
    d = blueprint["difficulty"]
    mean = sum(by_id[i]["difficulty_estimate"] for i in ids) / len(ids)
    return bool(abs(mean - d["target"]) <= d["tolerance"])


def naive(case: dict[str, Any], n_forms: int, seed: int, budget_s: float) -> dict[str, Any]:
    """Draw a random case and random general items; keep the form only if it meets every
    constraint, including overlap and exposure with the forms kept so far."""
    blueprint, items, stimuli = case["blueprint"], case["items"], case["stimuli"]
    g = blueprint["sections"][0]["items"]
    rng = random.Random(seed)
    by_id = {i["id"]: i for i in items}
    general = [i["id"] for i in items if i["section"] == "general"]
    cases = [s["items"] for s in stimuli]
    kept: list[list[str]] = []
    used_cases: set[int] = set()
    exposure: Counter[str] = Counter()
    draws = 0
    start = time.perf_counter()
    while len(kept) < n_forms and time.perf_counter() - start < budget_s:
        draws += 1
        c = rng.randrange(len(cases))
        ids = rng.sample(general, g) + cases[c]
        if not form_ok(blueprint, ids, by_id):
            continue
        if c in used_cases or any(exposure[i] >= blueprint["exposure_cap"] for i in ids):
            continue
        if any(len(set(ids[:g]) & set(k[:g])) > blueprint["max_overlap"] for k in kept):
            continue
        kept.append(ids)
        used_cases.add(c)
        exposure.update(ids)
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - start, 3), "ok": len(kept) == n_forms,
                           "forms_built": len(kept), "draws": draws}
    if kept:
        out["spread"] = round(spread(case, kept), 6)
    return out


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get("ok") and key in r]
    return round(statistics.median(values), 6) if values else None


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per engine and case (seeds 1..runs)")
    parser.add_argument("--quick", action="store_true", help="the 10 x 30 from 1,000 case and the sample bank only")
    parser.add_argument("--time-limit", type=float, default=120.0, help="the new assembler's safety net")
    parser.add_argument("--old-time-limit", type=float, default=300.0)
    parser.add_argument("--naive-budget", type=float, default=60.0, help="seconds per baseline run")
    parser.add_argument("--skip-old", action="store_true", help="leave out the previous assembler")
    parser.add_argument("--curves", action="store_true", help="curve parity, this tree beside main (MAIN)")
    parser.add_argument("--difficulty-only", action="store_true", help="with --curves: the same cases without curves")
    args = parser.parse_args()
    if args.curves:
        curves_main(args)
        return
    cases: list[tuple[str, int, dict[str, Any], bool]] = [("10 x 30 from 1,000", 10, synthetic_case(1000, BLUEPRINT), True)]
    if not args.quick:
        cases += [("20 x 30 from 1,000", 20, synthetic_case(1000, BLUEPRINT), True),
                  ("20 x 30 from 5,000", 20, synthetic_case(5000, BLUEPRINT), True),
                  ("20 x 60 from 5,000", 20, synthetic_case(5000, BLUEPRINT_60), True)]
    cases += [("10 x 30 from 1,000, with 2PL curves at 3 abilities", 10, with_curves(synthetic_case(1000, BLUEPRINT)), False)]
    cases += [("sample bank, 3 practitioner forms", 3, sample_case(), False),
              ("sample bank, 3 forms, no difficulty target", 3, sample_case(target=False), False)]
    load_before = uptime()
    print(load_before, flush=True)
    old_src = None if args.skip_old else previous_sources()
    rows = []
    for name, n, case, with_naive in cases:
        seeds = range(1, args.runs + 1)
        new = [run_new(case, n, s, args.time_limit) for s in seeds]
        old: list[dict[str, Any]] = []
        if old_src is not None and "no difficulty target" not in name and "curves" not in name:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                json.dump({k: v for k, v in case.items() if k != "irt"}, fh)
            old = [run_old(old_src, Path(fh.name), case, n, s, args.old_time_limit) for s in seeds]
        base = [naive(case, n, s, args.naive_budget) for s in seeds] if with_naive else []
        row = {"case": name, "forms": n, "new": new, "previous": old, "naive": base}
        rows.append(row)
        print(f"{name}: new {median(new, 'seconds')} s spread {median(new, 'spread')} "
              f"(bound {new[0].get('bound')}); previous {median(old, 'seconds')} s spread {median(old, 'spread')}; "
              f"naive {median(base, 'seconds')} s spread {median(base, 'spread')} "
              f"({sum(r['ok'] for r in base)}/{len(base)} complete)  [{uptime()}]", flush=True)
    load_after = uptime()
    for row in rows:
        for r in row["new"] + row["previous"]:
            r.pop("forms", None)
    out = Path(__file__).parent / "results" / "assembly.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "load_before": load_before, "load_after": load_after, "runs": args.runs,
                               "blueprints": [BLUEPRINT, BLUEPRINT_60], "rows": rows}, indent=2) + "\n")
    print(f"\nload before: {load_before}\nload after: {load_after}\n")
    print("| case | new: time | new: spread | new: largest deviation (proven best at least) | new: largest deviation, every measure | previous: time | previous: spread | naive: time | naive: spread |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def fmt(v: float | None, unit: str = "", digits: int = 4) -> str:
        return "-" if v is None else f"{v:.{digits}f}{unit}"

    for row in rows:
        new, old, base = row["new"], row["previous"], row["naive"]
        bounds = [r["bound"] for r in new if r.get("ok")]
        scope = "" if not new or new[0].get("bound_scope") == "whole pool" else " (candidate sets)"
        complete = f" ({sum(r['ok'] for r in base)}/{len(base)} complete)" if base else ""
        print(f"| {row['case']} | {fmt(median(new, 'seconds'), ' s', 2)} | {fmt(median(new, 'spread'))} | "
              f"{fmt(median(new, 'largest_deviation'))} ({fmt(min(bounds) if bounds else None)}{scope}) | "
              f"{fmt(median(new, 'largest_deviation_all_measures'))} | "
              f"{fmt(median(old, 'seconds'), ' s', 2)} | {fmt(median(old, 'spread'))} | "
              f"{fmt(median(base, 'seconds'), ' s', 2) if base else 'n/a'}{complete} | {fmt(median(base, 'spread')) if base else 'n/a'} |")


if __name__ == "__main__":
    main()
