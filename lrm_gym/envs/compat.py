"""Make-time options for generic RL codebases: masked actions, a flat observation and a cost signal.

Shared by :class:`~lrm_gym.envs.energy_routing.EnergyRoutingEnv` and
:class:`~lrm_gym.envs.vector.EnergyRoutingVectorEnv` (and :class:`~lrm_gym.envs.wrappers.MaskedActionFallback`),
so that the single and the vector env apply the same rules.

- **Masked actions.** Every action of the action space is legal unless ``strict=True``: a masked action runs
  :func:`fallback_actions` instead (the lowest-numbered valid action: defer while the task has slack, else the
  first option that fits), ``masked_action_penalty`` is subtracted from the reward, and ``info`` says so.
- **Flat observation.** ``observation="flat"`` gives one float32 ``Box``: the Dict observation flattened as
  :func:`gymnasium.spaces.flatten` lays it out, with named slices from :func:`observation_slices`.
- **Cost.** ``info["cost"]`` per step, one of :data:`COST_KINDS`, for constrained RL.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from lrm_gym.core.params import JOULES_PER_KWH, Params

OBSERVATION_KINDS = ("dict", "flat")
"""Values of the ``observation`` make kwarg."""

COST_KINDS: dict[str, tuple[str, float]] = {
    "auxiliary_kwh": ("auxiliary_j", 1.0 / JOULES_PER_KWH),
    "carbon_kg": ("auxiliary_carbon_g", 1e-3),
    "auxiliary_cost": ("auxiliary_cost", 1.0),
    "waste_kwh": ("waste_j", 1.0 / JOULES_PER_KWH),
}
"""Values of the ``cost`` make kwarg: the per-step info counter it reads and the factor to its unit."""


class ClientOptions(NamedTuple):
    """The validated make kwargs of this module."""

    observation: str
    strict: bool
    masked_action_penalty: float
    cost: str

    @property
    def cost_counter(self) -> str:
        return COST_KINDS[self.cost][0]

    @property
    def cost_scale(self) -> float:
        return COST_KINDS[self.cost][1]


def client_options(observation: Any, strict: Any, masked_action_penalty: Any, cost: Any) -> ClientOptions:
    """Check the make kwargs, each with an error naming it and its allowed values."""
    if observation not in OBSERVATION_KINDS:
        raise ValueError(f"observation must be one of {list(OBSERVATION_KINDS)}, got {observation!r}")
    if not isinstance(strict, bool):
        raise ValueError(f"strict must be True or False, got {strict!r}")
    if (
        isinstance(masked_action_penalty, bool)
        or not isinstance(masked_action_penalty, int | float | np.integer | np.floating)
        or not np.isfinite(masked_action_penalty)
        or masked_action_penalty < 0
    ):
        raise ValueError(f"masked_action_penalty must be a finite number >= 0, got {masked_action_penalty!r}")
    if cost not in COST_KINDS:
        raise ValueError(f"cost must be one of {list(COST_KINDS)}, got {cost!r}")
    return ClientOptions(observation, strict, float(masked_action_penalty), cost)


def fallback_actions(masks: np.ndarray) -> np.ndarray:
    """The action that runs in place of a masked one, per row of ``masks`` (``(..., n_actions)`` bool).

    The lowest-numbered valid action: defer (``0``) while the task has slack, else the first option that can
    run it. Every decision has a valid option (tasks no option can run are settled without a decision), so a
    row with no valid action does not occur; it would give ``0``.
    """
    return np.argmax(masks, axis=-1)


def observation_slices(params: Params) -> dict[str, slice]:
    """Named slices of the flat observation (``observation="flat"``, or
    :class:`~lrm_gym.envs.wrappers.FlattenRoutingObservation`).

    The flat vector is the Dict observation's keys in the space's (sorted) order, ``energy``, ``options``,
    ``queue``, ``task`` (and ``grid`` after ``energy`` when the scenario has ``auxiliary.carbon_trace``), each a
    whole-key slice, plus one slice per feature group named ``key/feature`` (``O`` options, ``C`` task classes,
    ``H`` forecast slots, ``P`` preview tasks, ``F`` carbon forecasts):

    | name | length | content |
    |---|---|---|
    | `energy/baseline`, `energy/committed`, `energy/storage` | 1 each | baseline, committed demand, storage |
    | `energy/forecast` | H | baseline forecast of the next slots |
    | `energy/price`, `energy/sin_hour`, `energy/cos_hour` | 1 each | auxiliary price per kWh, time of day |
    | `grid/carbon`, `grid/forecast` | 1, F | only with a carbon series: carbon now and its forecasts, kg/kWh |
    | `options/expected_energy`, `options/energy_std`, `options/expected_accuracy` | O each | for this task |
    | `options/capacity_left`, `options/feasible` | O each | capacity left (fraction), 1 if the option is valid |
    | `queue/queued`, `queue/left` | 1 each | tasks queued, tasks left to decide this slot |
    | `queue/preview` | 3 P | next tasks: class + 1 (0 if none), difficulty estimate, slack |
    | `task/class` | C | one-hot class of the task to decide |
    | `task/difficulty`, `task/prompt_ktokens`, `task/slack`, `task/age` | 1 each | the task's features |

    ```python
    >>> import gymnasium as gym
    >>> import lrm_gym
    >>> env = gym.make("lrm_gym/EnergyRouting-v2", observation="flat")
    >>> obs, info = env.reset(seed=0)
    >>> feasible = obs[env.unwrapped.observation_slices["options/feasible"]]
    >>> bool((feasible == info["action_mask"][1:]).all())
    True

    ```
    """
    o, c = params.n_options, params.n_classes
    carbon = params.carbon_series
    grid = [] if carbon is None else [("carbon", 1), ("forecast", carbon.forecasts.shape[1])]
    groups: dict[str, list[tuple[str, int]]] = {
        "energy": [
            ("baseline", 1),
            ("committed", 1),
            ("storage", 1),
            ("forecast", params.supply.forecast_horizon),
            ("price", 1),
            ("sin_hour", 1),
            ("cos_hour", 1),
        ],
        **({"grid": grid} if grid else {}),
        "options": [
            ("expected_energy", o),
            ("energy_std", o),
            ("expected_accuracy", o),
            ("capacity_left", o),
            ("feasible", o),
        ],
        "queue": [("queued", 1), ("left", 1), ("preview", 3 * params.queue_preview)],
        "task": [("class", c), ("difficulty", 1), ("prompt_ktokens", 1), ("slack", 1), ("age", 1)],
    }
    slices: dict[str, slice] = {}
    start = 0
    for key, features in groups.items():
        key_start = start
        for name, size in features:
            slices[f"{key}/{name}"] = slice(start, start + size)
            start += size
        slices[key] = slice(key_start, start)
    return slices


def flat_index(dict_space: spaces.Dict, parts: tuple[tuple[str, slice], ...]) -> np.ndarray:
    """Column indices that turn the kernel's observation row (``parts``: key -> slice) into the flat vector
    :func:`gymnasium.spaces.flatten` makes of the Dict (one fancy index instead of a concatenation)."""
    where = dict(parts)
    return np.concatenate([np.arange(where[key].start, where[key].stop) for key in dict_space.spaces])
