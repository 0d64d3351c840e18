"""The dashboard's browser-side files, from the npm registry into solara's asset cache.

A solara page loads its JavaScript app, require.js, Font Awesome and, for the draggable grid
that Mesa's SolaraViz lays its components out on, vue-grid-layout, through the server's
`/_solara/cdn/` route, which serves them from a cache folder (`<venv>/share/solara/cdn/`)
and fills missing ones from a public CDN at run time. Where that CDN is out of reach the
page stays blank. This module reads the exact package versions from the installed solara's
page template and grid widget and unpacks them from the npm registry with `npm pack` (the
files the CDN serves) into that cache, once:

    python -m sim.app_assets          # fetch what is missing; prints what it did
    python -m sim.app_assets --check  # exit 1 if something is missing
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_SPEC = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/")
_GRID = re.compile(r"/(@widgetti/vue-grid-layout@[\w.-]+)/")


def cache_dir() -> Path:
    from solara.server import settings
    return Path(settings.assets.proxy_cache_dir)


def packages() -> list[str]:
    """npm specs (name@version) the installed solara's page and grid widget load."""
    # not solara.server.server: importing it imports solara.server.app, which registers the
    # page to serve only if SOLARA_APP is set by then (sim-app calls this before `solara run`)
    import ipyvue
    import solara
    from solara.server import settings
    package = Path(solara.__file__).parent
    template = (package / "server" / "templates" / "solara.html.j2").read_text()
    vue3 = ipyvue.__version__.startswith("3")  # as solara.server.server decides
    app = "solara-vuetify3-app" if vue3 else "solara-vuetify-app@"
    specs = [s for s in _SPEC.findall(template) if "solara-vuetify" not in s or app in s]
    if settings.assets.fontawesome_enabled:
        specs.append(settings.assets.fontawesome_path.strip("/").split("/")[0])
    for vue in sorted((package / "widgets" / "vue").glob("gridlayout*.vue")):
        specs += _GRID.findall(vue.read_text())
    return list(dict.fromkeys(specs))


def missing() -> list[str]:
    root = cache_dir()
    return [spec for spec in packages() if not (root / spec / "package.json").is_file()]


def fetch(npm: str = "npm") -> list[str]:
    """Unpack every missing package into the cache; returns the specs fetched."""
    todo = missing()
    if not todo:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError(f"{npm!r} not found: install Node.js/npm, or let solara fetch "
                           f"{', '.join(todo)} from its CDN")
    root = cache_dir()
    with tempfile.TemporaryDirectory() as tmp:
        for spec in todo:
            out = subprocess.run([exe, "pack", spec, "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True)
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            staging = Path(tmp) / "unpacked"
            shutil.rmtree(staging, ignore_errors=True)
            with tarfile.open(tarball) as tar:
                tar.extractall(staging, filter="data")
            target = root / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            shutil.move(str(staging / "package"), target)  # npm tarballs hold package/
    return todo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.app_assets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if missing")
    args = parser.parse_args(argv)
    if args.check:
        gone = missing()
        print("missing: " + ", ".join(gone) if gone else f"all present in {cache_dir()}")
        sys.exit(1 if gone else 0)
    done = fetch()
    print(f"fetched {', '.join(done)} into {cache_dir()}" if done
          else f"all present in {cache_dir()}")


if __name__ == "__main__":
    main()
