"""Closed-form gradient-flow dynamics of a kernel regression, and the GP posterior.

Conventions of neural-tangents' ``predict`` (Lee et al. 2019, eq. 9–10): the loss is
‖f − y‖²/(2n) with n = y_train.size, time is multiplied by ``learning_rate``, and ``diag_reg`` is
relative: K + diag_reg·tr(K)/n_train·I.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl


@jax.jit
def _regularized(k, diag_reg):
    n = k.shape[0]
    return k + diag_reg * jnp.trace(k) / n * jnp.eye(n, dtype=k.dtype)


@jax.jit
def _eigh(k_reg):
    evals, evecs = jnp.linalg.eigh(k_reg)
    return jnp.maximum(evals, 0.0), evecs


@jax.jit
def _flow_mean(evals, evecs, k_td, residual, f0, scale):
    """f0 + K_td V diag((1 − e^{−λ·scale})/λ) Vᵀ r, matrix–vector products only."""
    safe = jnp.where(evals > 0, evals, 1.0)
    gain = jnp.where(evals > 0, -jnp.expm1(-evals * scale) / safe, scale)
    return f0 + k_td @ (evecs @ (gain[:, None] * (evecs.T @ residual)))


@jax.jit
def _cho_mean(cho_lower, k_td, residual, f0):
    return f0 + k_td @ jsl.cho_solve((cho_lower, True), residual)


@jax.jit
def _posterior_variance(cho_lower, k_td, diag_tt):
    v = jsl.solve_triangular(cho_lower, k_td.T, lower=True)
    return diag_tt - jnp.sum(v * v, axis=0)


def gradient_descent_mse(k_train_train, y_train, learning_rate: float = 1.0, diag_reg: float = 0.0):
    """Returns ``predict(t, k_test_train=None, k_test_test=None, *, fx_train_0=0, fx_test_0=0)``.

    ``predict`` gives the mean output at time t (t = ∞ allowed) of gradient flow on
    ‖f − y‖²/(2n) under the fixed kernel ``k_train_train`` (n, n):

        f_t(x) = f_0(x) + K(x, X) V diag((1 − e^{−λ·lr·t/n})/λ) Vᵀ (Y − f_0(X))

    with (λ, V) = eigh(K + reg), λ clipped at 0 (the factor → lr·t/n as λ → 0). The eigen-
    decomposition is computed once, at the first finite t; t = ∞ uses a Cholesky solve.
    ``k_test_train`` (m, n) gives test predictions (None: on the training set). With
    ``k_test_test`` (m, m) or its diagonal (m,) at t = ∞ it returns ``(mean, variance)``, the GP
    posterior variance K_tt − K_td (K + reg)⁻¹ K_dt (the NNGP posterior when K is the NNGP).
    ``fx_*_0`` are the outputs at t = 0 (0: the ensemble mean of nt's
    ``gradient_descent_mse_ensemble``).
    """
    k_dd = jnp.asarray(k_train_train)
    y = jnp.asarray(y_train, k_dd.dtype).reshape(k_dd.shape[0], -1)
    size = y.size
    k_reg = _regularized(k_dd, diag_reg)
    cache = {}

    def eigh():
        if "eigh" not in cache:
            cache["eigh"] = _eigh(k_reg)
        return cache["eigh"]

    def cholesky():
        if "cho" not in cache:
            cache["cho"] = jnp.linalg.cholesky(k_reg)
        return cache["cho"]

    def column(v, rows):
        v = jnp.asarray(v, k_dd.dtype)
        return v.reshape(rows, -1) if v.ndim else jnp.full((rows, 1), v)

    def predict(t, k_test_train=None, k_test_test=None, *, fx_train_0=0.0, fx_test_0=0.0):
        on_train = k_test_train is None
        k_td = k_dd if on_train else jnp.asarray(k_test_train, k_dd.dtype)
        f0 = column(fx_train_0 if on_train else fx_test_0, k_td.shape[0])
        residual = y - column(fx_train_0, k_dd.shape[0])
        if t is None or math.isinf(t):
            if on_train and diag_reg == 0.0:
                mean = y  # the unregularized flow reaches the targets exactly
            else:
                mean = _cho_mean(cholesky(), k_td, residual, f0)
        else:
            evals, evecs = eigh()
            mean = _flow_mean(evals, evecs, k_td, residual, f0, learning_rate * t / size)
        mean = mean.reshape((k_td.shape[0],) + jnp.shape(y_train)[1:])
        if k_test_test is None:
            return mean
        if not (t is None or math.isinf(t)):
            raise ValueError("k_test_test: the posterior variance is given at t = ∞ only; pass t=math.inf.")
        k_tt = jnp.asarray(k_test_test, k_dd.dtype)
        diag_tt = jnp.diagonal(k_tt) if k_tt.ndim == 2 else k_tt
        return mean, _posterior_variance(cholesky(), k_td, diag_tt)

    return predict


def ntk_ensemble_variance_inf(ntk_dd, nngp_dd, ntk_td, nngp_td, nngp_tt_diag, diag_reg: float = 0.0):
    """Variance at t = ∞ of an infinite ensemble of infinitely wide networks trained by gradient flow.

    Σ = K_tt + Θ_td Θ⁻¹ K_dd Θ⁻¹ Θ_dt − (Θ_td Θ⁻¹ K_dt + transpose), diagonal only, with Θ = Θ_dd + reg
    (Lee et al. 2019, eq. 16; nt's ``gp_inference`` with get='ntk').
    """
    cho = jsl.cho_factor(_regularized(jnp.asarray(ntk_dd), diag_reg), lower=True)
    a = jsl.cho_solve(cho, jnp.asarray(ntk_td).T)  # Θ⁻¹ Θ_dt: (n, m)
    b = jsl.cho_solve(cho, jnp.asarray(nngp_td).T)  # Θ⁻¹ K_dt
    quad = jnp.sum(a * (jnp.asarray(nngp_dd) @ a), axis=0)
    cross = jnp.sum(jnp.asarray(ntk_td).T * b, axis=0)
    return jnp.asarray(nngp_tt_diag) + quad - 2 * cross


def critical_learning_rate(lambda_max: float, n_outputs: int) -> float:
    """η_crit = 2n/λ_max for gradient descent on ‖f − y‖²/(2n): above it the top mode diverges."""
    return 2.0 * n_outputs / lambda_max
