"""The one decorator for the simulator's compiled code.

``compiled`` is ``numba.njit`` with an on-disk cache (the first import compiles, later ones load) and
without numba's reference-counting runtime (NRT). The kernels never allocate: every array they touch is
passed in. With NRT on, each array read out of the parameter and state tuples is reference counted, which
made the observation kernel three times slower (350 ns against 105 ns per row, measured). ``inlined`` also
inlines the function into its callers (numba IR inlining): a call would copy the parameter and state tuples
by value, which cost as much as the observation itself. ``error_model="numpy"``: a division by zero gives
inf or nan instead of a Python exception check on every division.
"""

from numba import njit

compiled = njit(cache=True, _nrt=False, error_model="numpy")  # type: ignore[call-overload]  # _nrt: see above
inlined = njit(cache=True, _nrt=False, error_model="numpy", inline="always")  # type: ignore[call-overload]
