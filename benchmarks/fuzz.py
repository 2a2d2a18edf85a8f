"""Run the fuzz targets of tests/fuzz for a given time each and count what they find.

    python benchmarks/fuzz.py --seconds 60                  # every target, 60 s each
    python benchmarks/fuzz.py --target events --target yaml --seconds 300 --out /tmp/found

Each target makes inputs with a seeded ``random.Random`` (a plain mutation loop, not
Hypothesis's engine: no shrinking, many more inputs a second) and checks each under a
per-input deadline of CPU time (``SIGPROF``). Printed per target: inputs tried, exceptions
that are not tierflow's own errors, hangs, disagreements (compiled evaluator vs reference
interpreter, or a reader's read != accepted + rejected), and the distinct failure classes
(kind, exception type, place in ``src/``). The first reproducer of each class (up to
``--keep`` a target) is written to ``--out``: the input file and a ``.txt`` describing it.
Exit status 1 if anything was found.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _targets() -> ModuleType:
    """Import tests/fuzz/targets.py (this script's own name, ``fuzz``, would shadow the package)."""
    spec = importlib.util.spec_from_file_location("fuzz_targets", ROOT / "tests/fuzz/targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fuzz_one(
    t: ModuleType, name: str, seconds: float, seed: int, out: Path | None, keep: int, limit: float
) -> tuple[int, Counter[str], Counter[tuple[str, str, str]]]:
    """Fuzz one target for ``seconds``: inputs tried, findings by kind, findings by class."""
    target = t.TARGETS[name]
    rng = random.Random(seed ^ zlib.crc32(name.encode()))
    kinds: Counter[str] = Counter()
    classes: Counter[tuple[str, str, str]] = Counter()
    tried = 0
    saved = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sample = target.generate(rng)
        tried += 1
        finding = t.run(target, sample, limit)
        if finding is None:
            continue
        kinds[finding.kind] += 1
        classes[finding.signature] += 1
        if out is not None and classes[finding.signature] == 1 and saved < keep:
            saved += 1
            stem = out / f"{name}-{saved}"
            stem.with_suffix(sample.suffix).write_bytes(sample.data)
            stem.with_suffix(".txt").write_text(finding.describe() + "\n", encoding="utf-8")
    return tried, kinds, classes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzz targets; print one line a target and the failure classes found."""
    t = _targets()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="time per target (default 30)")
    p.add_argument("--target", action="append", choices=sorted(t.TARGETS), help="repeatable")
    p.add_argument("--seed", type=int, default=2025, help="seed of the mutation loop")
    p.add_argument("--out", type=Path, help="folder for reproducers (created)")
    p.add_argument("--keep", type=int, default=10, help="reproducers kept a target (default 10)")
    p.add_argument("--deadline", type=float, default=t.DEADLINE, help="seconds an input may take")
    args = p.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    names = args.target or list(t.TARGETS)
    print(f"{'target':<14} {'inputs':>9} {'exceptions':>10} {'hangs':>6} {'disagreements':>13}")
    totals: Counter[str] = Counter()
    found: dict[str, Counter[tuple[str, str, str]]] = {}
    for name in names:
        tried, kinds, classes = fuzz_one(
            t, name, args.seconds, args.seed, args.out, args.keep, args.deadline
        )
        totals.update(kinds)
        totals["inputs"] += tried
        found[name] = classes
        print(
            f"{name:<14} {tried:>9,} {kinds['exception']:>10,} {kinds['hang']:>6,} "
            f"{kinds['disagreement']:>13,}",
            flush=True,
        )
    print(
        f"{'total':<14} {totals['inputs']:>9,} {totals['exception']:>10,} {totals['hang']:>6,} "
        f"{totals['disagreement']:>13,}"
    )
    for name, classes in found.items():
        for (kind, error, where), count in classes.most_common():
            print(f"  {name}: {count:,} x {kind}: {error} at {where}")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
