"""The experiments behind ``lrm-gym experiment <name>``: the paper's claims in the simulator, theory on top.

Each experiment writes ``<name>.png`` and ``<name>.csv`` under ``--out``: simulation points with 95% confidence
intervals (1.96 standard errors across independent episodes, run side by side by
:func:`agents.experiments.simulate.simulate`) and the closed-form curve of :mod:`lrm_gym.theory` on the same
axes. ``--quick`` uses fewer points and shorter runs (under a minute each) for smoke tests; the README's figures
come from the full runs. One module per experiment; :mod:`agents.experiments.common` holds the shared setting
and helpers.

Common setting unless stated: the ``critical`` scenario with model capacity made unlimited (the theory assumes
every task is served in its slot; capacity masks would move tasks between options), and the scenario's
reference rule (:class:`~agents.policies.analytic.AccuracyTarget` at the reference target) as the router, so
``provisioning`` is exactly ``b / b*``.

=================  ============================================================================================
``critical-sweep``  auxiliary and waste rates against ``b / b*`` (0.5 to 1.5), no storage; the two ramps
                    ``max(-theta, 0)``, ``max(theta, 0)`` and the Gaussian theory's rounded minimum at ``b = b*``.
``volatility``      at ``theta = 0``, the loss rate against the imbalance std, varying supply std, arrival
                    burstiness (negative-binomial dispersion) and reasoning-length dispersion (the step cap of
                    a single option); theory ``sigma / sqrt(2 pi)``.
``buffer``          auxiliary and waste rates against storage capacity ``C / sigma`` at and around the critical
                    point; the reflected-diffusion limit and its Siegmund boundary correction.
``variance-sources`` per-slot demand variance split into arrivals, within-option and between-option terms for
                    training-compute dispatch, inference-compute dispatch, the critical mix and the
                    variance-aware LP at (nearly) equal mean demand; simulated variance on top.
``policy-frontier`` accuracy against energy lost (auxiliary + waste kWh per episode) for every analytic policy on
                    every named scenario; theory where the supply has a closed form.
=================  ============================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agents.experiments import buffer, critical_sweep, policy_frontier, variance_sources, volatility
from agents.experiments.common import Settings

EXPERIMENTS: dict[str, Callable[[Path, Settings], tuple[Path, Path]]] = {
    "critical-sweep": critical_sweep.critical_sweep,
    "volatility": volatility.volatility,
    "buffer": buffer.buffer,
    "variance-sources": variance_sources.variance_sources,
    "policy-frontier": policy_frontier.policy_frontier,
}
"""Experiment name (as on the command line) -> function writing its PNG and CSV."""


def run_experiment(
    name: str, out: str | Path = "runs/experiments", quick: bool = False, seed: int = 0
) -> tuple[Path, Path]:
    """Run one experiment; returns the PNG and CSV paths. Unknown names raise ``ValueError``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    return EXPERIMENTS[name](directory, Settings(quick=quick, seed=seed))
