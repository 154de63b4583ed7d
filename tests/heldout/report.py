"""Score the reading engine on the held-out pictures and print the per-family table.

python -m tests.heldout.report            # the table, as tests/test_reading_heldout.py prints it
python -m tests.heldout.report --json     # the same figures as JSON
python -m tests.heldout.report --scale 0.25 --workers 2   # a quarter of the pictures, made in 2 processes
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.heldout.report", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--seed", type=int, default=None, help="another set of pictures (default: the test's)")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full set to make (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="processes that make the pictures (default 1)")
    parser.add_argument("--misses", type=int, default=0, help="also list this many wrong readings per section")
    args = parser.parse_args(argv)
    os.environ.setdefault("MNIST_PATH", str(ROOT.parent / "shared" / "data" / "mnist.npz"))

    from tests.heldout import scoring
    from tests.heldout.generator import SEED, build_suite

    seed = SEED if args.seed is None else args.seed
    started = time.perf_counter()
    pictures = build_suite(seed, scale=args.scale, workers=args.workers)
    made = time.perf_counter() - started
    outcomes, reading = scoring.read_pictures(pictures)
    if args.json:
        result = scoring.summary(outcomes, reading)
        result.update(seed=seed, scale=args.scale, making_seconds=round(made, 1))
        print(json.dumps(result, indent=2))
        return 0
    print(f"held-out pictures: {len(pictures)} (seed {seed}); made in {made:.0f} s, read in {reading:.0f} s")
    print(scoring.format_rows(scoring.all_rows(outcomes)))
    print()
    print(f"blank paper read as a digit with confidence >= 0.5: {len(scoring.blank_confident(outcomes))}")
    if args.misses:
        for section, title in scoring.SECTIONS.items():
            listed = scoring.misses(scoring.section_outcomes(outcomes, section), args.misses)
            if listed:
                print(f"\n{title}\n{listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
