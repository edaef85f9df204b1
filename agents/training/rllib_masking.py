"""lrm_gym envs in RLlib (new API stack) with the action mask, and the PPO module that applies it.

RLlib's default encoders take a flat ``Box``; its action-masking pattern (the ``action_masking_rlm`` example
shipped with RLlib) takes a ``Dict`` observation ``{"action_mask": Box(0, 1, (n,)), "observations": ...}``
and adds ``log(mask)`` to the action logits. We follow that pattern:

- :class:`RLlibMaskedObservation` flattens the env's ``Dict`` observation with
  :class:`lrm_gym.FlattenRoutingObservation` and puts ``action_masks()`` next to it;
- :class:`MaskedPPOTorchRLModule` is RLlib's :class:`DefaultPPOTorchRLModule` whose logits of masked
  actions are pushed to ``FLOAT_MIN`` in every forward pass (exploration, inference and training), so PPO
  never samples, nor puts probability mass on, an action the env would reject.

The one documented call is :func:`register_rllib_env`; after it any lrm_gym id trains with

```python
config = (
    PPOConfig()
    .environment(RLLIB_ENV_NAME, env_config={"env_id": "lrm_gym/EnergyRouting-v2"})
    .rl_module(rl_module_spec=RLModuleSpec(module_class=MaskedPPOTorchRLModule))
)
```

Importing this module needs Ray (``pip install "lrm-gym[ray]"``); nothing in :mod:`lrm_gym` imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from ray import tune
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core.columns import Columns
from ray.rllib.utils.torch_utils import FLOAT_MIN

import lrm_gym
from lrm_gym.envs.wrappers import FlattenRoutingObservation

RLLIB_ENV_NAME = "lrm_gym_masked"
"""The name :func:`register_rllib_env` registers with ``tune.register_env``."""

MASK_KEY = "action_mask"
OBS_KEY = "observations"


class RLlibMaskedObservation(gym.ObservationWrapper):
    """Observation ``{"action_mask": float32 0/1 per action, "observations": the flattened Dict}``.

    The flat part is :class:`lrm_gym.FlattenRoutingObservation`'s vector, so a policy trained here is fed
    ``gymnasium.spaces.flatten(dict_space, obs)`` at evaluation time (see :class:`agents.training.rllib.RLlibPolicy`).
    """

    def __init__(self, env: gym.Env) -> None:
        flat = FlattenRoutingObservation(env)
        super().__init__(flat)
        n = int(flat.action_space.n)  # type: ignore[attr-defined]
        self.observation_space = gym.spaces.Dict(
            {
                MASK_KEY: gym.spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32),
                OBS_KEY: flat.observation_space,
            }
        )

    def observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        mask = self.env.unwrapped.action_masks().astype(np.float32)  # type: ignore[attr-defined]
        return {MASK_KEY: mask, OBS_KEY: observation}

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]


def make_rllib_env(env_config: Mapping[str, Any]) -> RLlibMaskedObservation:
    """Env creator for ``tune.register_env``: ``env_config`` holds ``env_id`` and optional ``overrides``.

    Raises:
        ValueError: ``env_id`` missing or not an lrm_gym id, or an unknown key in ``env_config``.
    """
    unknown = set(env_config) - {"env_id", "overrides"}
    if unknown:
        raise ValueError(f"env_config: unknown keys {sorted(unknown)}; expected 'env_id' and optional 'overrides'")
    env_id = env_config.get("env_id")
    if not isinstance(env_id, str) or not env_id.startswith(f"{lrm_gym.registration.NAMESPACE}/"):
        raise ValueError(
            f"env_config['env_id'] must be an lrm_gym id such as 'lrm_gym/EnergyRouting-v2', got {env_id!r}"
        )
    overrides = env_config.get("overrides")
    kwargs: dict[str, Any] = {"overrides": dict(overrides)} if overrides else {}
    return RLlibMaskedObservation(gym.make(env_id, **kwargs))


def register_rllib_env() -> str:
    """Register :func:`make_rllib_env` under :data:`RLLIB_ENV_NAME` with Ray Tune; returns the name.

    Safe to call more than once (``tune.register_env`` overwrites the entry with the same creator).
    """
    tune.register_env(RLLIB_ENV_NAME, make_rllib_env)
    return RLLIB_ENV_NAME


def _split(batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The mask and a shallow copy of ``batch`` whose observation is the flat vector only."""
    obs = batch[Columns.OBS]
    if not isinstance(obs, Mapping) or MASK_KEY not in obs or OBS_KEY not in obs:
        raise ValueError(
            f"MaskedPPOTorchRLModule needs observations {{'{MASK_KEY}': ..., '{OBS_KEY}': ...}}; wrap the env "
            "in RLlibMaskedObservation (register_rllib_env does)"
        )
    inner = dict(batch)
    inner[Columns.OBS] = obs[OBS_KEY]
    return obs[MASK_KEY], inner


def _mask_logits(output: dict[str, Any], mask: Any) -> dict[str, Any]:
    logits = output[Columns.ACTION_DIST_INPUTS]
    # FLOAT_MIN rather than -inf: -inf logits give NaN entropies and KL terms in PPO's loss.
    output[Columns.ACTION_DIST_INPUTS] = logits.masked_fill(mask < 0.5, FLOAT_MIN)
    return output


class MaskedPPOTorchRLModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO module on the flat observation, with masked actions' logits set to ``FLOAT_MIN``.

    The networks (encoder, policy and value heads) are built for the ``"observations"`` sub-space; the
    module's own ``observation_space`` stays the ``Dict`` with the mask, which is what RLlib's connectors
    and checkpoints see.
    """

    def __init__(self, *, observation_space: gym.Space | None = None, **kwargs: Any) -> None:
        if not isinstance(observation_space, gym.spaces.Dict) or set(observation_space.spaces) != {MASK_KEY, OBS_KEY}:
            raise ValueError(
                f"MaskedPPOTorchRLModule needs a Dict observation space with keys '{MASK_KEY}' and '{OBS_KEY}', "
                f"got {observation_space}"
            )
        self._space_with_mask = observation_space
        # The catalog builds the networks from the space passed here: the flat vector without the mask.
        super().__init__(observation_space=observation_space[OBS_KEY], **kwargs)

    def setup(self) -> None:
        super().setup()
        self.observation_space = self._space_with_mask

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        mask, inner = _split(batch)
        return _mask_logits(super()._forward(inner, **kwargs), mask)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        mask, inner = _split(batch)
        return _mask_logits(super()._forward_train(inner, **kwargs), mask)

    def compute_values(self, batch: dict[str, Any], embeddings: Any | None = None) -> Any:
        if embeddings is None:
            _, batch = _split(batch)
        return super().compute_values(batch, embeddings)
