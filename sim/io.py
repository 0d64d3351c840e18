"""Writing outputs so that an interrupted run leaves complete files or none.

Every file the package writes goes through here: a temporary file (or folder) next to the
target, renamed into place only once it is complete. The temporary file is created with the
usual mode (0o666 less the umask), so a finished output is readable like any other file.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator


def _sibling(path: Path, tag: str) -> Path:
    """A hidden, unique name in the target's folder (so the final rename stays on one disk)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.{tag}{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds."""
    path = Path(path)
    tmp = _sibling(path, "tmp")
    # Created here (exclusively, with the umask applied), then filled by whoever writes to it.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder next to `path`; if the block succeeds it replaces `path` whole
    (a previous folder of that name is removed), otherwise it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = _sibling(path, "partial")
    stage.mkdir()
    try:
        yield stage
        old = None
        if path.exists():
            old = _sibling(path, "old")
            os.replace(path, old)
        os.replace(stage, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def replace_block(text: str, begin: str, end: str, block: str) -> str | None:
    """`text` with what lies between the markers `begin` and `end` replaced by `block` (a
    generated table in a hand-written page); None when the markers are missing."""
    if begin not in text:
        return None
    head, rest = text.split(begin, 1)
    if end not in rest:
        return None
    return f"{head}{begin}\n{block}{end}{rest.split(end, 1)[1]}"


class MissingMarkers(ValueError):
    """A page without the markers of its generated block (the message is one line)."""


def write_block(path: str | os.PathLike[str], begin: str, end: str, block: str) -> None:
    """Replace the block between the markers of the file at `path` (replace_block); raises
    MissingMarkers, the file untouched, when they are missing."""
    text = replace_block(Path(path).read_text(encoding="utf-8"), begin, end, block)
    if text is None:
        raise MissingMarkers(f"{path}: the markers {begin!r} and {end!r} are missing")
    write_text(path, text)


def block_command(path: str | os.PathLike[str], begin: str, end: str, make: Callable[[], str],
                  done: str) -> int:
    """A command that writes one generated block (python -m sim.calibration.holdout_readme,
    python -m sim.sensitivity.readme): the block made and written, `done` printed, 0; a page
    without the markers, one line on stderr and 2, the page untouched."""
    try:
        write_block(path, begin, end, make())
    except MissingMarkers as exc:
        print(exc, file=sys.stderr)
        return 2
    print(done)
    return 0


def write_csv(df, path: str | os.PathLike[str], **options: Any) -> None:
    """A DataFrame as CSV without its index, '\\n' line ends (the same bytes on every system)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", **options)


def save_figure(fig, path: str | os.PathLike[str], dpi: int) -> None:
    """Save a matplotlib figure atomically and free it. No Software tag: the PNG bytes then
    depend on the data only, not on the matplotlib version."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=(path.suffix or ".png").lstrip("."),
                        metadata={"Software": None})
    finally:
        fig.clear()
