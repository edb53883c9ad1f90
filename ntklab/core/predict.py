"""Closed-form gradient-flow dynamics of a kernel regression, and the GP posterior.

Conventions of neural-tangents' ``predict`` (Lee et al. 2019, eq. 9–10): the loss is
‖f − y‖²/(2n) with n = y_train.size, time is multiplied by ``learning_rate``, and ``diag_reg`` is
relative: K + diag_reg·tr(K)/n_train·I.

Precision: every matrix product runs at full precision (:func:`~ntklab.core.precision.full_precision`;
JAX's default for float32 on recent NVIDIA GPUs is TF32, ~1e-3 relative). The t = ∞ solve never
returns NaN silently: a non-finite Cholesky factor is retried in float64 on the host (NumPy), and
where K + reg is not positive definite even there, :class:`KernelSolveError` says how large
``diag_reg`` must be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ntklab.core.precision import full_precision

# Relative rounding of the kernel entries that the variance's rounding bound allows, in units of the
# kernel dtype's ε (analytic kernels in float32 measure ≲ 30ε of max|K| at depth 2: tests/core/test_float32.py).
KERNEL_ROUNDING_EPS = 64


class KernelSolveError(ValueError):
    """K_dd + diag_reg·tr(K)/n·I is not positive definite, not even solved in float64.

    ``suggested_diag_reg`` is the smallest power of ten for which it is; ``lambda_min`` and
    ``lambda_max`` are the extreme eigenvalues of the regularized matrix (float64).
    """

    def __init__(self, message: str, *, diag_reg: float, suggested_diag_reg: float, lambda_min: float,
                 lambda_max: float):
        super().__init__(message)
        self.diag_reg = diag_reg
        self.suggested_diag_reg = suggested_diag_reg
        self.lambda_min = lambda_min
        self.lambda_max = lambda_max


@dataclass(frozen=True)
class Posterior:
    """The GP posterior (K + reg) at m test points; host NumPy arrays in the kernel's dtype.

    mean: (m,) or (m, k); variance: (m,), K_tt − K_td (K + reg)⁻¹ K_dt as computed, negative values
    kept; variance_rounding: (m,), a bound on its rounding error (see :func:`gp_posterior`); solver:
    ``"cholesky"`` (in the kernel's precision) or ``"cholesky-float64"`` (the host retry after a
    non-finite factor).
    """

    mean: np.ndarray
    variance: np.ndarray
    variance_rounding: np.ndarray
    solver: str

    @property
    def negative(self) -> np.ndarray:
        """(m,) bool: variance < −variance_rounding, negative beyond rounding (the kernel is not PSD there)."""
        return self.variance < -self.variance_rounding


@jax.jit
def _regularized(k, diag_reg):
    n = k.shape[0]
    return k + diag_reg * jnp.trace(k) / n * jnp.eye(n, dtype=k.dtype)


@jax.jit
def _eigh(k_reg):
    evals, evecs = jnp.linalg.eigh(k_reg)
    return jnp.maximum(evals, 0.0), evecs


@jax.jit
@full_precision
def _flow_mean(evals, evecs, k_td, residual, f0, scale):
    """f0 + K_td V diag((1 − e^{−λ·scale})/λ) Vᵀ r, matrix–vector products only."""
    safe = jnp.where(evals > 0, evals, 1.0)
    gain = jnp.where(evals > 0, -jnp.expm1(-evals * scale) / safe, scale)
    return f0 + k_td @ (evecs @ (gain[:, None] * (evecs.T @ residual)))


@jax.jit
def _cholesky(k_reg):
    return jnp.linalg.cholesky(k_reg)


@jax.jit
@full_precision
def _cho_mean(cho_lower, k_td, residual, f0):
    """f0 + K_td (LLᵀ)⁻¹ r."""
    return f0 + k_td @ jsl.cho_solve((cho_lower, True), residual)


@jax.jit
@full_precision
def _cho_variance(cho_lower, k_td, diag_tt):
    """(K_tt − ‖L⁻¹K_dt‖², A = (LLᵀ)⁻¹ K_dt (n, m))."""
    v = jsl.solve_triangular(cho_lower, k_td.T, lower=True)
    return diag_tt - jnp.sum(v * v, axis=0), jsl.solve_triangular(cho_lower, v, lower=True, trans=1)


class _Factor:
    """The Cholesky factor of K + reg, once: in the kernel's precision; where that factor or what it
    gives is not finite, in float64 on the host (NumPy); where K + reg is not positive definite even
    there, :class:`KernelSolveError`. Results are host NumPy arrays in the kernel's dtype."""

    def __init__(self, k_dd, diag_reg: float):
        if not bool(jnp.all(jnp.isfinite(k_dd))):
            raise ValueError("k_train_train: contains NaN or inf; the kernel must be finite to be solved.")
        self.k_dd, self.diag_reg = k_dd, diag_reg
        self.k_reg = _regularized(k_dd, diag_reg)
        self.dtype = np.dtype(k_dd.dtype)
        self.lower, self.solver = _cholesky(self.k_reg), "cholesky"
        if not bool(jnp.all(jnp.isfinite(self.lower))):
            self._fall_back()

    def _fall_back(self):
        k_reg = np.asarray(self.k_reg, np.float64)
        try:
            self.lower, self.solver = np.linalg.cholesky(k_reg), "cholesky-float64"
            return
        except np.linalg.LinAlgError:
            pass
        k = np.asarray(self.k_dd, np.float64)
        n = k.shape[0]
        evals = np.linalg.eigvalsh(k_reg)
        scale = np.trace(k) / n
        # K + r·scale·I has λ_min + (r − diag_reg)·scale; float64 Cholesky needs a margin ~ n·ε₆₄·λ_max
        needed = self.diag_reg + (n * np.finfo(np.float64).eps * evals[-1] - evals[0]) / scale
        suggested = 10.0 ** math.ceil(math.log10(max(needed, 1e-300)))
        while suggested < 1e300:
            try:
                np.linalg.cholesky(k + suggested * scale * np.eye(n))
                break
            except np.linalg.LinAlgError:
                suggested *= 10
        eps = np.finfo(self.dtype).eps
        raise KernelSolveError(
            f"diag_reg: {self.diag_reg:g} is too small for this kernel in {self.dtype.name}: K + reg is not "
            f"positive definite (smallest eigenvalue {evals[0]:.3g} against the largest {evals[-1]:.3g}; "
            f"rounding alone is ±n·ε·λ_max = {n * eps * evals[-1]:.2g}). Raise diag_reg to at least "
            f"{suggested:g} (relative to tr(K)/n), or compute in float64.",
            diag_reg=self.diag_reg, suggested_diag_reg=suggested, lambda_min=float(evals[0]),
            lambda_max=float(evals[-1]))

    def _run(self, device_fn, host_fn, *args):
        if self.solver == "cholesky":
            out = device_fn(self.lower, *args)
            out = [np.asarray(x) for x in (out if isinstance(out, tuple) else (out,))]
            if all(np.all(np.isfinite(x)) for x in out):
                return out
            self._fall_back()
        out = host_fn(self.lower, *(np.asarray(x, np.float64) for x in args))
        out = [x.astype(self.dtype) for x in (out if isinstance(out, tuple) else (out,))]
        if not all(np.all(np.isfinite(x)) for x in out):
            raise ValueError("k_test_train, y_train: the solve gave NaN or inf even in float64; the test "
                             "kernel and the targets must be finite (and within the dtype's range).")
        return out

    def mean(self, k_td, residual, f0):
        """f0 + K_td (K + reg)⁻¹ r: (m, k)."""
        def host(lower, k_td, residual, f0):
            return f0 + k_td @ np.linalg.solve(lower.T, np.linalg.solve(lower, residual))

        return self._run(_cho_mean, host, k_td, residual, f0)[0]

    def variance(self, k_td, diag_tt):
        """(K_tt − K_td (K + reg)⁻¹ K_dt: (m,), A = (K + reg)⁻¹ K_dt: (n, m))."""
        def host(lower, k_td, diag_tt):
            v = np.linalg.solve(lower, k_td.T)
            return diag_tt - np.sum(v * v, axis=0), np.linalg.solve(lower.T, v)

        return tuple(self._run(_cho_variance, host, k_td, diag_tt))

    def variance_rounding(self, k_td, diag_tt, a):
        """Bound on the rounding error of K_tt − K_td (K + reg)⁻¹ K_dt, per test point (m,).

        First-order perturbation of the variance: entries of K rounded by δ relative (δ = 64ε of the
        kernel's dtype) move it by ≤ δ·(k_tt + 2|a|ᵀ|k_dt| + |a|ᵀ|K||a|), a = (K + reg)⁻¹k_dt; the
        Cholesky solve is backward stable, K + ΔK with |ΔK| ≤ γ_{3n+1}|L||Lᵀ| (Higham 2002, Thm 10.4),
        which moves it by ≤ γ·‖|Lᵀ||a|‖². Both quadratic terms are bounded by S² = (Σ_i √(K+reg)_ii |a_i|)²,
        as |K_ij| ≤ √(K_ii K_jj) and ‖row_i L‖ = √(K+reg)_ii.
        """
        eps = float(np.finfo(self.dtype).eps)
        n = self.k_dd.shape[0]
        k_td, diag_tt, a = (np.asarray(x, np.float64) for x in (k_td, diag_tt, a))
        diag = np.sqrt(np.maximum(np.diagonal(np.asarray(self.k_reg, np.float64)), 0.0))
        s = diag @ np.abs(a)
        cross = np.sum(np.abs(k_td).T * np.abs(a), axis=0)
        solve_eps = eps if self.solver == "cholesky" else float(np.finfo(np.float64).eps)
        delta = KERNEL_ROUNDING_EPS * eps
        return (delta * (np.abs(diag_tt) + 2 * cross + s * s) + (3 * n + 1) * solve_eps * s * s).astype(self.dtype)


@jax.jit
@full_precision
def _matmul(a, b):
    return a @ b


def _column(v, rows, dtype):
    v = jnp.asarray(v, dtype)
    return v.reshape(rows, -1) if v.ndim else jnp.full((rows, 1), v)


def gp_posterior(k_train_train, y_train, k_test_train, k_test_test, diag_reg: float = 0.0) -> Posterior:
    """The GP posterior with prior covariance K and observation noise diag_reg·tr(K)/n at t = ∞.

    k_train_train: (n, n); y_train: (n,) or (n, k); k_test_train: (m, n); k_test_test: (m, m) or its
    diagonal (m,). mean = K_td (K + reg)⁻¹ y, variance = K_tt − K_td (K + reg)⁻¹ K_dt (Rasmussen & Williams
    2006, eq. 2.23–2.24; the NNGP posterior when K is the NNGP). Raises :class:`KernelSolveError` when K + reg is not
    positive definite even in float64; a variance below −``variance_rounding`` is reported in
    ``Posterior.negative``, not clipped.
    """
    k_dd = jnp.asarray(k_train_train)
    factor = _Factor(k_dd, diag_reg)
    y = jnp.asarray(y_train, k_dd.dtype)
    k_td = jnp.asarray(k_test_train, k_dd.dtype)
    k_tt = jnp.asarray(k_test_test, k_dd.dtype)
    diag_tt = jnp.diagonal(k_tt) if k_tt.ndim == 2 else k_tt
    residual = y.reshape(k_dd.shape[0], -1)
    mean = factor.mean(k_td, residual, jnp.zeros((k_td.shape[0], 1), k_dd.dtype))
    variance, a = factor.variance(k_td, diag_tt)
    return Posterior(mean=mean.reshape((k_td.shape[0],) + y.shape[1:]), variance=variance,
                     variance_rounding=factor.variance_rounding(k_td, diag_tt, a), solver=factor.solver)


def gradient_descent_mse(k_train_train, y_train, learning_rate: float = 1.0, diag_reg: float = 0.0):
    """Returns ``predict(t, k_test_train=None, k_test_test=None, *, fx_train_0=0, fx_test_0=0)``.

    ``predict`` gives the mean output at time t (t = ∞ allowed) of gradient flow on
    ‖f − y‖²/(2n) under the fixed kernel ``k_train_train`` (n, n):

        f_t(x) = f_0(x) + K(x, X) V diag((1 − e^{−λ·lr·t/n})/λ) Vᵀ (Y − f_0(X))

    with (λ, V) = eigh(K + reg), λ clipped at 0 (the factor → lr·t/n as λ → 0). The eigen-
    decomposition is computed once, at the first finite t; t = ∞ uses a Cholesky solve (retried in
    float64 on the host if the factor is not finite; :class:`KernelSolveError` if K + reg is not
    positive definite even there). ``k_test_train`` (m, n) gives test predictions (None: on the
    training set). With ``k_test_test`` (m, m) or its diagonal (m,) at t = ∞ it returns
    ``(mean, variance)``, the GP posterior variance K_tt − K_td (K + reg)⁻¹ K_dt, unclipped
    (:func:`gp_posterior` also bounds its rounding). ``fx_*_0`` are the outputs at t = 0 (0: the
    ensemble mean of nt's ``gradient_descent_mse_ensemble``).
    """
    k_dd = jnp.asarray(k_train_train)
    y = jnp.asarray(y_train, k_dd.dtype).reshape(k_dd.shape[0], -1)
    size = y.size
    cache = {}

    def eigh():
        if "eigh" not in cache:
            cache["eigh"] = _eigh(_regularized(k_dd, diag_reg))
        return cache["eigh"]

    def factor():
        if "cho" not in cache:
            cache["cho"] = _Factor(k_dd, diag_reg)
        return cache["cho"]

    def predict(t, k_test_train=None, k_test_test=None, *, fx_train_0=0.0, fx_test_0=0.0):
        on_train = k_test_train is None
        k_td = k_dd if on_train else jnp.asarray(k_test_train, k_dd.dtype)
        f0 = _column(fx_train_0 if on_train else fx_test_0, k_td.shape[0], k_dd.dtype)
        residual = y - _column(fx_train_0, k_dd.shape[0], k_dd.dtype)
        infinite = t is None or math.isinf(t)
        if k_test_test is not None and not infinite:
            raise ValueError("k_test_test: the posterior variance is given at t = ∞ only; pass t=math.inf.")
        variance = None
        if infinite:
            if on_train and diag_reg == 0.0:
                mean = y  # the unregularized flow reaches the targets exactly
            else:
                mean = jnp.asarray(factor().mean(k_td, residual, f0))
            if k_test_test is not None:
                k_tt = jnp.asarray(k_test_test, k_dd.dtype)
                variance = jnp.asarray(factor().variance(k_td, jnp.diagonal(k_tt) if k_tt.ndim == 2 else k_tt)[0])
        else:
            evals, evecs = eigh()
            mean = _flow_mean(evals, evecs, k_td, residual, f0, learning_rate * t / size)
        mean = mean.reshape((k_td.shape[0],) + jnp.shape(y_train)[1:])
        if k_test_test is None:
            return mean
        return mean, variance

    return predict


def ntk_ensemble_variance_inf(ntk_dd, nngp_dd, ntk_td, nngp_td, nngp_tt_diag, diag_reg: float = 0.0):
    """Variance at t = ∞ of an infinite ensemble of infinitely wide networks trained by gradient flow.

    Σ = K_tt + Θ_td Θ⁻¹ K_dd Θ⁻¹ Θ_dt − (Θ_td Θ⁻¹ K_dt + transpose), diagonal only, with Θ = Θ_dd + reg
    (Lee et al. 2019, eq. 16; nt's ``gp_inference`` with get='ntk').
    """
    theta = jnp.asarray(ntk_dd)
    factor = _Factor(theta, diag_reg)
    dtype = theta.dtype
    ntk_td, nngp_td = jnp.asarray(ntk_td, dtype), jnp.asarray(nngp_td, dtype)
    zeros = jnp.zeros(ntk_td.shape[0], dtype)
    a = jnp.asarray(factor.variance(ntk_td, zeros)[1])  # Θ⁻¹ Θ_dt: (n, m)
    b = jnp.asarray(factor.variance(nngp_td, zeros)[1])  # Θ⁻¹ K_dt
    quad = jnp.sum(a * _matmul(jnp.asarray(nngp_dd, dtype), a), axis=0)
    cross = jnp.sum(ntk_td.T * b, axis=0)
    return jnp.asarray(nngp_tt_diag, dtype) + quad - 2 * cross


def critical_learning_rate(lambda_max: float, n_outputs: int) -> float:
    """η_crit = 2n/λ_max for gradient descent on ‖f − y‖²/(2n): above it the top mode diverges."""
    return 2.0 * n_outputs / lambda_max
