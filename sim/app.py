"""sim-app: serve the dashboard (sim/dashboard.py) on localhost with solara.

    sim-app                 # http://127.0.0.1:8765
    sim-app --port 8800     # another port (0: a free one)
    python -m sim.app --host 0.0.0.0 --port 8800

The page's browser-side files are unpacked from the npm registry into solara's asset cache at
install time (`make` runs `python -m sim.app_assets`; needs `npm`), so the page works without
a CDN and nothing is downloaded when the dashboard runs.
"""

from __future__ import annotations

import argparse
import os
import sys

PAGE = "sim.dashboard:Page"


def solara_args(port: int, host: str) -> list[str]:
    """Arguments of `solara run` for the dashboard: production mode (no auto-restart, no
    file watching), no browser, no version check against PyPI."""
    return ["run", PAGE, "--port", str(port), "--host", host, "--production", "--no-open",
            "--no-check-version"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="sim-app", description="Serve the dashboard: watch a run, change the policy while "
                                    "it runs (a small model by default).")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    args = parser.parse_args(argv)
    # no usage statistics sent from a local dashboard (read when solara is imported)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from sim import app_assets
    absent = app_assets.missing()
    if absent:  # fetched at install time, never at run time
        print(f"sim-app: the page's scripts are not installed ({', '.join(absent)}); "
              "run `python -m sim.app_assets` (make does it) first", file=sys.stderr)
        sys.exit(2)
    from solara.__main__ import cli
    sys.exit(cli(solara_args(args.port, args.host), prog_name="sim-app"))


if __name__ == "__main__":
    main()
