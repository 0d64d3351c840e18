"""Time the whole `sim-run scenario=historical_2017` command (start-up, imports, the national
2011-2017 run, its three figures and files) as a user runs it; print one JSON line.

    python benchmarks/bench_cli.py [--repeat 3] [--against CHECKOUT] [override ...]

A first, untimed call loads (or compiles) numba's cached kernels; each timed call is a fresh
process writing into a temporary folder. Target (issue 12): <= 2.5 s. On a shared machine,
`--against` another checkout of the project (e.g. `git archive` of an older commit) times its
sim-run too, alternating call by call, so that both see the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def history_2017(checkout: Path | None) -> str:
    """The 2011-2017 history's scenario: `historical` in checkouts from before it ran to 2024."""
    if checkout is None or (checkout / "conf" / "scenario" / "historical_2017.yaml").exists():
        return "historical_2017"
    return "historical"


def sim_run(out: Path, overrides: list[str], checkout: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "sim.run", f"hydra.run.dir={out}", "output.progress=false",
           f"scenario={history_2017(checkout)}", *overrides]
    env = None if checkout is None else dict(os.environ, PYTHONPATH=str(checkout))
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, cwd=checkout)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", type=Path, help="another checkout to time alternately")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    against = args.against.resolve() if args.against else None
    times, others = [], []
    with tempfile.TemporaryDirectory() as tmp:
        sim_run(Path(tmp) / "warm", args.overrides)
        if against:
            sim_run(Path(tmp) / "warm_against", args.overrides, against)
        for i in range(args.repeat):
            times.append(sim_run(Path(tmp) / f"run{i}", args.overrides))
            if against:
                others.append(sim_run(Path(tmp) / f"against{i}", args.overrides, against))
        figures = sorted(p.name for p in (Path(tmp) / "run0").glob("*.png"))
    result = {"benchmark": "sim_run_cli", "repeat": args.repeat,
              "wall_s": round(statistics.median(times), 2), "min_s": round(min(times), 2),
              "figures": figures, "target_s": 2.5}
    if against:
        result["against_wall_s"] = round(statistics.median(others), 2)
        result["against_min_s"] = round(min(others), 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
