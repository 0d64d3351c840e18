"""Time a seed ensemble of the 2011-2017 history with the joblib launcher against the basic one.

    python benchmarks/bench_sweep.py [--jobs 100] [--scale 1.0] [--workers 2] [--figures]

Runs `sim-run -m scenario=historical_2017 seed='range(JOBS)'` twice through the real console script:
once with Hydra's basic launcher (one job after another), once with `hydra/launcher=joblib_local`
on WORKERS processes. Prints one JSON line: both wall times, the parallel efficiency
T_basic / (WORKERS * T_joblib) (1.0 = perfect), and whether both sweeps wrote byte-identical
timeseries.csv files. Figures are off unless --figures. Wall times include sim-run's start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf

SIM_RUN = str(Path(sys.executable).parent / "sim-run")
SCENARIO = "historical_2017"


def sweep(args: list[str], sweep_dir: Path, cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "SIM_JOBS"}
    t0 = time.perf_counter()
    proc = subprocess.run([SIM_RUN, "-m", *args, f"hydra.sweep.dir={sweep_dir}"], cwd=cwd,
                          capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"sim-run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def outputs(sweep_dir: Path) -> dict[tuple[str, ...], bytes]:
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return {tuple(sorted(map(str, OmegaConf.load(j / ".hydra" / "overrides.yaml")))):
            (j / "timeseries.csv").read_bytes() for j in jobs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100, help="seeds 0..JOBS-1 (default 100)")
    ap.add_argument("--scale", type=float, default=1.0, help="model.scale (default 1.0)")
    ap.add_argument("--workers", type=int, default=2, help="joblib processes (default 2)")
    ap.add_argument("--figures", action="store_true", help="also write each job's figures")
    ap.add_argument("--keep", type=Path, help="keep both sweeps in this folder")
    ap.add_argument("overrides", nargs="*", help="more sim-run overrides, e.g. end=2013-12-31")
    args = ap.parse_args()

    common = [f"scenario={SCENARIO}", f"seed=range({args.jobs})", f"model.scale={args.scale}",
              f"output.figures={str(args.figures).lower()}", "output.progress=false",
              *args.overrides]
    work = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    try:
        t_basic = sweep(common, work / "basic", work)
        t_joblib = sweep(["hydra/launcher=joblib_local", f"hydra.launcher.n_jobs={args.workers}",
                          *common], work / "joblib", work)
        basic, joblib = outputs(work / "basic"), outputs(work / "joblib")
        identical = len(basic) == args.jobs and basic == joblib
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("basic", "joblib"):
                shutil.copytree(work / name, args.keep / name, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({
        "benchmark": "sweep_joblib_vs_basic", "scenario": SCENARIO, "jobs": args.jobs,
        "scale": args.scale, "figures": args.figures, "workers": args.workers,
        "basic_s": round(t_basic, 2), "joblib_s": round(t_joblib, 2),
        "speedup": round(t_basic / t_joblib, 3),
        "parallel_efficiency": round(t_basic / (args.workers * t_joblib), 3),
        "identical_outputs": identical, "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
