"""The observation: a single-level dict of bounded 1-D float32 boxes (docs/model.md section 12).

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

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from lrm_gym.core.compiled import inlined
from lrm_gym.core.params import Params
from lrm_gym.core.state import F, I, Q
from lrm_gym.core.tables import (
    MOD_INVERSE_CAPACITY,
    OPT_MODEL,
    S_IDLE_J,
    S_INVERSE_SLOT_UNIT,
    S_QUEUE_PREVIEW,
    SLOT_COS,
    SLOT_PRICE,
    SLOT_SIN,
    KernelTables,
)

PREVIEW_FEATURES = 3
_TRUNCATED, _HEAD, _SLOT, _N_PRESENT = I["truncated"], I["head"], I["slot"], I["n_present"]
_SLOT_DEFERRED, _Q_LEN = I["slot_deferred"], I["q_len"]
_BASELINE, _SLOT_TASK_J, _STORAGE = F["baseline_j"], F["slot_task_j"], F["storage_j"]
_Q_CLASS, _Q_ESTIMATE, _Q_TABLE, _Q_SLACK, _Q_AGE = Q["class"], Q["estimate"], Q["table"], Q["slack"], Q["age"]


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


class ObservationLayout(NamedTuple):
    """Where each key of the observation lies in the one float32 row the kernels write."""

    parts: tuple[tuple[str, slice], ...]  # (key, its slice of the row), in observation_space order
    size: int

    def split(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        """Views of ``obs`` (``(..., size)``) per key."""
        return {key: obs[..., part] for key, part in self.parts}


def observation_layout(params: Params) -> ObservationLayout:
    """Key order and offsets of :func:`observation_space` in the kernels' float32 rows."""
    sizes = {
        "task": params.n_classes + 4,
        "options": 5 * params.n_options,
        "energy": 6 + params.supply.forecast_horizon,
        "queue": 2 + PREVIEW_FEATURES * params.queue_preview,
    }
    ends = np.cumsum(list(sizes.values())).tolist()
    starts = [0, *ends[:-1]]
    parts = tuple((key, slice(a, b)) for key, a, b in zip(sizes, starts, ends, strict=True))
    return ObservationLayout(parts, ends[-1])


@inlined
def observe_row(t: KernelTables, s: Any, r: int, out: np.ndarray) -> None:
    """Write the observation of row ``r``'s head task into ``out`` (one float32 row, :func:`observation_layout`).

    ``t`` is ``params.kernel`` and ``s`` the state's arrays (:class:`lrm_gym.core.dynamics.Rows`). Written
    with plain 2-D indexing and no sub-array views: in compiled code each view costs reference counting,
    which made this function several times slower.
    """
    sc = t.scalars
    n_classes, n_options = t.class_tab.shape[0], t.option_tab.shape[0]
    horizon = s.forecast_j.shape[1]
    live = s.ints[r, _TRUNCATED] == 0
    head = s.ints[r, _HEAD]
    cls = int(s.queue[r, head, _Q_CLASS]) if live else 0

    # task (one-hot class, difficulty estimate, prompt kilotokens, slack, age) and the options' expected
    # energy, energy std and accuracy: one contiguous copy of the (class, difficulty) row, then the task's own
    at = n_classes + 4
    if live:
        head_row = t.obs_head[cls, int(s.queue[r, head, _Q_TABLE])]
        for i in range(head_row.size):
            out[i] = head_row[i]
        out[n_classes] = s.queue[r, head, _Q_ESTIMATE]
        out[n_classes + 2] = s.queue[r, head, _Q_SLACK]
        out[n_classes + 3] = s.queue[r, head, _Q_AGE]
        # options: capacity left fraction, feasible
        for o in range(n_options):
            model = t.option_tab[o, OPT_MODEL]
            inverse = t.model_tab[model, MOD_INVERSE_CAPACITY]
            fraction = 1.0  # unlimited capacity (inverse 0) counts as full
            if inverse > 0.0:
                fraction = min(max(s.tokens_left[r, model] * inverse, 0.0), 1.0)
            out[at + 3 * n_options + o] = fraction
            out[at + 4 * n_options + o] = 1.0 if s.mask[r, 1 + o] else 0.0
    else:
        for i in range(at + 5 * n_options):
            out[i] = 0.0

    # energy: baseline, committed demand, storage, forecast, price, sin/cos of the hour
    at = n_classes + 4 + 5 * n_options
    per_unit = sc[S_INVERSE_SLOT_UNIT]
    slot = min(s.ints[r, _SLOT], t.slot_tab.shape[0] - 1)
    out[at] = s.floats[r, _BASELINE] * per_unit
    out[at + 1] = (s.floats[r, _SLOT_TASK_J] + sc[S_IDLE_J]) * per_unit
    out[at + 2] = s.floats[r, _STORAGE] * per_unit
    for h in range(horizon):
        out[at + 3 + h] = s.forecast_j[r, h] * per_unit
    out[at + 3 + horizon] = t.slot_tab[slot, SLOT_PRICE]
    out[at + 4 + horizon] = t.slot_tab[slot, SLOT_SIN]
    out[at + 5 + horizon] = t.slot_tab[slot, SLOT_COS]

    # queue: tasks queued, left to decide, preview of the next tasks (class + 1, estimate, slack)
    at = n_classes + 10 + 5 * n_options + horizon
    left = s.ints[r, _N_PRESENT] - head if live else 0
    out[at] = left + (s.ints[r, _SLOT_DEFERRED] if live else 0)
    out[at + 1] = left
    for i in range(int(sc[S_QUEUE_PREVIEW])):
        index = head + 1 + i
        k = at + 2 + PREVIEW_FEATURES * i
        if live and index < s.ints[r, _Q_LEN]:
            out[k] = s.queue[r, index, _Q_CLASS] + 1.0  # so that 0 means "no task"
            out[k + 1] = s.queue[r, index, _Q_ESTIMATE]
            out[k + 2] = s.queue[r, index, _Q_SLACK]
        else:
            out[k] = out[k + 1] = out[k + 2] = 0.0
