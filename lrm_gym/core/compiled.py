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
"""

import hashlib
from pathlib import Path
from typing import Any

from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def drop_stale_cache(package: Path) -> bool:
    """Delete ``package``'s numba cache files if its sources changed since they were written; True if so.

    A digest of every ``*.py`` under ``package`` is kept in ``package/__pycache__``. Errors (a read-only
    install, say) leave the cache as it is.
    """
    try:
        sources = sorted(package.rglob("*.py"))
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
        stamp = package / "__pycache__" / "numba-sources.sha256"
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        for cached in package.rglob("*.nb[ic]"):
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:
        return False


drop_stale_cache(Path(__file__).resolve().parents[1])

# The intrinsic's name carries its pointer type: opaque pointers ("p0") since LLVM 15, "p0i8" before.
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"

compiled = njit(cache=True, _nrt=False, error_model="numpy")  # type: ignore[call-overload]  # _nrt: see above
inlined = njit(cache=True, _nrt=False, error_model="numpy", inline="always")  # type: ignore[call-overload]


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
