"""An ensemble's tables on disk: ``runs.parquet`` and ``params.parquet`` (DESIGN.md section 5).

``runs.parquet`` holds one row per replicate and day: ``replicate`` and ``seed`` (int32),
``date`` (a timestamp at midnight, millisecond unit), then every column of the model's daily
table in its order: integer series as int32, real series as float32, ``policies`` dictionary-
encoded (a pandas categorical, with the same categories in every row group). Rows run by
replicate, then date; each row group holds one batch of whole replicates. The file is
ZSTD-compressed.

``params.parquet`` holds one row per replicate: ``replicate``, ``seed`` and every numeric leaf
of the replicate's ``cfg.model`` under its dotted override key (``model.border.kill_rate``),
int64 or float64 by the schema's type (nullable: an unset optional lever stays null), so that a
replicate can be rerun from its row.

Both are written with fastparquet, deterministically: the same replicates in the same batches
give the same bytes (its footer names the fastparquet and pandas versions, nothing of the time
or the path). fastparquet, not pyarrow: pandas imports pyarrow at ``import pandas`` whenever it
is installed, which costs every process of the project its memory and import time; fastparquet
is imported only by code that reads or writes these files.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

RUNS = "runs.parquet"
PARAMS = "params.parquet"
KEYS = ("replicate", "seed", "date")
COMPRESSION = "ZSTD"  # about half the size of SNAPPY; GZIP is a little smaller but slower to write
_INT32 = np.iinfo(np.int32)


class UnreadableTable(ValueError):
    """A runs.parquet that cannot be read (truncated, corrupt, or not parquet at all)."""


def _unreadable() -> tuple[type[BaseException], ...]:
    """What fastparquet raises on a damaged file: a bad footer or page header (OSError,
    UnicodeDecodeError, JSONDecodeError, KeyError, IndexError, EOFError), a bad compressed page
    (cramjam's DecompressionError, RuntimeError)."""
    import cramjam

    return (OSError, ValueError, KeyError, IndexError, EOFError, RuntimeError, cramjam.DecompressionError)


# ---------------------------------------------------------------- runs.parquet


def compact_columns(frame) -> dict[str, np.ndarray]:
    """A model's daily table (``date`` first) as compact arrays, ready to send between processes:
    ``date`` as datetime64[D], integer columns int32, real columns float32, text as objects."""
    out: dict[str, np.ndarray] = {}
    for name in frame.columns:
        column = frame[name]
        kind = column.dtype.kind
        if name == "date":
            out[name] = np.asarray(column.to_numpy(dtype=object), dtype="datetime64[D]")
        elif kind in "iu":
            values = column.to_numpy()
            if len(values) and (values.min() < _INT32.min or values.max() > _INT32.max):
                raise ValueError(f"series {name} exceeds the int32 range of runs.parquet")
            out[name] = values.astype(np.int32)
        elif kind == "b":
            out[name] = column.to_numpy(dtype=bool)
        elif kind == "f":
            out[name] = column.to_numpy().astype(np.float32)
        else:
            out[name] = column.to_numpy(dtype=object)
    return out


class RunsWriter:
    """Streams replicates into runs.parquet, one row group per ``batch`` replicates, so that
    memory holds one batch at a time. The columns, their dtypes and the categories of each text
    column come from the first batch (every replicate of an ensemble runs the same scenario, so
    it has every policy label); a later replicate with other columns, dtypes or labels is an
    error, never a silently different file."""

    def __init__(self, path: str | os.PathLike[str], batch: int) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.path = Path(path)
        self.batch = int(batch)
        self.rows = 0
        self.replicates = 0
        self._pending: list[tuple[int, int, Mapping[str, np.ndarray]]] = []
        self._dtypes: dict[str, np.dtype] | None = None  # date and the series, from the first replicate
        self._categories: dict[str, list[str]] = {}  # of each text column, from the first batch

    def __enter__(self) -> "RunsWriter":
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:  # a failed ensemble: the caller removes the file; nothing is left open
            self.close()

    def add(self, replicate: int, seed: int, columns: Mapping[str, np.ndarray]) -> None:
        dtypes = {name: np.asarray(values).dtype for name, values in columns.items()}
        if self._dtypes is None:
            self._dtypes = dtypes
        if list(dtypes) != list(self._dtypes):
            raise ValueError(f"replicate {replicate}: columns {list(dtypes)} differ from the first "
                             f"replicate's {list(self._dtypes)}")
        changed = [n for n in dtypes if dtypes[n] != self._dtypes[n]]
        if changed:
            raise ValueError(f"replicate {replicate}: column {changed[0]} is {dtypes[changed[0]]}, "
                             f"the first replicate's {self._dtypes[changed[0]]}")
        self._pending.append((int(replicate), int(seed), columns))
        if len(self._pending) >= self.batch:
            self._flush()

    def _frame(self):
        import pandas as pd

        lengths = [len(c["date"]) for _, _, c in self._pending]
        data = {
            "replicate": np.repeat([r for r, _, _ in self._pending], lengths).astype(np.int32),
            "seed": np.repeat([s for _, s, _ in self._pending], lengths).astype(np.int32),
        }
        for name, dtype in self._dtypes.items():
            values = np.concatenate([c[name] for _, _, c in self._pending])
            if name == "date":
                data[name] = values.astype("datetime64[ms]")  # fastparquet has no date type: midnight
            elif dtype == object:
                categories = self._categories.setdefault(name, sorted(set(values)))
                codes = pd.Index(categories).get_indexer(values)
                if (codes < 0).any():  # a label the first batch did not have
                    raise ValueError(f"column {name}: value {values[codes < 0][0]!r} is not among the "
                                     f"first batch's {categories}")
                data[name] = pd.Categorical.from_codes(codes, categories=categories)
            else:
                data[name] = values
        return pd.DataFrame(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        import fastparquet

        frame = self._frame()
        # one call, one row group; later calls append it and rewrite the footer
        fastparquet.write(str(self.path), frame, row_group_offsets=[0], compression=COMPRESSION,
                          write_index=False, has_nulls=False, append=self.rows > 0)
        self.rows += len(frame)
        self.replicates += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        if not self.rows:
            raise ValueError("no replicate was added; runs.parquet would be empty")


def _open(path: str | os.PathLike[str]):
    import fastparquet

    try:
        return fastparquet.ParquetFile(str(path))
    except _unreadable() as exc:
        raise UnreadableTable(f"{type(exc).__name__}: {exc}") from None


def runs_columns(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a runs.parquet file."""
    return list(_open(path).columns)


def iter_replicates(
    path: str | os.PathLike[str], columns: Sequence[str]
) -> Iterator[tuple[int, int, np.ndarray, dict[str, np.ndarray]]]:
    """``(replicate, seed, days, {column: values})`` for each replicate of a runs.parquet file,
    in file order, reading one row group at a time. ``days`` is datetime64[D]; values keep the
    file's dtype (text columns as objects). Raises UnreadableTable (a ValueError) if the file is
    damaged, ValueError if a replicate's rows are split or a value is missing."""
    file = _open(path)
    wanted = ["replicate", "seed", "date", *[c for c in dict.fromkeys(columns) if c not in KEYS]]
    absent = [c for c in wanted if c not in file.columns]
    if absent:
        raise ValueError(f"no column {', '.join(absent)}")
    carry: dict[str, np.ndarray] | None = None
    seen: set[int] = set()

    def pieces(chunk: dict[str, np.ndarray], final: bool):
        ids = chunk["replicate"]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(ids)) + 1, [len(ids)]))
        last = len(starts) - 1 if final else len(starts) - 2  # the last one may go on
        for k in range(last):
            i, j = starts[k], starts[k + 1]
            replicate = int(ids[i])
            if replicate in seen:
                raise ValueError(f"replicate {replicate}'s rows are not contiguous")
            seen.add(replicate)
            yield (replicate, int(chunk["seed"][i]), chunk["date"][i:j],
                   {c: chunk[c][i:j] for c in wanted[3:]})
        rest = None if final else {c: v[starts[last]:] for c, v in chunk.items()}
        return rest

    groups = file.iter_row_groups(columns=wanted)
    while True:
        try:
            table = next(groups, None)
        except _unreadable() as exc:
            raise UnreadableTable(f"{type(exc).__name__}: {exc}") from None
        if table is None:
            break
        chunk = {c: _numpy(table[c], c) for c in wanted}
        if carry is not None:
            chunk = {c: np.concatenate([carry[c], chunk[c]]) for c in wanted}
        if not len(chunk["replicate"]):
            continue
        carry = yield from pieces(chunk, final=False)
    if carry is not None and len(carry["replicate"]):
        yield from pieces(carry, final=True)


def _numpy(column, name: str) -> np.ndarray:
    """A column of a row group as numpy; NaN in a real series is a value, any other gap is not."""
    if column.dtype.kind != "f" and column.isna().any():
        raise ValueError(f"missing values in column {name}")
    if column.dtype.kind == "M":
        return column.to_numpy().astype("datetime64[D]")
    if column.dtype.kind in "biuf":
        return column.to_numpy()
    return column.to_numpy(dtype=object)  # text (categorical or strings)


# ---------------------------------------------------------------- params.parquet


def _numeric_type(hint: Any) -> type | None:
    """int or float for a field annotated int, float or Optional of them; None otherwise."""
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else None
    return hint if hint in (int, float) else None  # bool is not numeric here


def numeric_leaves(node: Any, prefix: str = "model") -> dict[str, tuple[type, Any]]:
    """Every numeric leaf of a dataclass config: dotted key -> (int or float, value), in field
    order. The set of keys depends on the schema only, never on the values (None stays)."""
    out: dict[str, tuple[type, Any]] = {}
    hints = typing.get_type_hints(type(node))
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}.{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(numeric_leaves(value, key))
            continue
        kind = _numeric_type(hints.get(f.name))
        if kind is not None:
            out[key] = (kind, value)
    return out


def write_params(path: str | os.PathLike[str], rows: Sequence[tuple[int, int, Mapping[str, tuple[type, Any]]]]) -> None:
    """params.parquet from ``(replicate, seed, numeric_leaves(cfg.model))`` per replicate."""
    import fastparquet
    import pandas as pd

    if not rows:
        raise ValueError("no replicate; params.parquet would be empty")
    keys = list(rows[0][2])
    data: dict[str, Any] = {"replicate": np.array([r for r, _, _ in rows], dtype=np.int32),
                            "seed": np.array([s for _, s, _ in rows], dtype=np.int32)}
    for key in keys:
        kind = "Int64" if rows[0][2][key][0] is int else "Float64"  # nullable: None stays null
        data[key] = pd.array([leaves[key][1] for _, _, leaves in rows], dtype=kind)
    fastparquet.write(str(path), pd.DataFrame(data), compression=COMPRESSION, write_index=False,
                      has_nulls=keys)


def read_params(path: str | os.PathLike[str]):
    """params.parquet as a pandas DataFrame, one row per replicate."""
    return _open(path).to_pandas()
