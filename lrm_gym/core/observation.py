"""The observation: a single-level dict of bounded 1-D float32 boxes (docs/model.md section 12).

Units: task energies are in multiples of the reference policy's mean task energy
(``Params.task_energy_unit_j``); slot energies (baseline, committed demand, storage, forecast) in multiples
of the critical slot energy (``Params.slot_energy_unit_j``), so ``1`` means "as much as the reference policy
needs on average". Prompt tokens are in thousands.

Layout (``O`` options, ``C`` classes, ``H`` forecast slots, ``P`` preview tasks), with the name of each
part in :class:`ObservationLayout` (``layout.task.slack``, ``layout.options.feasible``, ...):

- ``task``: one-hot class ``one_hot_class`` (C), difficulty estimate ``difficulty``, prompt kilotokens
  ``prompt_kilotokens``, slack slots ``slack``, age slots ``age``
- ``options``: expected energy ``energy`` (O), energy std ``energy_std`` (O), expected accuracy
  ``accuracy`` (O), capacity left fraction ``capacity_left`` (O), feasible ``feasible`` (O)
- ``energy``: baseline this slot ``baseline``, demand committed this slot (idle included) ``committed``,
  storage level ``storage``, ``forecast`` (H), auxiliary price per kWh ``price``, time of day ``sin_hour``
  and ``cos_hour``
- ``queue``: tasks queued (left to decide plus deferred this slot) ``queued``, tasks left to decide this
  slot ``left``, ``preview`` (P x [class + 1 or 0 if none, difficulty estimate, slack])
- ``grid`` (only with ``auxiliary.carbon_trace``): the auxiliary energy's carbon intensity this slot
  ``carbon`` and the series' forecasts issued at the slot's start ``forecast`` (F), in kg CO2 per kWh (the
  series' g/kWh divided by 1000; docs/model.md section 3.1)

The offsets are defined once, in :mod:`lrm_gym.core.layout`: the compiled writer :func:`observe_row` and
:func:`observation_layout` (the named parts every reader uses) both derive them from there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from lrm_gym.core.compiled import inlined
from lrm_gym.core.grid import grid_features, slot_price
from lrm_gym.core.layout import PREVIEW_FEATURES, ObservationLayout, layout_for, positions
from lrm_gym.core.params import Params
from lrm_gym.core.state import FloatField, IntField, TaskField
from lrm_gym.core.tables import ClassColumn, KernelTables, ModelColumn, OptionColumn, Scalar, SlotColumn

_KG_PER_G = 1e-3

__all__ = ["PREVIEW_FEATURES", "ObservationLayout", "observation_layout", "observation_space", "observe_row"]


def observation_layout(params: Params) -> ObservationLayout:
    """Keys, their offsets in the kernels' float32 rows, and the named parts of each key, for ``params``."""
    carbon = params.carbon_series
    grid = 0 if carbon is None else 1 + carbon.forecasts.shape[1]
    return layout_for(params.n_classes, params.n_options, params.supply.forecast_horizon, params.queue_preview, grid)


def observation_space(params: Params) -> spaces.Dict:
    """The Dict space with finite bounds derived from the scenario."""
    layout = observation_layout(params)
    sizes = {key: part.stop - part.start for key, part in layout.parts}
    max_slack = float(params.class_slack.max())

    task_high = np.empty(sizes["task"])
    task_high[layout.task.one_hot_class] = 1.0
    task_high[layout.task.difficulty] = params.max_difficulty
    task_high[layout.task.prompt_kilotokens] = params.class_prompt_tokens_max.max() / 1000.0
    task_high[[layout.task.slack, layout.task.age]] = max_slack

    options_high = np.empty(sizes["options"])
    options_high[layout.options.energy] = params.energy_mean_j.max() / params.task_energy_unit_j
    options_high[layout.options.energy_std] = params.energy_std_j.max() / params.task_energy_unit_j
    for part in (layout.options.accuracy, layout.options.capacity_left, layout.options.feasible):
        options_high[part] = 1.0

    finite_capacity = np.minimum(params.model_capacity_tokens, params.queue_capacity * params.worst_tokens.max())
    max_committed = params.idle_j + float(np.sum(finite_capacity * params.model_joules_per_token))
    supply_high = params.supply.max_j / params.slot_energy_unit_j
    energy_low, energy_high = np.zeros(sizes["energy"]), np.empty(sizes["energy"])
    energy_high[layout.energy.baseline] = supply_high
    energy_high[layout.energy.committed] = max_committed / params.slot_energy_unit_j
    energy_high[layout.energy.storage] = params.storage.capacity_j / params.slot_energy_unit_j
    energy_high[layout.energy.forecast] = supply_high
    prices = params.price_per_kwh if params.price_series is None else params.price_series.values
    energy_low[layout.energy.price] = min(float(prices.min()), 0.0)  # a measured price can be negative
    energy_high[layout.energy.price] = prices.max()
    energy_low[[layout.energy.sin_hour, layout.energy.cos_hour]] = -1.0
    energy_high[[layout.energy.sin_hour, layout.energy.cos_hour]] = 1.0

    queue_high = np.empty(sizes["queue"])
    queue_high[[layout.queue.queued, layout.queue.left]] = params.queue_capacity
    queue_high[layout.queue.preview] = np.tile(
        [params.n_classes, params.max_difficulty, max_slack], params.queue_preview
    )
    boxes: dict[str, spaces.Space[Any]] = {
        "task": _box(np.zeros_like(task_high), task_high),
        "options": _box(np.zeros_like(options_high), options_high),
        "energy": _box(energy_low, energy_high),
        "queue": _box(np.zeros_like(queue_high), queue_high),
    }
    if layout.grid is not None and params.carbon_series is not None:
        carbon = params.carbon_series
        grid_high = np.concatenate([[carbon.values.max()], carbon.forecasts.max(axis=0)]) * _KG_PER_G
        boxes["grid"] = _box(np.zeros_like(grid_high), grid_high)
    return spaces.Dict(boxes)


def _box(low: np.ndarray, high: np.ndarray) -> spaces.Box:
    # A feature that is constant in a scenario (slack when no class has any, storage when there is none)
    # gets a unit range, so that no dimension of the Box is degenerate (low == high). Compared in float32,
    # the space's dtype, where a tiny positive bound (e.g. a supply of 1e-300 J) rounds to 0.
    low32, high32 = low.astype(np.float32), high.astype(np.float32)
    return spaces.Box(low32, np.where(high32 > low32, high32, low32 + 1.0), dtype=np.float32)


@inlined
def observe_row(t: KernelTables, s: Any, r: int, out: np.ndarray) -> None:
    """Write the observation of row ``r``'s head task into ``out`` (one float32 row laid out by
    :func:`~lrm_gym.core.layout.positions`).

    ``t`` is ``params.kernel`` and ``s`` the state's arrays (:class:`lrm_gym.core.state.StateArrays`). Written
    with plain 2-D indexing and no sub-array views: in compiled code each view costs reference counting,
    which made this function several times slower.
    """
    sc = t.scalars
    n_classes, n_options = t.class_tab.shape[0], t.option_tab.shape[0]
    horizon = s.forecast_j.shape[1]
    grid = grid_features(t)
    at = positions(n_classes, n_options, horizon, int(sc[Scalar.QUEUE_PREVIEW]), grid)
    live = s.ints[r, IntField.TRUNCATED] == 0
    head = s.ints[r, IntField.HEAD]
    cls = int(s.queue[r, head, TaskField.CLASS]) if live else 0

    # task and the options' expected energy, energy std and accuracy: one contiguous copy of the (class,
    # difficulty) row of obs_head (the task's constant values, then the options' first three parts), then the
    # task's own values
    if live:
        head_row = t.obs_head[cls, int(s.queue[r, head, TaskField.TABLE])]
        for i in range(head_row.size):
            out[at.task + i] = head_row[i]
        if t.class_tab[cls, ClassColumn.PROMPT_SAMPLE_SIZE] > 0:  # a measured prompt: this task's own length
            out[at.task_prompt_kilotokens] = s.queue[r, head, TaskField.PROMPT_TOKENS] / 1000.0
        out[at.task_difficulty] = s.queue[r, head, TaskField.ESTIMATE]
        out[at.task_slack] = s.queue[r, head, TaskField.SLACK]
        out[at.task_age] = s.queue[r, head, TaskField.AGE]
        for o in range(n_options):
            model = t.option_tab[o, OptionColumn.MODEL]
            inverse = t.model_tab[model, ModelColumn.INVERSE_CAPACITY]
            fraction = 1.0  # unlimited capacity (inverse 0) counts as full
            if inverse > 0.0:
                fraction = min(max(s.tokens_left[r, model] * inverse, 0.0), 1.0)
            out[at.options_capacity_left + o] = fraction
            out[at.options_feasible + o] = 1.0 if s.mask[r, 1 + o] else 0.0
    else:
        for i in range(at.task, at.energy):
            out[i] = 0.0

    per_unit = sc[Scalar.INVERSE_SLOT_ENERGY_UNIT]
    slot = min(s.ints[r, IntField.SLOT], t.slot_tab.shape[0] - 1)
    out[at.energy] = s.floats[r, FloatField.BASELINE_J] * per_unit
    out[at.energy_committed] = (s.floats[r, FloatField.SLOT_TASK_J] + sc[Scalar.IDLE_J]) * per_unit
    out[at.energy_storage] = s.floats[r, FloatField.STORAGE_J] * per_unit
    for h in range(horizon):
        out[at.energy_forecast + h] = s.forecast_j[r, h] * per_unit
    out[at.energy_price] = slot_price(t, s, r, slot)
    out[at.energy_sin_hour] = t.slot_tab[slot, SlotColumn.SIN_HOUR]
    out[at.energy_cos_hour] = t.slot_tab[slot, SlotColumn.COS_HOUR]

    left = s.ints[r, IntField.N_PRESENT] - head if live else 0
    out[at.queue] = left + (s.ints[r, IntField.SLOT_DEFERRED] if live else 0)
    out[at.queue_left] = left
    for i in range(int(sc[Scalar.QUEUE_PREVIEW])):
        index = head + 1 + i
        k = at.queue_preview + PREVIEW_FEATURES * i
        if live and index < s.ints[r, IntField.Q_LEN]:
            out[k] = s.queue[r, index, TaskField.CLASS] + 1.0  # so that 0 means "no task"
            out[k + 1] = s.queue[r, index, TaskField.ESTIMATE]
            out[k + 2] = s.queue[r, index, TaskField.SLACK]
        else:
            out[k] = out[k + 1] = out[k + 2] = 0.0
    if grid > 0:  # carbon now and its forecasts, in kg per kWh
        row = s.ints[r, IntField.CARBON_START] + slot
        for i in range(grid):
            out[at.grid + i] = t.carbon_slots[row, i] * _KG_PER_G
