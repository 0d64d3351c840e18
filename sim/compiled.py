"""Where numba keeps the compiled processes, keyed by the source of every compiled module.

numba checks a cached function against its own file only: a kernel in sim/engine.py that calls
a process of sim/mechanisms.py would keep running the old process after mechanisms.py changed.
The cache therefore lives in a folder named after a digest of all the compiled modules'
sources, so that any change to any of them compiles everything anew. Each compiled module
compiles its functions with `kernel` below, which sets that folder first.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba import njit
from numba.core import config

COMPILED = ("compiled.py", "draws.py", "mechanisms.py", "engine.py", "landscape.py",
            "territory.py", "state.py")


def cache_dir() -> Path:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in COMPILED:
        digest.update((here / name).read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "elsalvador-gang-sim" / "numba" / digest.hexdigest()[:16]


if not os.environ.get("NUMBA_CACHE_DIR"):  # a user's own choice wins
    config.CACHE_DIR = str(cache_dir())


def kernel(function):
    """Compile a process or helper: cached in the folder above; division by zero gives inf or
    nan as in numpy, not a Python exception (every division is guarded, and numba's checks
    for the exception cost a fifth of the run)."""
    return njit(cache=True, error_model="numpy")(function)
