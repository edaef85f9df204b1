"""Start or join a Ray runtime, failing fast and clearly when the extra is missing or the cluster is not there.

Shared by the RLlib training backend and the Ray benchmark executor. Nothing here imports Ray at module
import time, so the quick start (local process pool, SB3) never needs the ``ray`` extra.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

RAY_EXTRA_HINT = 'install the optional extra: pip install "lrm-gym[ray]"'
DEFAULT_CONNECT_TIMEOUT_S = 5.0
LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2
"""Object store of a local runtime: results here are small tables, and Ray's default (30% of RAM) is not."""


class RayUnavailableError(ValueError):
    """Ray is not installed, or the requested cluster cannot be reached.

    A ``ValueError``: both come from the user's choice (``--backend``, ``--address``), so the ``lrm-gym``
    command reports them as bad input, with the message, and no traceback.
    """


def require_ray() -> ModuleType:
    """Import and return ``ray``, or raise :class:`RayUnavailableError` saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailableError(f"Ray is not installed; {RAY_EXTRA_HINT}") from err
    return ray


def ray_available() -> bool:
    """Whether the ``ray`` extra (Ray, and the packages RLlib needs beyond Ray Tune) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("ray", "tree", "lz4", "ormsgpack"))


def parse_address(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a cluster address, or ``None`` for ``"auto"`` (Ray finds the local head itself).

    Accepts ``host:port`` (the GCS address printed by ``ray start --head``) and ``ray://host:port`` (Ray
    Client).

    Raises:
        ValueError: the address is empty or has no valid port.
    """
    address = address.strip()
    if not address:
        raise ValueError("--address is empty; give host:port, ray://host:port or 'auto'")
    if address == "auto":
        return None
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--address {address!r} is not host:port, ray://host:port or 'auto'")
    return host, int(port)


def check_reachable(address: str, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
    """Open (and close) a TCP connection to the cluster's address.

    ``ray.init(address=...)`` retries an unreachable GCS for minutes before it gives up; this check turns
    that into an error within ``timeout_s`` that names the address.

    Raises:
        RayUnavailableError: nothing accepts connections at ``address`` within ``timeout_s``.
        ValueError: ``address`` is malformed.
    """
    target = parse_address(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout_s):
            pass
    except OSError as err:
        raise RayUnavailableError(
            f"cannot reach a Ray cluster at {address!r} within {timeout_s:g} s ({err.strerror or err}); "
            "start one with `ray start --head` and pass the address it prints, or omit --address to run a "
            "local Ray runtime"
        ) from err


def _auth_hint() -> str:
    # Ray enables token authentication on the clusters it starts, but a client joining an explicit address
    # only sends a token when told to: the usual reason a reachable cluster refuses a connection.
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return ""
    return (
        "; if the cluster uses token authentication, set RAY_AUTH_MODE=token and give the cluster's token in "
        "RAY_AUTH_TOKEN or ~/.ray/auth_token"
    )


def local_num_cpus(requested: int | None) -> int:
    """CPUs for a local runtime: ``requested``, capped at the cores this process may use.

    Raises:
        ValueError: ``requested`` is below 1.
    """
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if requested is None:
        return available
    if requested < 1:
        raise ValueError(f"num_cpus must be >= 1, got {requested}")
    return min(requested, available)


@contextmanager
def ray_runtime(
    address: str | None = None,
    num_cpus: int | None = None,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> Iterator[ModuleType]:
    """Use the running Ray runtime, or join ``address``, or start a local one; shut down only what we started.

    Args:
        address: ``None`` starts a local runtime on this machine; ``host:port``, ``ray://host:port`` or
            ``"auto"`` joins an existing cluster.
        num_cpus: CPUs of a local runtime (capped at this machine's cores); ignored when joining a cluster,
            whose size its nodes set.
        connect_timeout_s: how long to wait for ``address`` before failing.

    Yields:
        The ``ray`` module, initialised.

    Raises:
        RayUnavailableError: Ray is not installed or the cluster is unreachable.
        ValueError: bad ``address`` or ``num_cpus``.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    if address is None:
        # address="local" forces a new runtime even when RAY_ADDRESS points elsewhere: no address means local.
        ray.init(
            address="local",
            num_cpus=local_num_cpus(num_cpus),
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            log_to_driver=False,
        )
    else:
        check_reachable(address, connect_timeout_s)
        try:
            ray.init(address=address, log_to_driver=False)
        except ConnectionError as err:  # "auto" with no cluster here, or a cluster that refused us
            hint = _auth_hint() if address != "auto" else ""
            raise RayUnavailableError(f"cannot join a Ray cluster at {address!r}: {err}{hint}") from err
    try:
        yield ray
    finally:
        ray.shutdown()
