"""Named scenarios shipped with lrm_gym, their schema and loader."""

from lrm_gym.scenarios.loader import load_scenario, load_trace, merge_overrides, scenario_names
from lrm_gym.scenarios.schema import ScenarioConfig

__all__ = ["ScenarioConfig", "load_scenario", "load_trace", "merge_overrides", "scenario_names"]
