"""Unit conversions shared by the simulator, its renderers and the experiments."""

JOULES_PER_WH = 3600.0
JOULES_PER_KWH = 1000.0 * JOULES_PER_WH
