"""Put a hold-out calibration's scores into README.md, between the HOLDOUT markers.

    python -m sim.calibration.holdout_readme results/calibration/holdout_blind_2016

The block is made from the calibration's own summary.json and holdout.md (written by
sim-calibrate with ``holdout.after``), so the README shows the scores as they were measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.io import block_command

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN HOLDOUT (python -m sim.calibration.holdout_readme; do not edit) -->"
END = "<!-- END HOLDOUT -->"


def block(folder: Path) -> str:
    """The README's hold-out block for the calibration in `folder`."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if not summary.get("holdout"):
        raise SystemExit(f"{folder / 'summary.json'}: no hold-out; accepted: a calibration run with holdout.after")
    lines = (folder / "holdout.md").read_text(encoding="utf-8").splitlines()
    body = lines[1:]  # its title is the README's section heading
    while body and not body[0].strip():
        body.pop(0)
    h = summary["holdout"]
    shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
    head = (f"Calibration `{summary['name']}` (`{shown}/`): "
            f"{summary['method']}, {summary['evaluations']:,} evaluations of {summary['seeds_per_trial']} "
            f"national runs in {summary['elapsed_s'] / 60:.0f} min, fitted to the figures that end before "
            f"{summary['holdout_after']}; {len(h['held_out'])} held-out figures forecast by "
            f"{summary['ensemble']} runs, each at its own posterior draw and seed (the intervals carry "
            f"parameter and seed uncertainty together). Errors, interval scores and CRPS are relative to "
            f"the reported value.")
    return head + "\n\n" + "\n".join(body).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args(argv)
    folder = args.folder.resolve()
    return block_command(args.readme, BEGIN, END, lambda: block(folder),
                         f"{args.readme}: hold-out block from {folder}")


if __name__ == "__main__":
    raise SystemExit(main())
