"""Time a national-scale historical run against an idiomatic Mesa model; print one JSON line.

    python benchmarks/bench_run.py [--repeat 5] [--scale 1.0] [--scenario historical_2017]
                                   [override ...]

Each repeat times, in this process and alternating so that both see the same machine load:
- ours: model set-up and the run of a scenario (by default `historical_2017`, 2011-2017;
  `make bench` also times `historical`, 2011-2024), imports excluded, the compiled kernels
  loaded from numba's cache by a warm-up run first; the model is built from the typed,
  validated Config, as sim-ensemble builds its replicates (converting Hydra's DictConfig,
  about 30 ms, is configuration, not simulation: bench_cli.py times it with the rest);
- the reference: Mesa's Boltzmann wealth model as Mesa's own examples write it (5,000
  CellAgents on a 100 x 100 Moore grid, each with a `step()` that moves to a random neighbouring
  cell and gives a unit of wealth to a cellmate, `shuffle_do("step")`), 200 steps.
Reports medians, the ratio reference / ours (the figure that holds on a noisy machine), agent-days
per second and two peaks of resident memory: this process's (which also holds the reference's
agents and every repeat's garbage) and that of a fresh interpreter that imports the model and
runs the scenario once, as a user's run does (`peak_rss_mb_single_run`, the figure the target
is for). Each timed section starts after a garbage collection,
so that neither pays for collecting the other's garbage. Targets (issue 12): ours <= 0.25 s of simulation
(goal 0.15 s), peak <= 300 MB, ratio goal >= 20.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import platform
import resource
import statistics
import subprocess
import sys
import time

import mesa
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from sim.compose import compose
from sim.model import GangViolenceModel, load_config


class WealthAgent(CellAgent):
    """Mesa's Boltzmann wealth agent: walk to a random neighbour, give to a cellmate."""

    def __init__(self, model: "WealthModel", cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.wealth = 1

    def step(self) -> None:
        self.cell = self.cell.neighborhood.select_random_cell()
        if self.wealth > 0:
            others = [a for a in self.cell.agents if a is not self]
            if others:
                self.random.choice(others).wealth += 1
                self.wealth -= 1


class WealthModel(mesa.Model):
    def __init__(self, n: int = 5_000, width: int = 100, height: int = 100, rng=None) -> None:
        super().__init__(rng=rng)
        self.grid = OrthogonalMooreGrid((width, height), torus=True, random=self.random)
        cells = self.random.choices(self.grid.all_cells.cells, k=n)
        WealthAgent.create_agents(self, n, cell=cells)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def reference(seed: int, steps: int = 200) -> float:
    gc.collect()
    t0 = time.perf_counter()
    model = WealthModel(rng=seed)
    for _ in range(steps):
        model.step()
    return time.perf_counter() - t0


SINGLE_RUN = """
import logging, sys
logging.getLogger("MESA").setLevel(logging.WARNING)
from sim.compose import compose
from sim.model import GangViolenceModel, load_config
GangViolenceModel(load_config(compose(sys.argv[1:]))).run()
# VmHWM: this process's own peak (ru_maxrss would also count the parent it was spawned from)
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024)
"""


def single_run_peak_mb(overrides: list[str]) -> float:
    """Peak resident memory of a fresh interpreter that imports the model and runs it once
    (Linux: read from /proc)."""
    done = subprocess.run([sys.executable, "-c", SINGLE_RUN, *overrides], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--scenario", default="historical_2017")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    logging.getLogger("MESA").setLevel(logging.WARNING)
    overrides = [f"scenario={args.scenario}", f"model.scale={args.scale}", "output.figures=false",
                 *args.overrides]
    cfg = load_config(compose(overrides))
    # the budgets: 0.25 s for 2011-2017, twice that for 2011-2024 (issue 13)
    target = 0.25 if args.scenario != "historical" else 0.5
    GangViolenceModel(cfg, rng=0).run()  # warm-up: load the compiled kernels
    setups, runs, refs = [], [], []
    for i in range(args.repeat):
        refs.append(reference(i))
        gc.collect()  # the reference's garbage (cycles of agents and cells) is not ours to collect
        t0 = time.perf_counter()
        model = GangViolenceModel(cfg, rng=i)
        t1 = time.perf_counter()
        df = model.run()
        t2 = time.perf_counter()
        setups.append(t1 - t0)
        runs.append(t2 - t1)
    total = [s + r for s, r in zip(setups, runs)]
    agents, days = len(model.agents), len(df)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "benchmark": "historical_run", "scenario": args.scenario, "scale": args.scale,
        "days": days, "agents": agents,
        "repeat": args.repeat, "setup_s": round(statistics.median(setups), 3),
        "run_s": round(statistics.median(runs), 3),
        "total_s": round(statistics.median(total), 3),
        "total_min_s": round(min(total), 3),
        "mesa_reference_s": round(statistics.median(refs), 3),
        "ratio_reference_over_ours": round(statistics.median(refs) / statistics.median(total), 1),
        "agent_days_per_s": round(agents * days / statistics.median(runs)),
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_mb_single_run": round(single_run_peak_mb(overrides), 1), "python": platform.python_version(),
        "numba": __import__("numba").__version__, "mesa": mesa.__version__,
        "target_total_s": target, "goal_total_s": 0.15 if target == 0.25 else None, "target_peak_mb": 300, "goal_ratio": 20,
    }))


if __name__ == "__main__":
    main()
