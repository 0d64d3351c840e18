"""Which parameters have no effect on the history: each numeric parameter of the model, moved
inside its accepted range, with everything else (seed included) as in the default run.

    python experiments/no_effect/find.py [--scale 0.05] [--scenario historical]

A parameter whose move leaves the daily series byte for byte unchanged enters no computation
of the run (its mechanism never acts in that scenario, or its term is multiplied by zero):
docs/ODD.md section 8 flags it. Writes results/no_effect/no_effect.csv (every parameter, its
value, the value tried and whether the series changed) and prints the unchanged ones.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import sys
from pathlib import Path

from tqdm import tqdm

from sim.calibration.space import accepted_range, parameter_fields
from sim.compose import compose
from sim.model import GangViolenceModel

OUT = Path(__file__).resolve().parents[2] / "results" / "no_effect" / "no_effect.csv"
STRUCTURAL = ("population", "landscape")  # they size the set-up: every value changes the run


def moved(value: float, lo: float | None, hi: float | None, integer: bool) -> float:
    """A value inside the accepted range, away from the default: x1.5, or /1.5 near the top."""
    new = value * 1.5 if value != 0 else (0.1 if hi is None or hi > 0.1 else hi / 2)
    if hi is not None and new > hi:
        new = value / 1.5 if value != 0 else hi / 2
    if lo is not None and new < lo:
        new = (lo + value) / 2
    return float(round(new)) if integer and round(new) != value else new


def digest(overrides: list[str]) -> str:
    df = GangViolenceModel(compose(overrides)).run()
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--scenario", default="historical")
    args = ap.parse_args()
    base = [f"scenario={args.scenario}", f"model.scale={args.scale}", "output.figures=false"]
    reference = digest(base)
    defaults = compose(base).model
    rows = []
    todo = [(s, n, f) for s, names in parameter_fields().items() if s not in STRUCTURAL
            for n, f in names.items()]
    for section, name, f in tqdm(todo, desc="parameters", file=sys.stderr):
        value = float(defaults[section][name])
        lo, hi = accepted_range(f)
        integer = f.type in ("int", int)
        new = moved(value, lo, hi, integer)
        tried = int(new) if integer else new
        changed = digest(base + [f"model.{section}.{name}={tried}"]) != reference
        rows.append({"parameter": f"model.{section}.{name}", "value": value, "tried": tried,
                     "changes_the_run": changed})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(OUT)
    unchanged = [r["parameter"] for r in rows if not r["changes_the_run"]]
    print(f"{len(unchanged)} of {len(rows)} parameters leave the {args.scenario} run "
          f"(scale {args.scale}, seed 0) unchanged: {', '.join(unchanged) or 'none'}")


if __name__ == "__main__":
    main()
