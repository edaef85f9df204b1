"""lrm_gym: Gymnasium environments for energy-aware routing of tasks to large reasoning models.

``import lrm_gym`` registers ``lrm_gym/EnergyRouting-v2`` (one routing decision per step),
``lrm_gym/EnergyDispatch-v2`` (one slot per step) and one id of each per shipped scenario.
"""

from lrm_gym.core.params import Params, build_params
from lrm_gym.envs import (
    EnergyDispatchEnv,
    EnergyDispatchVectorEnv,
    EnergyRoutingEnv,
    EnergyRoutingVectorEnv,
    FlattenRoutingObservation,
    MaskedActionFallback,
)
from lrm_gym.registration import SCENARIO_IDS, dispatch_env_id, env_id, register_envs
from lrm_gym.scenarios import ScenarioConfig, load_scenario, merge_overrides, scenario_names

__version__ = "0.1.0"

register_envs()

__all__ = [
    "SCENARIO_IDS",
    "EnergyDispatchEnv",
    "EnergyDispatchVectorEnv",
    "EnergyRoutingEnv",
    "EnergyRoutingVectorEnv",
    "FlattenRoutingObservation",
    "MaskedActionFallback",
    "Params",
    "ScenarioConfig",
    "build_params",
    "dispatch_env_id",
    "env_id",
    "load_scenario",
    "merge_overrides",
    "register_envs",
    "scenario_names",
]
