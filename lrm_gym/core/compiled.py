"""The decorators (and one intrinsic) for the simulator's compiled code.

``compiled`` is ``numba.njit`` with an on-disk cache (the first import compiles, later ones load) and
without numba's reference-counting runtime (NRT). The kernels never allocate: every array they touch is
passed in. With NRT on, each array read out of the parameter and state tuples is reference counted, which
made the observation kernel three times slower (350 ns against 105 ns per row, measured). ``inlined`` also
inlines the function into its callers (numba IR inlining): a call would copy the parameter and state tuples
by value, which cost as much as the observation itself. ``error_model="numpy"``: a division by zero gives
inf or nan instead of a Python exception check on every division.

numba's on-disk cache checks only the source file of the function it compiled, not the files of the
functions it inlined: after an edit of, say, ``observation.py``, ``dynamics.py``'s cached kernels would
run the old observation. :func:`drop_stale_cache` (run on import) deletes the package's cache whenever
any of its compiled sources changed.

Where the cache goes: numba's own choice (``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` next to the
sources, else the user's cache directory). When none of them is writable (a read-only install with no
writable home), :func:`choose_cache` points numba at a private directory under the system's temporary
directory, with one warning; if even that fails, the kernels are compiled in every process without a cache.
"""

import hashlib
import os
import stat
import tempfile
import types as pytypes
import warnings
from pathlib import Path
from typing import Any

from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import config as numba_config
from numba import njit, types
from numba.core import cgutils
from numba.core.caching import FunctionCache
from numba.extending import intrinsic

_PACKAGE = Path(__file__).resolve().parents[1]


def _probe() -> None:
    """Stands in for a compiled function when asking numba where it would cache one."""


def cache_locations(package: Path) -> list[Path] | None:
    """The directory numba would cache a function of each of ``package``'s source directories in (the
    outermost first), or None if it finds no writable one for some directory (or there are no sources).

    This runs numba's own search (``NUMBA_CACHE_DIR``, then ``__pycache__`` next to the source, then the
    user's cache directory), the one ``njit(cache=True)`` runs at decoration, on a stand-in function.
    """
    directories = sorted({p.parent for p in package.rglob("*.py")})  # the top directory sorts first
    if not directories:
        return None
    sources = [min(d.glob("*.py")) for d in directories]
    locations = []
    for source in sources:
        probe = pytypes.FunctionType(_probe.__code__.replace(co_filename=str(source)), {})
        try:
            locations.append(Path(FunctionCache(probe)._cache_path))
        except RuntimeError:  # numba: "cannot cache function ...: no locator available"
            return None
    return locations


def drop_stale_cache(package: Path) -> bool:
    """Delete ``package``'s numba cache files if its sources changed since they were written; True if so.

    A digest of every ``*.py`` under ``package`` is kept in the cache directory of its outermost source
    directory (``package/__pycache__`` for an in-tree cache). Errors (a read-only cache, say) leave the cache as it is.
    """
    try:
        locations = cache_locations(package)
        if locations is None:
            return False
        sources = sorted(package.rglob("*.py"))
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
        stamp = locations[0] / "numba-sources.sha256"
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        for directory in locations:
            for cached in directory.glob("*.nb[ic]"):
                cached.unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:
        return False


def _private_dir(parent: Path) -> Path | None:
    """``parent/lrm_gym-numba-<uid>``, created with mode 0700, if it is ours and no one else can write it
    (numba's cache index is a pickle: a directory others can write would let them run code in ours)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = parent / f"lrm_gym-numba-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return path if private else None


def choose_cache(package: Path, temp_parent: Path | None = None) -> bool:
    """Make sure numba can cache ``package``'s kernels; True if it can.

    If numba's own search finds no writable location, set numba's cache directory to a private directory
    under ``temp_parent`` (the system's temporary directory by default) and warn once; if that is not
    usable either, warn that every process compiles the kernels afresh and return False.
    """
    if cache_locations(package) is not None:
        return True
    previous = numba_config.CACHE_DIR  # type: ignore[attr-defined]  # set from the environment at import
    fallback = _private_dir(Path(temp_parent or tempfile.gettempdir()))
    if fallback is not None:
        numba_config.CACHE_DIR = str(fallback)  # type: ignore[attr-defined]
        if cache_locations(package) is not None:
            warnings.warn(
                f"lrm_gym: no writable numba cache location for {package} (read-only install, no writable "
                f"home); caching the compiled simulator in {fallback}. Set NUMBA_CACHE_DIR to choose the directory.",
                RuntimeWarning,
                stacklevel=2,
            )
            return True
    numba_config.CACHE_DIR = previous  # type: ignore[attr-defined]
    warnings.warn(
        f"lrm_gym: no writable numba cache location for {package}; the simulator is compiled again in every "
        "process (about 15 s). Set NUMBA_CACHE_DIR to a writable directory to cache it.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


CACHE = choose_cache(_PACKAGE)
"""Whether the kernels are cached on disk (see :func:`choose_cache`)."""
drop_stale_cache(_PACKAGE)

# The intrinsic's name carries its pointer type: opaque pointers ("p0") since LLVM 15, "p0i8" before.
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"

compiled = njit(cache=CACHE, _nrt=False, error_model="numpy")  # type: ignore[call-overload]  # _nrt: see above
inlined = njit(cache=CACHE, _nrt=False, error_model="numpy", inline="always")  # type: ignore[call-overload]


def _prefetch(typingctx: object, array: types.Array, index: types.Integer) -> tuple:
    """Hint the CPU to load ``array.flat[index]``'s cache line (``llvm.prefetch``; never faults).

    The batch kernels touch some twenty cache lines of each env's state per step, and one env's work is too
    long for the CPU to start loading the next env's lines by itself; prefetching a few envs ahead overlaps
    those loads with the work.
    """
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH_NAME)
        # read access, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(builder.gep(data, [args[1]]), i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


prefetch: Any = intrinsic(_prefetch)  # Any: called from compiled code as prefetch(array, index)
