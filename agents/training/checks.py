"""Type and range checks of hyperparameters, each failure naming the hyperparameter.

Without them a bad value fails deep inside the library (``n_steps: -5`` as numpy's "negative dimensions
are not allowed") or, worse, trains something else than asked. :func:`check_values` runs before anything
is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Rule = tuple[str, Callable[[Any], bool]]
"""What a value must be (for the message) and the test it must pass."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_linear(value: Any) -> bool:
    """rl-zoo3's linear schedule ``lin_<initial value>``."""
    if not isinstance(value, str) or not value.startswith("lin_"):
        return False
    try:
        return float(value[4:]) > 0
    except ValueError:
        return False


POSITIVE_INT: Rule = ("a positive integer", lambda v: _is_int(v) and v > 0)
NON_NEGATIVE_INT: Rule = ("an integer >= 0", lambda v: _is_int(v) and v >= 0)
POSITIVE: Rule = ("a positive number", lambda v: _is_number(v) and v > 0)
NON_NEGATIVE: Rule = ("a number >= 0", lambda v: _is_number(v) and v >= 0)
UNIT: Rule = ("a number in [0, 1]", lambda v: _is_number(v) and 0 <= v <= 1)
DISCOUNT: Rule = ("a number in (0, 1]", lambda v: _is_number(v) and 0 < v <= 1)
BOOL: Rule = ("true or false", lambda v: isinstance(v, bool))
MAPPING: Rule = ("a mapping", lambda v: isinstance(v, dict))
SCHEDULE: Rule = ("a positive number or 'lin_<positive number>'", lambda v: POSITIVE[1](v) or _is_linear(v))
OPTIONAL_SCHEDULE: Rule = ("null, " + SCHEDULE[0], lambda v: v is None or SCHEDULE[1](v))
OPTIONAL_POSITIVE: Rule = ("null or a positive number", lambda v: v is None or POSITIVE[1](v))


def _is_auto(value: Any) -> bool:
    """SAC's learned entropy coefficient: ``auto`` or ``auto_<initial value>``."""
    if value == "auto":
        return True
    if not isinstance(value, str) or not value.startswith("auto_"):
        return False
    try:
        return float(value[5:]) > 0
    except ValueError:
        return False


def _is_train_freq(value: Any) -> bool:
    if POSITIVE_INT[1](value):
        return True
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and POSITIVE_INT[1](value[0])
        and value[1] in ("step", "episode")
    )


SB3_RULES: dict[str, Rule] = {
    "n_steps": POSITIVE_INT,
    "batch_size": POSITIVE_INT,
    "n_epochs": POSITIVE_INT,
    "buffer_size": POSITIVE_INT,
    "target_update_interval": POSITIVE_INT,
    "stats_window_size": POSITIVE_INT,
    "learning_starts": NON_NEGATIVE_INT,
    "gradient_steps": ("a positive integer or -1 (as many as env steps)", lambda v: _is_int(v) and (v > 0 or v == -1)),
    "sde_sample_freq": ("an integer >= -1", lambda v: _is_int(v) and v >= -1),
    "train_freq": ("a positive integer or [positive integer, 'step' | 'episode']", _is_train_freq),
    "learning_rate": SCHEDULE,
    "clip_range": SCHEDULE,
    "clip_range_vf": OPTIONAL_SCHEDULE,
    "gamma": DISCOUNT,
    "gae_lambda": UNIT,
    "tau": UNIT,
    "exploration_fraction": UNIT,
    "exploration_initial_eps": UNIT,
    "exploration_final_eps": UNIT,
    "ent_coef": (
        "a number >= 0, or (SAC) 'auto' or 'auto_<positive number>'",
        lambda v: NON_NEGATIVE[1](v) or _is_auto(v),
    ),
    "target_entropy": ("a number or 'auto'", lambda v: v == "auto" or _is_number(v)),
    "policy_delay": POSITIVE_INT,
    "target_policy_noise": NON_NEGATIVE,
    "target_noise_clip": NON_NEGATIVE,
    "use_sde_at_warmup": BOOL,
    "noise_std": POSITIVE,
    "noise_type": ("'normal' (Gaussian action noise, as rl-zoo3 writes it)", lambda v: v == "normal"),
    "vf_coef": NON_NEGATIVE,
    "max_grad_norm": POSITIVE,
    "rms_prop_eps": POSITIVE,
    "target_kl": OPTIONAL_POSITIVE,
    "normalize_advantage": BOOL,
    "use_rms_prop": BOOL,
    "use_sde": BOOL,
    "optimize_memory_usage": BOOL,
    "policy_kwargs": MAPPING,
    "replay_buffer_kwargs": MAPPING,
    "rollout_buffer_kwargs": MAPPING,
}
"""Constructor arguments of SB3's PPO, A2C, DQN, SAC, TD3 and sb3-contrib's MaskablePPO and RecurrentPPO (raw
values as written in a file, before ``lin_`` schedules become objects), and rl-zoo3's ``noise_type`` /
``noise_std`` (the off-policy algorithms' exploration noise)."""

SB3_SET_BY_RUN = frozenset({"seed", "device", "verbose", "tensorboard_log", "_init_setup_model"})
"""Constructor arguments that ``lrm-gym train`` sets itself (seed, CPU, verbosity, loggers)."""


def check_values(values: Mapping[str, Any], rules: Mapping[str, Rule], source: str) -> None:
    """Raise ``ValueError`` (``<source>: <key>: must be <what>, got <value>``) for the first value breaking
    its rule; keys without a rule are not checked here."""
    for key, value in values.items():
        if key not in rules:
            continue
        what, ok = rules[key]
        if not ok(value):
            hint = _float_hint(value)
            raise ValueError(f"{source}: {key}: must be {what}, got {value!r}{hint}")


def _float_hint(value: Any) -> str:
    """YAML 1.1 reads ``1e-3`` (no dot) as text; say so instead of leaving the user puzzled."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (text: YAML reads exponents without a dot as text, write e.g. 1.0e-3)"
    return ""


RLLIB_ACTIVATIONS = ("tanh", "relu", "swish", "silu", "elu", "linear")

RLLIB_RULES: dict[str, Rule] = {
    "lr": POSITIVE,
    "gamma": DISCOUNT,
    "lambda_": UNIT,
    "clip_param": POSITIVE,
    "entropy_coeff": NON_NEGATIVE,
    "vf_loss_coeff": NON_NEGATIVE,
    "train_batch_size_per_learner": POSITIVE_INT,
    "minibatch_size": POSITIVE_INT,
    "num_epochs": POSITIVE_INT,
    "fcnet_hiddens": (
        "a list of positive layer widths",
        lambda v: isinstance(v, list) and all(POSITIVE_INT[1](w) for w in v),
    ),
    "fcnet_activation": (f"one of {list(RLLIB_ACTIVATIONS)}", lambda v: v in RLLIB_ACTIVATIONS),
}
"""The PPO hyperparameters of the RLlib backend (``agents.training.rllib.PPO_DEFAULTS``)."""
