"""Which parameters a Morris screening resolved: the list a calibration frees.

    python -m sim.sensitivity.resolved results/sensitivity/sources

A parameter is *resolved* on an output when its mu* less the half-width of its 95 %
bootstrap interval (mu_star_conf) exceeds the output's noise floor (the change that seed noise
alone makes): its effect is then not noise at the screening's resolution. Unresolved is not
"no effect": with few trajectories over wide priors, mu*'s interval is wide. Reads morris.csv
of an analysis folder, writes resolved.csv there (parameter, the loss outputs it is resolved
on) and prints it. The loss outputs are `loss` and the losses of one kind of target.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.io import write_csv


def resolved(morris: pd.DataFrame, outputs: list[str] | None = None) -> pd.DataFrame:
    """parameter -> the outputs (default: the loss outputs) it is resolved on, most first."""
    outputs = outputs or [o for o in dict.fromkeys(morris.output) if o == "loss" or o.startswith("loss_")]
    hits: dict[str, list[str]] = {}
    for out in outputs:
        rows = morris[morris.output == out]
        for r in rows[rows.mu_star - rows.mu_star_conf > rows.noise_floor].itertuples():
            hits.setdefault(r.parameter, []).append(out)
    table = pd.DataFrame({"parameter": list(hits), "resolved_on": [";".join(v) for v in hits.values()],
                          "outputs": [len(v) for v in hits.values()]})
    return table.sort_values(["outputs", "parameter"], ascending=[False, True], kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / "morris.csv").is_file():
        print("usage: python -m sim.sensitivity.resolved <analysis folder with morris.csv>", file=sys.stderr)
        return 2
    folder = Path(args[0])
    table = resolved(pd.read_csv(folder / "morris.csv"))
    write_csv(table, folder / "resolved.csv")
    print(table.to_string(index=False))
    print(f"{len(table)} parameters resolved; written to {folder / 'resolved.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
