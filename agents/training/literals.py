"""rl-zoo3's Python-expression strings read as data, never run as code.

rl-zoo3 writes some hyperparameters as Python expressions, e.g.
``policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.Tanh)"`` and
``normalize: "dict(norm_obs=False, norm_reward=True)"``, and runs them with ``eval``. Here they are parsed
with :func:`ast.parse` and only this grammar is accepted: numbers, strings, ``True``/``False``/``None``,
lists, tuples, ``{...}`` mappings with constant keys, ``dict(key=value, ...)``, and the names of
:data:`NAMES` (activation functions and optimizer classes). Anything else (a call of another function, an
attribute of another object, ``**``, comprehensions, ...) is a ``ValueError`` naming the key and the part.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import torch
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

_ACTIVATIONS = ("ReLU", "Tanh", "ELU", "LeakyReLU", "SiLU", "GELU", "SELU", "Sigmoid", "Softplus", "Mish", "Identity")
_OPTIMIZERS = ("Adam", "AdamW", "RMSprop", "SGD")
_NN = ("nn.", "th.nn.", "torch.nn.")  # the spellings rl-zoo3's files use (it imports torch as th)
_OPTIM = ("th.optim.", "torch.optim.")

NAMES: dict[str, Any] = {
    **{f"{prefix}{name}": getattr(torch.nn, name) for prefix in _NN for name in _ACTIVATIONS},
    **{f"{prefix}{name}": getattr(torch.optim, name) for prefix in _OPTIM for name in _OPTIMIZERS},
    "RMSpropTFLike": RMSpropTFLike,
}
"""The names an expression may use: torch activation functions (``nn.ReLU``, also spelled ``th.nn.ReLU`` or
``torch.nn.ReLU``), torch optimizers (``th.optim.Adam``) and SB3's ``RMSpropTFLike`` (rl-zoo3's A2C files)."""

NAMES_TEXT = (
    f"nn.<activation> for {', '.join(_ACTIVATIONS)}; th.optim.<optimizer> for {', '.join(_OPTIMIZERS)}; "
    "RMSpropTFLike (nn. may also be written th.nn. or torch.nn., th.optim. as torch.optim.)"
)

CLASS_KEYS = frozenset({"activation_fn", "optimizer_class"})
"""``policy_kwargs`` keys whose value is a class: in the YAML mapping form they are written as a name of
:data:`NAMES` (``activation_fn: nn.Tanh``)."""

MAX_LENGTH = 10_000
"""Longer expressions are refused (Python's parser can exhaust memory on deeply nested input)."""


def parse_expression(text: str, key: str, names: Mapping[str, Any] = NAMES) -> Any:
    """The value of an rl-zoo3 expression string, built from the safe grammar above.

    Args:
        text: e.g. ``"dict(net_arch=[64, 64], activation_fn=nn.Tanh)"``.
        key: the hyperparameter it belongs to (for messages).
        names: the names the expression may use.

    Raises:
        ValueError: not valid Python, or a part outside the grammar (the message names it).
    """
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{key}: expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ValueError(f"{key}: {text!r} is not a valid expression ({type(err).__name__})") from err
    try:
        return _build(tree.body, key, names)
    except RecursionError as err:
        raise ValueError(f"{key}: expression nested too deeply") from err


def _build(node: ast.expr, key: str, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
    ):
        number = node.operand.value
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.List):
        return [_build(item, key, names) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_build(item, key, names) for item in node.elts)
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
        return {k.value: _build(v, key, names) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[union-attr]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
        and all(kw.arg is not None for kw in node.keywords)
    ):
        return {str(kw.arg): _build(kw.value, key, names) for kw in node.keywords}
    dotted = _dotted_name(node)
    if dotted is not None and dotted in names:
        return names[dotted]
    allowed = "numbers, strings, True/False/None, [...], (...), {...}, dict(key=value, ...)"
    known = f"; names: {NAMES_TEXT}" if names is NAMES else f"; names: {sorted(names)}" if names else ""
    raise ValueError(f"{key}: {ast.unparse(node)!r} is not allowed; the grammar is {allowed}{known}")


def _dotted_name(node: ast.expr) -> str | None:
    """``nn.Tanh`` -> ``"nn.Tanh"``; ``None`` for anything but a (dotted) name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def parse_policy_kwargs(value: Any, source: str) -> dict[str, Any]:
    """``policy_kwargs`` as SB3 takes it, from rl-zoo3's expression string or a YAML mapping.

    In the mapping form, a class (``activation_fn``, ``optimizer_class``) is written as a name of :data:`NAMES`.
    """
    key = f"{source}: policy_kwargs"
    if isinstance(value, str):
        value = parse_expression(value, key)
    if not isinstance(value, dict):
        raise ValueError(f"{key}: must be a mapping or a dict(...) expression, got {value!r}")
    out = dict(value)
    for name in CLASS_KEYS & out.keys():
        if isinstance(out[name], str):
            if out[name] not in NAMES:
                raise ValueError(f"{key}: {name} {out[name]!r} is not a known name ({NAMES_TEXT})")
            out[name] = NAMES[out[name]]
    _check_net_arch(out.get("net_arch"), key)
    return out


def _check_net_arch(net_arch: Any, key: str) -> None:
    """SB3's ``net_arch``: a list of layer widths, or ``{pi: [...], vf: [...]}`` (``qf`` for DQN-style)."""
    if net_arch is None:
        return
    layers = net_arch.values() if isinstance(net_arch, dict) else [net_arch]
    for widths in layers:
        if not isinstance(widths, (list, tuple)) or not all(
            isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths
        ):
            raise ValueError(
                f"{key}: net_arch must be a list of positive layer widths or a mapping of such lists, got {net_arch!r}"
            )


def parse_normalize(value: Any, source: str) -> Any:
    """rl-zoo3's ``normalize``: a bool, a YAML mapping, or a ``dict(...)`` expression string (no names)."""
    if isinstance(value, str):
        return parse_expression(value, f"{source}: normalize", names={})
    return value
