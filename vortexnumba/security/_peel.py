"""The search of the vortex-aware attack: which vortices to undo, in which order, and when to stop.

See :mod:`vortexnumba.security._vortex_attack` for the attack as a whole; this
module holds the sequence search (:func:`peel`) and its kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

from ._vortex_attack import Geometry, candidates, energy, scan, undo_centred


@njit(cache=True)
def _run(similarity, seq, length, h, w, rings, passes):
    """Undo the vortices ``seq[:length]`` in that order, starting from the ciphertext; return the sources."""
    sources = np.arange(h * w)
    for i in range(length):
        cy = seq[i, 0]
        cx = seq[i, 1]
        r = seq[i, 2]
        side = 2 * r + 1
        _, window = undo_centred(similarity, sources, h, w, cy, cx, r, rings, passes)
        for cell in range(side * side):
            sources[(cy - r + cell // side) * w + (cx - r + cell % side)] = window[cell]
    return sources


@njit(cache=True, parallel=True)
def _score_many(fit, judge, seqs, lengths, h, w, rings, passes):
    """For every candidate sequence: undo it with turns chosen on similarity ``fit``, energy under ``judge``."""
    out = np.empty(seqs.shape[0])
    for i in prange(seqs.shape[0]):
        out[i] = energy(judge, _run(fit, seqs[i], lengths[i], h, w, rings, passes), h, w)
    return out


def undo_sequence(S: np.ndarray, seq: list, shape: Any, geom: Geometry, passes: int = 2) -> np.ndarray:
    """``cur`` after undoing the vortices ``seq`` (list of (cy, cx, r)) in order: ``Xhat = Y[cur]``."""
    arr = np.array(seq, dtype=np.int64).reshape(-1, 3)
    return _run(S, arr, arr.shape[0], shape[0], shape[1], geom.tables, passes)


def _overlap(a, b) -> bool:
    """Whether the squares of two vortices (cy, cx, r) share a pixel or touch (then they do not commute)."""
    return abs(a[0] - b[0]) <= a[2] + b[2] + 1 and abs(a[1] - b[1]) <= a[2] + b[2] + 1


def _places(c, seq):
    """Where in the undo order ``seq`` to try vortex ``c``: first, or right after a vortex it overlaps.

    Vortices that do not overlap commute, so every other place gives one of these maps.
    """
    return [0] + [j + 1 for j, b in enumerate(seq) if _overlap(c, b)]


def _moves(seq, pool, max_len, window=3):
    """Sequences one edit away: insert a pooled candidate, delete one vortex, or move one by up to
    ``window`` places (to a place where it passes a vortex it overlaps)."""
    out = []
    if len(seq) < max_len:
        for c in pool:
            if c in seq:
                continue
            for p in sorted(set(_places(c, seq) + [len(seq)])):
                out.append(seq[:p] + [c] + seq[p:])
    for i in range(len(seq)):
        rest = seq[:i] + seq[i + 1:]
        out.append(rest)
        for p in range(max(0, i - window), min(len(rest), i + window) + 1):
            passed = rest[p:i] if p < i else rest[i:p]
            if p != i and any(_overlap(seq[i], b) for b in passed):
                out.append(rest[:p] + [seq[i]] + rest[p:])
    return out


@dataclass(frozen=True)
class PeelSearch:
    """The settings of :func:`peel`'s search, as plain data.

    Attributes
    ----------
    radii : str or sequence of int
        The candidate radii (:func:`vortexnumba.security._vortex_attack.candidates`).
    max_vortices : int
        The longest sequence tried.
    pool : int
        Promising candidates per round: the best single undos of the
        ciphertext itself and of the current reconstruction.
    min_improvement : float
        An edit is taken only if it raises the score by more than this times its magnitude.
    passes : int
        Passes of the turn search in the result (the search scores edits with one pass fewer).
    max_rounds : int, optional
        Most rounds of edits; default ``3 * max_vortices``.
    """

    radii: Any = "border"
    max_vortices: int = 32
    pool: int = 8
    min_improvement: float = 2e-3
    passes: int = 2
    max_rounds: int | None = None


def peel(S: np.ndarray, shape: Any, mode: str, *, halves: Any = None, search: PeelSearch | None = None,
         bar: Any = None) -> tuple[np.ndarray, list]:
    """Search the sequence of vortices to undo; return ``(cur, seq)`` with ``Xhat = Y[cur]``.

    Local search over sequences of candidate vortices (insert a promising
    candidate at any place in the order, delete one, move one), taking the
    best edit while it raises the score and stopping when none does. The
    score is the neighbour energy after undoing the sequence, cross-validated
    when ``halves = (S_a, S_b)`` is given (turns chosen on one half, energy
    measured on the other, both ways round); otherwise the energy under ``S``.
    The stopping rule: an edit is taken only if it raises the score by more
    than ``search.min_improvement`` times its magnitude (the turns of a real
    vortex raise it by 1 % to 10 %; re-arranging noise or the remains of a
    wrongly ordered undo by less than 0.2 %).
    Promising candidates are the ``search.pool`` best single undos of the
    ciphertext itself and of the current reconstruction. ``search``: the
    settings (default ``PeelSearch()``).
    """
    search = PeelSearch() if search is None else search
    radii, max_vortices, pool, passes = search.radii, search.max_vortices, search.pool, search.passes
    min_improvement, max_rounds = search.min_improvement, search.max_rounds
    h, w = shape
    cand = candidates(shape, radii)
    n = h * w
    if cand.shape[0] == 0:
        return np.arange(n, dtype=np.int64), []
    geom = Geometry(mode, int(cand[:, 2].max()))
    fits = [(S, S)] if halves is None else [(halves[0], halves[1]), (halves[1], halves[0])]

    def score(seqs):
        length = max(1, max(len(q) for q in seqs))
        packed = np.zeros((len(seqs), length, 3), dtype=np.int64)
        lengths = np.array([len(q) for q in seqs], dtype=np.int64)
        for i, q in enumerate(seqs):
            if q:
                packed[i, :len(q)] = q
        return sum(_score_many(a, b, packed, lengths, h, w, geom.tables, search_passes) for a, b in fits)

    def top(cur):
        gains = scan(S, cur, h, w, cand, geom.tables, passes)
        order = np.argsort(-gains, kind="stable")[:pool]
        return [tuple(int(v) for v in cand[i]) for i in order if gains[i] > 0.0]

    search_passes = max(1, passes - 1)  # the search scores edits with one pass; the result uses all
    if max_rounds is None:
        max_rounds = 3 * max_vortices
    seq = []
    best = float(score([seq])[0])
    first = top(np.arange(n, dtype=np.int64))
    for _ in range(max_rounds):
        cur = undo_sequence(S, seq, shape, geom, passes)
        cands = list(dict.fromkeys(top(cur) + first))
        moves = _moves(seq, cands, max_vortices)
        if bar is not None:
            bar.update(1)
        if not moves:
            break
        scores = score(moves)
        i = int(np.argmax(scores))
        if scores[i] <= best + min_improvement * abs(best):
            break
        seq, best = moves[i], float(scores[i])
    return undo_sequence(S, seq, shape, geom, passes), seq
