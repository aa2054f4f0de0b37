"""``verify``: the theorems' properties, exhaustively on the smallest grids and through Hypothesis.

Three properties, each judged against the exact reference (:mod:`._exact`):

``swap``
    Theorem 2: on grids of at least 5 pixels every swap of two pixels
    lowers the information. A case fails if the exact ``Delta I`` is not
    negative (the theorem is broken, e.g. by a kernel outside its
    assumptions), or if ``swap_delta``, ``swap_deltas`` or ``SwapContext``
    disagree with it (relative 1e-9 where the loss is at least 1e-12).
``bijection``
    Theorem 1: a permutation keeps at most everything (exact loss >= 0),
    and keeps everything exactly when it preserves every kernel weight;
    ``information_loss`` and ``retention`` agree with the exact values.
``lossy``
    Gather maps that are not bijective (arbitrary maps, paper-mode vortex
    keys): no bound holds (rho may exceed 1), but rho is >= 0 and the fast
    ``retention`` must agree with the exact value.

The exhaustive stage enumerates every case (every swap, permutation or map)
of the smallest grids on a few fixed images (constant, two-valued, one
outlier, random); the Hypothesis stage draws grids up to ``max_grid`` on a
side, images of every kind and the cases, and shrinks a failure to a minimal
counterexample.
"""

from __future__ import annotations

import builtins
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import hypothesis  # noqa: F401 - needed by the Hypothesis stage: fail on import, not halfway through a run
import numpy as np

from .._progress import progress as _progress
from .._validate import as_int, plain_list
from ..framework._information import information_loss, retention
from ..framework._kernels import Coupling, Kernel, resolve
from ..framework._swap import SwapContext, swap_delta, swap_deltas
from ._assertions import FLOOR, RHO_ATOL, RTOL, check_close
from ._exact import digits_needed, exact_energy, exact_loss, exact_swap_delta

__all__ = ["Counterexample", "PROPERTIES", "VerifyReport", "exhaustive_cases", "verify"]

PROPERTIES = ("swap", "bijection", "lossy")
_MIN_PIXELS = {"swap": 5, "bijection": 2, "lossy": 2}
_EXHAUSTIVE_PIXELS = {"swap": (5, 6), "bijection": (2, 4), "lossy": (2, 3)}


@dataclass
class Counterexample:
    """A case that breaks a property: what was checked, what came out, and why it fails."""

    property: str
    stage: str
    image: np.ndarray
    case: dict
    exact: float
    computed: dict
    reason: str

    @builtins.property  # the field "property" shadows the builtin for the checker
    def grid(self) -> str:
        return f"{self.image.shape[0]}x{self.image.shape[1]}"

    def text(self) -> str:
        quantity = "Delta I" if self.property == "swap" else "loss 1 - rho"
        lines = [f"counterexample ({self.stage}, {self.grid} grid): {self.reason}",
                 f"image {self.image.shape} {self.image.dtype}:",
                 np.array2string(self.image, max_line_width=100, precision=17)]
        lines += [f"{k} = {v}" for k, v in self.case.items()]
        width = max(len(k) for k in ["exact", *self.computed])
        lines.append(f"{quantity} {'exact':<{width}} = {self.exact!r}")
        lines += [f"{quantity} {k:<{width}} = {v!r}" for k, v in self.computed.items()]
        return "\n".join(lines)


@dataclass
class VerifyReport:
    """What :func:`verify` checked and found.

    Attributes
    ----------
    property, kernel, coupling : str
    grids : dict
        ``"HxW" -> {"exhaustive": n, "generated": n}``: cases that passed per
        grid size, in each stage.
    counterexample : Counterexample or None
        The (shrunk) failing case, if any.
    """

    property: str
    kernel: str
    coupling: str
    max_grid: int
    examples: int
    seed: int
    grids: dict = field(default_factory=dict)
    counterexample: Counterexample | None = None

    @builtins.property  # the field "property" shadows the builtin for the checker
    def ok(self) -> bool:
        return self.counterexample is None

    @builtins.property  # the field "property" shadows the builtin for the checker
    def passed(self) -> int:
        return sum(g["exhaustive"] + g["generated"] for g in self.grids.values())

    def text(self) -> str:
        lines = [f"property {self.property}: kernel {self.kernel}, coupling {self.coupling}, "
                 f"grids up to {self.max_grid}x{self.max_grid}, {self.examples} generated examples, "
                 f"seed {self.seed}",
                 f"{'grid':>6}  {'exhaustive':>10}  {'generated':>9}"]
        for name in sorted(self.grids, key=lambda g: (np.prod([int(v) for v in g.split('x')]), g)):
            g = self.grids[name]
            lines.append(f"{name:>6}  {g['exhaustive']:>10}  {g['generated']:>9}")
        lines.append(f"{self.passed} cases passed")
        lines.append(self.counterexample.text() if self.counterexample else "no counterexample: clean bill")
        return "\n".join(lines)


class _Failed(Exception):
    def __init__(self, counterexample):
        super().__init__(counterexample.reason)
        self.counterexample = counterexample


def _first_disagreement(computed: dict, exact: float, scale: float, rtol: float, floor: float) -> str | None:
    for name, value in computed.items():
        why = check_close(value, exact, scale, rtol, floor)
        if why is not None:
            return f"{name}: {why}"
    return None


def _weights_preserved(shape, sigma, f_of) -> bool:
    """Does sigma (where each pixel goes) keep f(|q - r|) for every pair?"""
    h, w = shape
    qi, qj = np.divmod(np.arange(h * w), w)
    si, sj = np.divmod(np.asarray(sigma), w)
    before = f_of((qi[:, None] - qi[None, :]) ** 2 + (qj[:, None] - qj[None, :]) ** 2)
    after = f_of((si[:, None] - si[None, :]) ** 2 + (sj[:, None] - sj[None, :]) ** 2)
    return bool(np.array_equal(before, after))


def _kernel_lookup(kernel):
    from ..framework._assumptions import grid_distances

    d2s, _ = grid_distances(kernel.radius)
    table = {int(d2): v for d2, v in zip(d2s, kernel.values)}

    def f_of(d2):
        return np.vectorize(lambda v: table.get(int(v), 0.0), otypes=[np.float64])(d2)

    return f_of


def _checker(prop, kernel, coupling, stage, rtol, floor):
    f_of = _kernel_lookup(kernel)
    zero = Decimal(10) ** -(digits_needed(kernel, coupling) - 20)  # exact results below this are 0

    cache: dict = {}

    def _per_image(image, kw):
        """What a swap check needs once per image: I(X), swap_deltas by first position, a SwapContext."""
        key = (image.shape, image.dtype.str, image.tobytes())
        if key not in cache:
            cache.clear()
            deltas = {}

            def deltas_of(a):
                if a not in deltas:
                    deltas[a] = swap_deltas(image, a, kernel, coupling, **kw)
                return deltas[a]

            cache[key] = {"info": float(exact_energy(image, kernel, coupling, **kw).sqrt()),
                          "deltas": deltas_of, "context": SwapContext(image, kernel, coupling, **kw)}
        return cache[key]

    def check(image, case):
        try:
            run_check(image, case)
        except ValueError as exc:  # e.g. a coupling outside the assumptions that leaves no bond at all
            shown = {"swap" if prop == "swap" else "src": list(np.atleast_1d(case))}
            raise _Failed(Counterexample(prop, stage, image.copy(), shown, float("nan"), {},
                                         f"the exact reference is undefined: {exc}")) from None

    def run_check(image, case):
        kw = {"channels": True} if image.ndim == 3 else {}
        if prop == "swap":
            a, b = case
            exact_d = exact_swap_delta(image, a, b, kernel, coupling, **kw)
            exact = float(exact_d)
            per_image = _per_image(image, kw)
            computed = {"swap_delta": float(swap_delta(image, a, b, kernel, coupling, **kw)),
                        "swap_deltas": float(per_image["deltas"](a).flat[b]),
                        "SwapContext": float(per_image["context"].delta(a, b))}
            w = image.shape[1]
            shown = {"swap": f"{divmod(a, w)} <-> {divmod(b, w)} (flat {a}, {b})"}
            if not exact_d < 0:  # the Decimal: a tiny Delta I may underflow float64
                reason = "the swap does not lower the information (exact Delta I >= 0)"
            else:
                reason = _first_disagreement(computed, exact, per_image["info"], rtol, floor)
        else:
            src = np.asarray(case)
            exact_l = exact_loss(image, src, kernel, coupling, **kw)
            exact = float(exact_l)
            rho = float(retention(image, src, kernel, coupling, **kw))
            computed = {"1 - retention": 1.0 - rho}
            shown = {"src": src.tolist()}
            reason = None
            if prop == "bijection":
                computed["information_loss"] = float(information_loss(image, src, kernel, coupling, **kw))
                keeps = _weights_preserved(image.shape[:2], np.argsort(src), f_of)
                if exact_l < -zero:
                    reason = "the permutation gains information (exact loss < 0)"
                elif (abs(exact_l) <= zero) != keeps:
                    reason = ("the permutation keeps every kernel weight but loses information" if keeps else
                              "the permutation keeps everything (exact loss 0) but changes some kernel weight")
                else:
                    reason = _first_disagreement({"information_loss": computed["information_loss"]}, exact, 1.0,
                                                 rtol, floor)
            elif 1 - exact_l < 0:
                reason = "rho < 0 (exact)"
            exact_rho = float(1 - exact_l)
            if reason is None and abs(rho - exact_rho) > max(rtol * abs(exact_rho), RHO_ATOL):
                reason = f"retention is off by {abs(rho - exact_rho):.3g} (exact rho = {exact_rho!r})"
        if reason is not None:
            raise _Failed(Counterexample(prop, stage, image.copy(), shown, exact, computed, reason))

    return check


def _fixed_images(shape, custom_coupling: bool, seed: int) -> list[np.ndarray]:
    h, w = shape
    rng = np.random.default_rng(seed)
    checker = ((np.add.outer(np.arange(h), np.arange(w)) % 2) * 255).astype(np.uint8)
    outlier = np.zeros(shape, dtype=np.uint8)
    outlier[h // 2, w // 2] = 255
    out = [np.zeros(shape, dtype=np.uint8), checker, outlier, rng.integers(0, 256, shape, dtype=np.uint8)]
    if not custom_coupling:
        out.append(rng.random(shape))
    return out


def exhaustive_cases(prop: str, n: int) -> list:
    """Every case of a property on a grid of ``n`` pixels, in a fixed order: the exhaustive stage's cases.

    ``"swap"``: every pair ``(a, b)``, ``a < b``; ``"bijection"``: every permutation
    of ``range(n)`` as an index array; ``"lossy"``: every map ``range(n) -> range(n)``
    that is not a permutation. ``proofs/verify_small_grids.py`` enumerates its maps here too.

    Examples
    --------
    >>> from vortexnumba.testing._verify import exhaustive_cases
    >>> exhaustive_cases("swap", 3), len(exhaustive_cases("bijection", 4)), len(exhaustive_cases("lossy", 2))
    ([(0, 1), (0, 2), (1, 2)], 24, 2)
    """
    if prop == "swap":
        return list(itertools.combinations(range(n), 2))
    if prop == "bijection":
        return [np.array(p) for p in itertools.permutations(range(n))]
    if prop == "lossy":
        return [np.array(p) for p in itertools.product(range(n), repeat=n) if len(set(p)) < n]
    raise ValueError(f"prop must be one of {sorted(PROPERTIES)}, got {prop!r}")


def _exhaustive_grids(prop, max_grid):
    lo, hi = _EXHAUSTIVE_PIXELS[prop]
    return [(h, w) for n in range(lo, hi + 1) for h in range(1, n + 1) for w in range(1, n + 1)
            if h * w == n and max(h, w) <= max_grid]


def verify(kernel: Kernel | None = None, coupling: Coupling | None = None, *, property: str = "swap", max_grid: int = 6,
           examples: int = 100, seed: int = 0, exhaustive: bool = True, rtol: float = RTOL, floor: float = FLOOR,
           progress: bool | None = False) -> VerifyReport:
    """Check one of the theorems' properties for a kernel and a coupling; return what was found.

    Parameters
    ----------
    kernel, coupling : optional
        Default ``Kernel.power(2, 3)``, ``Coupling.gaussian(0.25)``. Custom
        ones (``Kernel.from_function(..., check=False)``) are welcome: that is
        how to see what breaks when an assumption fails. A custom coupling
        is checked on uint8 images only.
    property : {"swap", "bijection", "lossy"}
        See the module documentation.
    max_grid : int
        Largest grid side the Hypothesis stage draws (>= 3).
    examples : int
        Cases Hypothesis generates (0 skips the stage).
    seed : int
        Seed of the Hypothesis stage and of the fixed random images.
    exhaustive : bool
        Run the exhaustive stage on the smallest grids first.
    rtol, floor : float
        Agreement asked of the fast results (see :func:`assert_swap_lowers`).
    progress : bool or None
        Show a progress bar on stderr (None: only on a terminal).

    Returns
    -------
    VerifyReport
        ``report.ok`` is False when a counterexample was found;
        ``report.text()`` is what the command line prints.

    Examples
    --------
    >>> import vortexnumba as vn
    >>> from vortexnumba.testing import verify
    >>> step = lambda d: 1.0 if d < 1.9 else 1.3   # not strictly decreasing
    >>> kernel = vn.Kernel.from_function(step, radius=2.5, check=False)
    >>> report = verify(kernel, examples=0)
    >>> report.ok, report.counterexample.grid, report.counterexample.exact
    (False, '2x3', 0.0)
    """
    kernel, coupling = resolve(kernel, coupling)
    if property not in PROPERTIES:
        raise ValueError(f"property must be one of {plain_list(PROPERTIES)}, got {property!r}")
    max_grid, examples, seed = as_int(max_grid, "max_grid"), as_int(examples, "examples"), as_int(seed, "seed")
    if max_grid < 3:
        raise ValueError(f"max_grid must be >= 3, got {max_grid}")
    if examples < 0:
        raise ValueError(f"examples must be >= 0, got {examples}")
    report = VerifyReport(property, kernel.describe(), coupling.describe(), max_grid, examples, seed)
    custom = coupling.family == "custom"
    plan = []
    if exhaustive:
        for shape in _exhaustive_grids(property, max_grid):
            cases = exhaustive_cases(property, shape[0] * shape[1])
            plan += [(image, case) for image in _fixed_images(shape, custom, seed) for case in cases]
    with _progress(len(plan) + examples, f"verify {property}", unit="case", enabled=progress) as bar:
        def tally(image, stage):
            g = report.grids.setdefault(f"{image.shape[0]}x{image.shape[1]}", {"exhaustive": 0, "generated": 0})
            g[stage] += 1
            bar.update(1)

        check = _checker(property, kernel, coupling, "exhaustive", rtol, floor)
        try:
            for image, case in plan:
                check(image, case)
                tally(image, "exhaustive")
        except _Failed as exc:
            report.counterexample = exc.counterexample
            return report
        if examples:
            report.counterexample = _hypothesis_stage(report, property, kernel, coupling, examples, seed,
                                                      max_grid, rtol, floor, tally, custom)
    return report


def _hypothesis_stage(report, prop, kernel, coupling, examples, seed, max_grid, rtol, floor, tally, custom):
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    from ._strategies import gather_maps, grid_shapes, images, permutations, swaps, vortex_keys

    check = _checker(prop, kernel, coupling, "Hypothesis, shrunk", rtol, floor)
    dtypes = ("uint8",) if custom else ("uint8", "float64")
    counting = {"on": True}

    @hseed(seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False, report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(st.data())
    def run(data):
        shape = data.draw(grid_shapes(max_side=max_grid, min_pixels=_MIN_PIXELS[prop]))
        image = data.draw(images(shape, dtypes=dtypes))
        n = shape[0] * shape[1]
        if prop == "swap":
            case = data.draw(swaps(shape))
        elif prop == "bijection":
            case = data.draw(permutations(n))
        elif min(shape) >= 3 and data.draw(st.booleans()):
            case = data.draw(vortex_keys(shape, modes=("paper",), max_vortices=2)).src.copy()
        else:
            case = data.draw(gather_maps(n, bijective=False))
        check(image, case)
        if counting["on"]:
            tally(image, "generated")

    try:
        run()
    except _Failed as exc:
        return exc.counterexample
    return None
