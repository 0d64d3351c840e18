"""Compose the Hydra config from Python (notebooks, tests, the dashboard) without the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from sim.config import register_configs

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """The composed config for these command-line style overrides, e.g. ["model.scale=0.05"]."""
    register_configs()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))


def options(group: str) -> list[str]:
    """The configs available in a group, e.g. options("scenario")."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
