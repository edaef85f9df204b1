"""Arrivals and prompt lengths replayed from a measured request trace (docs/model.md sections 5 and 6), compiled.

``arrivals.kind: trace``. The trace's arrival times are binned into whole slots of the scenario's length
(:func:`lrm_gym.scenarios.request_traces.arrival_counts`): ``c_0 .. c_{n-1}`` measured requests per slot.
At reset an episode draws a uniformly random offset ``s`` in ``[0, n)``; slot ``t`` replays trace slot
``(s + t) mod n``, wrapping past the trace's end as a supply trace does. Each measured request of that slot
is kept independently with probability ``p = rate_per_slot / mean(c)`` (binomial thinning), so

    A_t ~ Binomial(c_{(s + t) mod n}, p),    E[A_t] = p mean(c) = rate_per_slot   for every t,

the mean over the uniform offset. ``p = 1`` replays the counts exactly (and draws nothing). Thinning is what a
site sees that receives a random share ``p`` of the service's requests: the rate keeps the trace's swings
from slot to slot, and the count around it has the binomial noise of a random split. (A Poisson count with
mean ``p c`` would add noise the trace does not have when ``p`` is near 1; a scaled count ``round(p c)``
would have none at all.)

Per task, a class with ``prompt_tokens: {trace: ...}`` draws its prompt length uniformly from the trace's
measured ``context_tokens``: one uniform, after the task's other draws (:func:`draw_prompt_tokens`).

Every draw here is taken whatever the router does (a rejected arrival takes its prompt draw too), so an
episode's exogenous record stays a function of the seed alone; scenarios that use neither option take no
draw here, so their random streams are unchanged.
"""

from __future__ import annotations

import numpy as np

from lrm_gym.core import rng
from lrm_gym.core.compiled import inlined
from lrm_gym.core.state import IntField, StateArrays
from lrm_gym.core.tables import ClassColumn, KernelTables, Scalar


@inlined
def draw_trace_offset(t: KernelTables, s: StateArrays, r: int) -> None:
    """The trace slot that row ``r``'s slot 0 replays, uniform over the trace's whole slots (one draw, at reset)."""
    s.ints[r, IntField.ARRIVAL_OFFSET] = rng.integers(s.rng[r], t.arrival_counts.size)


@inlined
def trace_arrivals(t: KernelTables, s: StateArrays, r: int) -> int:
    """Arrivals of row ``r``'s current slot: its trace slot's measured requests, each kept with probability ``p``
    (one uniform per measured request when ``p < 1``)."""
    n = t.arrival_counts.size
    measured = int(t.arrival_counts[(s.ints[r, IntField.ARRIVAL_OFFSET] + s.ints[r, IntField.SLOT]) % n])
    keep = t.scalars[Scalar.ARRIVAL_KEEP]
    if keep >= 1.0:
        return measured
    kept = 0
    for _ in range(measured):
        if rng.uniform(s.rng[r]) < keep:
            kept += 1
    return kept


@inlined
def draw_prompt_tokens(t: KernelTables, cls: int, stream: np.ndarray) -> float:
    """A new task's prompt length: the class's fixed one (no draw), or a uniformly drawn measured one."""
    size = int(t.class_tab[cls, ClassColumn.PROMPT_SAMPLE_SIZE])
    if size == 0:
        return t.class_tab[cls, ClassColumn.PROMPT_TOKENS]
    return t.prompt_sample[int(t.class_tab[cls, ClassColumn.PROMPT_SAMPLE_START]) + rng.integers(stream, size)]
