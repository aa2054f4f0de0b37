"""Exact sums of non-negative float64 values, for the swap kernel's fallback.

A swap's "kept" energy (the pairs that touch neither swapped pixel) is the
image's total minus the part the swap touches. In float64 that difference
cancels when the swapped pixels hold nearly all of a distance class's energy
(sharp kernels, small h, two-valued images). :class:`SwapContext` therefore
also holds each class total *exactly*, as a fixed-point integer, and
subtracts the touched terms exactly when a cancellation bound says the float
difference is not accurate enough (``proofs/theorems.md``, section 4).

The accumulator is ``LIMBS`` signed 64-bit limbs of 32 bits each: limb ``i``
weighs ``2**(32 i - BIAS)``. Every float64 is an integer multiple of
``2**-1074``, so it is represented exactly; the top limb reaches ``2**64``,
enough for sums of up to ``2**60`` values of at most 1 (values must be below
``2**52``). Adding or subtracting
a value touches three limbs; the limbs are normalised (carries propagated)
before they are read and every ``2**28`` additions, so no limb overflows.

Naive twin: Python's :func:`math.fsum` (``tests/test_exactness.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LIMBS = 36
BIAS = 1088  # limb 0, bit 0 weighs 2**-1088; float64 values are multiples of 2**-1074 (bit 14)
_MASK = (1 << 32) - 1
# Additions between normalisations: each moves a limb by less than 2**33, so 2**28 of them stay below 2**61.
NORMALISE_EVERY = 1 << 28


@njit(inline="always")
def acc_add(acc, value, sign):
    """``acc += sign * value`` exactly, for ``0 <= value < 2**52`` and ``sign`` = +1 or -1.

    Parameters
    ----------
    acc : ndarray of int64, shape (LIMBS,)
    value : float
    sign : int
    """
    if value == 0.0:
        return
    frac, ex = math.frexp(value)
    mant = np.int64(frac * 9007199254740992.0)  # frac * 2**53, an exact integer below 2**53
    e = ex - 53
    if e < -1074:  # a subnormal: value is a multiple of 2**-1074, so the shift drops only zeros
        mant >>= -1074 - e
        e = -1074
    pos = e + BIAS
    i = pos >> 5
    sh = pos & 31
    lo = (mant & _MASK) << sh  # < 2**63
    hi = (mant >> 32) << sh  # < 2**52
    acc[i] += sign * (lo & _MASK)
    acc[i + 1] += sign * ((lo >> 32) + (hi & _MASK))
    acc[i + 2] += sign * (hi >> 32)


@njit(inline="always")
def acc_normalise(acc):
    """Propagate carries: limbs ``0 .. LIMBS-2`` end in ``[0, 2**32)``, the top one keeps the sign."""
    for i in range(LIMBS - 1):
        carry = acc[i] >> 32  # floor division by 2**32, also for negative limbs
        acc[i] -= carry << 32
        acc[i + 1] += carry


@njit(inline="always")
def acc_value(acc):
    """The float64 nearest (within 2 ulp) to the exact sum held in ``acc``; ``acc`` is normalised in place.

    Only the three highest non-zero limbs are read: the rest weigh less than
    ``2**-64`` of the total. A negative total (impossible for the kept
    energies, which are sums of non-negative terms) is returned as is.
    """
    acc_normalise(acc)
    if acc[LIMBS - 1] < 0:
        total = 0.0
        for i in range(LIMBS):
            total += math.ldexp(np.float64(acc[i]), 32 * i - BIAS)
        return total
    top = LIMBS - 1
    while top >= 0 and acc[top] == 0:
        top -= 1
    if top < 0:
        return 0.0
    total = 0.0
    for i in range(max(0, top - 2), top + 1):  # smallest first
        total += math.ldexp(np.float64(acc[i]), 32 * i - BIAS)
    return total


@njit(cache=True)
def exact_sum(values):
    """The sum of ``values`` (each in ``[0, 2**52)``), exact before one final rounding (within 2 ulp).

    Examples
    --------
    >>> import numpy as np
    >>> from vortexnumba.framework._exact_sum import exact_sum
    >>> exact_sum(np.array([1.0, 1e-300, 1e10, -0.0])) == 1e10 + 1.0
    True
    >>> exact_sum(np.array([2.0 ** -1074, 2.0 ** -1074]))
    1e-323
    """
    acc = np.zeros(LIMBS, dtype=np.int64)
    for k in range(values.shape[0]):
        acc_add(acc, values[k], 1)
        if (k + 1) % NORMALISE_EVERY == 0:
            acc_normalise(acc)
    return acc_value(acc)
