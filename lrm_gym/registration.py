"""Registration of every lrm_gym environment id (idempotent)."""

from __future__ import annotations

import gymnasium as gym

NAMESPACE = "lrm_gym"
ENTRY_POINT = "lrm_gym.envs.energy_routing:EnergyRoutingEnv"
VECTOR_ENTRY_POINT = "lrm_gym.envs.vector:EnergyRoutingVectorEnv"
DISPATCH_ENTRY_POINT = "lrm_gym.envs.dispatch:EnergyDispatchEnv"
DISPATCH_VECTOR_ENTRY_POINT = "lrm_gym.envs.dispatch_vector:EnergyDispatchVectorEnv"
ROUTING_FAMILY = "EnergyRouting"
"""Per-task envs: one step is one task's routing decision."""
DISPATCH_FAMILY = "EnergyDispatch"
"""Slot-level envs: one step decides every task of a slot (docs/model.md section 18)."""
DEFAULT_SCENARIO = "critical"

VERSION = 2
"""The ``-vN`` of every id; bumped with each change to dynamics, reward or spaces (see the env's Version History)."""

SCENARIO_IDS: dict[str, str] = {
    "critical": "Critical",
    "oversupply": "OverSupply",
    "undersupply": "UnderSupply",
    "volatile": "Volatile",
    "solar": "Solar",
    "solar-battery": "SolarBattery",
    "wind-trace": "WindTrace",
    "solar-battery-greensboro-summer": "SolarBatteryGreensboroSummer",
    "solar-battery-greensboro-winter": "SolarBatteryGreensboroWinter",
    "wind-offshore-california": "WindOffshoreCalifornia",
    "grid-caiso-carbon-summer": "GridCaisoCarbonSummer",
    "grid-caiso-carbon-winter": "GridCaisoCarbonWinter",
    "grid-ercot-price-summer": "GridErcotPriceSummer",
    "azure-conversation-minute": "AzureConversationMinute",
    "azure-code-minute": "AzureCodeMinute",
    "fleet-b200-qwen3": "FleetB200Qwen3",
}
"""Shipped scenario name -> the CamelCase part of its env ids ``lrm_gym/EnergyRouting-<Name>-v2`` and
``lrm_gym/EnergyDispatch-<Name>-v2``."""

DISPATCH_VERSION = 2
"""The ``-vN`` of the slot-level ids. They started at the version of the per-task core they run (the project's
rule for new ids) and are bumped with any change to that core or to the slot-level contract."""


def env_id(scenario: str | None = None, family: str = ROUTING_FAMILY) -> str:
    """The registered id for a shipped scenario (the default id for ``None``): the per-task env's, or with
    ``family=DISPATCH_FAMILY`` the slot-level env's."""
    if family not in (ROUTING_FAMILY, DISPATCH_FAMILY):
        raise ValueError(f"family must be {ROUTING_FAMILY!r} or {DISPATCH_FAMILY!r}, got {family!r}")
    version = VERSION if family == ROUTING_FAMILY else DISPATCH_VERSION
    if scenario is None:
        return f"{NAMESPACE}/{family}-v{version}"
    if scenario not in SCENARIO_IDS:
        raise ValueError(f"no env id for scenario {scenario!r}; known: {sorted(SCENARIO_IDS)}")
    return f"{NAMESPACE}/{family}-{SCENARIO_IDS[scenario]}-v{version}"


def dispatch_env_id(scenario: str | None = None) -> str:
    """``env_id(scenario, DISPATCH_FAMILY)``: the slot-level id of a shipped scenario."""
    return env_id(scenario, DISPATCH_FAMILY)


def family_ids(family: str) -> list[str]:
    """The registered ids of one family, sorted."""
    return sorted(i for i in gym.registry if i.startswith(f"{NAMESPACE}/{family}-"))


def resolve_env_id(name: str) -> str:
    """A registered id as given, or a shipped scenario name mapped to its id; anything else is a ``ValueError``."""
    if name in gym.registry:
        return name
    if name in SCENARIO_IDS:
        return env_id(name)
    known = sorted(i for i in gym.registry if i.startswith(f"{NAMESPACE}/"))
    raise ValueError(f"unknown env {name!r}; use a registered id {known} or a scenario {sorted(SCENARIO_IDS)}")


def register_envs() -> None:
    """Register ``lrm_gym/EnergyRouting-v2``, ``lrm_gym/EnergyDispatch-v2`` and one id of each per shipped
    scenario; a second call does nothing."""
    entry_points = {
        ROUTING_FAMILY: (ENTRY_POINT, VECTOR_ENTRY_POINT),
        DISPATCH_FAMILY: (DISPATCH_ENTRY_POINT, DISPATCH_VECTOR_ENTRY_POINT),
    }
    for family, (entry_point, vector_entry_point) in entry_points.items():
        ids = {env_id(None, family): DEFAULT_SCENARIO} | {env_id(name, family): name for name in SCENARIO_IDS}
        for id_, scenario in ids.items():
            if id_ in gym.registry:
                continue
            gym.register(
                id=id_, entry_point=entry_point, vector_entry_point=vector_entry_point, kwargs={"scenario": scenario}
            )
