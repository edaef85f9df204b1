"""Registration of every lrm_gym environment id (idempotent)."""

from __future__ import annotations

import gymnasium as gym

NAMESPACE = "lrm_gym"
ENTRY_POINT = "lrm_gym.envs.energy_routing:EnergyRoutingEnv"
VECTOR_ENTRY_POINT = "lrm_gym.envs.vector:EnergyRoutingVectorEnv"
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
"""Shipped scenario name -> the CamelCase part of its env id ``lrm_gym/EnergyRouting-<Name>-v2``."""


def env_id(scenario: str | None = None) -> str:
    """The registered id for a shipped scenario (the default id for ``None``)."""
    if scenario is None:
        return f"{NAMESPACE}/EnergyRouting-v{VERSION}"
    if scenario not in SCENARIO_IDS:
        raise ValueError(f"no env id for scenario {scenario!r}; known: {sorted(SCENARIO_IDS)}")
    return f"{NAMESPACE}/EnergyRouting-{SCENARIO_IDS[scenario]}-v{VERSION}"


def resolve_env_id(name: str) -> str:
    """A registered id as given, or a shipped scenario name mapped to its id; anything else is a ``ValueError``."""
    if name in gym.registry:
        return name
    if name in SCENARIO_IDS:
        return env_id(name)
    known = sorted(i for i in gym.registry if i.startswith(f"{NAMESPACE}/"))
    raise ValueError(f"unknown env {name!r}; use a registered id {known} or a scenario {sorted(SCENARIO_IDS)}")


def register_envs() -> None:
    """Register ``lrm_gym/EnergyRouting-v2`` and one id per shipped scenario; a second call does nothing."""
    ids = {env_id(): DEFAULT_SCENARIO} | {env_id(name): name for name in SCENARIO_IDS}
    for id_, scenario in ids.items():
        if id_ in gym.registry:
            continue
        gym.register(
            id=id_, entry_point=ENTRY_POINT, vector_entry_point=VECTOR_ENTRY_POINT, kwargs={"scenario": scenario}
        )
