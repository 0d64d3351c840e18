"""Time a national-scale historical run (imports excluded) and print one JSON line.

    python benchmarks/bench_run.py [--repeat 3] [--scale 1.0] [override ...]

Reports wall time of model set-up and of the run, agent-days per second (agents x days / run
time) and the peak resident memory of the process. Target: <= 2 s and <= 300 MB per run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time

from sim.compose import compose
from sim.model import GangViolenceModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    cfg = compose([f"model.scale={args.scale}", "output.figures=false", *args.overrides])
    setups, runs = [], []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        model = GangViolenceModel(cfg, rng=i)
        t1 = time.perf_counter()
        df = model.run()
        t2 = time.perf_counter()
        setups.append(t1 - t0)
        runs.append(t2 - t1)
    agents = len(model.agents)
    days = len(df)
    total = [s + r for s, r in zip(setups, runs)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "benchmark": "historical_run", "scale": args.scale, "days": days, "agents": agents,
        "repeat": args.repeat, "setup_s": round(statistics.median(setups), 3),
        "run_s": round(statistics.median(runs), 3),
        "total_s": round(statistics.median(total), 3),
        "agent_days_per_s": round(agents * days / statistics.median(runs)),
        "peak_rss_mb": round(peak_mb, 1), "python": platform.python_version(),
        "target_total_s": 2.0, "target_peak_mb": 300,
    }))


if __name__ == "__main__":
    main()
