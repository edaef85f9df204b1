"""The kinds of supply and arrival process: the one list the schema, the parameters and the kernels read.

The schema validates a scenario's ``kind`` against the ``Literal`` types; the compiled kernels branch on a
kind's position in the tuple (its *code*), which :class:`~lrm_gym.core.tables.KernelTables` stores.
"""

from __future__ import annotations

from typing import Literal, get_args

SupplyKind = Literal["constant", "gaussian", "ar1", "solar", "trace"]
ArrivalKind = Literal["constant", "poisson", "negbin", "trace"]

SUPPLY_KINDS: tuple[str, ...] = get_args(SupplyKind)
ARRIVAL_KINDS: tuple[str, ...] = get_args(ArrivalKind)

# Codes the kernels branch on (module-level ints: compile-time constants in numba).
SUPPLY_CONSTANT = SUPPLY_KINDS.index("constant")
SUPPLY_GAUSSIAN = SUPPLY_KINDS.index("gaussian")
SUPPLY_AR1 = SUPPLY_KINDS.index("ar1")
SUPPLY_SOLAR = SUPPLY_KINDS.index("solar")
SUPPLY_TRACE = SUPPLY_KINDS.index("trace")
ARRIVAL_CONSTANT = ARRIVAL_KINDS.index("constant")
ARRIVAL_POISSON = ARRIVAL_KINDS.index("poisson")
ARRIVAL_NEGBIN = ARRIVAL_KINDS.index("negbin")
ARRIVAL_TRACE = ARRIVAL_KINDS.index("trace")
