"""The t = ∞ solve: never a silent NaN (float64 retry, or an error naming diag_reg and the value it
needs), the posterior against a second implementation, negative variances reported beyond rounding."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    KernelSolveError,
    MLPSpec,
    analytic_kernels,
    gp_posterior,
    gradient_descent_mse,
    make_dataset,
    ntk_ensemble_variance_inf,
)


def _spectrum_matrix(n, lambda_min, seed=0):
    """Q diag(geomspace(1, λ_min)) Qᵀ, Q a random orthogonal matrix (float64)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    k = (q * np.geomspace(1.0, lambda_min, n)) @ q.T
    return (k + k.T) / 2


def _default_nngp(n_train):
    data = make_dataset("sin", n_train, 200, 0.0, 0, -2.0, 2.0)
    k_dd = analytic_kernels(MLPSpec(), data.x_train)
    k_gd = analytic_kernels(MLPSpec(), data.x_grid, data.x_train)
    return data, k_dd.nngp, k_gd.nngp, k_gd.cov1


@pytest.mark.parametrize("n_train,diag_reg", [(16, 0.0), (200, 1e-6)])
def test_float32_nngp_posterior_raises_with_the_regularizer_it_needs(n_train, diag_reg):
    """Issue 16: these gave an all-NaN NNGP mean and band in float32 (Cholesky failed silently)."""
    data, k_dd, k_gd, k_gg = _default_nngp(n_train)
    assert k_dd.dtype == np.float32
    with pytest.raises(KernelSolveError, match=r"diag_reg: .* too small .* Raise diag_reg to at least") as info:
        gp_posterior(k_dd, data.y_train, k_gd, k_gg, diag_reg)
    err = info.value
    assert isinstance(err, ValueError) and err.diag_reg == diag_reg and err.lambda_min < 0
    assert f"{err.suggested_diag_reg:g}" in str(err)
    predict = gradient_descent_mse(k_dd, data.y_train, diag_reg=diag_reg)
    with pytest.raises(KernelSolveError):
        predict(math.inf, k_gd, k_gg)
    # the suggestion works, and is the smallest power of ten that does (one tenth of it does not)
    post = gp_posterior(k_dd, data.y_train, k_gd, k_gg, err.suggested_diag_reg)
    assert np.all(np.isfinite(post.mean)) and np.all(np.isfinite(post.variance))
    with pytest.raises(KernelSolveError):
        gp_posterior(k_dd, data.y_train, k_gd, k_gg, err.suggested_diag_reg / 10)


def test_float64_retry_when_the_float32_factor_fails():
    """Spectrum 1 … 3e-9, n = 200: the float32 Cholesky gives NaN, the float32-rounded matrix is still
    positive definite; the answer is the float64 solve of that matrix (numpy.linalg.solve, no Cholesky)."""
    k = _spectrum_matrix(200, 3e-9).astype(np.float32)
    assert not np.all(np.isfinite(np.asarray(jnp.linalg.cholesky(jnp.asarray(k)))))  # the case is the one meant
    rng = np.random.default_rng(1)
    y = rng.normal(size=200).astype(np.float32)
    k_td = k[:7] + np.float32(1e-3) * rng.normal(size=(7, 200)).astype(np.float32)
    k_tt = np.diag(k)[:7].copy()
    post = gp_posterior(k, y, k_td, k_tt)
    assert post.solver == "cholesky-float64" and post.mean.dtype == np.float32
    k64, k_td64 = k.astype(np.float64), k_td.astype(np.float64)
    mean = k_td64 @ np.linalg.solve(k64, y.astype(np.float64))
    var = k_tt - np.sum(k_td64 * np.linalg.solve(k64, k_td64.T).T, axis=1)
    # the float64 solve is exact to κ·ε₆₄ ≈ 3e8·1e-16; what remains is the cast of the result to float32
    np.testing.assert_allclose(post.mean, mean, rtol=1e-6, atol=1e-6 * np.abs(mean).max())
    np.testing.assert_allclose(post.variance, var, rtol=0, atol=1e-6 * np.abs(k_tt).max() + 1e-6 * np.abs(var).max())
    np.testing.assert_allclose(gradient_descent_mse(k, y)(math.inf, k_td), post.mean, rtol=1e-6)


def test_not_positive_definite_even_in_float64_raises():
    k = _spectrum_matrix(60, 1e-13).astype(np.float32)
    with pytest.raises(KernelSolveError):
        gp_posterior(k, np.ones(60, np.float32), k[:3], np.diag(k)[:3])


def _features_kernel(dtype, seed=2):
    """K = ΦΦᵀ/p over training rows 0…9 and test rows 10…14 of random features: a PSD joint kernel."""
    phi = np.random.default_rng(seed).normal(size=(15, 40))
    k = (phi @ phi.T / 40).astype(dtype)
    return k[:10, :10], k[10:, :10], k[10:, 10:]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_posterior_matches_the_schur_complement(dtype):
    """mean = K_td K⁻¹ y and variance = diag(K_tt − K_td K⁻¹ K_dt), by numpy.linalg.inv in float64."""
    k_dd, k_td, k_tt = _features_kernel(dtype)
    y = np.sin(np.arange(10.0)).astype(dtype)
    with jax.enable_x64(dtype == np.float64):
        post = gp_posterior(k_dd, y, k_td, k_tt, diag_reg=1e-3)
    k_reg = k_dd.astype(np.float64) + 1e-3 * np.trace(k_dd.astype(np.float64)) / 10 * np.eye(10)
    inv = np.linalg.inv(k_reg)
    mean = k_td.astype(np.float64) @ inv @ y.astype(np.float64)
    var = np.diag(k_tt.astype(np.float64) - k_td.astype(np.float64) @ inv @ k_td.T.astype(np.float64))
    eps = np.finfo(dtype).eps
    cond = np.linalg.cond(k_reg)
    # a backward-stable solve: error ≲ n·κ·ε of the terms' size (‖K‖·‖K⁻¹‖ amplifies entry rounding)
    np.testing.assert_allclose(post.mean, mean, rtol=0, atol=10 * cond * eps * np.abs(mean).max())
    assert np.all(np.abs(post.variance - var) <= post.variance_rounding)  # the bound holds
    assert not post.negative.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_negative_variance_beyond_rounding_is_reported(dtype):
    """Test points equal to training points have variance 0: within the rounding bound, not flagged.
    Lowering k_tt by Δ makes the joint kernel indefinite and the variance −Δ: flagged, not clipped."""
    k_dd, _, _ = _features_kernel(dtype)
    y = np.ones(10, dtype)
    with jax.enable_x64(dtype == np.float64):
        post = gp_posterior(k_dd, y, k_dd[:4], np.diag(k_dd)[:4].copy())
        assert np.all(np.abs(post.variance) <= post.variance_rounding) and not post.negative.any()
        assert np.all(post.variance_rounding < 1e-3 * np.diag(k_dd)[:4])  # the bound is not vacuous here
        lowered = np.diag(k_dd)[:4] - np.array([0.0, 0.0, 0.05, 0.5], dtype) * np.diag(k_dd)[:4]
        post = gp_posterior(k_dd, y, k_dd[:4], lowered)
    np.testing.assert_array_equal(post.negative, [False, False, True, True])
    assert np.all(post.variance[2:] < 0)


def test_ntk_ensemble_variance_never_silently_nan():
    data, _, _, _ = _default_nngp(16)
    k_dd = analytic_kernels(MLPSpec(), data.x_train)
    k_gd = analytic_kernels(MLPSpec(), data.x_grid, data.x_train)
    var = ntk_ensemble_variance_inf(k_dd.ntk, k_dd.nngp, k_gd.ntk, k_gd.nngp, k_gd.cov1, diag_reg=1e-4)
    assert np.all(np.isfinite(np.asarray(var)))


def test_non_finite_input_is_an_error_not_a_nan_answer():
    k_dd, k_td, k_tt = _features_kernel(np.float32)
    bad = k_dd.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="k_train_train"):
        gp_posterior(bad, np.ones(10, np.float32), k_td, np.diag(k_tt))
    y = np.ones(10, np.float32)
    y[3] = np.inf
    with pytest.raises(ValueError, match="y_train"):
        gp_posterior(k_dd, y, k_td, np.diag(k_tt))
