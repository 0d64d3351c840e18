"""Set-up time and peak memory of the model by grid size: the basis of the grid limit
(sim.config.MAX_GRID_CELLS, docs/ODD.md 6.4).

    python benchmarks/bench_grid.py [--scale 1.0] [WIDTHxHEIGHT ...]

Each grid is built in a fresh process, so its peak resident memory is its own. Prints one
JSON line per grid.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

ONE = """
import json, resource, sys, time
from sim.compose import compose
from sim.model import GangViolenceModel
w, h, scale = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
cfg = compose([f"model.scale={scale}", "end=2011-01-01", "output.figures=false",
               f"model.landscape.width={w}", f"model.landscape.height={h}"])
t0 = time.perf_counter()
GangViolenceModel(cfg)
print(json.dumps({"grid": f"{w}x{h}", "cells": w * h, "scale": scale,
                  "setup_s": round(time.perf_counter() - t0, 2),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("grids", nargs="*", default=["104x44", "250x250", "500x500"])
    args = ap.parse_args()
    for grid in args.grids:
        w, h = grid.lower().split("x")
        subprocess.run([sys.executable, "-c", ONE, w, h, str(args.scale)], check=True)


if __name__ == "__main__":
    main()
