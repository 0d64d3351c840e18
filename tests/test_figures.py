"""Tests of sim.figures: each figure is a non-empty PNG and the same data gives the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from sim.figures import plot_kinds, plot_territory, plot_trajectory
from sim.observation import compare

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KINDS = ("gang_vs_gang", "gang_vs_civilian", "gang_vs_security", "security_vs_gang")


def small_run(scale: float = 0.1) -> pd.DataFrame:
    """Three years of a noisy seeded run, with overlapping policy combinations."""
    days = pd.date_range("2014-06-01", "2017-06-30", freq="D")
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"date": days.strftime("%Y-%m-%d")})
    for column in KINDS:
        df[column] = rng.poisson(4.0 * scale, len(days)).astype(float)
    df["homicides_true"] = df[list(KINDS)].sum(axis=1)
    df["homicides"] = np.floor(df["homicides_true"] * 0.9)
    for column in ("police_killed", "soldiers_killed", "relatives_killed"):
        df[column] = rng.poisson(0.2 * scale, len(days)).astype(float)
    for column, level in (
        ("gang_members_street", 70_000),
        ("gang_members_prison", 10_000),
        ("population", 6_000_000),
        ("leaders_isolated", 300),
        ("arrests", 30),
        ("recruits", 25),
        ("civilians_fled", 5),
        ("extortion", 1_000),
    ):
        df[column] = level * scale
    policies = np.full(len(days), "mano_dura", dtype=object)
    policies[days >= "2016-03-26"] = "mano_dura+ceasefire"
    policies[days >= "2016-04-01"] = "mano_dura+ceasefire+extraordinary_measures"
    policies[days >= "2017-01-01"] = ""  # no active policy: left unshaded
    df["policies"] = policies
    return df


def territory_inputs() -> dict:
    rng = np.random.default_rng(3)
    width, height = 30, 20  # not square, so a swapped x/y would fail
    x, y = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    gang = np.where(x < 10, 0, np.where(x < 20, 1, 2))
    gang[(y > 15)] = -1
    population = np.where((x - 15) ** 2 + (y - 10) ** 2 < 120, 500.0, 0.0)
    return {
        "gang": gang,
        "violence": rng.exponential(1.0, (width, height)),
        "population": population,
        "police_xy": rng.integers(0, 20, (12, 2)),
    }


def _trajectory(path: Path) -> None:
    df = small_run()
    plot_trajectory(df, compare(df, scale=0.1), path, scale=0.1)


def _trajectory_without_fit(path: Path) -> None:
    plot_trajectory(small_run(), None, path, scale=0.1)


def _kinds(path: Path) -> None:
    plot_kinds(small_run(), path, scale=0.1)


def _territory(path: Path) -> None:
    plot_territory(**territory_inputs(), path=path, date="2015-03-31")


def _territory_with_army(path: Path) -> None:
    inputs = territory_inputs()
    plot_territory(**inputs, path=path, date=None, army_xy=np.array([[1, 1], [28, 18]]))


PLOTS: dict[str, Callable[[Path], None]] = {
    "trajectory": _trajectory,
    "trajectory_without_fit": _trajectory_without_fit,
    "kinds": _kinds,
    "territory": _territory,
    "territory_with_army": _territory_with_army,
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_figure_is_a_png_and_deterministic(tmp_path: Path, name: str) -> None:
    first, second = tmp_path / "a" / f"{name}.png", tmp_path / "b" / f"{name}.png"
    first.parent.mkdir()
    second.parent.mkdir()
    PLOTS[name](first)
    PLOTS[name](second)
    data = first.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    assert data == second.read_bytes()
    assert b"Software" not in data and b"Creation Time" not in data
    # Atomic save: only the target is left in the folder.
    assert [p.name for p in first.parent.iterdir()] == [first.name]


def test_different_data_give_different_png(tmp_path: Path) -> None:
    inputs = territory_inputs()
    plot_territory(**inputs, path=tmp_path / "a.png")
    inputs["gang"] = np.where(inputs["gang"] == 0, 1, inputs["gang"])
    plot_territory(**inputs, path=tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "kinds.png"
    path.write_bytes(b"stale")
    _kinds(path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_territory_rejects_mismatched_layers(tmp_path: Path) -> None:
    inputs = territory_inputs()
    inputs["violence"] = inputs["violence"].T
    with pytest.raises(ValueError, match="shape"):
        plot_territory(**inputs, path=tmp_path / "bad.png")
    assert not any(tmp_path.iterdir())
