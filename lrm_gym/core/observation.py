"""The observation: a single-level dict of bounded 1-D float32 boxes (DESIGN section 3).

Units: task energies are in multiples of the reference policy's mean task energy
(``Params.task_energy_unit_j``); slot energies (baseline, committed demand, storage, forecast) in multiples
of the critical slot energy (``Params.slot_energy_unit_j``), so ``1`` means "as much as the reference policy
needs on average". Prompt tokens are in thousands.

Layout (``O`` options, ``C`` classes, ``H`` forecast slots, ``P`` preview tasks):

- ``task``  ``[one-hot class (C), difficulty estimate, prompt kilotokens, slack slots, age slots]``
- ``options`` ``[expected energy (O), energy std (O), expected accuracy (O), capacity left fraction (O),
  feasible (O)]``
- ``energy`` ``[baseline this slot, demand committed this slot (idle included), storage level,
  forecast (H), auxiliary price per kWh, sin(time of day), cos(time of day)]``
- ``queue`` ``[tasks queued (left to decide plus deferred this slot), tasks left to decide this slot,
  preview (P x [class + 1 or 0 if none, difficulty estimate, slack])]``
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from lrm_gym.core.params import Params
from lrm_gym.core.state import QUEUE_FIELDS, Q, State, record_index, records, row_block

PREVIEW_FEATURES = 3
_PREVIEW_FIELDS = np.array([Q["class"], Q["estimate"], Q["slack"]])


def observation_space(params: Params) -> spaces.Dict:
    """The Dict space with finite bounds derived from the scenario."""
    o, c = params.n_options, params.n_classes
    max_slack = float(params.class_slack.max())
    task_high = np.concatenate(
        [np.ones(c), [params.max_difficulty, params.class_prompt_tokens.max() / 1000.0, max_slack, max_slack]]
    )
    finite_capacity = np.minimum(params.model_capacity_tokens, params.queue_capacity * params.worst_tokens.max())
    max_committed = params.idle_j + float(np.sum(finite_capacity * params.model_joules_per_token))
    storage_high = params.storage.capacity_j / params.slot_energy_unit_j
    supply_high = params.supply.max_j / params.slot_energy_unit_j
    h = params.supply.forecast_horizon
    energy_low = np.concatenate([np.zeros(3 + h), [0.0, -1.0, -1.0]])
    energy_high = np.concatenate(
        [
            [supply_high, max_committed / params.slot_energy_unit_j, storage_high],
            np.full(h, supply_high),
            [params.price_per_kwh.max(), 1.0, 1.0],
        ]
    )
    options_high = np.concatenate(
        [
            np.full(o, params.energy_mean_j.max() / params.task_energy_unit_j),
            np.full(o, params.energy_std_j.max() / params.task_energy_unit_j),
            np.ones(3 * o),
        ]
    )
    preview_high = np.tile([c, params.max_difficulty, max_slack], params.queue_preview)
    queue_high = np.concatenate([[params.queue_capacity, params.queue_capacity], preview_high])
    return spaces.Dict(
        {
            "task": _box(np.zeros_like(task_high), task_high),
            "options": _box(np.zeros_like(options_high), options_high),
            "energy": _box(energy_low, energy_high),
            "queue": _box(np.zeros_like(queue_high), queue_high),
        }
    )


def _box(low: np.ndarray, high: np.ndarray) -> spaces.Box:
    # A feature that is constant in a scenario (slack when no class has any, storage when there is none)
    # gets a unit range, so that no dimension of the Box is degenerate (low == high). Compared in float32,
    # the space's dtype, where a tiny positive bound (e.g. a supply of 1e-300 J) rounds to 0.
    low32, high32 = low.astype(np.float32), high.astype(np.float32)
    return spaces.Box(low32, np.where(high32 > low32, high32, low32 + 1.0), dtype=np.float32)


def observe(params: Params, state: State, rows: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Fresh observation arrays ``(len(rows), dim)`` for the head task of each row (``rows`` increasing).

    ``mask`` is the rows' action mask (``State.mask[rows]``). Per-(class, difficulty) features come from
    the float32 tables precomputed in :class:`Params`; queue arrays are gathered only where needed, never
    copied whole.
    """
    n = rows.size
    capacity = state.queue.shape[1]
    head = np.minimum(state.head[rows], capacity - 1)
    live = ~state.truncated[rows]
    record = records(state).take(record_index(state, rows, head), axis=0)
    cls = record[:, Q["class"]].astype(np.intp)

    task = params.obs_task_table.take(cls, axis=0)
    task[:, -4] = record[:, Q["estimate"]]
    task[:, -2] = record[:, Q["slack"]]
    task[:, -1] = record[:, Q["age"]]

    o = params.n_options
    options = np.empty((n, 5 * o), np.float32)
    table = params.obs_option_table
    options[:, : 3 * o] = table.reshape(-1, 3 * o).take(cls * table.shape[1] + record[:, Q["table"]].astype(np.intp), 0)
    left = row_block(state.tokens_left, rows)
    model_capacity = params.model_capacity_tokens
    finite = np.isfinite(model_capacity)
    if finite.all():
        fraction = left / model_capacity
    else:  # unlimited capacity (inf) counts as full
        fraction = np.divide(left, model_capacity, out=np.ones_like(left), where=finite)
    np.minimum(np.maximum(fraction, 0.0, out=fraction), 1.0, out=fraction)  # a clip without np.clip's overhead
    options[:, 3 * o : 4 * o] = fraction.take(params.option_model, axis=1)
    options[:, 4 * o :] = mask[:, 1:]

    slot_unit = params.slot_energy_unit_j
    slot = np.minimum(state.slot[rows], params.horizon_slots - 1)
    hour = (params.start_hour + slot * (params.slot_seconds / 3600.0)) % 24.0
    angle = hour * (2.0 * math.pi / 24.0)
    h = params.supply.forecast_horizon
    energy = np.empty((n, 6 + h), np.float32)
    energy[:, 0] = state.baseline_j[rows] / slot_unit
    energy[:, 1] = (state.slot_task_j[rows] + params.idle_j) / slot_unit
    energy[:, 2] = state.storage_j[rows] / slot_unit
    energy[:, 3 : 3 + h] = row_block(state.forecast_j, rows) / slot_unit
    energy[:, 3 + h] = params.price_per_kwh.take(hour.astype(np.int64))
    energy[:, 4 + h] = np.sin(angle)
    energy[:, 5 + h] = np.cos(angle)

    preview_n = params.queue_preview
    queue = np.zeros((n, 2 + PREVIEW_FEATURES * preview_n), np.float32)
    left_to_decide = np.where(live, state.n_present[rows] - state.head[rows], 0)
    queue[:, 0] = left_to_decide + np.where(live, state.slot_deferred[rows], 0)
    queue[:, 1] = left_to_decide
    if preview_n:
        index = state.head[rows][:, None] + np.arange(1, preview_n + 1)
        exists = (index < state.q_len[rows][:, None]) & live[:, None]
        np.minimum(index, capacity - 1, out=index)
        at = (index + (rows * capacity)[:, None])[..., None] * len(QUEUE_FIELDS)
        # only the three previewed fields of each upcoming task record
        upcoming = state.queue.reshape(-1).take(at + _PREVIEW_FIELDS)
        upcoming[..., 0] += 1.0  # class + 1, so that 0 means "no task"
        queue[:, 2:] = np.where(exists[..., None], upcoming, 0.0).reshape(n, PREVIEW_FEATURES * preview_n)
    if not live.all():
        task[~live] = 0.0
        options[~live] = 0.0
    return {"task": task, "options": options, "energy": energy, "queue": queue}
