"""Routing policies: everything with SB3's ``predict(observation, state, episode_start, deterministic)``.

- :mod:`agents.policies.analytic`: rules from the theory (no learning, no torch); :data:`POLICIES` names them.
- :mod:`agents.policies.slot`: the slot-level form of each analytic policy, for the ``EnergyDispatch`` envs.
- :mod:`agents.policies.sb3`: a saved Stable-Baselines3 model (``.zip``) as a policy.
- :mod:`agents.policies.rllib`: a trained RLlib module as a policy (needs the ``ray`` extra).

Every policy is scored by :func:`agents.evaluation.evaluate`.
"""

from __future__ import annotations

from agents.policies.analytic import (
    POLICIES,
    AccuracyTarget,
    AnalyticPolicy,
    CriticalMix,
    FixedOption,
    InferenceComputeDispatch,
    StaticPolicy,
    SupplyTracking,
    TrainingComputeDispatch,
    VarianceAwareLP,
    make_policy,
)

__all__ = [
    "POLICIES",
    "AccuracyTarget",
    "AnalyticPolicy",
    "CriticalMix",
    "FixedOption",
    "InferenceComputeDispatch",
    "StaticPolicy",
    "SupplyTracking",
    "TrainingComputeDispatch",
    "VarianceAwareLP",
    "make_policy",
]
