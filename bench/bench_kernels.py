"""Analytic NTK + NNGP of a depth-3 ReLU net, d = 10, float32, jitted (``analytic_kernels(spec, x)``, host
arrays out): median of 5 after warm-up, per N. Then, at N = 4000, what made it fast, variant by variant
(each jitted anew, alternating, medians of 5; device arrays, no host copy):

* as a run computes it: rows in blocks of ``BLOCK_ELEMENTS`` (the elementwise chain's ~20 intermediates
  per layer stay in cache) and the float32 arctan polynomial (core/activations.py ``_atan_unit``);
* one block of all rows (every intermediate a full N × N array streamed through memory);
* blocks, with XLA's arctan instead of the polynomial;
* blocks of 4× and ¼ the elements.

The comparison with neural-tangents is ``compare_peer.py`` (both sides measured in the same run).
Usage: ``python bench/bench_kernels.py``.
"""

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from ntklab.core import MLPSpec, analytic_kernels, make_mlp
from ntklab.core import activations, analytic
from ntklab.core.precision import full_precision

SPEC = MLPSpec(depth=3, width=512, activation="relu", w_std=1.5, b_std=0.05)


def _median_seconds(fn, repeats=5) -> float:
    fn()  # warm-up (compile)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sizes() -> list[str]:
    rows = ["| N | median (s) | runs (s) |", "|---|---|---|"]
    for n in (500, 1000, 2000, 4000):
        x = np.random.default_rng(0).normal(size=(n, 10)).astype(np.float32)
        times = []
        analytic_kernels(SPEC, x)
        for _ in range(5):
            t = time.perf_counter()
            analytic_kernels(SPEC, x)
            times.append(time.perf_counter() - t)
        rows.append(f"| {n} | {statistics.median(times):.4f} | {', '.join(f'{t:.3f}' for t in times)} |")
    return rows


def _variant(rows=None, xla_arctan=False):
    """A freshly traced kernel function (rows: None = the run's blocks)."""
    net = make_mlp(SPEC)
    saved = activations._atan_unit
    if xla_arctan:
        activations._atan_unit = jnp.arctan
    try:
        fn = jax.jit(full_precision(lambda x: analytic._kernel_in_row_blocks(net, x, x, True, rows)))
        x = jnp.asarray(np.random.default_rng(0).normal(size=(4000, 10)).astype(np.float32))
        jax.block_until_ready(fn(x))  # traced (and compiled) here, with the arctan chosen above
    finally:
        activations._atan_unit = saved
    return lambda: jax.block_until_ready(fn(x))


def variants(repeats: int = 5) -> list[str]:
    n = 4000
    rows = analytic._row_block(n, n)
    cases = {f"row blocks of {rows} (the run's), arctan polynomial": _variant(),
             "one block of all 4000 rows": _variant(rows=n),
             f"row blocks of {rows}, XLA's arctan": _variant(xla_arctan=True),
             f"row blocks of {4 * rows}": _variant(rows=4 * rows),
             f"row blocks of {max(rows // 4, 1)}": _variant(rows=max(rows // 4, 1))}
    times = {k: [] for k in cases}
    for _ in range(repeats):  # alternating
        for k, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    base = statistics.median(next(iter(times.values())))
    out = ["| N = 4000, variant | median (s) | × the run's | runs (s) |", "|---|---|---|---|"]
    for k, v in times.items():
        med = statistics.median(v)
        out.append(f"| {k} | {med:.4f} | {med / base:.2f} | {', '.join(f'{t:.3f}' for t in v)} |")
    return out


def run() -> list[str]:
    return sizes() + [""] + variants()


if __name__ == "__main__":
    print("\n".join(run()))
