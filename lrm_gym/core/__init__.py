"""Pure simulation core: frozen parameters, separate state, transition functions shared by every env."""

from lrm_gym.core.params import Params, build_params
from lrm_gym.core.state import COUNTERS, State

__all__ = ["COUNTERS", "Params", "State", "build_params"]
