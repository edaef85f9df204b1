"""Gymnasium environments built on :mod:`lrm_gym.core`."""

from lrm_gym.envs.dispatch import EnergyDispatchEnv
from lrm_gym.envs.dispatch_vector import EnergyDispatchVectorEnv
from lrm_gym.envs.energy_routing import EnergyRoutingEnv
from lrm_gym.envs.vector import EnergyRoutingVectorEnv
from lrm_gym.envs.wrappers import FlattenRoutingObservation, MaskedActionFallback

__all__ = [
    "EnergyDispatchEnv",
    "EnergyDispatchVectorEnv",
    "EnergyRoutingEnv",
    "EnergyRoutingVectorEnv",
    "FlattenRoutingObservation",
    "MaskedActionFallback",
]
