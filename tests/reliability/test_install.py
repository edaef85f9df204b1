"""Install edges: a read-only install with no writable home imports, warns once, and caches elsewhere.

Reproducing a read-only install as root: root ignores file permissions, so ``chmod -R a-w`` would not stop
numba from writing ``__pycache__``. The test makes the copied package and the home directory read-only
*filesystems* instead: read-only bind mounts in a private mount namespace (``unshare -m``), where even root
gets ``EROFS``. That is what a package on a read-only image or volume looks like. As another user, plain
``chmod -R a-w`` does the same. Without either (no root, or no ``unshare``), the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import lrm_gym
from lrm_gym.core import compiled
from lrm_gym.core.compiled import cache_locations, choose_cache, drop_stale_cache

PACKAGE = Path(lrm_gym.__file__).resolve().parent
WARNING = "lrm_gym: no writable numba cache location"

CHILD = textwrap.dedent(
    """
    import gymnasium as gym
    import numba
    import lrm_gym
    from lrm_gym.core import compiled

    env = gym.make("lrm_gym/EnergyRouting-v2")
    env.reset(seed=0)
    env.step(1)
    print("package", lrm_gym.__file__)
    print("cache", numba.config.CACHE_DIR)
    numba.config.CACHE_DIR = ""  # numba's own search, as before the fallback: nothing writable
    print("numba_finds", compiled.cache_locations(compiled._PACKAGE))
    """
)


def _copy_package(root: Path) -> Path:
    target = root / "pkg"
    shutil.copytree(PACKAGE, target / "lrm_gym", ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    return target


def _read_only_command(read_only: list[Path], command: list[str]) -> list[str] | None:
    """``command`` run with the directories ``read_only`` read-only, or None if this machine cannot."""
    if os.geteuid() != 0:
        for directory in read_only:
            for path in [directory, *directory.rglob("*")]:
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        return command
    if shutil.which("unshare") is None:
        return None
    mounts = " && ".join(f"mount --bind {d} {d} && mount -o remount,ro,bind {d} {d}" for d in read_only)
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", f"{mounts} && ! touch {read_only[0]}/probe"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        return None
    quoted = " ".join("'" + part.replace("'", "'\\''") + "'" for part in command)
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", f"{mounts} && exec {quoted}"]


def test_read_only_install_without_writable_home_imports_and_caches_in_temp(tmp_path: Path) -> None:
    package_root, home, temp = _copy_package(tmp_path), tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    command = _read_only_command([package_root, home], [sys.executable, "-c", CHILD])
    if command is None:
        pytest.skip("cannot make a read-only directory here (root without unshare/mount)")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TMPDIR": str(temp), "PYTHONPATH": str(package_root)}
    try:
        result = subprocess.run(
            command, env=env, cwd=home, capture_output=True, text=True, timeout=600, check=False
        )  # cwd: not the checkout, which "python -c" would import from
    finally:
        for path in [package_root, home, *package_root.rglob("*"), *home.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["package"].startswith(str(package_root))  # the read-only copy, not the checkout
    fallback = temp / f"lrm_gym-numba-{os.getuid()}"
    assert lines["cache"] == str(fallback)
    assert lines["numba_finds"] == "None"  # numba alone finds no writable place: the crash reproduced
    assert result.stderr.count(WARNING) == 1, result.stderr[-3000:]
    assert "NUMBA_CACHE_DIR" in result.stderr
    assert any(fallback.rglob("*.nbi")), "the compiled kernels are cached in the fallback directory"
    assert not any(package_root.rglob("*.nbi"))


def test_fallback_directory_must_be_private(tmp_path: Path) -> None:
    shared = tmp_path / f"lrm_gym-numba-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)  # someone else could plant a cache index (a pickle) here
    assert compiled._private_dir(tmp_path) is None
    shared.chmod(0o700)
    assert compiled._private_dir(tmp_path) == shared


def test_no_cache_at_all_warns_once_and_compiles_without(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(compiled, "cache_locations", lambda package: None)
    before = compiled.numba_config.CACHE_DIR
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert choose_cache(PACKAGE, temp_parent=tmp_path) is False
    assert [str(w.message).startswith(WARNING) for w in caught] == [True]
    assert "compiled again in every process" in str(caught[0].message)
    assert before == compiled.numba_config.CACHE_DIR


def test_stale_cache_is_dropped_in_numba_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With NUMBA_CACHE_DIR (or the fallback) the cache lives outside the package; a source edit still drops it."""
    package = tmp_path / "pkg" / "lrm_gym"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    monkeypatch.setattr(compiled.numba_config, "CACHE_DIR", str(tmp_path / "cache"))
    locations = cache_locations(package)
    assert locations is not None and all(str(d).startswith(str(tmp_path / "cache")) for d in locations)
    assert drop_stale_cache(package) is True  # first run: no stamp yet
    planted = locations[1] / "dynamics._kernel-1.py311.nbi"
    planted.write_bytes(b"stale")
    assert drop_stale_cache(package) is False  # sources unchanged: the cache stays
    assert planted.exists()
    (package / "core" / "observation.py").write_text("# edited\n", encoding="utf-8")
    assert drop_stale_cache(package) is True
    assert not planted.exists()
