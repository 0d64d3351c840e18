"""Put the blind forecasts' annual official homicides into README.md, between the FORECASTS markers.

    python experiments/forecast_2018_2024/readme.py results/forecast_2018_2024 \
        results/forecast_2018_2024_refit [--readme README.md]

One row per forecast folder (as forecast.py wrote it: annual.csv and forecast.json), in the
order given: the date it was made, its posterior and commit, and per year the median with the
5-95% range of official homicides over its runs. A folder without those files, or a README
without the markers, is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sim.io import block_command  # noqa: E402

BEGIN = "<!-- BEGIN FORECASTS (python experiments/forecast_2018_2024/readme.py; do not edit) -->"
END = "<!-- END FORECASTS -->"


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def block(folders: list[Path]) -> str:
    rows = []
    years: list[int] = []
    for folder in folders:
        meta = json.loads((folder / "forecast.json").read_text())
        annual = pd.read_csv(folder / "annual.csv")
        homicides = annual[annual.series == "homicides"].set_index("year")
        years = list(homicides.index)
        cells = [f"{_fmt(r.q50)} ({_fmt(r.q05)}-{_fmt(r.q95)})" for r in homicides.itertuples()]
        label = (f"[{meta['made']}]({folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}/README.md), "
                 f"posterior `{meta['posterior']}`, commit {meta['commit'][:7]}, {meta['n']} runs")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    head = "| forecast | " + " | ".join(str(y) for y in years) + " |\n"
    head += "|---|" + "---|" * len(years) + "\n"
    return head + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args(argv)
    folders = [f.resolve() for f in args.folders]
    for folder in folders:
        if not (folder / "annual.csv").exists() or not (folder / "forecast.json").exists():
            print(f"{folder}: no annual.csv and forecast.json; accepted: a folder forecast.py "
                  "wrote", file=sys.stderr)
            return 2
    return block_command(args.readme, BEGIN, END, lambda: block(folders),
                         f"{args.readme}: forecasts block from {', '.join(map(str, args.folders))}")


if __name__ == "__main__":
    raise SystemExit(main())
