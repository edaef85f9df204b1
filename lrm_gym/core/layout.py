"""Where each part of the observation lies in the one float32 row the compiled kernels write.

:func:`positions` is the one definition of the offsets: the writer (:func:`lrm_gym.core.observation.observe_row`)
calls it in compiled code, :func:`lrm_gym.core.params.build_params` lays out the precomputed head of the row
by it, and :func:`layout_for` derives from it the named parts that every reader uses (the observation space,
the renderer, the analytic policies). What each part means is in :mod:`lrm_gym.core.observation`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lrm_gym.core.compiled import inlined

PREVIEW_FEATURES = 3
"""Values per previewed task: class + 1 (0 when none), difficulty estimate, slack."""


class Positions(NamedTuple):
    """Where each part of the observation starts in the one float32 row the kernels write."""

    task: int  # start of the `task` key, its one-hot class
    task_difficulty: int
    task_prompt_kilotokens: int
    task_slack: int
    task_age: int
    options: int  # start of the `options` key, its expected energies
    options_energy_std: int
    options_accuracy: int
    options_capacity_left: int
    options_feasible: int
    energy: int  # start of the `energy` key, its baseline
    energy_committed: int
    energy_storage: int
    energy_forecast: int
    energy_price: int
    energy_sin_hour: int
    energy_cos_hour: int
    queue: int  # start of the `queue` key, its tasks queued
    queue_left: int
    queue_preview: int
    grid: int  # start of the `grid` key (carbon now, then its forecasts; empty without a carbon series)
    size: int  # end of the row


@inlined
def positions(n_classes: int, n_options: int, horizon: int, preview: int, grid: int = 0) -> Positions:
    """The offsets of every part of the row for ``n_classes`` classes, ``n_options`` options, a forecast of
    ``horizon`` slots, ``preview`` previewed tasks and ``grid`` carbon values (0 without a carbon series;
    compiled: the observation kernel calls it per row)."""
    task = 0
    options = task + n_classes + 4
    energy = options + 5 * n_options
    queue = energy + 6 + horizon
    grid_start = queue + 2 + PREVIEW_FEATURES * preview
    size = grid_start + grid
    return Positions(
        task,
        task + n_classes,
        task + n_classes + 1,
        task + n_classes + 2,
        task + n_classes + 3,
        options,
        options + n_options,
        options + 2 * n_options,
        options + 3 * n_options,
        options + 4 * n_options,
        energy,
        energy + 1,
        energy + 2,
        energy + 3,
        energy + 3 + horizon,
        energy + 4 + horizon,
        energy + 5 + horizon,
        queue,
        queue + 1,
        queue + 2,
        grid_start,
        size,
    )


class TaskParts(NamedTuple):
    """Parts of ``obs["task"]``."""

    one_hot_class: slice
    difficulty: int
    prompt_kilotokens: int
    slack: int
    age: int


class OptionParts(NamedTuple):
    """Parts of ``obs["options"]``, each one value per option."""

    energy: slice
    energy_std: slice
    accuracy: slice
    capacity_left: slice
    feasible: slice


class EnergyParts(NamedTuple):
    """Parts of ``obs["energy"]``."""

    baseline: int
    committed: int
    storage: int
    forecast: slice
    price: int
    sin_hour: int
    cos_hour: int


class QueueParts(NamedTuple):
    """Parts of ``obs["queue"]``."""

    queued: int
    left: int
    preview: slice


class GridParts(NamedTuple):
    """Parts of ``obs["grid"]`` (present only with a carbon series): kg CO2 per kWh of auxiliary energy."""

    carbon: int  # this slot's carbon intensity
    forecast: slice  # the series' forecasts issued at this slot's start, in column order


class ObservationLayout(NamedTuple):
    """Where each key of the observation lies in the one float32 row the kernels write, and where each part
    lies within its key's vector (``obs["options"][..., layout.options.feasible]``)."""

    parts: tuple[tuple[str, slice], ...]  # (key, its slice of the row), in observation_space order
    size: int
    task: TaskParts
    options: OptionParts
    energy: EnergyParts
    queue: QueueParts
    grid: GridParts | None = None  # None without a carbon series (no `grid` key)

    def split(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        """Views of ``obs`` (``(..., size)``) per key."""
        return {key: obs[..., part] for key, part in self.parts}


def layout_for(n_classes: int, n_options: int, horizon: int, preview: int, grid: int = 0) -> ObservationLayout:
    """The :class:`ObservationLayout` of :func:`positions` (same arguments)."""
    p = positions(n_classes, n_options, horizon, preview, grid)
    task = TaskParts(
        one_hot_class=slice(0, p.task_difficulty - p.task),
        difficulty=p.task_difficulty - p.task,
        prompt_kilotokens=p.task_prompt_kilotokens - p.task,
        slack=p.task_slack - p.task,
        age=p.task_age - p.task,
    )
    option_starts = (p.options, p.options_energy_std, p.options_accuracy, p.options_capacity_left, p.options_feasible)
    options = OptionParts(*(slice(start - p.options, start - p.options + n_options) for start in option_starts))
    energy = EnergyParts(
        baseline=0,
        committed=p.energy_committed - p.energy,
        storage=p.energy_storage - p.energy,
        forecast=slice(p.energy_forecast - p.energy, p.energy_price - p.energy),
        price=p.energy_price - p.energy,
        sin_hour=p.energy_sin_hour - p.energy,
        cos_hour=p.energy_cos_hour - p.energy,
    )
    queue = QueueParts(queued=0, left=p.queue_left - p.queue, preview=slice(p.queue_preview - p.queue, None))
    parts = (
        ("task", slice(p.task, p.options)),
        ("options", slice(p.options, p.energy)),
        ("energy", slice(p.energy, p.queue)),
        ("queue", slice(p.queue, p.grid)),
    )
    if grid == 0:
        return ObservationLayout(parts, p.size, task, options, energy, queue)
    grid_parts = GridParts(carbon=0, forecast=slice(1, grid))
    return ObservationLayout(
        (*parts, ("grid", slice(p.grid, p.size))), p.size, task, options, energy, queue, grid_parts
    )
