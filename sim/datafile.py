"""Reading the packaged CSV files of sourced figures, with one-line errors.

sim/data/inputs_2018_2024.csv (sim.inputs) and sim/data/counting_rules.csv (sim.counting)
are read through here. Every error is one line naming the file, the line of the row (its
id when it has one) and the column, and what is accepted; dates are parsed by
sim.dates.parse_date like every other date of the package.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from sim.dates import parse_date

__all__ = ["Row", "packaged_text", "read_rows"]


@dataclass(frozen=True)
class Row:
    """One data row of a file: its fields, and where it is for error messages."""

    fields: Mapping[str, str]
    where: str  # "sim/data/x.csv: line 4 (id 'a')"

    def error(self, column: str, why: str) -> ValueError:
        return ValueError(f"{self.where}: column {column!r}: {why}")

    def text(self, column: str, required: bool = True) -> str:
        value = self.fields[column].strip()
        if required and not value:
            raise self.error(column, "is empty; accepted: a non-empty text")
        return value

    def choice(self, column: str, accepted: Iterable[str]) -> str:
        accepted = sorted(accepted)
        value = self.fields[column].strip()
        if value not in accepted:
            raise self.error(column, f"{value!r} is unknown; accepted: {', '.join(accepted)}")
        return value

    def day(self, column: str, required: bool = True) -> date | None:
        value = self.fields[column].strip()
        if not value:
            if required:
                raise self.error(column, "is empty; accepted: a date YYYY-MM-DD")
            return None
        return parse_date(value, f"{self.where}: column {column!r}")

    def number(self, column: str, required: bool = True) -> float | None:
        """A finite positive number, or None for an empty optional field."""
        value = self.fields[column].strip()
        if not value:
            if required:
                raise self.error(column, "is empty; accepted: a positive number")
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, f"{value!r} is not a number; accepted: a positive number") from None
        if not (math.isfinite(number) and number > 0):
            raise self.error(column, f"{value!r} is not accepted; accepted: a positive number")
        return number


def packaged_text(name: str) -> str:
    """The text of sim/data/`name` as installed with the package."""
    return resources.files(__package__ or "sim").joinpath("data", name).read_text(encoding="utf-8")


def read_rows(text: str, label: str, columns: tuple[str, ...], id_column: str | None = None) -> Iterator[Row]:
    """The data rows of a CSV text whose header must be exactly `columns`.

    `label` names the file in errors. Rows with too few or too many fields, and a duplicate
    or empty `id_column`, are errors.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise ValueError(f"{label}: line 1: header is {','.join(header)!r}; "
                         f"accepted: {','.join(columns)!r}")
    seen: set[str] = set()
    for fields in reader:
        where = f"{label}: line {reader.line_num}"
        if None in fields:  # DictReader puts surplus fields under the key None
            raise ValueError(f"{where}: column {columns[-1]!r}: too many fields in the row; "
                             f"accepted: {len(columns)} fields")
        missing = [c for c in columns if fields.get(c) is None]
        if missing:
            raise ValueError(f"{where}: column {missing[0]!r}: too few fields in the row; "
                             f"accepted: {len(columns)} fields")
        if id_column is not None:
            row_id = fields[id_column].strip()
            if not row_id:
                raise ValueError(f"{where}: column {id_column!r}: is empty; accepted: a unique id")
            if row_id in seen:
                raise ValueError(f"{where}: column {id_column!r}: duplicate id {row_id!r}; "
                                 "accepted: a unique id")
            seen.add(row_id)
            where = f"{where} (id {row_id!r})"
        yield Row(fields, where)


def read_file(path: str | Path, label: str | None = None) -> tuple[str, str]:
    """(text, label) of a file given by path; the label defaults to the path as given."""
    return Path(path).read_text(encoding="utf-8"), str(label or path)
