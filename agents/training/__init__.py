"""Training learned routers, in rl-zoo3's run-folder shape (``logs/<algo>/<env>_<n>/``).

- :mod:`agents.training.hyperparams`: rl-zoo3 hyperparameter files (``configs/<algo>.yml``) read and validated;
  :mod:`agents.training.literals` reads their Python-expression strings as data (never ``eval``),
  :mod:`agents.training.checks` checks every value's type and range by name.
- :mod:`agents.training.sb3`: Stable-Baselines3 / sb3-contrib training (:class:`TrainSpec`, :func:`train`).
- :mod:`agents.training.sb3_vec_env`: :class:`NativeVecEnv`, SB3's ``VecEnv`` on the compiled core.
- :mod:`agents.training.rllib`: RLlib PPO training (needs the ``ray`` extra); masking in
  :mod:`agents.training.rllib_masking`.
- :mod:`agents.training.zoo`: rl-zoo3 conventions shared by both (run folders, file entries).

Trained models are loaded back as policies by :mod:`agents.policies`.
"""
