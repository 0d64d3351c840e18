"""Which parameters a Morris screening resolved: the list a calibration frees.

    python -m sim.sensitivity.resolved results/sensitivity/sources [--top 16]

A parameter is *resolved* on an output when its mu* less the half-width of its bootstrap
interval exceeds the output's noise floor (the change that seed noise alone makes): its effect
is then not noise at the screening's resolution. The interval is SALib's 95 % one
(mu_star_conf) widened for the number of tests (Bonferroni: parameters x loss outputs), so
that the whole list, not each entry, errs with probability about 5 %. Unresolved is not
"no effect": with few trajectories over wide priors, mu*'s interval is wide. Reads morris.csv
of an analysis folder, writes resolved.csv there (parameter, the loss outputs it is resolved
on) and prints it. The loss outputs are `loss` and the losses of one kind of target.

With `--top N` it also writes free.csv: the parameters a calibration frees, the N ranked first
by their largest mu*/max over the loss outputs (Morris as a ranking, its first use) together
with every resolved one. A screening of few trajectories on a noisy model resolves little;
ranking keeps the parameters that probably matter free rather than fixed at prior medians.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.io import write_csv


def widening(tests: int, level: float = 0.05) -> float:
    """Factor on a 95 % half-width that makes `tests` intervals hold together at `level`."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - level / (2 * max(tests, 1))) / NormalDist().inv_cdf(0.975)


def resolved(morris: pd.DataFrame, outputs: list[str] | None = None) -> pd.DataFrame:
    """parameter -> the outputs (default: the loss outputs) it is resolved on, most first."""
    outputs = outputs or [o for o in dict.fromkeys(morris.output) if o == "loss" or o.startswith("loss_")]
    factor = widening(morris[morris.output.isin(outputs)].shape[0])
    hits: dict[str, list[str]] = {}
    for out in outputs:
        rows = morris[morris.output == out]
        for r in rows[rows.mu_star - factor * rows.mu_star_conf > rows.noise_floor].itertuples():
            hits.setdefault(r.parameter, []).append(out)
    table = pd.DataFrame({"parameter": list(hits), "resolved_on": [";".join(v) for v in hits.values()],
                          "outputs": [len(v) for v in hits.values()]})
    return table.sort_values(["outputs", "parameter"], ascending=[False, True], kind="stable").reset_index(drop=True)


def ranked(morris: pd.DataFrame, top: int, outputs: list[str] | None = None) -> pd.DataFrame:
    """The `top` parameters by their largest mu*/max over the (loss) outputs, and the resolved
    ones after them: parameter, score, resolved_on."""
    outputs = outputs or [o for o in dict.fromkeys(morris.output) if o == "loss" or o.startswith("loss_")]
    score = (morris[morris.output.isin(outputs)].groupby("parameter", sort=False).mu_star_norm.max()
             .sort_values(ascending=False, kind="stable"))
    found = resolved(morris, outputs).set_index("parameter")["resolved_on"]
    chosen = list(score.index[:top]) + [p for p in found.index if p not in set(score.index[:top])]
    return pd.DataFrame({"parameter": chosen, "score": [float(score[p]) for p in chosen],
                         "resolved_on": [found.get(p, "") for p in chosen]})


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    top = None
    if "--top" in args:
        k = args.index("--top")
        try:
            top = int(args[k + 1])
        except (IndexError, ValueError):
            top = -1
        del args[k:k + 2]
    if len(args) != 1 or not (Path(args[0]) / "morris.csv").is_file() or (top is not None and top < 1):
        print("usage: python -m sim.sensitivity.resolved <analysis folder with morris.csv> [--top N >= 1]",
              file=sys.stderr)
        return 2
    folder = Path(args[0])
    morris = pd.read_csv(folder / "morris.csv")
    table = resolved(morris)
    write_csv(table, folder / "resolved.csv")
    print(table.to_string(index=False))
    print(f"{len(table)} parameters resolved; written to {folder / 'resolved.csv'}")
    if top is not None:
        free = ranked(morris, top)
        write_csv(free, folder / "free.csv")
        print(f"{len(free)} parameters to free (top {top} by mu*/max and the resolved); written to {folder / 'free.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
