"""Headroom: the hindsight optimum of an episode, a forecast-MPC router, and each policy's gap to optimal.

- :mod:`agents.headroom.record`: the exogenous record of an episode (what the actions cannot change);
- :mod:`agents.headroom.milp`: the hindsight optimum as a mixed-integer program solved with HiGHS;
- :mod:`agents.headroom.replay`: a plan played back through the env, and a plan's exact value;
- :mod:`agents.headroom.gap`: the optimum over benchmark episodes and each policy's gap to it, and a figure;
- :mod:`agents.headroom.core_access`: the one place that reads the simulator core's internals.

The formulation is documented in docs/headroom.md.
"""
