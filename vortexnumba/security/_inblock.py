"""Kernels of the attacks on maps shared by every block, and on per-element negation.

In-block slot assignment (LE, block-wise)
-----------------------------------------
A key that shuffles (and negates) the slots inside a block with one map for
every block leaves, at every cipher slot ``j``, the values of one plain slot,
negated or not, in every block of every image. The plain slots have a known
layout: slot ``a = u * E + e`` is unit ``u`` (a nibble for LE, ``U = 2``; the
whole element for block-wise, ``U = 1``) of element ``e`` of the block, and an
element's value is ``x_e = sum_u weight[u] * value of its unit u``. Natural
images are smooth, so the assignment that makes neighbouring elements alike
is the key. With ``assign[a]`` the cipher slot placed at plain slot ``a`` and
``sign[j]`` whether cipher slot ``j`` is read negated (``top - v``), the
*slot energy* is::

    E(assign, sign) = sum over pairs (e1, e2, w) of  w * mean over blocks of (x_e1 - x_e2)^2

which needs only the cipher slots' means ``m`` and second moments ``M``:
``x_e1 - x_e2 = c + sum_k coef_k v_{j_k}`` gives
``c^2 + 2 c sum_k coef_k m_{j_k} + sum_k sum_l coef_k coef_l M[j_k, j_l]``.
:func:`anneal_slots` minimises it by simulated annealing over swaps of two
plain slots' cipher slots and (``allow_sign``) sign flips of one cipher slot,
then a greedy finish.

Sign labelling (PE and per-image PE)
------------------------------------
A grid of binary labels (negated or not) with, per edge between neighbours,
the cost of giving both ends the same label and of giving them different
ones. :func:`tree_signs` labels along a maximum spanning tree of the edges'
confidence ``|diff - same|`` (Kruskal), then :func:`icm_signs` lowers the
total cost by single flips. Naive twins are in ``tests/naive_attack.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._placement import next_below, next_uniform


@njit(cache=True)
def pair_cost(mom, mean, assign, sign, unit_w, n_el, top, e1, e2):
    """``mean (x_e1 - x_e2)^2`` of one element pair under ``(assign, sign)`` (see the module docstring)."""
    u_count = unit_w.shape[0]
    js = np.empty(2 * u_count, dtype=np.int64)
    cs = np.empty(2 * u_count)
    c = 0.0
    for u in range(u_count):
        for side in range(2):
            e = e1 if side == 0 else e2
            j = assign[u * n_el + e]
            w = unit_w[u] if side == 0 else -unit_w[u]
            k = 2 * u + side
            js[k] = j
            if sign[j]:
                c += w * top
                cs[k] = -w
            else:
                cs[k] = w
    acc = c * c
    for k in range(2 * u_count):
        acc += 2.0 * c * cs[k] * mean[js[k]]
        for m in range(2 * u_count):
            acc += cs[k] * cs[m] * mom[js[k], js[m]]
    return acc


@njit(cache=True)
def slot_energy(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw):
    """The slot energy ``E(assign, sign)`` summed over the element pairs ``(pa, pb, pw)``."""
    e = 0.0
    for p in range(pa.shape[0]):
        e += pw[p] * pair_cost(mom, mean, assign, sign, unit_w, n_el, top, pa[p], pb[p])
    return e


@njit(cache=True)
def _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, e1, e2):
    """Energy of the pairs that touch element ``e1`` or ``e2`` (each pair once)."""
    acc = 0.0
    for k in range(inc_ptr[e1], inc_ptr[e1 + 1]):
        p = inc[k]
        acc += pw[p] * pair_cost(mom, mean, assign, sign, unit_w, n_el, top, pa[p], pb[p])
    if e2 != e1:
        for k in range(inc_ptr[e2], inc_ptr[e2 + 1]):
            p = inc[k]
            if pa[p] == e1 or pb[p] == e1:
                continue
            acc += pw[p] * pair_cost(mom, mean, assign, sign, unit_w, n_el, top, pa[p], pb[p])
    return acc


@njit(cache=True)
def anneal_slots(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, allow_sign, steps,
                 t_start, t_end, seed):
    """Simulated annealing of ``(assign, sign)`` (changed in place); returns the final slot energy.

    A proposal is, with probability 1/3 when ``allow_sign``, the flip of the
    sign of the cipher slot at a random plain slot; otherwise the swap of the
    cipher slots of two random plain slots (signs stay with their cipher
    slots). A change that lowers the energy by more than 1e-12 is taken;
    another one with probability ``exp(-delta / t)``, ``t`` falling
    geometrically from ``t_start`` to ``t_end``. A greedy pass then takes
    every improving swap (and flip) until none is left. Random numbers:
    SplitMix64 seeded with ``seed`` (as :func:`._placement.anneal`).
    """
    s = assign.shape[0]
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    ratio = (t_end / t_start) ** (1.0 / max(1, steps - 1)) if t_start > 0.0 and t_end > 0.0 else 1.0
    t = t_start
    for _ in range(steps):
        a = next_below(state, s)
        ea = a % n_el
        if allow_sign and next_uniform(state) < 1.0 / 3.0:
            before = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, ea)
            sign[assign[a]] = not sign[assign[a]]
            delta = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, ea) - before
            take = delta < -1e-12
            if not take and t > 0.0:
                take = next_uniform(state) < np.exp(-delta / t)
            if not take:
                sign[assign[a]] = not sign[assign[a]]
        else:
            b = next_below(state, s)
            if b != a:
                eb = b % n_el
                before = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, eb)
                assign[a], assign[b] = assign[b], assign[a]
                delta = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, eb) - before
                take = delta < -1e-12
                if not take and t > 0.0:
                    take = next_uniform(state) < np.exp(-delta / t)
                if not take:
                    assign[a], assign[b] = assign[b], assign[a]
        t *= ratio
    improved = True
    while improved:
        improved = False
        for a in range(s):
            ea = a % n_el
            if allow_sign:
                before = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, ea)
                sign[assign[a]] = not sign[assign[a]]
                after = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, ea)
                if after < before - 1e-12:
                    improved = True
                else:
                    sign[assign[a]] = not sign[assign[a]]
            for b in range(a + 1, s):
                eb = b % n_el
                before = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, eb)
                assign[a], assign[b] = assign[b], assign[a]
                after = _local(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw, inc_ptr, inc, ea, eb)
                if after < before - 1e-12:
                    improved = True
                else:
                    assign[a], assign[b] = assign[b], assign[a]
    return slot_energy(mom, mean, assign, sign, unit_w, n_el, top, pa, pb, pw)


def incidence(n_el: int, pa: np.ndarray, pb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists ``(ptr, pairs)`` of the pairs that touch every element (ascending pair index)."""
    lists: list[list[int]] = [[] for _ in range(n_el)]
    for p, (a, b) in enumerate(zip(pa.tolist(), pb.tolist(), strict=True)):
        lists[a].append(p)
        if b != a:
            lists[b].append(p)
    ptr = np.zeros(n_el + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(v) for v in lists])
    flat = np.array([p for v in lists for p in v], dtype=np.int64)
    return ptr, flat


# --------------------------------------------------------------------------- sign labelling

@njit(cache=True)
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True)
def edge_adjacency(ea, eb, n, keep):
    """The kept edges ``k`` (``keep[k]``) of each of ``n`` nodes, in compressed rows: ``(deg, adj)``.

    Node ``a``'s edges are ``adj[deg[a]:deg[a + 1]]``, in increasing ``k``.
    """
    m = ea.shape[0]
    deg = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        if keep[k]:
            deg[ea[k] + 1] += 1
            deg[eb[k] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    adj = np.empty(max(1, deg[n]), dtype=np.int64)
    fill = deg[:n].copy()
    for k in range(m):
        if keep[k]:
            adj[fill[ea[k]]] = k
            fill[ea[k]] += 1
            adj[fill[eb[k]]] = k
            fill[eb[k]] += 1
    return deg, adj


@njit(cache=True)
def tree_signs(ea, eb, same, diff, n):
    """Binary labels ``(n,)`` along a maximum spanning tree of the edges' confidence ``|diff - same|``.

    Edges are taken in decreasing confidence (ties: lower edge index first)
    while they join two trees (Kruskal); every tree edge says "same" when
    ``same <= diff``. Each connected part is then labelled from its smallest
    node, label 0, through its tree edges.
    """
    m = ea.shape[0]
    conf = np.empty(m)
    for k in range(m):
        conf[k] = -abs(diff[k] - same[k])
    order = np.argsort(conf, kind="mergesort")
    parent = np.arange(n)
    chosen = np.zeros(m, dtype=np.bool_)
    for k in order:
        ra = _find(parent, ea[k])
        rb = _find(parent, eb[k])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            chosen[k] = True
    deg, adj = edge_adjacency(ea, eb, n, chosen)
    label = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    for root in range(n):
        if label[root] >= 0:
            continue
        label[root] = 0
        top = 0
        stack[0] = root
        while top >= 0:
            a = stack[top]
            top -= 1
            for q in range(deg[a], deg[a + 1]):
                k = adj[q]
                b = eb[k] if ea[k] == a else ea[k]
                if label[b] < 0:
                    label[b] = label[a] if same[k] <= diff[k] else 1 - label[a]
                    top += 1
                    stack[top] = b
    return label


@njit(cache=True)
def icm_signs(ea, eb, same, diff, label, sweeps):
    """Single-label flips that lower the total edge cost, node by node, for at most ``sweeps`` passes.

    ``label`` is changed in place; returns the total cost. A flip is taken
    when it lowers the cost by more than 1e-12.
    """
    n = label.shape[0]
    m = ea.shape[0]
    deg, adj = edge_adjacency(ea, eb, n, np.ones(m, dtype=np.bool_))
    for _ in range(sweeps):
        changed = False
        for a in range(n):
            gain = 0.0
            for q in range(deg[a], deg[a + 1]):
                k = adj[q]
                b = eb[k] if ea[k] == a else ea[k]
                if label[a] == label[b]:
                    gain += same[k] - diff[k]
                else:
                    gain += diff[k] - same[k]
            if gain > 1e-12:
                label[a] = 1 - label[a]
                changed = True
        if not changed:
            break
    total = 0.0
    for k in range(m):
        total += same[k] if label[ea[k]] == label[eb[k]] else diff[k]
    return total


@njit(cache=True)
def image_signs(images, top, sweeps, out):
    """Per image and channel of a batch ``(B, H, W, C)`` (float), the labels that make neighbours agree.

    Edge costs between 4-neighbours ``p, q``: ``(v_p - v_q)^2`` for the same
    label, ``(v_p + v_q - top)^2`` for different ones; labelled by
    :func:`tree_signs`, refined by :func:`icm_signs`; ``out`` (B, H, W, C)
    int64 receives the labels (1: read ``top - v``).
    """
    b_, h, w, c = images.shape
    m = h * (w - 1) + (h - 1) * w
    ea = np.empty(m, dtype=np.int64)
    eb = np.empty(m, dtype=np.int64)
    k = 0
    for y in range(h):
        for x in range(w):
            if x + 1 < w:
                ea[k] = y * w + x
                eb[k] = y * w + x + 1
                k += 1
            if y + 1 < h:
                ea[k] = y * w + x
                eb[k] = (y + 1) * w + x
                k += 1
    same = np.empty(m)
    diff = np.empty(m)
    for i in range(b_):
        for ch in range(c):
            for k in range(m):
                va = images[i, ea[k] // w, ea[k] % w, ch]
                vb = images[i, eb[k] // w, eb[k] % w, ch]
                same[k] = (va - vb) ** 2
                diff[k] = (va + vb - top) ** 2
            lab = tree_signs(ea, eb, same, diff, h * w)
            icm_signs(ea, eb, same, diff, lab, sweeps)
            for p in range(h * w):
                out[i, p // w, p % w, ch] = lab[p]
