"""The 2018-2024 run by year, as a table: what the model says happened after the seed articles.

    sim-run scenario=historical hydra.run.dir=results/history_2024
    python -m sim.inputs results/history_2024          # arrests and prisoners against their inputs
    python experiments/history_2024/summarize.py [results/history_2024]

Reads the run's timeseries.csv and fit.json (for the scale) and writes by_year.md beside them:
national units, one run (its seed), default parameters. Homicides after 2017 are the model's
forecast from mechanisms fitted to 2011-2017; the project holds no figure of them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from sim.io import write_text

SUMS = ("homicides", "homicides_true", "hidden", "excluded_security", "excluded_gang_members",
        "arrests", "arrests_non_members", "deaths_in_custody")
STOCKS = ("prison_population", "gang_members_street", "territory_state", "cliques_active")


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/history_2024")
    df = pd.read_csv(folder / "timeseries.csv")
    scale = json.loads((folder / "fit.json").read_text())["scale"]
    year = df.date.str[:4]
    table = df.groupby(year)[list(SUMS)].sum().join(df.groupby(year)[list(STOCKS)].last()
                                                     .add_suffix(" (31 Dec)")) / scale
    table = table.loc["2017":]
    head = "| year | " + " | ".join(table.columns) + " |"
    lines = [head, "|" + "---|" * (len(table.columns) + 1)]
    lines += [f"| {y} | " + " | ".join(f"{v:,.0f}" for v in row) + " |" for y, row in table.iterrows()]
    text = (f"`python experiments/history_2024/summarize.py {folder}`: one run of `historical` "
            f"(seed and parameters in {folder}/.hydra or run.log), national units. `homicides` is the "
            "official count under the rule of each day; homicides after 2017 are a blind forecast "
            "(the project holds no figure of them); one seed, so no interval.\n\n" + "\n".join(lines) + "\n")
    write_text(folder / "by_year.md", text)
    print(text)


if __name__ == "__main__":
    main()
