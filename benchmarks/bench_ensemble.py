"""Time sim-ensemble: N national replicates of the 2011-2017 history, summary and figures included.

    python benchmarks/bench_ensemble.py [--n 1000] [--workers 2] [--scale 1.0] [--keep DIR] [OVERRIDE ...]

Runs `sim-ensemble scenario=historical_2017 n=N workers=WORKERS model.scale=SCALE` (as `python -m
sim.ensemble`, no progress bar) in a fresh interpreter and measures its wall clock from start to
exit: imports, the worker pool, the runs, runs.parquet and params.parquet, ensemble.csv,
fit_summary.csv and the figures. Prints one JSON line with the wall time, the size of
runs.parquet and that size per 1,000 replicates, next to the targets of issue 12 (1,000 national
replicates in <= 120 s on 2 cores; runs.parquet <= 150 MB per 1,000 replicates of 2011-2017).
`make bench-ensemble` runs it with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = "historical_2017"  # the targets are for runs of 2011-2017
TARGET_WALL_S = 120.0  # for 1,000 replicates on 2 cores
TARGET_MB_PER_1000 = 150.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="replicates (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--scale", type=float, default=1.0, help="model.scale (default 1.0, national)")
    ap.add_argument("--keep", type=Path, help="write the ensemble into this folder and keep it")
    ap.add_argument("overrides", nargs="*", help="more sim-ensemble overrides, e.g. end=2013-12-31")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_ensemble_"))
    out = args.keep.resolve() if args.keep else work / "ensemble"
    command = [sys.executable, "-m", "sim.ensemble", f"scenario={SCENARIO}", f"n={args.n}",
               f"workers={args.workers}", f"model.scale={args.scale}", "output.progress=false",
               f"hydra.run.dir={out}", *args.overrides]
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(command, cwd=work, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"sim-ensemble failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        import fastparquet

        runs = out / "runs.parquet"
        file = fastparquet.ParquetFile(str(runs))
        rows, row_groups = file.count(), len(file.row_groups)
        size_mb = runs.stat().st_size / 1e6
        days = rows // args.n
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest process
    print(json.dumps({
        "benchmark": "ensemble",
        "scenario": SCENARIO,
        "n": args.n,
        "workers": args.workers,
        "scale": args.scale,
        "days": days,
        "rows": rows,
        "row_groups": row_groups,
        "wall_s": round(wall, 2),
        "wall_s_per_replicate": round(wall / args.n, 4),
        "runs_mb": round(size_mb, 2),
        "runs_mb_per_1000": round(size_mb * 1000 / args.n, 1),
        "peak_rss_mb_largest_process": round(peak_kb / 1024, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "target_wall_s_for_1000": TARGET_WALL_S,
        "target_runs_mb_per_1000": TARGET_MB_PER_1000,
    }))


if __name__ == "__main__":
    main()
