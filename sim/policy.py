"""Policies (named bundles of levers) and the dated Timeline that switches them on and off."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sim.config import LeversConfig, PolicyConfig, ScenarioConfig, parse_date


@dataclass(frozen=True)
class Policy:
    """A named bundle of levers; a lever left as None is not touched by this policy."""
    name: str
    levers: LeversConfig
    description: str = ""

    @classmethod
    def from_config(cls, cfg: PolicyConfig) -> "Policy":
        return cls(cfg.name, LeversConfig(**{f.name: getattr(cfg.levers, f.name)
                                             for f in dataclasses.fields(LeversConfig)}),
                   cfg.description)

    def sets(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self.levers).items() if v is not None}


@dataclass(frozen=True)
class Spell:
    policy: Policy
    start: dt.date
    end: dt.date | None  # inclusive; None = open-ended

    def active(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Timeline:
    """Which policies hold on a day, and the levers they add up to.

    Overlapping policies combine lever by lever; where two set the same lever, the one that
    started later wins (a new government's order overrides the old one).
    """

    def __init__(self, spells: list[Spell], baseline: LeversConfig):
        self.spells = sorted(spells, key=lambda s: s.start)
        self.baseline = baseline

    @classmethod
    def from_config(cls, scenario: ScenarioConfig, policies: dict[str, PolicyConfig],
                    baseline: LeversConfig) -> "Timeline":
        spells = []
        for i, s in enumerate(scenario.timeline):
            key = f"scenario.timeline[{i}]"
            spells.append(Spell(Policy.from_config(policies[s.policy]),
                                parse_date(s.start, f"{key}.start"),
                                None if s.end is None else parse_date(s.end, f"{key}.end")))
        return cls(spells, baseline)

    def active(self, day: dt.date) -> list[Spell]:
        return [s for s in self.spells if s.active(day)]

    def starting(self, day: dt.date) -> list[Spell]:
        return [s for s in self.spells if s.start == day]

    def change_days(self) -> set[dt.date]:
        """Days on which the set of active policies changes."""
        days = {s.start for s in self.spells}
        days |= {s.end + dt.timedelta(days=1) for s in self.spells if s.end is not None}
        return days

    def levers(self, day: dt.date) -> LeversConfig:
        values = dataclasses.asdict(self.baseline)
        for spell in self.active(day):
            values.update(spell.policy.sets())
        return LeversConfig(**values)

    def names(self, day: dt.date) -> str:
        return "+".join(s.policy.name for s in self.active(day)) or "none"

    def switched(self, policy: Policy, day: dt.date) -> "Timeline":
        """This timeline up to the day before `day`, then `policy` alone, open-ended.

        Spells under way on `day` end the day before it, spells not started by then are
        dropped; the past is unchanged. The levers from `day` on are the baseline's with
        `policy`'s on top, as for any spell.
        """
        before = day - dt.timedelta(days=1)
        kept = [s if s.end is not None and s.end < day else dataclasses.replace(s, end=before)
                for s in self.spells if s.start < day]
        return Timeline(kept + [Spell(policy, day, None)], self.baseline)
