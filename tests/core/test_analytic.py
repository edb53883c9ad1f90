"""Analytic NNGP/NTK and closed-form dynamics against neural-tangents' values, Monte Carlo, quadrature."""

import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    ACTIVATIONS,
    MLPSpec,
    Serial,
    analytic_kernels,
    empirical_ntk,
    gaussian_expectations,
    gradient_descent_mse,
    init_params,
    init_train_state,
    make_apply_fn,
    make_mlp,
    make_optimizer,
    make_train_chunk,
    ntk_ensemble_variance_inf,
)
from tests.conftest import REFERENCE

with open(REFERENCE) as f:
    REF = json.load(f)


def _spec(arch) -> MLPSpec:
    return MLPSpec(depth=arch["depth"], width=arch["hidden_width"], activation=arch["activation"],
                   activation_params=arch["activation_params"], w_std=arch["W_std"], b_std=arch["b_std"],
                   parameterization=arch["parameterization"])


@pytest.mark.parametrize("case", REF["kernel_cases"], ids=lambda c: c["id"])
def test_reference_kernel_case(x64, case):
    """Every public case of nt 0.6.5 to rtol 1e-7; atol 1e-7·max|K| covers entries that are pure rounding
    (ReLU-family points with q11·q22 = q12², where nt takes √(rounding error); reference README)."""
    k = analytic_kernels(_spec(case["arch"]), np.array(case["x1"]), np.array(case["x2"]))
    for name in ("nngp", "ntk"):
        ref = np.array(case[name], dtype=float)
        np.testing.assert_allclose(getattr(k, name), ref, rtol=1e-7, atol=1e-7 * np.abs(ref).max(),
                                   err_msg=f"{case['id']} {name}")


PREDICT = REF["predict_cases"][0]
RUNS = PREDICT["runs"]


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r['get']}-t{r['t']}-reg{r['diag_reg']}")
def test_reference_predict_case(x64, run):
    problem = PREDICT["problem"]
    spec = _spec(PREDICT["arch"])
    x_train, y_train = np.array(problem["x_train"]), np.array(problem["y_train"])
    x_test = np.array(problem["x_test"])
    k_dd, k_td = analytic_kernels(spec, x_train), analytic_kernels(spec, x_test, x_train)
    g = run["get"]
    t = math.inf if run["t"] in (None, "inf") else run["t"]
    predict = gradient_descent_mse(getattr(k_dd, g), y_train, run["learning_rate"], run["diag_reg"])
    mean = np.asarray(predict(t, getattr(k_td, g))).reshape(-1)
    # diag_reg = 0: K_dd has condition number 3e4 (NTK) / 2e9 (NNGP); the ReLU √rounding of the kernel
    # entries is amplified by it, so those runs are compared loosely.
    rtol = 1e-6 if run["diag_reg"] > 0 else 1e-5
    ref = np.array(run["mean"])
    np.testing.assert_allclose(mean, ref, rtol=0, atol=rtol * np.abs(ref).max())
    if run["variance_diag"] is not None:
        k_tt = analytic_kernels(spec, x_test)
        if g == "nngp":
            _, var = predict(t, k_td.nngp, k_tt.nngp)
        else:
            var = ntk_ensemble_variance_inf(k_dd.ntk, k_dd.nngp, k_td.ntk, k_td.nngp,
                                            np.diag(k_tt.nngp), run["diag_reg"])
        ref_var = np.array(run["variance_diag"])
        np.testing.assert_allclose(var, ref_var, rtol=0, atol=rtol * np.abs(ref_var).max())


def test_public_api_example_runs_and_is_consistent(x64):
    spec = MLPSpec(depth=3, width=512, activation="abrelu", activation_params={"a": -0.5, "b": 1.5},
                   w_std=1.5, b_std=0.05, parameterization="ntk")
    x1 = np.random.default_rng(0).normal(size=(9, 2))
    k = analytic_kernels(spec, x1)
    assert k.nngp.shape == k.ntk.shape == (9, 9) and k.ntk.dtype == np.float64
    y = np.sin(x1[:, 0])
    predict = gradient_descent_mse(k.ntk, y, learning_rate=1.0, diag_reg=0.0)
    np.testing.assert_allclose(predict(0.0, k.ntk), 0.0, atol=1e-12)  # t = 0: the zero-mean start
    # t = ∞ interpolates: evaluated through the solve (K_dd as the test-train kernel), K K⁻¹ y = y
    np.testing.assert_allclose(predict(math.inf, k.ntk), y, atol=1e-9 * np.abs(y).max())
    np.testing.assert_allclose(predict(1e9, k.ntk), y, atol=1e-6)  # finite t tends to t = ∞


def test_float32_without_x64():
    k = analytic_kernels(MLPSpec(), np.ones((3, 2)))
    assert k.ntk.dtype == np.float32


# --- Monte Carlo: mean over seeds of the empirical kernels of width-2048 networks ---------------

MC_ACTIVATIONS = [("relu", {}), ("leaky_relu", {"alpha": 0.2}), ("abrelu", {"a": -0.5, "b": 1.5}),
                  ("erf", {"a": 1.2, "b": 0.7, "c": 0.1}), ("gelu", {}), ("sin", {"a": 1.0, "b": 1.3, "c": 0.4}),
                  ("tanh", {}), ("identity", {})]


@pytest.mark.slow
@pytest.mark.parametrize("activation,params", MC_ACTIVATIONS, ids=[a for a, _ in MC_ACTIVATIONS])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_analytic_matches_monte_carlo(x64, activation, params, parameterization):
    width, seeds = 2048, 12
    spec = MLPSpec(depth=2, width=width, activation=activation, activation_params=params, w_std=1.3,
                   b_std=0.4, parameterization=parameterization)
    x = np.random.default_rng(1).normal(size=(4, 3))
    analytic = analytic_kernels(spec, x)
    hidden = Serial(make_mlp(spec).layers[:-1])
    readout = make_mlp(spec).layers[-1]
    nngps, ntks = [], []
    for seed in range(seeds):
        params_ = init_params(spec, 3, key=jax.random.key(seed))
        h = hidden.apply(params_[:-1], jnp.asarray(x))
        c_w, _ = readout.scales(width)
        # NNGP of the readout: Cov over (W, b) of c_w·hW + c_b·b (standard: W variance is in the init).
        w_var = c_w**2 if parameterization == "ntk" else spec.w_std**2 / width
        nngps.append(np.asarray(w_var * h @ h.T + spec.b_std**2))
        ntks.append(np.asarray(empirical_ntk(spec, params_, jnp.asarray(x))))
    for name, samples in (("nngp", nngps), ("ntk", ntks)):
        samples = np.stack(samples)
        mean, se = samples.mean(0), samples.std(0, ddof=1) / np.sqrt(seeds)
        ref = getattr(analytic, name)
        # within 5 standard errors, plus an O(1/width) finite-width bias
        assert np.all(np.abs(mean - ref) <= 5 * se + 4 * np.abs(ref).max() / width), (name, mean, ref, se)


# --- quadrature: a second implementation of every smooth closed form ------------------------------

Q = (np.array([0.5, 1.0, 2.0, 3.0, 0.0]), np.array([1.5, 0.7, 2.0, 0.1, 0.8]), np.array([0.3, -0.5, 1.99, 0.2, 0.0]))


@pytest.mark.parametrize("activation,params", [("erf", {"a": 1.2, "b": 0.7, "c": 0.1}), ("gelu", {}),
                                               ("sin", {"a": 0.8, "b": 1.3, "c": 0.4}), ("identity", {})])
def test_closed_forms_match_quadrature(x64, activation, params):
    act = ACTIVATIONS[activation]
    nngp, dot = act.kernel(*Q, **params)
    q_nngp, q_dot = gaussian_expectations(lambda x: act.fn(x, **params), *Q, order=120)
    np.testing.assert_allclose(nngp, q_nngp, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dot, q_dot, rtol=1e-6, atol=1e-8)


# tanh's kernel is checked against adaptive quadrature and Monte Carlo in test_tanh_kernel.py.


# --- structure: symmetric, PSD, finite at zero, tiles ------------------------------------------------


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_analytic_symmetric_psd_finite_at_zero(x64, activation):
    x = np.random.default_rng(3).normal(size=(12, 2))
    x[0] = 0.0  # the zero vector
    k = analytic_kernels(MLPSpec(depth=3, activation=activation, b_std=0.0), x)
    for m in (k.nngp, k.ntk):
        assert np.all(np.isfinite(m))
        np.testing.assert_allclose(m, m.T, rtol=1e-12, atol=1e-14)
        assert np.linalg.eigvalsh(m).min() > -1e-9 * np.abs(m).max()


def test_tiles_equal_one_block(x64):
    rng = np.random.default_rng(4)
    x1, x2 = rng.normal(size=(23, 3)), rng.normal(size=(17, 3))
    spec = MLPSpec(depth=2, activation="gelu")
    calls = []
    for a, b in ((x1, None), (x1, x2)):
        whole = analytic_kernels(spec, a, b)
        tiled = analytic_kernels(spec, a, b, tile_size=5, progress=lambda d, t: calls.append((d, t)))
        np.testing.assert_allclose(tiled.nngp, whole.nngp, rtol=1e-14)
        np.testing.assert_allclose(tiled.ntk, whole.ntk, rtol=1e-14)
    assert calls[-1][0] == calls[-1][1] and calls[0][1] == 15  # 5x5 tiles, upper triangle


def test_tiles_spread_over_devices():
    """With 2 host devices the tiles run on both, with the same result."""
    code = (
        "import jax, numpy as np\n"
        "from ntklab.core import MLPSpec, analytic_kernels\n"
        "assert len(jax.devices()) == 2, jax.devices()\n"
        "x = np.random.default_rng(0).normal(size=(40, 3))\n"
        "a = analytic_kernels(MLPSpec(), x, tile_size=8)\n"
        "b = analytic_kernels(MLPSpec(), x, tile_size=64)\n"
        "np.testing.assert_allclose(a.ntk, b.ntk, rtol=0, atol=3e-4 * abs(b.ntk).max())  # f32 ReLU diagonal\n"
        "print('ok')\n"
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


# --- closed-form dynamics with the empirical NTK = the trained linearization --------------------------


def test_closed_form_with_empirical_ntk_tracks_trained_linearization(x64):
    spec = MLPSpec(depth=2, width=64, activation="erf")
    x = np.linspace(-2, 2, 8).reshape(-1, 1)
    y = np.sin(2 * x[:, 0])
    x_test = np.linspace(-2, 2, 21).reshape(-1, 1)
    apply_fn = make_apply_fn(spec)
    theta0 = init_params(spec, 1, key=jax.random.key(5))
    lr, steps = 1e-3, 2000
    optimizer = make_optimizer(lr)
    state, _ = make_train_chunk(apply_fn, optimizer, steps)(init_train_state(theta0, optimizer), theta0,
                                                            jnp.asarray(x), jnp.asarray(y))
    from ntklab.core import linearize

    trained = np.asarray(linearize(apply_fn, theta0)(state.lin_params, jnp.asarray(x_test)))
    k_dd = empirical_ntk(spec, theta0, jnp.asarray(x))
    k_td = empirical_ntk(spec, theta0, jnp.asarray(x_test), jnp.asarray(x))
    predict = gradient_descent_mse(k_dd, y, learning_rate=lr)
    flow = np.asarray(predict(steps, k_td, fx_train_0=apply_fn(theta0, jnp.asarray(x)),
                              fx_test_0=apply_fn(theta0, jnp.asarray(x_test))))
    moved = np.abs(trained - np.asarray(apply_fn(theta0, jnp.asarray(x_test)))).max()
    assert moved > 0.1  # the run went somewhere
    # discrete GD vs gradient flow differ by O(lr·λ/n) per unit time
    np.testing.assert_allclose(trained, flow, atol=2e-3 * moved)
