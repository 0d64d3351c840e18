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


def preload(*dispatchers) -> int:
    """Load every version of these kernels that numba's cache holds for this source and this
    machine, without running them (sim-run does it while its worker checks the overrides:
    loading the engine takes about 0.2 s that would otherwise come after the check). A
    version the cache does not hold exactly is left to be compiled when first called, as
    usual. Returns how many versions were loaded. Reads numba's cache index (numba is pinned
    in pyproject.toml); anything unexpected there loads nothing."""
    loaded = 0
    for dispatcher in dispatchers:
        try:
            cache = dispatcher._cache
            codegen = dispatcher.targetctx.codegen()
            keys = list(cache._cache_file._load_index())
        except Exception:  # noqa: BLE001 - another numba, no cache: load when called
            continue
        for key in keys:
            args = key[0]  # the argument types
            if key == cache._index_key(args, codegen) and tuple(args) not in dispatcher.overloads:
                dispatcher.compile(tuple(args))
                loaded += 1
    return loaded
