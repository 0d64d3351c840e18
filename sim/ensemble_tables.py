"""An ensemble's tables on disk: ``runs.parquet`` and ``params.parquet`` (DESIGN.md section 5).

``runs.parquet`` holds one row per replicate and day: ``replicate`` and ``seed`` (int32),
``date`` (date32), then every column of the model's daily table in its order: integer series
as int32, real series as float32, ``policies`` dictionary-encoded. Rows run by replicate, then
date; each row group holds one batch of whole replicates. The file is zstd-compressed.

``params.parquet`` holds one row per replicate: ``replicate``, ``seed`` and every numeric leaf
of the replicate's ``cfg.model`` under its dotted override key (``model.border.kill_rate``),
int64 or float64 by the schema's type, so that a replicate can be rerun from its row.

Both are written with pyarrow, deterministically: the same replicates in the same batches give
the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

RUNS = "runs.parquet"
PARAMS = "params.parquet"
KEYS = ("replicate", "seed", "date")
COMPRESSION = "zstd"
_INT32 = np.iinfo(np.int32)
_TEXT = pa.dictionary(pa.int32(), pa.string())


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


def _schema(columns: Mapping[str, np.ndarray]) -> pa.Schema:
    """The file's schema, from the first replicate's columns."""
    fields = [pa.field("replicate", pa.int32(), nullable=False), pa.field("seed", pa.int32(), nullable=False),
              pa.field("date", pa.date32(), nullable=False)]
    for name, values in columns.items():
        if name == "date":
            continue
        if values.dtype == object:
            kind = _TEXT
        else:
            kind = pa.from_numpy_dtype(values.dtype)
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


class RunsWriter:
    """Streams replicates into runs.parquet, one row group per ``batch`` replicates, so that
    memory holds one batch at a time. The schema comes from the first replicate; a later one
    with other columns is an error."""

    def __init__(self, path: str | os.PathLike[str], batch: int) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.path = Path(path)
        self.batch = int(batch)
        self.rows = 0
        self.replicates = 0
        self._pending: list[tuple[int, int, Mapping[str, np.ndarray]]] = []
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> "RunsWriter":
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.close()
        elif self._writer is not None:  # a failed ensemble: the caller removes the file
            self._writer.close()
            self._writer = None

    def add(self, replicate: int, seed: int, columns: Mapping[str, np.ndarray]) -> None:
        if self._schema is None:
            self._schema = _schema(columns)
        names = [f.name for f in self._schema][len(KEYS) - 1:]  # date and the series
        if list(columns) != names:
            raise ValueError(f"replicate {replicate}: columns {list(columns)} differ from the first "
                             f"replicate's {names}")
        self._pending.append((int(replicate), int(seed), columns))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        schema = self._schema
        lengths = [len(c["date"]) for _, _, c in self._pending]
        arrays = [
            pa.array(np.repeat([r for r, _, _ in self._pending], lengths).astype(np.int32), pa.int32()),
            pa.array(np.repeat([s for _, s, _ in self._pending], lengths).astype(np.int32), pa.int32()),
        ]
        for field in schema:
            if field.name in ("replicate", "seed"):
                continue
            values = np.concatenate([c[field.name] for _, _, c in self._pending])
            if field.type == _TEXT:
                arrays.append(pa.array(values, pa.string()).dictionary_encode())
            else:
                arrays.append(pa.array(values, field.type))  # safe cast: a lossy one raises
        table = pa.Table.from_arrays(arrays, schema=schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, schema, compression=COMPRESSION)
        self._writer.write_table(table, row_group_size=len(table))
        self.rows += len(table)
        self.replicates += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        if self._writer is None:
            raise ValueError("no replicate was added; runs.parquet would be empty")
        self._writer.close()
        self._writer = None


def runs_columns(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a runs.parquet file."""
    return list(pq.read_schema(path).names)


def iter_replicates(
    path: str | os.PathLike[str], columns: Sequence[str]
) -> Iterator[tuple[int, int, np.ndarray, dict[str, np.ndarray]]]:
    """``(replicate, seed, days, {column: values})`` for each replicate of a runs.parquet file,
    in file order, reading one row group at a time. ``days`` is datetime64[D]; values keep the
    file's dtype (text columns as objects). Raises ValueError if a replicate's rows are split."""
    file = pq.ParquetFile(path)
    wanted = ["replicate", "seed", "date", *[c for c in dict.fromkeys(columns) if c not in KEYS]]
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

    for g in range(file.num_row_groups):
        table = file.read_row_group(g, columns=wanted)
        chunk = {c: _numpy(table.column(c), c) for c in wanted}
        if carry is not None:
            chunk = {c: np.concatenate([carry[c], chunk[c]]) for c in wanted}
        if not len(chunk["replicate"]):
            continue
        carry = yield from pieces(chunk, final=False)
    if carry is not None and len(carry["replicate"]):
        yield from pieces(carry, final=True)


def _numpy(column: pa.ChunkedArray, name: str) -> np.ndarray:
    if column.null_count:
        raise ValueError(f"missing values in column {name}")
    if pa.types.is_dictionary(column.type) or pa.types.is_string(column.type):
        return column.to_numpy().astype(object)
    if pa.types.is_date32(column.type):
        return column.to_numpy().astype("datetime64[D]")
    return column.to_numpy()


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
    if not rows:
        raise ValueError("no replicate; params.parquet would be empty")
    keys = list(rows[0][2])
    fields = [pa.field("replicate", pa.int32(), nullable=False), pa.field("seed", pa.int32(), nullable=False)]
    fields += [pa.field(k, pa.int64() if rows[0][2][k][0] is int else pa.float64()) for k in keys]
    data: dict[str, list] = {"replicate": [r for r, _, _ in rows], "seed": [s for _, s, _ in rows]}
    for key in keys:
        data[key] = [leaves[key][1] for _, _, leaves in rows]
    table = pa.Table.from_pydict(data, schema=pa.schema(fields))
    pq.write_table(table, path, compression=COMPRESSION)


def read_params(path: str | os.PathLike[str]):
    """params.parquet as a pandas DataFrame, one row per replicate."""
    return pq.read_table(path).to_pandas()
