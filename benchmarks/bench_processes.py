"""Time each compiled daily process of a national run on one day's state; print one JSON line.

    python benchmarks/bench_processes.py [--date 2012-09-01] [--calls 2000] [--scenario historical_2017]

Runs the national model up to `--date` (the default falls in the truce, when leaders' orders,
hidden bodies and habits are all at work), then calls each process of sim/mechanisms.py, the
whole day of sim/engine.py and the territory's resolution (every 28 days: its cost is shown per
day) `--calls` times in a compiled loop, on that state, the best of three such loops.
Repeated calls move the state a little (the processes update their memories); the costs are those of a day like that one, not an
average over the run. Microseconds per call, largest first. Where the day's time goes inside the
engine, which the profilers of Python do not see.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time

import numpy as np
from numba import njit

from sim import engine, territory
from sim import mechanisms as M
from sim.compose import compose
from sim.model import GangViolenceModel, load_config

# process -> its call on the engine's state (C, L, G, V, S, T, P, lv, rng, E) and `out`, a row
CALLS = {
    "day (all of them, step 7: a weekly settlement)": "engine.day(C, L, G, V, S, T, P, lv, rng, E, out, 7)",
    "leader_orders": "M.leader_orders(C, L, P, lv)",
    "ceasefire_norm": "M.ceasefire_norm(C, G, P, lv)",
    "aggression": "M.aggression(C, P)",
    "border_killings": "M.border_killings(C, T, P, rng, E)",
    "security_operations": "M.security_operations(C, S, P, lv, rng, E)",
    "mass_arrests": "M.mass_arrests(C, V, P, lv, rng, E)",
    "attacks_on_security": "M.attacks_on_security(C, G, S, P, rng)",
    "civilian_killings": "M.civilian_killings(C, V, P, rng, E)",
    "economy": "M.economy(C, V, P, rng, E)",
    "prison_releases": "M.prison_releases(C, V, P, lv, rng, E)",
    "custody_deaths": "M.custody_deaths(C, V, P, rng, E)",
    "update_feelings": "M.update_feelings(C, P, E)",
    "hidden_bodies": "M.hidden_bodies(C, P, rng, E, True)",
    "campaigns": "M.campaigns(C, G, P, rng, E)",
    "flight (a day without settlement)": "M.flight(C, V, P, rng, E, 1)",
    "flight (a settlement day)": "M.flight(C, V, P, rng, E, 7)",
    "update_presence (after redeployments)": "M.update_presence(C, S, T, V, P)",
    "territory.resolve (per day of its period)": "territory.resolve(C, V, S, T, P, lv, rng)",
}


def _loop(call: str):
    """A compiled loop of `calls` calls (compiled once per process timed)."""
    namespace = {"M": M, "engine": engine, "territory": territory}
    exec(f"def repeat(C, L, G, V, S, T, P, lv, rng, E, out, calls):\n"
         f"    for _ in range(calls):\n        {call}\n", namespace)
    return njit(namespace["repeat"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--date", default="2012-09-01")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--scenario", default="historical_2017")
    args = ap.parse_args()
    logging.getLogger("MESA").setLevel(logging.WARNING)
    model = GangViolenceModel(load_config(compose([f"scenario={args.scenario}",
                                                   "output.figures=false"])), rng=0)
    until = dt.date.fromisoformat(args.date)
    while model.running and model.date < until:
        model.step()
    state = model._engine_state()
    out = np.zeros(len(engine.SERIES))
    costs = {}
    for name, call in CALLS.items():
        repeat = _loop(call)
        periodic = "resolve" in name  # once every territory.PERIOD days: fewer calls, cost per day
        calls = max(args.calls // 100, 1) if periodic else args.calls
        repeat(*state, out, 1)  # compile
        best = float("inf")
        for _ in range(3):  # best of three: a burst of other load inflates one, rarely all
            t0 = time.perf_counter()
            repeat(*state, out, calls)
            best = min(best, time.perf_counter() - t0)
        per_call = best / calls * 1e6
        costs[name] = round(per_call / (territory.PERIOD if periodic else 1), 2)
    print(json.dumps({"benchmark": "processes", "scenario": args.scenario, "date": args.date,
                      "cliques_active": int((model.cliques.street > 0).sum()),
                      "clique_slots": len(model.cliques.street),
                      "microseconds_per_call": dict(sorted(costs.items(), key=lambda kv: -kv[1]))}))


if __name__ == "__main__":
    main()
