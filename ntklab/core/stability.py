"""The largest stable learning rate η_crit = 2n/λ_max(Θ̂₀), from one routine for every caller.

λ_max comes from Lanczos iterations with full reorthogonalization (Golub & Van Loan, §10.1) on the
kernel matrix: its top Ritz value converges to the top eigenvalue to working precision within a few
dozen steps for kernel matrices (a large gap below λ_max), costs O(m·n²) instead of eigh's O(n³),
and runs in blocks between which a caller may stop it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ntklab.core.predict import critical_learning_rate

LANCZOS_STEPS = 64  # Krylov dimension; below it (n ≤ 64) the exact eigenvalues are used


@functools.partial(jax.jit, static_argnames="steps")
def _lanczos_ritz(k, v0, steps: int):
    """The tridiagonal Lanczos matrix T (steps × steps) of the symmetric ``k`` from start vector ``v0``."""
    n = k.shape[0]
    hi = jax.lax.Precision.HIGHEST

    def body(j, carry):
        basis, alpha, beta = carry
        v = basis[j]
        w = jnp.matmul(k, v, precision=hi)
        a = jnp.dot(w, v, precision=hi)
        # full reorthogonalization, twice ("twice is enough", Parlett)
        for _ in range(2):
            w = w - jnp.matmul(basis.T, jnp.matmul(basis, w, precision=hi), precision=hi)
        b = jnp.linalg.norm(w)
        safe = jnp.where(b > 0, b, 1.0)
        basis = basis.at[j + 1].set(jnp.where(b > 0, w / safe, 0.0))
        return basis, alpha.at[j].set(a), beta.at[j].set(b)

    dtype = k.dtype
    basis = jnp.zeros((steps + 1, n), dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    _, alpha, beta = jax.lax.fori_loop(0, steps, body, (basis, jnp.zeros(steps, dtype), jnp.zeros(steps, dtype)))
    return alpha, beta


def top_eigenvalue(k) -> float:
    """λ_max of a symmetric matrix ``k`` (n, n): exact (eigh) for n ≤ 64, else Lanczos."""
    k = jnp.asarray(k)
    n = k.shape[0]
    if n <= LANCZOS_STEPS:
        return float(np.linalg.eigvalsh(np.asarray(k, np.float64))[-1])
    v0 = jax.random.normal(jax.random.key(0), (n,), k.dtype) + 1.0  # has a component on every mode
    alpha, beta = (np.asarray(a, np.float64) for a in _lanczos_ritz(0.5 * (k + k.T), v0, LANCZOS_STEPS))
    t = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    return float(np.linalg.eigvalsh(t)[-1])


def eta_crit(k) -> tuple[float, float]:
    """(η_crit, λ_max) of the kernel ``k`` on the n training points."""
    lam = top_eigenvalue(k)
    return critical_learning_rate(lam, int(np.shape(k)[0])), lam


def kernel_in_blocks(rows_fn: Callable, n: int, block: int = 1024,
                     should_stop: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Assembles an (n, n) kernel from ``rows_fn(start, stop) -> (stop − start, n)`` row blocks on the
    host; ``should_stop()`` is asked between blocks (None is returned when it says stop)."""
    out = None
    for start in range(0, n, block):
        if should_stop is not None and should_stop():
            return None
        rows = np.asarray(rows_fn(start, min(n, start + block)))
        if out is None:
            out = np.empty((n, n), rows.dtype)
        out[start:start + len(rows)] = rows
    return out
