"""The float32 arctan of the analytic kernels (core/activations.py ``_ATAN_COEFFS``): its fit, its error and
its speed against XLA's arctan.

Fit: arctan(t) = t + t·z·Q(z) on t ∈ [0, 1], z = t², Q of degree 7 (the leading t exact: rounding stays near
half an ulp), near-minimax in relative error by Lawson's iteratively reweighted least squares on
Chebyshev and uniform points, in float64. Q's nearest singularity, z = −1, bounds the convergence:
degree 7 is the first below a third of a float32 ulp (relative 1.7e-8).

Then: the error in ulps of ``_atan_unit`` and ``_atan`` (float32, as XLA runs them) against NumPy's float64
arctan on 10⁷ points of [0, 1] and on magnitudes 1e-30 … 1e30, beside XLA's own arctan; and the time of
each on a 4000 × 4000 float32 array (median of 7, alternating). Usage: ``python bench/fit_atan.py``.
"""

import time

import numpy as np

DEGREE = 7


def fit(degree: int = DEGREE) -> tuple[np.ndarray, float]:
    """Coefficients q₀ … q_degree of Q, arctan(t) ≈ t + t·z·Σ q_k z^k, and the max relative error on [0, 1]."""
    z = np.concatenate([(np.cos(np.linspace(0, np.pi, 20001)) + 1) / 2, np.linspace(0, 1, 20001)])
    z = z[z > 1e-6]  # below, Q's own error is scaled by z: nothing to fit
    t = np.sqrt(z)
    q_true = (np.arctan(t) / t - 1) / z
    scale = z / (np.arctan(t) / t)  # relative error of arctan = scale·|ΔQ|
    vander = np.vander(z, degree + 1, increasing=True)
    weights = np.ones_like(z)
    for _ in range(100):
        coeffs, *_ = np.linalg.lstsq(vander * (scale * weights)[:, None], q_true * scale * weights, rcond=None)
        err = np.abs(vander @ coeffs - q_true) * scale
        weights = weights * (err / err.max()) ** 0.3 + 1e-4
        weights /= weights.max()
    return coeffs, float(err.max())


def ulp_errors() -> list[str]:
    import jax
    import jax.numpy as jnp

    from ntklab.core.activations import _atan, _atan_unit

    t = np.linspace(0, 1, 10_000_001, dtype=np.float32)
    mags = np.geomspace(1e-30, 1e30, 2_000_001).astype(np.float32)
    x = np.concatenate([-mags, [-0.0, 0.0], mags, [np.inf, -np.inf]]).astype(np.float32)
    rows = []
    for name, fn, arg in (("_atan_unit on [0, 1]", _atan_unit, t), ("XLA arctan on [0, 1]", jnp.arctan, t),
                          ("_atan on ±1e-30 … 1e30, ±0, ±inf", _atan, x), ("XLA arctan on the same", jnp.arctan, x)):
        got = np.asarray(jax.jit(fn)(jnp.asarray(arg)), np.float64)
        ref = np.arctan(arg.astype(np.float64))
        ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
        rows.append(f"| {name} | {np.max(np.abs(got - ref) / ulp):.2f} |")
    return ["| function (float32) | max error (ulp of the float64 value) |", "|---|---|", *rows]


def timings(n: int = 4000, repeats: int = 7) -> list[str]:
    import jax
    import jax.numpy as jnp

    from ntklab.core.activations import _atan, _atan_unit

    rng = np.random.default_rng(0)
    unit = jnp.asarray(rng.random((n, n), dtype=np.float32))
    wide = jnp.asarray(rng.normal(size=(n, n)).astype(np.float32) * 3)
    cases = {"XLA arctan, t ∈ [0, 1]": (jax.jit(jnp.arctan), unit), "_atan_unit, t ∈ [0, 1]": (jax.jit(_atan_unit), unit),
             "XLA arctan, x ~ N(0, 9)": (jax.jit(jnp.arctan), wide), "_atan, x ~ N(0, 9)": (jax.jit(_atan), wide),
             "x·2 + 1 (memory-bound floor)": (jax.jit(lambda a: a * 2 + 1), unit)}
    times = {k: [] for k in cases}
    for fn, arg in cases.values():
        jax.block_until_ready(fn(arg))
    for _ in range(repeats):  # alternating, so that the machine's drift hits all alike
        for name, (fn, arg) in cases.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(arg))
            times[name].append(time.perf_counter() - t0)
    return [f"| function, {n}×{n} float32 | median (ms) | runs (ms) |", "|---|---|---|",
            *(f"| {k} | {1e3 * np.median(v):.1f} | {', '.join(f'{1e3 * x:.0f}' for x in v)} |" for k, v in times.items())]


def run() -> list[str]:
    coeffs, rel = fit()
    return [f"Q of degree {DEGREE}, max relative error of arctan in float64 on [0, 1]: {rel:.2e}",
            "_ATAN_COEFFS = (" + ", ".join(f"{c:.17g}" for c in coeffs) + ")", "", *ulp_errors(), "", *timings()]


if __name__ == "__main__":
    print("\n".join(run()))
