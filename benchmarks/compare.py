"""Run benchmarks/run.py's measures with the code of another tree, for side-by-side figures
(not part of the pass/fail suite). check-jsonschema is left out: it does not change between
versions of itembank and takes minutes.

    python benchmarks/compare.py TREE SIZE [REPEAT]     e.g. a `git worktree add` of an old commit

Prints one JSON line: each measure's median (seconds) and how many runs it is the median of.
Run it for the old and the new tree in turns (old, new, old, new) so both meet the same load.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    tree = Path(sys.argv[1]).resolve()
    size, repeat = int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 3
    spec = importlib.util.spec_from_file_location("tree_benchmarks", tree / "benchmarks/run.py")
    if spec is None or spec.loader is None:
        sys.exit(f"{tree}/benchmarks/run.py is missing: give the root of an itembank tree.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts TREE/src first on sys.path
    import itembank

    if not Path(itembank.__file__).resolve().is_relative_to(tree):
        sys.exit(f"itembank was imported from {itembank.__file__}, not from {tree}.")
    module.check_jsonschema = lambda bank: 0.0
    result = module.run(size, repeat)
    medians = {
        k: [statistics.median(v), len(v)]
        for k, v in result.items()
        if isinstance(v, list) and k != "check_jsonschema_items"
    }
    print(json.dumps({"tree": str(tree), "items": size, "medians": medians}))


if __name__ == "__main__":
    main()
