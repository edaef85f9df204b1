"""agents: routers for the lrm_gym environments, and the tools that train, evaluate and compare them.

Where things live (each subpackage's docstring has its own map):

=========================  ==================================================================================
``agents.policies``        everything with ``predict``: analytic rules from the theory (``analytic``; ``mpc``
                           re-plans each slot), their slot-level forms (``slot``), saved SB3 models (``sb3``),
                           trained RLlib modules (``rllib``)
``agents.evaluation``      :func:`evaluate`: the one code path that scores every policy on seeded episodes
``agents.training``        SB3 and RLlib training in rl-zoo3's run-folder shape, hyperparameter files,
                           :class:`~agents.training.sb3_vec_env.NativeVecEnv` (SB3's VecEnv on the compiled core)
``agents.benchmark``       suites, runs, statistics (confidence intervals, verdicts), reports and plots,
                           executors (local process pool, Ray)
``agents.experiments``     the paper's claims reproduced as figures, one module per figure
``agents.headroom``        the hindsight optimum of an episode (MILP), its replay, gaps to it, the MPC planner
``agents.datasets``        episodes of any policy recorded as Minari offline datasets
``agents.cli``             the ``lrm-gym`` command, one module per sub-command
``agents.ray_runtime``     starting or joining a Ray runtime (the ``ray`` extra), shared by training and benchmark
=========================  ==================================================================================

To add an analytic policy, write a class in :mod:`agents.policies.analytic` and name it in ``POLICIES``; to
change how the benchmark computes intervals, see :mod:`agents.benchmark.statistics`.
"""

from agents import _moved

_moved.install()  # the 0.1 module paths (agents.analytic, agents.learned, ...) keep working, with a warning
