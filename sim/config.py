"""Structured configs: every mechanism parameter with its unit, range, meaning and source.

The dataclasses are the schema Hydra checks types against; the metadata of each field feeds
`validate` (ranges) and the parameter tables of docs/ODD.md (meaning, unit, source), so the
three can never drift apart. The defaults of the parameters a calibration sets (those it fits,
and those its priors cover but it leaves at their prior median) are data, not code: their
values live in sim/data/calibrated.yaml (written by `python -m sim.calibration.apply`), and
such a field's default is ``calibrated("<section>.<name>")``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from sim import dates

PRISONS = ("max_security", "low_security", "isolation")
GANGS = ("MS-13", "Barrio 18 Sureños", "Barrio 18 Revolucionarios")

#: The calibrated values, packaged with the code.
CALIBRATED_PATH = Path(__file__).resolve().parent / "data" / "calibrated.yaml"

#: How a value of sim/data/calibrated.yaml was set -> what a field's source adds for it.
BASES = {
    "fitted": "fitted to the reported figures of 2011-2017 by sim-calibrate (the calibration is "
              "named in sim/data/calibrated.yaml; docs/CALIBRATION.md)",
    "prior median": "the median of its prior (conf/priors/sources.yaml): the calibration's "
                    "screening left it fixed there (docs/CALIBRATION.md)",
    "hand fit": "fitted by hand to the reported figures of 2011-2017 (conf/model/hand_fit.yaml)",
}


def _read_calibrated(path: Path) -> tuple[dict[str, float], list[str], dict[str, str]]:
    """'<section>.<name>' -> value, the calibrated configs the file was written from, and
    '<section>.<name>' -> basis (a key of BASES) for the values that have one."""
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = {f"{section}.{name}": value for section, names in tree["values"].items()
              for name, value in names.items()}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: values.{key}: {value!r} is not a number")
    basis: dict[str, str] = {}
    for name, keys in (tree.get("basis") or {}).items():
        if name not in BASES:
            raise ValueError(f"{path}: basis.{name}: unknown; accepted: {', '.join(BASES)}")
        for key in keys or ():
            if key not in values or key in basis:
                raise ValueError(f"{path}: basis.{name}: {key} has no value or a second basis")
            basis[key] = name
    return values, list(tree.get("applied") or []), basis


CALIBRATED, CALIBRATED_FROM, CALIBRATED_BASIS = _read_calibrated(CALIBRATED_PATH)


@dataclass(frozen=True)
class _Calibrated:
    key: str


def calibrated(key: str) -> Any:
    """The default of a parameter the calibration sets: its value in sim/data/calibrated.yaml
    (a posterior median, a prior median, or the retired hand fit's value)."""
    if key not in CALIBRATED:
        raise KeyError(f"{key}: no calibrated value in {CALIBRATED_PATH}")
    return _Calibrated(key)


def P(default: Any, unit: str, doc: str, source: str = "assumed", lo: float | None = 0.0,
      hi: float | None = None, accepted: str | None = None) -> Any:
    """A documented parameter: default (or ``calibrated(key)``: its value in the calibration's
    data file), unit, meaning, source and accepted range (`accepted` says it in words where the
    range depends on other keys). The source of a calibrated value says how it was set."""
    metadata = {"unit": unit, "doc": doc, "source": source, "lo": lo, "hi": hi,
                "accepted": accepted}
    if isinstance(default, _Calibrated):
        metadata["calibrated"] = default.key
        basis = CALIBRATED_BASIS.get(default.key)
        if basis is not None:
            metadata["basis"] = basis
            metadata["source"] = BASES[basis] if source == "assumed" else f"{source}; {BASES[basis]}"
        default = CALIBRATED[default.key]
    return field(default=default, metadata=metadata)


def prob(default: float, doc: str, source: str = "assumed", unit: str = "probability") -> Any:
    return P(default, unit, doc, source, 0.0, 1.0)


# ----------------------------------------------------------------------------- mechanisms
@dataclass
class PopulationConfig:
    """Gangs, people and security forces at national scale (shrunk by `scale`)."""
    population: int = P(6_000_000, "people", "inhabitants at the start", "000 (6 million)",
                        lo=1)
    street_members: int = P(60_000, "people", "gang members on the street on the start date",
                            "000, 004 (70,000 in 2015; fewer in 2011)")
    prison_members: int = P(9_000, "people", "gang members in prison on the start date",
                            "000 (10,000 in 2015)")
    n_cliques: int = P(600, "cliques", "street cliques holding territory",
                       "004 ('hundreds of small cells and cliques')", lo=6)
    share_ms13: float = prob(0.55, "share of cliques belonging to MS-13", unit="share")
    share_b18s: float = prob(0.28, "share of cliques belonging to Barrio 18 Sureños", unit="share")
    n_leaders: int = P(360, "leaders", "imprisoned leaders steering the cliques",
                       "004 (~300 mid-level leaders moved, plus the top leaders)", lo=3)
    police_officers: int = P(22_000, "officers", "National Civil Police officers",
                             "assumed (order of magnitude of the PNC)", lo=1)
    army_soldiers: int = P(25_000, "soldiers", "soldiers in the armed forces, deployed or in "
                                               "barracks", "assumed (order of magnitude)")
    unit_size: int = P(100, "people", "officers or soldiers per SecurityUnit agent", lo=1)


@dataclass
class LandscapeConfig:
    """The synthetic territory: a grid with a few dense urban centres, drawn from the seed."""
    width: int = P(104, "cells", "grid width (west-east); a cell is about 2.5 km", lo=8)
    height: int = P(44, "cells", "grid height (south-north)", lo=8)
    n_urban_centres: int = P(6, "centres", "dense urban centres", lo=1)
    # below 1: the rural background is what puts people in every land cell (land_bounds.py)
    urban_share: float = P(0.62, "share", "share of people living in the urban centres",
                           lo=0.0, hi=0.99)
    urban_radius: float = P(3.5, "cells", "spread (sd) of an urban centre's population", lo=0.5)
    cliques_per_patch: float = P(1.5, "cliques", "cliques per seed of the gang patchwork; "
                                                 "more = larger single-gang regions (scaled "
                                                 "with the cliques so that the share of cliques "
                                                 "on a rival border does not depend on scale)",
                                 "004 ('patchwork of gang-controlled neighborhoods')", lo=1)
    max_territory_distance: float = P(9.0, "cells", "cells farther than this from every clique "
                                                    "are not gang-controlled", lo=1)


@dataclass
class TerritoryConfig:
    """Cells change hands: rivals take ground where they kill, empty ground is settled.

    Overstretched cliques retreat, large cliques split, the state holds cells under its
    territorial plan (M1-M2, M8). Resolved every four weeks (sim/territory.py). No source measures how fast turf
    changes hands in El Salvador: the rates below are assumptions with wide ranges for the
    calibration to weigh."""
    clash_share: float = P(calibrated("territory.clash_share"),
                           "share / killing", "share of a clique's cells it cedes to a "
                           "rival for each of its members the rival kills across their border, "
                           "when both are equally strong (armed street members per resident "
                           "held); the stronger side takes more", lo=0.0, hi=0.2)
    residents_per_member: float = P(calibrated("territory.residents_per_member"),
                                    "people / member", "residents one street member can "
                                    "hold: a clique with fewer members than its residents need "
                                    "is overstretched and gives up ground (2011: about 100 "
                                    "residents per street member nationally, 000/004)",
                                    lo=10.0, hi=5000.0)
    retreat_share: float = prob(calibrated("territory.retreat_share"),
                                "share of an overstretched clique's excess ground given up "
                                "every four weeks", unit="share / 4 weeks")
    settle_share: float = prob(calibrated("territory.settle_share"),
                               "probability that an empty populated cell next to a clique "
                               "with members to spare is settled in four weeks",
                               unit="probability / 4 weeks")
    split_members: int = P(calibrated("territory.split_members"),
                           "members", "street members beyond which a clique splits in two "
                           "(national count, like a clique's size at any scale; 2017: more "
                           "than 600 cliques for about 70,000 members, OFFICIAL.md)",
                           lo=2, hi=100_000)
    slots: float = P(1.5, "1", "room for cliques, as a multiple of the cliques on the start "
                     "date (splits wait for a free slot; cliques_active shows how many are in "
                     "use)", lo=1.0, hi=4.0)
    state_force_ratio: float = P(calibrated("territory.state_force_ratio"),
                                 "1", "soldiers of a deployed army unit, per gang member "
                                 "living in its cell, needed to take the cell under the "
                                 "territorial plan (lever state_control)", lo=0.0, hi=100.0)
    state_hold_days: float = P(calibrated("territory.state_hold_days"),
                               "days", "days a cell stays under the state after its last "
                               "army unit moved away; then it is empty ground", lo=0.0,
                               hi=3650.0)


@dataclass
class BorderViolenceConfig:
    """Rival cliques kill each other across shared borders; retaliation fades."""
    kill_rate: float = P(calibrated("border.kill_rate"), "killings / member / day",
                         "killings of rivals per street member of a clique at aggression 1 with "
                         "a rival border")
    retaliation_per_killing: float = P(calibrated("border.retaliation_per_killing"),
                                       "aggression / killing", "rise of a clique's urge to "
                                       "retaliate per member killed", "003 ('chain of vengeance')")
    retaliation_halflife_days: float = P(calibrated("border.retaliation_halflife_days"), "days",
                                         "half-life of the urge to retaliate", "assumed", lo=0.5)
    retaliation_cap: float = P(4.0, "aggression", "ceiling on the urge to retaliate", lo=0)


@dataclass
class LeaderOrdersConfig:
    """Imprisoned leaders' orders reach cliques through the prison's communication."""
    comm_max_security: float = prob(calibrated("orders.comm_max_security"), "share of leaders' "
                                    "messages that get out of a maximum-security prison",
                                    "000 ('partly cut off')")
    comm_low_security: float = prob(calibrated("orders.comm_low_security"),
                                    "share that gets out of a less restrictive prison",
                                    "000, 004")
    comm_isolation: float = prob(calibrated("orders.comm_isolation"),
                                 "share that gets out under isolation "
                                       "(extraordinary measures)", "002, 004")
    visits_share: float = prob(calibrated("orders.visits_share"),
                               "share of communication that goes "
                               "through visits (lost when visits stop)", "004", unit="share")
    obedience_mean: float = prob(calibrated("orders.obedience_mean"),
                                 "mean share of orders a clique "
                                 "follows", "004 ('they don't have the backing of all the "
                                 "groups')")
    obedience_concentration: float = P(calibrated("orders.obedience_concentration"),
                                       "1", "Beta concentration of obedience across "
                                                 "cliques (low = very unequal)", lo=0.1)
    habit_halflife_days: float = P(calibrated("orders.habit_halflife_days"), "days",
                                   "half-life of the street's restraint habit building up while "
                                   "a restraint order holds and fading once it stops (0.5: no "
                                   "habit)", "004 ('steadily escalated')", lo=0.5)
    offer_restraint: float = prob(calibrated("orders.offer_restraint"),
                                  "restraint leaders order while they ask the government "
                                       "for talks (the letter of June 2015), as a share of a "
                                       "negotiated order; 0: the letter changes nothing",
                                  "001 (the letter)")
    restraint_strength: float = prob(calibrated("orders.restraint_strength"),
                                     "aggression removed by a fully received restraint "
                                          "order", "000 (14 to 5 a day)", unit="share")
    attack_strength: float = P(calibrated("orders.attack_strength"), "aggression",
                               "aggression added by a fully received attack order (grievance "
                               "built up)", "000 ('run up the numbers')")
    opportunism_strength: float = P(calibrated("orders.opportunism_strength"), "aggression",
                                    "aggression added by full street opportunism (members acting "
                                    "on their own once the leaders' deal has failed)",
                                    "000 ('the guy in the street wants to seize his "
                                    "opportunity'), M7")
    # a rate, not a half-life: the fitted build-up takes longer than the run (ln 2 / rate =
    # 2,427 days), so over the run opportunism grows about linearly, rate x unmet x days
    opportunism_rate: float = P(calibrated("orders.opportunism_rate"), "1 / day",
                                "share of the gap between the leaders' unmet expectation and "
                                "street opportunism closed each day (build-up and fading)",
                                "000 (Tager)", lo=1e-6, hi=1.0)


@dataclass
class TruceConfig:
    """Negotiated benefits buy restraint; withdrawn benefits turn into grievance."""
    incentive_halflife_days: float = P(calibrated("truce.incentive_halflife_days"), "days",
                                       "half-life of leaders' incentive to restrain once "
                                       "benefits stop", "000 (rise from June 2013)", lo=0.5)
    incentive_rise_days: float = P(calibrated("truce.incentive_rise_days"),
                                   "days", "half-life of the incentive's rise once "
                                                "benefits start", "000 (drop within days)",
                                   lo=0.5)
    # a rate, not a half-life (ln 2 / rate = 1,720 days is most of the run): remembered
    # benefits fall about linearly once benefits stop
    expectation_fade_rate: float = P(calibrated("truce.expectation_fade_rate"), "1 / day",
                                     "share of the remembered benefits above today's forgotten "
                                     "each day; unmet expectation (remembered minus current "
                                     "benefits) turns into grievance", "000 (Wolf)", lo=1e-6,
                                     hi=1.0)
    comfort_weight: float = prob(calibrated("truce.comfort_weight"),
                                 "weight of prison comfort (vs. "
                                 "negotiated benefits) in what leaders count as benefits; a move "
                                 "back to maximum security is a loss", "000 ('spurred the "
                                 "reaction')", unit="share")
    comfort_low_security: float = P(1.0, "benefit", "comfort of a less restrictive prison, in "
                                    "units of full negotiated benefits (maximum security is 0)",
                                    "000 (the truce's transfers were its first benefit); a "
                                    "scale convention, not fitted", lo=0.0, hi=2.0)
    comfort_isolation: float = P(calibrated("truce.comfort_isolation"),
                                 "benefit", "comfort of isolation, in the same units "
                                 "(harsher than maximum security)", "002, 004 (cut off, no "
                                 "visits); assumed", lo=-2.0, hi=0.0)
    expectation_rise_factor: float = P(4.0, "1", "the expectation rises this many times more "
                                       "slowly than the incentive (benefits are believed only "
                                       "once they last)", "assumed, not fitted", lo=1.0, hi=50.0)
    # a rate, not a half-life (ln 2 / rate = 2,765 days, longer than the run): grievance
    # builds up about linearly, rate x unmet x days
    grievance_rate: float = P(calibrated("truce.grievance_rate"), "1 / day",
                              "share of the gap between unmet expectation and grievance closed "
                              "each day (gangs take time to see the deal is off)",
                              "000 (Wolf, Tager)", lo=1e-6, hi=1.0)
    extortion_rate: float = P(calibrated("truce.extortion_rate"),
                              "extortions / member / day", "extortion of civilians per "
                                                                 "street member", "003, 004")
    peace_extortion_gain: float = P(calibrated("truce.peace_extortion_gain"), "1",
                                    "rise of extortion per unit of restraint (members turn from "
                                    "fighting to revenue)", "003 ('extortion did go up')")
    rearm_elasticity: float = P(calibrated("truce.rearm_elasticity"),
                                "1", "arms target = (extortion "
                                "per member / baseline) ^ this", "004 ('rearm and grow stronger')")
    arms_halflife_days: float = P(calibrated("truce.arms_halflife_days"), "days",
                                  "half-life of arms moving to their target", lo=0.5)


@dataclass
class RepressionConfig:
    """Lethal force, arrests, revenge on security forces, recruitment fed by repression."""
    lethal_kill_rate: float = P(calibrated("repression.lethal_kill_rate"),
                                "killings / member / day",
                                "gang members killed by security per street member at lethal "
                                "force 1", "000, 004 (death squads)")
    arrest_rate: float = P(calibrated("repression.arrest_rate"), "arrests / member / day",
                           "arrests per street member at arrest intensity 1", "000")
    security_kill_rate: float = P(calibrated("repression.security_kill_rate"),
                                  "killings / member / "
                                  "day", "security personnel killed per street member at "
                                  "hostility 1", "000")
    revenge_per_killing: float = P(calibrated("repression.revenge_per_killing"),
                                   "hostility / killing",
                                   "rise of a clique's hostility to security per member killed "
                                   "by security", "003")
    revenge_spillover: float = P(calibrated("repression.revenge_spillover"),
                                 "aggression / hostility",
                                 "share of a clique's revenge against security that also raises "
                                 "its violence towards rivals and residents",
                                 "000 ('attacks on police and Salvadorans in general')")
    revenge_halflife_days: float = P(calibrated("repression.revenge_halflife_days"), "days",
                                     "half-life of revenge", lo=0.5)
    revenge_cap: float = P(calibrated("repression.revenge_cap"),
                           "hostility", "ceiling on a clique's "
                           "revenge", lo=0)
    pressure_gain: float = P(calibrated("repression.pressure_gain"), "hostility",
                             "hostility to security added by a fully received pressure order "
                             "(unmet deal, at once)", "000 ('attacks on police ... to pressure "
                             "the government')")
    # no effect on any figure (results/no_effect), so neither fitted nor given a prior: it keeps
    # the value of the retired hand fit
    response_per_killing: float = P(0.436,
                                    "lethal force / killing", "rise of security forces' lethal "
                                    "force per officer or soldier killed (national count)",
                                    "002, 003 ('response in kind'); the retired hand fit's value")
    response_halflife_days: float = P(calibrated("repression.response_halflife_days"),
                                      "days", "half-life of that response", lo=0.5)
    response_cap: float = P(calibrated("repression.response_cap"), "lethal force",
                            "ceiling on that response (a multiplier of lethal force of 1 + cap "
                            "at most)", lo=0)
    relatives_per_security_killing: float = P(calibrated("repression.relatives_per_security_killing"),
                                              "killings / killing", "relatives of security "
                                              "forces killed per officer or soldier killed",
                                              "004 ('dozens of their relatives')")
    soldier_exposure: float = P(calibrated("repression.soldier_exposure"),
                                "1", "risk of a deployed soldier relative to an officer",
                                "002 (62 police, 22 soldiers)")
    recruit_rate: float = P(calibrated("repression.recruit_rate"), "recruits / member / day",
                            "baseline recruitment per street member", "assumed")
    recruits_per_repression: float = P(calibrated("repression.recruits_per_repression"),
                                       "recruits / event", "recruits drawn in per member killed "
                                       "by security", "003 ('10 kids deciding to be in the gang')")
    recruits_per_arrest: float = P(calibrated("repression.recruits_per_arrest"),
                                   "recruits / arrest",
                                   "recruits drawn in per arrest (repression feeds recruitment)",
                                   "003")
    revenue_recruit_gain: float = P(calibrated("repression.revenue_recruit_gain"), "1",
                                    "rise of recruitment per unit rise of extortion per member "
                                    "(gangs grew in the truce)", "004")


@dataclass
class IsolationConfig:
    """Cut-off gangs accumulate grievance and plan retaliation campaigns."""
    grievance_per_isolated_day: float = P(calibrated("isolation.grievance_per_isolated_day"),
                                          "grievance / day", "grievance a gang gains per "
                                                                  "day with all its leaders "
                                                                  "isolated", "002")
    grievance_per_security_killing: float = P(0.05, "grievance / killing", "grievance per member "
                                                                          "killed by security",
                                              "002")
    campaign_hazard: float = P(calibrated("isolation.campaign_hazard"),
                               "1 / grievance / day", "daily hazard of launching a "
                               "campaign per unit of grievance (planning takes time, and its "
                               "moment is not fixed)", "002; converted from the former fitted "
                               "threshold of 167 (the same mean delay, sqrt(pi / 2h) = 167 days, "
                               "under full isolation; docs/ODD.md 7.7)",
                               lo=0.0, hi=1.0)
    campaign_security_days: int = P(calibrated("isolation.campaign_security_days"),
                                    "days", "first phase: against security forces",
                                    "002 ('Plan Bitter Tears')")
    campaign_relatives_days: int = P(calibrated("isolation.campaign_relatives_days"),
                                     "days", "second phase: against their relatives",
                                     "002 ('Plan Orphan Children')")
    campaign_hostility: float = P(calibrated("isolation.campaign_hostility"), "hostility",
                                  "hostility to security forces added in the first phase", "002")
    campaign_relatives_hostility: float = P(calibrated("isolation.campaign_relatives_hostility"),
                                            "hostility", "hostility to their relatives added in "
                                            "the second phase", "002 (the campaign's second "
                                            "phase)")


@dataclass
class CeasefireConfig:
    """The gangs' own order to stop killing and respect each other's limits."""
    reach: float = prob(calibrated("ceasefire.reach"),
                        "share of the order reaching a clique through "
                        "the street leadership (not the prisons)", "004 (obeyed within days)")
    strength: float = prob(calibrated("ceasefire.strength"),
                           "aggression removed by a fully adopted "
                           "cease-fire norm", "004 (killings halved)", unit="share")
    adoption_halflife_days: float = P(calibrated("ceasefire.adoption_halflife_days"),
                                      "days", "half-life of adoption once ordered",
                                      "004 (within days)", lo=0.1)
    norm_halflife_days: float = P(calibrated("ceasefire.norm_halflife_days"), "days",
                                  "half-life of the norm following a weakening order down, or "
                                  "fading once the order ends",
                                  "competing explanation (DESIGN 2)", lo=0.5)
    order_halflife_days: float = P(calibrated("ceasefire.order_halflife_days"),
                                   "days", "half-life of the gangs' resolve to keep their "
                                   "own cease-fire order: the order weakens while it stands",
                                   "004 (expected to be temporary: 'it may not last'); a grid "
                                   "search of the retired hand fit over 90 to 100,000 days "
                                   "(experiments/quick_fit/ceasefire_duration.py) preferred the "
                                   "longest", lo=1.0, hi=1e6)
    covers_security: float = prob(calibrated("ceasefire.covers_security"), "share of the norm's "
                                  "effect that also holds back attacks on security forces",
                                  "002, 004 (police killings went on: 62 in 2016)", unit="share")
    erosion_per_revenge: float = P(calibrated("ceasefire.erosion_per_revenge"),
                                   "1 / hostility / day",
                                   "daily loss of the norm per unit of revenge against security",
                                   "004 ('fight back if the police do not ease up')")


@dataclass
class PrisonConfig:
    """Arrests fill overcrowded prisons; members are released again."""
    mean_sentence_days: float = P(calibrated("prisons.mean_sentence_days"), "days",
                                  "mean time a gang member stays in prison", lo=1)
    capacity: int = P(calibrated("prisons.capacity"),
                      "people", "gang inmates the prisons hold before overcrowding",
                      "000 (overcrowding)")
    overcrowding_release_gain: float = P(calibrated("prisons.overcrowding_release_gain"),
                                         "1", "rise of releases per unit of overcrowding",
                                         "000")
    other_prisoners: int = P(22_100, "people", "prisoners who are not gang members (a stock "
                             "counted in prison_population only)", "OFFICIAL.md: 38,815 "
                             "prisoners in July 2018, 43% of them gang members (AFP)", lo=0)
    custody_death_rate: float = P(4.8e-6, "1 / prisoner / day", "deaths in custody per prisoner "
                                  "and day (not homicides)", "TIMELINE_2018_2024.md: 139 in the "
                                  "first year of the state of exception (Cristosal) over about "
                                  "80,000 prisoners on average that year (about 39,000 before, "
                                  "97,525 in December 2022): 139 / (80,000 x 365)", hi=0.01)


@dataclass
class ExceptionConfig:
    """Emergency powers: mass arrests that take in people with no gang ties too."""
    non_member_share: float = prob(0.277, "share of those arrested under emergency powers who "
                                   "are not gang members", "TIMELINE_2018_2024.md: rights "
                                   "organisations estimate 20,000-26,000 of the 83,000 arrested "
                                   "had no gang ties (23,000 / 83,000)", unit="share")


@dataclass
class CivilianConfig:
    """Civilians are extorted, killed, and flee; some deportees are targeted."""
    kill_rate: float = P(calibrated("civilians.kill_rate"), "killings / member / day",
                         "civilians killed per street member at aggression 1", "003, 004")
    # at most 0.1% a day (about 80 times the default): faster, the whole country can emigrate and
    # returning deportees (M10) have no residents left to settle among
    flight_base: float = P(1.2e-5, "1 / day", "daily emigration probability of a civilian",
                           "003", hi=0.001)
    flight_per_violence: float = P(2.0e-7, "1 / day / (homicides per 100k per year)",
                                   "extra daily emigration per unit of local homicide rate",
                                   "003 (60% cite fear of gangs)")
    deportation_rate: float = P(0.002, "1 / day", "daily share of emigrants deported back",
                                "003 (Mexico deported 4,335 Salvadorans in two months)", hi=1.0)
    reintegration_halflife_days: float = P(calibrated("civilians.reintegration_halflife_days"),
                                           "days", "half-life of a deportee's "
                                                         "heightened risk", lo=0.5)
    deportee_risk: float = P(calibrated("civilians.deportee_risk"),
                             "1", "risk of a recent deportee relative to a resident",
                             "003")


@dataclass
class PoliceMoraleConfig:
    """Police morale falls as officers are killed; officers quit."""
    morale_drop_per_killing: float = prob(calibrated("police.morale_drop_per_killing"),
                                          "morale lost per officer or soldier killed "
                                                "(national count)", "004",
                                          unit="morale")
    morale_recovery_halflife_days: float = P(calibrated("police.morale_recovery_halflife_days"),
                                             "days", "half-life of morale recovery",
                                             lo=0.5)
    resignation_base: float = prob(calibrated("police.resignation_base"),
                                   "daily resignation probability at full morale",
                                   unit="1 / day")
    resignation_low_morale: float = prob(calibrated("police.resignation_low_morale"),
                                         "extra daily resignation probability at "
                                                 "zero morale", "004 ('hundreds have quit')",
                                         unit="1 / day")
    hiring_halflife_days: float = P(calibrated("police.hiring_halflife_days"),
                                    "days", "half-life of hiring back to strength",
                                    lo=0.5)
    redeploy_days: int = P(calibrated("police.redeploy_days"),
                           "days", "units move to hot spots this often", lo=1)
    hotspot_share: float = prob(calibrated("police.hotspot_share"),
                                "share of units sent to the most violent territories",
                                unit="share")
    local_presence_weight: float = prob(calibrated("police.local_presence_weight"),
                                        "weight of local unit presence (vs. national "
                                             "coverage) in arrests and lethal force",
                                        unit="share")


@dataclass
class ReportingConfig:
    """Reported homicides miss bodies that were hidden."""
    hide_share: float = prob(calibrated("reporting.hide_share"), "share of killings hidden by a "
                             "clique fully following a restraint order", "000 ('burying their "
                             "victims')", unit="share")


@dataclass
class MagnitudeConfig:
    """The sizes of the policies' levers that no source gives: model parameters, so that a
    calibration or a sensitivity analysis can weigh them (the policy files read them as
    ${model.magnitudes.<name>}; a policy's lever set on the command line still wins)."""
    truce_arrest_intensity: float = P(calibrated("magnitudes.truce_arrest_intensity"),
                                      "multiplier", "raids and arrests under the 2012 truce "
                                      "(policy truce), of 2011 practice", "000 (fewer raids "
                                      "during the truce); size assumed", lo=0.3,
                                      hi=1.0)
    mano_dura_lethal_force: float = P(calibrated("magnitudes.mano_dura_lethal_force"),
                                      "multiplier", "security forces' use of lethal force "
                                      "under mano dura from June 2014 (policy mano_dura), of "
                                      "2011 practice", "003, 004 (police told to use their "
                                      "weapons); size assumed. Range: members killed "
                                      "by security forces rose 3-fold (2014) to 22-fold (2016) "
                                      "over 2013 (OFFICIAL.md), part of it their response to "
                                      "their own losses (repression.response_*)", lo=1.0,
                                      hi=20.0)
    mano_dura_arrest_intensity: float = P(calibrated("magnitudes.mano_dura_arrest_intensity"),
                                          "multiplier", "raids and arrests under mano dura "
                                          "(policy mano_dura), of 2011 practice", "003 (mass "
                                          "arrests); size assumed. Range: gang "
                                          "members in prison rose from 9,553 (2013) to more "
                                          "than 16,000 (2017), OFFICIAL.md", lo=1.0, hi=3.0)
    mano_dura_soldiers: int = P(calibrated("magnitudes.mano_dura_soldiers"),
                                "soldiers", "soldiers on public-security duty under mano "
                                "dura (policy mano_dura), national", "assumed: the project's "
                                "sources give no count for 2014-2017 (6,000 before, "
                                "model.levers.soldiers_deployed)", lo=0, hi=25_000)
    # conf/config.yaml sets it to ${model.magnitudes.mano_dura_lethal_force}, so it follows
    # whatever sets mano dura's (a preset, the command line, a posterior draw: FOLLOWS)
    lethal_force_2020: float = P(CALIBRATED["magnitudes.mano_dura_lethal_force"], "multiplier",
                                 "security forces' use of lethal force after the president's "
                                 "authorisation of late April 2020 (policy lethal_force_2020), "
                                 "of 2011 practice", "TIMELINE_2018_2024.md (EFE, 2 May 2020); "
                                 "size not published: by default mano dura's "
                                 "(magnitudes.mano_dura_lethal_force), so no change", lo=1.0,
                                 hi=20.0)
    covert_deal_negotiation: float = prob(1.0, "benefits delivered to the leaders in the covert "
                                          "deal of 2019-2022 (policy covert_deal), in units of "
                                          "the 2012 truce's", "TIMELINE_2018_2024.md (prison "
                                          "benefits and other concessions; their size is not "
                                          "published); assumed equal to the truce's",
                                          unit="share")


@dataclass
class LeversConfig:
    """Policy levers. None means "this policy does not set it"."""
    leader_prison: Optional[str] = None       # max_security | low_security | isolation
    leaders_moved: Optional[int] = None       # leaders moved to leader_prison at start (None: all)
    visits: Optional[bool] = None             # family visits to imprisoned gang members
    negotiation: Optional[float] = None       # benefits delivered to leaders, 0..1
    gang_ceasefire: Optional[bool] = None     # the gangs' own cease-fire order
    gang_offer: Optional[bool] = None         # leaders order restraint while asking for talks
    lethal_force: Optional[float] = None      # police license to shoot, multiplier (1 = 2011)
    arrest_intensity: Optional[float] = None  # raids and mass arrests, multiplier (1 = 2011)
    soldiers_deployed: Optional[int] = None   # soldiers on public-security duty (national)
    mass_arrests: Optional[float] = None      # arrests a day under emergency powers (national)
    sentence_factor: Optional[float] = None   # time in prison, multiplier of ordinary sentences
    early_release: Optional[bool] = None      # releases sped up when prisons are overcrowded
    state_control: Optional[bool] = None      # army units take and hold the cells they patrol


LEVER_DOCS = {
    "leader_prison": "where leaders are moved when the policy starts: max_security, "
                     "low_security or isolation",
    "leaders_moved": "how many leaders are moved (national count; empty = all)",
    "visits": "family visits to imprisoned gang members allowed",
    "negotiation": "benefits the government delivers to the leaders, 0 to 1",
    "gang_ceasefire": "the gangs' own order to stop killing and respect limits",
    "gang_offer": "imprisoned leaders order restraint themselves while they ask for talks",
    "lethal_force": "security forces' use of lethal force, multiplier of 2011 practice",
    "arrest_intensity": "raids and arrests, multiplier of 2011 practice",
    "soldiers_deployed": "soldiers on public-security duty (national count)",
    "mass_arrests": "arrests a day under emergency powers, beyond ordinary policing (national "
                    "count; members and non-members)",
    "sentence_factor": "time in prison, multiplier of ordinary sentences (1 = 2011)",
    "early_release": "prisons release earlier when overcrowded",
    "state_control": "deployed army units take the cells they patrol (gang-held ones where "
                     "they outnumber the members living there, empty ones always) and hold them "
                     "(model.territory.state_force_ratio, state_hold_days)",
}


# levers that act only when a policy starts (a transfer), never as a baseline: leaders start
# in maximum security (LeaderState on the start date)
POLICY_ONLY_LEVERS = ("leader_prison", "leaders_moved")


def baseline_levers() -> LeversConfig:
    return LeversConfig(leader_prison=None, leaders_moved=None, visits=True,
                        negotiation=0.0, gang_ceasefire=False, gang_offer=False,
                        lethal_force=1.0, arrest_intensity=1.0, soldiers_deployed=6_000,
                        mass_arrests=0.0, sentence_factor=1.0, early_release=True,
                        state_control=False)


@dataclass
class ModelConfig:
    # its floor depends on the populations: check_scale checks it
    scale: float = P(1.0, "1", "shrinks every population (rates per person are kept)",
                     lo=None, hi=1.0, accepted="(0, 1], above the floor the populations set "
                                               "(docs/ODD.md 6.4)")
    spinup_days: int = P(365, "days", "days simulated under the baseline levers before the "
                         "start date and not recorded, so that retaliation, revenge, arms and "
                         "habits on the start date are the model's own, not zero", lo=0)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    landscape: LandscapeConfig = field(default_factory=LandscapeConfig)
    territory: TerritoryConfig = field(default_factory=TerritoryConfig)
    border: BorderViolenceConfig = field(default_factory=BorderViolenceConfig)
    orders: LeaderOrdersConfig = field(default_factory=LeaderOrdersConfig)
    truce: TruceConfig = field(default_factory=TruceConfig)
    repression: RepressionConfig = field(default_factory=RepressionConfig)
    isolation: IsolationConfig = field(default_factory=IsolationConfig)
    ceasefire: CeasefireConfig = field(default_factory=CeasefireConfig)
    prisons: PrisonConfig = field(default_factory=PrisonConfig)
    exception: ExceptionConfig = field(default_factory=ExceptionConfig)
    civilians: CivilianConfig = field(default_factory=CivilianConfig)
    police: PoliceMoraleConfig = field(default_factory=PoliceMoraleConfig)
    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    magnitudes: MagnitudeConfig = field(default_factory=MagnitudeConfig)
    levers: LeversConfig = field(default_factory=baseline_levers)


MECHANISMS = {  # config section -> mechanism ids of DESIGN.md section 2
    "population": "M1", "landscape": "M1", "territory": "M1, M2, M8", "border": "M2",
    "orders": "M3", "truce": "M4, M5", "repression": "M6", "isolation": "M7", "ceasefire": "M8",
    "prisons": "M9", "exception": "M6, M9", "civilians": "M10", "police": "M11",
    "reporting": "M12", "magnitudes": "policies (6.1)",
}


# ----------------------------------------------------------------------------- policies
@dataclass
class PolicyConfig:
    name: str = MISSING
    description: str = ""
    levers: LeversConfig = field(default_factory=LeversConfig)


@dataclass
class PolicySpell:
    """One dated entry of a timeline: `policy` is active from `start` to `end` inclusive."""
    policy: str = MISSING
    start: str = MISSING
    end: Optional[str] = None  # None: until the end of the run


@dataclass
class ScenarioConfig:
    name: str = MISSING
    description: str = ""
    start: str = "2011-01-01"
    end: str = "2017-12-31"
    timeline: list[PolicySpell] = field(default_factory=list)


@dataclass
class OutputConfig:
    figures: bool = True
    progress: bool = True
    # dates (YYYY-MM-DD, from start to end) on which the territory map of territory_change.png
    # is taken, at the end of the day; empty: the start, two dates between and the end
    territory_dates: list[str] = field(default_factory=list)


@dataclass
class Config:
    seed: int = 0
    start: str = "${scenario.start}"
    end: str = "${scenario.end}"
    model: ModelConfig = field(default_factory=ModelConfig)
    scenario: ScenarioConfig = MISSING
    policies: dict[str, PolicyConfig] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)


def register_configs() -> None:
    """The schema is an option of group `schema` so other apps (sim-calibrate) can swap in a
    subclass of Config with their own keys."""
    cs = ConfigStore.instance()
    cs.store(group="schema", name="sim", node=Config, package="_global_")


# ----------------------------------------------------------------------------- validation
class ConfigError(ValueError):
    """A configuration value is not accepted; the message names the key and what is."""


# What the model needs at any scale: the counts it would otherwise pad up to (docs/ODD.md 6.4).
MIN_CLIQUES = 6   # two per gang, so that every gang can hold territory and have rivals
MIN_LEADERS = 3   # one per gang, so that every clique has a leader of its own gang
# Mesa keeps one Python object per cell: 500 x 500 cells take about 10 s and 550 MB to set
# up at national scale (python benchmarks/bench_grid.py), 55 times the default grid.
MAX_GRID_CELLS = 250_000


def parse_date(value: str, key: str) -> dt.date:
    return dates.parse_date(value, key, ConfigError)


def _accepted(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    if lo is None:
        return f"a number <= {hi}"
    return "a non-negative number" if lo == 0 else f">= {lo}"


def _check_known_keys(node: Any, key: str) -> None:
    """OmegaConf keeps a key added with +key=value as a plain attribute of the dataclass, so
    a misspelt `+model.border.kill_rat=1` would run without it: refuse such keys."""
    at = f"{key}." if key else ""
    if dataclasses.is_dataclass(node):
        names = [f.name for f in dataclasses.fields(node)]
        extra = [k for k in vars(node) if k not in names]
        if extra:
            raise ConfigError(f"{at}{extra[0]}: unknown key; accepted: {', '.join(names)}")
        for name in names:
            _check_known_keys(getattr(node, name), f"{at}{name}")
    elif isinstance(node, dict):
        for name, value in node.items():
            _check_known_keys(value, f"{at}{name}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_known_keys(value, f"{key}[{i}]")


def _check_ranges(node: Any, prefix: str) -> None:
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}.{f.name}"
        if dataclasses.is_dataclass(value):
            _check_ranges(value, key)
            continue
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if value is None or isinstance(value, (str, bool)) or (lo is None and hi is None):
            continue  # the levers have no range metadata: check_levers checks them
        accepted = f.metadata.get("accepted") or _accepted(lo, hi)
        # NaN passes every comparison and infinity every lower bound: refuse them first
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: {value} is not a finite number; accepted: {accepted}")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ConfigError(f"{key}: {value} is out of range; accepted: {accepted}")


def check_levers(levers: LeversConfig, key: str) -> None:
    if levers.leader_prison is not None and levers.leader_prison not in PRISONS:
        raise ConfigError(f"{key}.leader_prison: '{levers.leader_prison}' is unknown; "
                          f"accepted: {', '.join(PRISONS)}")
    for name in ("negotiation", "lethal_force", "arrest_intensity", "mass_arrests",
                 "sentence_factor"):
        value = getattr(levers, name)
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{key}.{name}: {value} is not a finite number; accepted: "
                              f"{'[0, 1]' if name == 'negotiation' else '>= 0'}")
    for name in ("leaders_moved", "soldiers_deployed", "lethal_force", "arrest_intensity",
                 "mass_arrests"):
        value = getattr(levers, name)
        if value is not None and value < 0:
            raise ConfigError(f"{key}.{name}: {value} is negative; accepted: >= 0")
    if levers.sentence_factor is not None and not levers.sentence_factor >= 1:
        raise ConfigError(f"{key}.sentence_factor: {levers.sentence_factor} is out of range; "
                          "accepted: >= 1")
    if levers.negotiation is not None and not 0 <= levers.negotiation <= 1:
        raise ConfigError(f"{key}.negotiation: {levers.negotiation} is out of range; "
                          "accepted: [0, 1]")


def check_lever_counts(levers: LeversConfig, pop: PopulationConfig, key: str) -> None:
    """Levers that count people cannot ask for more than the model has (national counts)."""
    if levers.leaders_moved is not None and levers.leaders_moved > pop.n_leaders:
        raise ConfigError(f"{key}.leaders_moved: {levers.leaders_moved} is more than the "
                          f"{pop.n_leaders} leaders (model.population.n_leaders); accepted: 0 to "
                          f"{pop.n_leaders}, or empty for all")
    if levers.soldiers_deployed is not None and levers.soldiers_deployed > pop.army_soldiers:
        raise ConfigError(f"{key}.soldiers_deployed: {levers.soldiers_deployed} is more than the "
                          f"{pop.army_soldiers} soldiers of the army "
                          f"(model.population.army_soldiers); accepted: 0 to {pop.army_soldiers}")
    # a day's arrests beyond the street members (a tenth of the people at most, far above the
    # 1,000 a day of April 2022) would mean the whole country in prison within days
    most = pop.population // 10
    if levers.mass_arrests is not None and levers.mass_arrests > most:
        raise ConfigError(f"{key}.mass_arrests: {levers.mass_arrests} arrests a day is more than "
                          f"a tenth of the {pop.population} people (model.population.population); "
                          f"accepted: 0 to {most}")


def scale_floor(pop: PopulationConfig) -> float:
    """The smallest scale at which the shrunk model still has the cliques and leaders every
    gang needs and one police unit of full size (below it the model would pad them up)."""
    return max(MIN_CLIQUES / pop.n_cliques, MIN_LEADERS / pop.n_leaders,
               pop.unit_size / pop.police_officers)


def check_scale(model: ModelConfig) -> None:
    pop, s = model.population, model.scale
    if pop.unit_size > pop.police_officers:
        raise ConfigError(f"model.population.unit_size: {pop.unit_size} is more than the "
                          f"{pop.police_officers} police officers; accepted: 1 to "
                          f"{pop.police_officers} (model.population.police_officers)")
    floor = scale_floor(pop)
    if not s >= floor * (1 - 1e-9):  # the tolerance keeps 0.01 x 600 = 6 cliques in
        raise ConfigError(
            f"model.scale: {s} leaves {pop.n_cliques * s:.3g} cliques, {pop.n_leaders * s:.3g} "
            f"leaders and {pop.police_officers * s:.3g} police officers; accepted: {floor:.3g} "
            f"to 1 with these populations (at least {MIN_CLIQUES} cliques, two per gang; "
            f"{MIN_LEADERS} leaders, one per gang; one police unit of {pop.unit_size} officers)")


def check_people(model: ModelConfig) -> None:
    """The gang members are taken out of the population (same rounding as the set-up)."""
    pop, s = model.population, model.scale
    people = round(pop.population * s)
    members = round(pop.street_members * s) + round(pop.prison_members * s)
    if people < members:
        raise ConfigError(f"model.population.population: {pop.population} people (at scale "
                          f"{s}: {people}) cannot hold {members} gang members; accepted: at least "
                          "street_members + prison_members")


def check_grid(model: ModelConfig) -> None:
    from sim.land_bounds import surely_land_cells

    land, pop = model.landscape, model.population
    cells = land.width * land.height
    if cells > MAX_GRID_CELLS:
        raise ConfigError(f"model.landscape.width: a {land.width} x {land.height} grid has "
                          f"{cells:,} cells; accepted: width x height <= {MAX_GRID_CELLS:,}")
    cliques = max(MIN_CLIQUES, round(pop.n_cliques * model.scale))
    populated = surely_land_cells(land.width, land.height)
    if populated < cliques:
        raise ConfigError(f"model.landscape.width: a {land.width} x {land.height} grid may have "
                          f"only {populated} populated cells, fewer than its {cliques} cliques "
                          "(model.population.n_cliques x scale); accepted: a grid with a "
                          "populated cell per clique for every seed (width x about 0.63 "
                          f"height >= {cliques})")


def check_timeline(cfg: Config, start: dt.date, end: dt.date) -> None:
    """Known policies, spells in order, and every spell inside the scenario or the run (a
    typo such as 2106 would otherwise silently switch a policy off)."""
    known = sorted(cfg.policies)
    first = min(parse_date(cfg.scenario.start, "scenario.start"), start)
    last = max(parse_date(cfg.scenario.end, "scenario.end"), end)
    for i, spell in enumerate(cfg.scenario.timeline):
        key = f"scenario.timeline[{i}]"
        if spell.policy not in cfg.policies:
            raise ConfigError(f"{key}.policy: '{spell.policy}' is unknown; accepted: "
                              f"{', '.join(known)}")
        s = parse_date(spell.start, f"{key}.start")
        if s > last:
            raise ConfigError(f"{key}.start: {s} is after the end of the scenario and of the "
                              f"run ({last}); accepted: a date up to {last}")
        e = None if spell.end is None else parse_date(spell.end, f"{key}.end")
        if e is not None and e < first:
            raise ConfigError(f"{key}.end: {e} is before the start of the scenario and of the "
                              f"run ({first}); accepted: a date from {first} on")
        if e is not None and e < s:
            raise ConfigError(f"{key}.end: {spell.end} is before its start {spell.start}; "
                              "accepted: a date on or after start")


def validate(cfg: Config) -> None:
    """Check what types alone cannot: ranges, finite numbers, dates, names that must exist,
    then what the model can hold (scale floor, grid, levers within the populations)."""
    _check_known_keys(cfg, "")
    if cfg.seed < 0:
        raise ConfigError(f"seed: {cfg.seed} is negative; accepted: an integer >= 0")
    _check_ranges(cfg.model, "model")
    pop = cfg.model.population
    check_levers(cfg.model.levers, "model.levers")
    for name, value in dataclasses.asdict(cfg.model.levers).items():
        if name in POLICY_ONLY_LEVERS:
            if value is not None:
                raise ConfigError(f"model.levers.{name}: a transfer happens only when a policy "
                                  "starts (leaders start in maximum security); accepted: null, "
                                  "and the lever in a policy")
        elif value is None:
            raise ConfigError(f"model.levers.{name}: the baseline must set every lever; "
                              f"accepted: {LEVER_DOCS[name]}")
    for name, pol in cfg.policies.items():
        check_levers(pol.levers, f"policies.{name}.levers")
    start = parse_date(cfg.start, "start")
    end = parse_date(cfg.end, "end")
    if end < start:
        raise ConfigError(f"end: {end} is before start {start}; accepted: a date on or after "
                          "start")
    check_timeline(cfg, start, end)
    for k, value in enumerate(cfg.output.territory_dates):
        day = parse_date(value, f"output.territory_dates[{k}]")
        if not start <= day <= end:
            raise ConfigError(f"output.territory_dates[{k}]: {day} is outside the run; "
                              f"accepted: dates from {start} to {end}")
    # what the model can hold: these combine several keys, so they come last
    if pop.share_ms13 + pop.share_b18s > 1:
        raise ConfigError("model.population.share_ms13: with share_b18s it exceeds 1; "
                          "accepted: shares summing to at most 1")
    check_scale(cfg.model)
    check_people(cfg.model)
    check_grid(cfg.model)
    check_lever_counts(cfg.model.levers, pop, "model.levers")
    for name, pol in cfg.policies.items():
        check_lever_counts(pol.levers, pop, f"policies.{name}.levers")
