"""The calendar: parsing dates, inclusive periods, and the policy periods of a scenario.

Every date the package reads (config keys, reported figures, job configs) is parsed by
:func:`parse_date`; every "does this run cover this window" is :meth:`Period.covers`; the
policy periods that the sensitivity analysis and the studies report on come from the
scenario's timeline through :func:`policy_periods`, never from dates written out again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def parse_date(value: Any, key: str, error: type[Exception] = ValueError) -> dt.date:
    """`value` (a date or 'YYYY-MM-DD') as a date; otherwise `error` naming `key`."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise error(f"{key}: '{value}' is not a date; accepted: YYYY-MM-DD") from None


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included."""
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def covers(self, start: dt.date, end: dt.date) -> bool:
        """True when the window [start, end] lies wholly inside this period."""
        return self.start <= start and end <= self.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def policy_periods(scenario: Any) -> dict[str, Period]:
    """The period of each spell of a scenario's timeline, keyed by its policy's name.

    A spell's period runs from its start to its end (the scenario's end if it has none), cut
    short the day before a later spell starts that lasts at least as long: a new lasting
    policy starts a new period, a short one inside it (the leaders' appeal of June 2015 in
    mano dura) does not. Spells that start after the scenario's end have no period. A policy
    with several spells gets `name`, `name_2`, ... in the order of their starts.

    `scenario` is a ScenarioConfig or its DictConfig (`end` and `timeline` of spells with
    `policy`, `start`, `end`); its dates are assumed valid (sim.config.validate checks them).
    """
    last = parse_date(scenario.end, "scenario.end")
    spells = []
    for i, spell in enumerate(scenario.timeline):
        key = f"scenario.timeline[{i}]"
        start = parse_date(spell.start, f"{key}.start")
        end = last if spell.end is None else min(parse_date(spell.end, f"{key}.end"), last)
        if start <= last:
            spells.append((start, end, str(spell.policy)))
    spells.sort(key=lambda s: s[0])
    out: dict[str, Period] = {}
    for start, end, policy in spells:
        successors = [later for later, later_end, _ in spells
                      if start < later <= end and later_end >= end]
        if successors:
            end = min(successors) - dt.timedelta(days=1)
        name, n = policy, 1
        while name in out:
            n += 1
            name = f"{policy}_{n}"
        out[name] = Period(start, end)
    return out
