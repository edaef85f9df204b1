"""Unit conversions shared by the simulator, its renderers and the experiments."""

SECONDS_PER_HOUR = 3600.0
JOULES_PER_WH = SECONDS_PER_HOUR  # one watt for one hour
JOULES_PER_KWH = 1000.0 * JOULES_PER_WH
JOULES_PER_KJ = 1000.0
KJ_PER_KWH = JOULES_PER_KWH / JOULES_PER_KJ
