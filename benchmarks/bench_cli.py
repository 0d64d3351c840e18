"""Time the whole `sim-run` command (start-up, imports, the national historical run, its three
figures and files) as a user runs it; print one JSON line.

    python benchmarks/bench_cli.py [--repeat 3] [override ...]

A first, untimed call loads (or compiles) numba's cached kernels; each timed call is a fresh
process writing into a temporary folder. Target (issue 12): <= 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sim_run(out: Path, overrides: list[str]) -> float:
    cmd = [sys.executable, "-m", "sim.run", f"hydra.run.dir={out}", "output.progress=false",
           *overrides]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sim_run(Path(tmp) / "warm", args.overrides)
        times = [sim_run(Path(tmp) / f"run{i}", args.overrides) for i in range(args.repeat)]
        figures = sorted(p.name for p in (Path(tmp) / "run0").glob("*.png"))
    print(json.dumps({"benchmark": "sim_run_cli", "repeat": args.repeat,
                      "wall_s": round(statistics.median(times), 2), "min_s": round(min(times), 2),
                      "figures": figures, "target_s": 2.5}))


if __name__ == "__main__":
    main()
