"""Gymnasium environments built on :mod:`lrm_gym.core`."""

from lrm_gym.envs.energy_routing import EnergyRoutingEnv
from lrm_gym.envs.vector import EnergyRoutingVectorEnv
from lrm_gym.envs.wrappers import FlattenRoutingObservation, MaskedActionFallback

__all__ = ["EnergyRoutingEnv", "EnergyRoutingVectorEnv", "FlattenRoutingObservation", "MaskedActionFallback"]
