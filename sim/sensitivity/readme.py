"""Put Sobol analyses into README.md, between the SOBOL markers: per output, which parameters
have a resolved effect and which do not.

    python -m sim.sensitivity.readme results/sensitivity/sobol_record results/sensitivity/sobol_answers

Each row is read from the analysis' own sobol.csv and summary.json (written by
sim-sensitivity). An index is resolved when its 95 % interval is narrower than itself (the
analysis' S1_resolved / ST_resolved). Seed noise enters every total index as if it were an
interaction (about its share of the output's variance), so a resolved ST no larger than that
share is listed apart, as at the noise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from sim.io import block_command

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN SOBOL (python -m sim.sensitivity.readme; do not edit) -->"
END = "<!-- END SOBOL -->"


def _names(rows: pd.DataFrame, column: str) -> str:
    rows = rows.sort_values(column, ascending=False)
    return ", ".join(f"`{r.parameter}` {r[column]:.2g}" for _, r in rows.iterrows()) or "none"


def rows(folder: Path) -> list[str]:
    """One markdown row per output of the analysis in `folder`."""
    sobol = pd.read_csv(folder / "sobol.csv")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    share = (summary.get("noise") or {}).get("share_of_sobol_variance") or {}
    out = []
    for output, group in sobol.groupby("output", sort=False):
        noise = share.get(output)
        st = group[group.ST_resolved.astype(bool)]
        above = st[st.ST > (noise or 0.0)]
        at_noise = st[st.ST <= (noise or 0.0)]
        s1 = group[group.S1_resolved.astype(bool)]
        unresolved = group[~group.ST_resolved.astype(bool)]
        out.append(f"| {summary['name']} | `{output}` | "
                   f"{'-' if noise is None else f'{noise:.2f}'} | {_names(above, 'ST')} | "
                   f"{_names(s1, 'S1')} | {len(at_noise)} | {len(unresolved)} |")
    return out


def block(folders: list[Path]) -> str:
    lines = ["| analysis | output | seed noise (share of variance) | ST resolved, above the noise | "
             "S1 resolved | ST resolved, at the noise | ST unresolved |",
             "|---|---|---|---|---|---|---|"]
    for folder in folders:
        lines += rows(folder)
    notes = []
    spread = []
    for folder in folders:
        s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        runs = pd.read_csv(folder / "runs_sobol.csv") if (folder / "runs_sobol.csv").exists() else None
        for name, answer in (s.get("answers") or {}).items():
            if runs is None or name not in runs:
                continue
            q05, q50, q95 = runs[name].quantile([0.05, 0.5, 0.95])
            shown = (lambda v: f"{100 * v:+.0f}%") if answer.get("relative") else (lambda v: f"{v:+,.0f}")
            spread.append(f"`{name}` ({answer['scenario']}, {answer['start']}..{answer['end']}) over the "
                          f"Sobol samples: median {shown(q50)}, 5-95% {shown(q05)} to {shown(q95)}")
        notes.append(f"`{s['name']}`: {s['runs']:,} national runs in {s['elapsed_seconds'] / 60:.0f} min, "
                     f"n = {s['sobol']['n']}, {len(s['parameters'])} parameters")
    text = "\n".join(lines) + "\n\n" + "; ".join(notes) + ".\n"
    return text + ("\n" + "; ".join(spread) + ".\n" if spread else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args(argv)
    for folder in args.folders:
        if not (folder / "sobol.csv").exists():
            print(f"{folder}: no sobol.csv; accepted: a sim-sensitivity folder with a Sobol stage",
                  file=sys.stderr)
            return 2
    return block_command(args.readme, BEGIN, END, lambda: block(args.folders),
                         f"{args.readme}: Sobol block from {', '.join(map(str, args.folders))}")


if __name__ == "__main__":
    raise SystemExit(main())
