"""The loss ``L = 1 - rho`` of a permutation as a sum of non-negative terms.

Both the histogram path (:func:`loss_from_hist`, behind
:func:`vortexnumba.information_loss`) and the swap kernel reduce a map to

- ``ku``: the energy of the pairs whose kernel value the map keeps (``u == v``),
- the changed terms ``(w_t, u_t, v_t)``, ``u_t != v_t``: a weight ``w = s**2``
  (or a histogram entry, a sum of them) and the kernel values before and after,

with ``|b|**2 = ku + sum w u**2`` and ``|c|**2 = ku + sum w v**2``.
:func:`changed_loss` turns these into L without subtracting two numbers close
to each other, in two ways (``proofs/theorems.md``, section 4):

1. the *gap form*, O(m) for m changed terms::

       2L = ku delta**2 + sum_t w_t ((u_t - v_t)/|b| + v_t delta)**2,
       delta = 1/|b| - 1/|c| = (|c|**2 - |b|**2) / (|b| |c| (|b| + |c|)),
       |c|**2 - |b|**2 = sum_t w_t (v_t - u_t)(v_t + u_t);

2. the *Lagrange form*, O(m**2), used when a running error bound says the
   gap form may have cancelled (the map scales nearly every bond by one
   factor: tiny images whose bonds all touch the moved pixels)::

       (1 + rho) |b|**2 |c|**2 L = |b|**2 |c|**2 - <b, c>**2
           = ku sum_t w_t (u_t - v_t)**2 + sum_{t < t'} w_t w_t' (u_t v_t' - u_t' v_t)**2.

Naive twin: ``1 - naive.retention``; exact reference:
:func:`vortexnumba.testing.exact_loss`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["BOTH", "EPS", "NO_BONDS", "ONE_SIDED", "TRUST_RTOL", "changed_loss", "cosine_of", "loss_from_hist",
           "retention_from_hist"]

#: float64's unit roundoff.
EPS = 2.0 ** -53
#: A float result whose running error bound is below this fraction of itself (~1.5e-11) is used as
#: it is; above it, the slower cancellation-free path decides (the Lagrange form here, the exact
#: accumulators for a swap's kept energy).
TRUST_RTOL = 2.0 ** -36


@njit(inline="always")
def _two_product(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker's product, no FMA needed)."""
    p = a * b
    c = 134217729.0 * a  # 2**27 + 1: Veltkamp's split
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = 134217729.0 * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, e


@njit(inline="always")
def _determinant(u1, v1, u2, v2):
    """``u1 v2 - u2 v1`` with a relative error of a few eps, however close the two products are."""
    p1, e1 = _two_product(u1, v2)
    p2, e2 = _two_product(u2, v1)
    return (p1 - p2) + (e1 - e2)


@njit(cache=True)
def changed_loss(w, u, v, m, ku, nb, nc, cosine):
    """L from the kept energy ``ku`` and the changed terms ``w[:m], u[:m], v[:m]`` (``u != v``).

    Parameters
    ----------
    w, u, v : ndarray of float64
        Weights (sums of ``s**2``) and kernel values before and after.
    m : int
        Number of changed terms.
    ku : float
        Energy of the pairs whose kernel value is kept, ``sum w u**2`` over them.
    nb, nc : float
        ``|b|`` and ``|c|``.
    cosine : float
        ``<b, c> / (|b| |c|)``, at least 1/2 (below that ``1 - cosine`` is accurate).

    Returns
    -------
    float
        ``L >= 0``; see the module docstring for the two forms and when each is used.
    """
    gap = 0.0
    gap_abs = 0.0  # sum of |terms| of the gap: bounds its rounding error
    for t in range(m):
        g = w[t] * (v[t] - u[t]) * (v[t] + u[t])
        gap += g
        gap_abs += abs(g)
    delta = gap / (nb + nc) / nb / nc
    delta_err = (m + 4.0) * EPS * (gap_abs / (nb + nc) / nb / nc)  # absolute error bound of delta
    loss = ku * delta * delta
    err = ku * (2.0 * abs(delta) + delta_err) * delta_err + 4.0 * EPS * loss
    for t in range(m):
        a = (u[t] - v[t]) / nb
        c = v[t] * delta
        d = a + c
        d_err = 4.0 * EPS * (abs(a) + abs(c)) + v[t] * delta_err
        loss += w[t] * d * d
        err += w[t] * (2.0 * abs(d) + d_err) * d_err
    if err <= TRUST_RTOL * loss:
        return 0.5 * loss
    # Lagrange form: every term non-negative, no reciprocal norms subtracted.
    scale_b = 1.0 / nb
    scale_c = 1.0 / nc
    d2 = 0.0
    cross = 0.0
    for t in range(m):
        wt = w[t] * scale_b * scale_c
        d = u[t] - v[t]
        d2 += wt * d * d
        for t2 in range(t + 1, m):
            det = _determinant(u[t], v[t], u[t2], v[t2])
            cross += wt * (w[t2] * scale_b * scale_c) * det * det
    return (ku * scale_b * scale_c * d2 + cross) / (1.0 + cosine)


@njit(inline="always")
def _hist_sums(hist, b, u, v):
    """``(sum hist u^2, sum hist v^2, sum hist u v)`` of image ``b``: the two norms and the inner product."""
    s_bb = 0.0
    s_cc = 0.0
    s_bc = 0.0
    for c in range(hist.shape[1]):
        w = hist[b, c]
        s_bb += w * u[c] * u[c]
        s_cc += w * v[c] * v[c]
        s_bc += w * u[c] * v[c]
    return s_bb, s_cc, s_bc


#: What :func:`cosine_of` found: no bonds before or after, bonds on one side only, or both.
NO_BONDS, ONE_SIDED, BOTH = 0, 1, 2


@njit(inline="always")
def cosine_of(s_bb, s_cc, s_bc):
    """``(case, |b|, |c|, cosine)`` from ``|b|**2``, ``|c|**2`` and ``<b, c>``: the one place for
    the zero cases and the order in which norms and cosine are formed (retention, loss, swap)."""
    if s_bb == 0.0 and s_cc == 0.0:
        return NO_BONDS, 0.0, 0.0, 0.0
    if s_bb == 0.0 or s_cc == 0.0:
        return ONE_SIDED, 0.0, 0.0, 0.0
    nb = math.sqrt(s_bb)
    nc = math.sqrt(s_cc)
    return BOTH, nb, nc, s_bc / nb / nc


@njit(inline="always")
def _cosine(hist, b, u, v, energy_half):
    """``(case, |b|, |c|, cosine, permutation)`` of image ``b``, shared by retention and loss.

    ``energy_half[b]`` replaces ``sum hist u^2`` when the map is not a permutation (NaN when it
    is); the norms and the cosine are formed in one order so both callers agree bit for bit.
    """
    s_bb, s_cc, s_bc = _hist_sums(hist, b, u, v)
    permutation = np.isnan(energy_half[b])
    if not permutation:
        s_bb = energy_half[b]
    case, nb, nc, cosine = cosine_of(s_bb, s_cc, s_bc)
    return case, nb, nc, cosine, permutation


@njit(cache=True)
def retention_from_hist(hist, u, v, energy_half):
    """rho of each image from its histogram ``hist[b, code] = sum of s**2``.

    Every pair sum is a non-negative combination of the histogram, so nothing
    cancels: the norms are ``sum hist u^2`` and ``sum hist v^2``, and for a
    permutation the loss is ``0.5 sum hist (u/|b| - v/|c|)^2``, a sum of
    squares. ``rho`` is taken as the plain cosine when that is below 1/2
    (``1 - loss`` would lose its relative accuracy there) and as ``1 - loss``
    otherwise (where the cosine would lose the loss's).

    ``energy_half[b]`` is E(X)/2 for a non-bijective map, NaN for a
    permutation (whose histogram already covers every bond of X).
    Naive twin: ``naive.retention``.
    """
    n_img = hist.shape[0]
    rho = np.empty(n_img)
    for b in range(n_img):
        case, nb, nc, cosine, permutation = _cosine(hist, b, u, v, energy_half)
        if case == NO_BONDS:
            rho[b] = 1.0  # no bonds before or after: nothing to lose
            continue
        if case == ONE_SIDED:
            rho[b] = 0.0
            continue
        if not permutation or cosine < 0.5:
            rho[b] = cosine
            continue
        loss = 0.0
        for c in range(hist.shape[1]):
            if hist[b, c] != 0.0:
                d = u[c] / nb - v[c] / nc
                loss += hist[b, c] * d * d
        rho[b] = 1.0 - 0.5 * loss
    return rho


@njit(cache=True)
def loss_from_hist(hist, u, v, energy_half):
    """``L = 1 - rho`` of each image from its histogram, computed directly (not as ``1 - rho``).

    The norms and the cosine are formed exactly as in
    :func:`retention_from_hist`. Where the cosine is below 1/2, or the map is
    not a permutation, ``L = 1 - cosine`` (bit for bit ``1 - retention``);
    otherwise :func:`changed_loss` with the codes ``u == v`` as the kept
    energy. Naive twin: ``1 - naive.retention``; exact reference:
    :func:`vortexnumba.testing.exact_loss`.
    """
    n_img, n_codes = hist.shape
    out = np.empty(n_img)
    cw = np.empty(n_codes)
    cu = np.empty(n_codes)
    cv = np.empty(n_codes)
    for b in range(n_img):
        case, nb, nc, cosine, permutation = _cosine(hist, b, u, v, energy_half)
        if case == NO_BONDS:
            out[b] = 0.0
            continue
        if case == ONE_SIDED:
            out[b] = 1.0
            continue
        if not permutation or cosine < 0.5:
            out[b] = 1.0 - cosine
            continue
        ku = 0.0
        m = 0
        for c in range(n_codes):
            w = hist[b, c]
            if w == 0.0:
                continue
            if u[c] == v[c]:
                ku += w * u[c] * u[c]
            else:
                cw[m] = w
                cu[m] = u[c]
                cv[m] = v[c]
                m += 1
        out[b] = changed_loss(cw, cu, cv, m, ku, nb, nc, cosine)
    return out
