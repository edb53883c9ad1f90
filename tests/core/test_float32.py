"""Every core path the app runs in float32, against the float64 answer of the same problem.

No x64 fixture: the code under test runs in the app's precision (float32); the float64 answer is
computed inside the test under ``jax.enable_x64(True)`` from the same (float32) inputs. Each tolerance
is derived from float32 rounding (ε = 2⁻²³) and the problem's conditioning, as said where it is set.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    KernelSolveError,
    MLPSpec,
    analytic_kernels,
    empirical_ntk,
    gp_posterior,
    gradient_descent_mse,
    init_params,
    input_kernel,
    make_dataset,
    make_mlp,
)
from ntklab.core import spectra as sp
from ntklab.core.stax import Elementwise, Kernel
from tests.conftest import REFERENCE

EPS = float(np.finfo(np.float32).eps)
DATA = make_dataset("sin", 16, 200, 0.0, 0, -2.0, 2.0)  # the default experiment's data (float32)


def _float64(fn, *args):
    """``fn(*args)`` in float64 (inputs cast up), as host float64 arrays."""
    with jax.enable_x64(True):
        out = fn(*(np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in args))
        return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), out)


def _kernel64(spec, x1, x2=None, rel=0.0):
    """(nngp, ntk) in float64 from the same inputs, and the same with every off-diagonal correlation
    moved by ``rel`` towards 0 before each activation. Their difference is how far the answer moves when
    ρ is rounded: the problem's conditioning in ρ, unbounded as |ρ| → 1 for the ReLU family and erf
    (dθ/dρ = −1/sin θ). Eager (no compilation): the same layer maps that the jitted kernel composes."""
    symmetric = x2 is None

    def run(x1, x2):
        k = input_kernel(jnp.asarray(x1), jnp.asarray(x1 if x2 is None else x2))
        k_moved = k
        for layer in make_mlp(spec).layers:
            if isinstance(layer, Elementwise):
                scale = 1 - rel * (1 - jnp.eye(*k.nngp.shape)) if symmetric else 1 - rel
                k_moved = Kernel(k_moved.nngp * scale, k_moved.ntk, k_moved.cov1, k_moved.cov2, k_moved.channels)
            k, k_moved = layer.kernel(k), layer.kernel(k_moved)
        return (k.nngp, k.ntk), (k_moved.nngp, k_moved.ntk)

    with jax.disable_jit():
        return _float64(run, x1, x2)


def _assert_kernel_float32(spec, x1, x2=None):
    k32 = analytic_kernels(spec, x1, x2)
    assert k32.ntk.dtype == np.float32
    ref, moved = _kernel64(spec, x1, x2, rel=4 * EPS)
    layers = spec.depth + 1
    for i, name in enumerate(("nngp", "ntk")):
        got = getattr(k32, name).astype(np.float64)
        # ρ rounded by ≤ 4ε at each activation (one ε each for q11, q22, q12 and the ratio), and a few ε of
        # max|K| per layer for everything else (the map of each entry is a handful of roundings)
        tol = np.abs(moved[i] - ref[i]) + 8 * layers * EPS * np.abs(ref[i]).max()
        assert np.all(np.abs(got - ref[i]) <= tol), (name, np.max(np.abs(got - ref[i]) / tol))


def _name(settings):
    return "-".join(f"{k}={v}" for k, v in settings.items()) or "default"


# the default experiment (depth 2, width 512, relu, W std √2, b std 1, ntk) and the form's edges
KERNEL_EDGES = [{}, {"depth": 8}, {"w_std": 4.0}, {"b_std": 0.0}, {"parameterization": "standard"},
                {"activation": "tanh", "w_std": 4.0}]
# deep networks take ~10 s each to compile on two cores
KERNEL_EDGES_SLOW = [{"depth": 32}, {"depth": 32, "b_std": 0.0}, {"activation": "erf", "depth": 16, "w_std": 2.0},
                     {"activation": "gelu", "depth": 8}, {"activation": "leaky_relu", "depth": 16, "b_std": 0.0},
                     {"activation": "tanh", "depth": 16, "w_std": 4.0}, {"activation": "sin", "depth": 4}]


@pytest.mark.parametrize("settings", KERNEL_EDGES, ids=_name)
def test_analytic_kernel_float32(settings):
    _assert_kernel_float32(MLPSpec(**settings), DATA.x_train)


@pytest.mark.slow
@pytest.mark.parametrize("settings", KERNEL_EDGES_SLOW, ids=_name)
def test_analytic_kernel_float32_deep(settings):
    _assert_kernel_float32(MLPSpec(**settings), DATA.x_train)


def test_analytic_kernel_float32_test_against_train():
    _assert_kernel_float32(MLPSpec(), DATA.x_grid, DATA.x_train)


def _reference_cases():
    import json

    with open(REFERENCE) as f:
        return json.load(f)["kernel_cases"]


def _check_reference_cases(cases):
    for case in cases:
        arch = case["arch"]
        spec = MLPSpec(depth=arch["depth"], width=arch["hidden_width"], activation=arch["activation"],
                       activation_params=arch["activation_params"], w_std=arch["W_std"], b_std=arch["b_std"],
                       parameterization=arch["parameterization"])
        with jax.disable_jit():  # many small specs: no compilation each
            _assert_kernel_float32(spec, np.array(case["x1"], np.float32), np.array(case["x2"], np.float32))


@pytest.mark.covered_by_slow  # every 30th case of test_nt_reference_cases_float32_all
def test_nt_reference_cases_float32_sample():
    """Every 30th public nt case computed in float32: within the tolerance above of the float64 value,
    which is itself within 1e-7 of nt's (test_analytic.py)."""
    _check_reference_cases(_reference_cases()[::30])


@pytest.mark.slow
def test_nt_reference_cases_float32_all():
    _check_reference_cases(_reference_cases())


# --- predictions: NTK gradient flow at finite t and t = ∞, the NNGP posterior ----------------------


def _default_kernels(spec=None, n_train=16):
    spec = spec or MLPSpec()
    data = DATA if n_train == 16 else make_dataset("sin", n_train, 200, 0.0, 0, -2.0, 2.0)
    k_dd32, k_gd32 = analytic_kernels(spec, data.x_train), analytic_kernels(spec, data.x_grid, data.x_train)
    (nngp_dd, ntk_dd), _ = _kernel64(spec, data.x_train)
    (nngp_gd, ntk_gd), _ = _kernel64(spec, data.x_grid, data.x_train)
    k_dd64 = Kernel(nngp_dd, ntk_dd, np.diag(nngp_dd), np.diag(nngp_dd), spec.width)
    (nngp_gg, _), _ = _kernel64(spec, data.x_grid)
    k_gd64 = Kernel(nngp_gd, ntk_gd, np.diag(nngp_gg), np.diag(nngp_dd), spec.width)
    return data, (k_dd32, k_gd32), (k_dd64, k_gd64)


def _kernel_error(k32, k64):
    """‖K₃₂ − K₆₄‖₂/‖K₆₄‖₂ (spectral norms), the relative perturbation the solve sees."""
    return np.linalg.norm(k32.astype(np.float64) - k64, 2) / np.linalg.norm(k64, 2)


@pytest.mark.parametrize("settings", [{}, {"activation": "tanh", "w_std": 4.0},
                                      pytest.param({"depth": 8}, marks=pytest.mark.slow)],
                         ids=["default", "tanh-w4", "depth8"])
def test_ntk_flow_float32(settings):
    """f_t = K_td V diag((1 − e^{−λτ})/λ) Vᵀ y, τ = lr·t/n. A relative perturbation δ of K (the kernel's
    rounding, measured, plus the eigensolver's n·ε) moves f_t by ≲ δ·κ_t·max|y|·‖K_td‖/λ_max with
    κ_t = λ_max·min(τ, 1/λ_min) (the gain (1 − e^{−λτ})/λ is at most min(τ, 1/λ)). The session runs
    finite t with diag_reg 0; t = ∞ needs a regularizer here (the float32 NTK of the default data is
    PSD only to rounding: two training points 6e-4 apart), and is κ(K + reg)."""
    data, (k_dd32, k_gd32), (k_dd64, k_gd64) = _default_kernels(MLPSpec(**settings))
    n, lr = len(data.x_train), 0.1
    delta = _kernel_error(k_dd32.ntk, k_dd64.ntk) + _kernel_error(k_gd32.ntk, k_gd64.ntk) + n * EPS
    for steps, diag_reg in ((1, 0.0), (100, 0.0), (2000, 0.0), (math.inf, 1e-4)):
        predict32 = gradient_descent_mse(k_dd32.ntk, data.y_train, learning_rate=lr, diag_reg=diag_reg)
        got = np.asarray(predict32(steps, k_gd32.ntk), np.float64)
        assert np.all(np.isfinite(got))
        ref = _float64(lambda a, b, y: gradient_descent_mse(a, y, learning_rate=lr, diag_reg=diag_reg)(steps, b),
                       k_dd64.ntk, k_gd64.ntk, data.y_train)
        evals = np.linalg.eigvalsh(k_dd64.ntk + diag_reg * np.trace(k_dd64.ntk) / n * np.eye(n))
        kappa = evals[-1] * min(lr * steps / n, 1 / evals[0])
        scale = np.linalg.norm(k_gd64.ntk, 2) / evals[-1] * np.abs(data.y_train).max()
        tol = 4 * delta * kappa * scale + 16 * EPS * np.abs(ref).max()
        assert np.all(np.abs(got - ref) <= tol), (steps, np.max(np.abs(got - ref)) / tol)


def _mean_variance(post):
    return post.mean, post.variance


@pytest.mark.parametrize("n_train,diag_reg", [(16, 1e-4), (200, 1e-4), (16, 1e-7), (200, 1e-5)])
def test_nngp_posterior_float32(n_train, diag_reg):
    """Mean: a relative perturbation δ of K moves K_td (K + reg)⁻¹ y by ≲ 2δ·κ(K + reg)·max|mean|
    (first-order perturbation of a linear solve); variance: within its own rounding bound
    (Posterior.variance_rounding, derived in predict.py). 1e-4 is the default; 1e-7 and 1e-5 are the
    smallest values that solve for 16 and 200 points (smaller ones raise KernelSolveError)."""
    data, (k_dd32, k_gd32), (k_dd64, k_gd64) = _default_kernels(n_train=n_train)
    post = gp_posterior(k_dd32.nngp, data.y_train, k_gd32.nngp, k_gd32.cov1, diag_reg)
    assert post.mean.dtype == np.float32 and np.all(np.isfinite(post.mean)) and np.all(np.isfinite(post.variance))
    ref_mean, ref_var = _float64(lambda a, b, c, y: _mean_variance(gp_posterior(a, y, b, c, diag_reg)),
                                 k_dd64.nngp, k_gd64.nngp, k_gd64.cov1, data.y_train)
    k_reg = k_dd64.nngp + diag_reg * np.trace(k_dd64.nngp) / n_train * np.eye(n_train)
    delta = _kernel_error(k_dd32.nngp, k_dd64.nngp) + _kernel_error(k_gd32.nngp, k_gd64.nngp) + n_train * EPS
    tol = 2 * delta * np.linalg.cond(k_reg) * np.abs(ref_mean).max()
    assert np.all(np.abs(post.mean - ref_mean) <= tol), np.max(np.abs(post.mean - ref_mean)) / tol
    assert np.all(np.abs(post.variance - ref_var) <= post.variance_rounding)
    assert not post.negative.any()


def test_nngp_posterior_float32_without_regularizer_says_what_to_set():
    data, (k_dd32, k_gd32), _ = _default_kernels()
    with pytest.raises(KernelSolveError, match="diag_reg"):
        gp_posterior(k_dd32.nngp, data.y_train, k_gd32.nngp, k_gd32.cov1, 0.0)


# --- spectra and the empirical NTK -------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"activation": "tanh", "w_std": 4.0}, {"b_std": 0.0}],
                         ids=["default", "tanh-w4", "b0"])
def test_eigen_float32(settings):
    """Weyl: |λᵢ(K₃₂) − λᵢ(K₆₄)| ≤ ‖K₃₂ − K₆₄‖₂, plus the float32 eigensolver's backward error n·ε·λ_max.
    Every kernel here is PSD, so float32 may call it 'positive' or 'unresolved', never 'indefinite'."""
    spec = MLPSpec(**settings)
    k32 = analytic_kernels(spec, DATA.x_train).ntk
    k64 = _float64(lambda a: analytic_kernels(spec, a), DATA.x_train).ntk
    eig = sp.eigen(k32)
    ref = np.sort(np.linalg.eigvalsh(k64))[::-1]
    n = len(ref)
    tol = np.linalg.norm(k32.astype(np.float64) - k64, 2) + 2 * n * EPS * ref[0]
    assert np.all(np.abs(eig.values - ref) <= tol), np.max(np.abs(eig.values - ref)) / tol
    # eigenvectors: orthonormal to float32 rounding
    np.testing.assert_allclose(eig.vectors.T @ eig.vectors, np.eye(n), atol=4 * n * EPS)
    assert sp.definiteness(eig.values, EPS) in ("positive", "unresolved")


@pytest.mark.parametrize("settings", [{}, {"w_std": 4.0, "activation": "tanh"},
                                      {"depth": 8, "parameterization": "standard"}],
                         ids=["default", "tanh-w4", "depth8-standard"])
def test_empirical_ntk_float32(settings):
    """Same float32 parameters, cast to float64. Each Gram block sums N = 512 products: the rounding of
    an inner product is ≤ γ_N·|x|ᵀ|y| ≈ N·ε·‖x‖‖y‖ (Higham 2002, §3.1), and ‖x‖‖y‖ ≤ √(Θ_ii Θ_jj) for a
    block of the NTK; the backpropagated δ add a few ε per layer on top, hence (L + 1)·N·ε·√(Θ_ii Θ_jj)."""
    spec = MLPSpec(**settings)
    params = init_params(spec, 1, key=jax.random.key(3))
    x = jnp.asarray(DATA.x_train)
    ntk32 = np.asarray(empirical_ntk(spec, params, x))
    assert ntk32.dtype == np.float32
    ntk64 = _float64(lambda p, a: empirical_ntk(spec, jax.tree_util.tree_map(lambda w: jnp.asarray(w, jnp.float64), p), a),
                     params, DATA.x_train)
    diag = np.sqrt(np.outer(np.diag(ntk64), np.diag(ntk64)))
    tol = (spec.depth + 1) * spec.width * EPS * diag
    assert np.all(np.abs(ntk32 - ntk64) <= tol), np.max(np.abs(ntk32 - ntk64) / tol)
