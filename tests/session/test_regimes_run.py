"""Leaving the kernel regime on purpose, headless: output scale α (Chizat et al. 2019), readout-only
training (random features), μP and mean-field scaling, residual nets."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import init_params, make_apply_fn
from ntklab.session import Experiment, ExperimentSpec, critical_rate
from ntklab.session.datasets import build_dataset


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def test_the_alpha_model_is_chizats():
    """Our f_α = α(f(θ) − f(θ0)) on ‖f_α − y‖²/(2nα²): one step of the run equals one step of gradient
    descent on Chizat, Oyallon & Bach's F_α(θ) = R(α·h(θ))/α², h = f − f(θ0), R(f) = ‖f − y‖²/(2n),
    with the gradient taken by autodiff of that objective (float64)."""
    alpha, lr = 7.0, 0.3
    spec = ExperimentSpec().with_changes(
        model={"width": 32, "output_scale": alpha, "centered": True, "activation": "erf"},
        data={"n_train": 6, "n_test": 5}, train={"steps": 1, "snapshots": 1, "learning_rate": lr,
                                                  "precision": "float64"})
    snaps = list(Experiment(spec).run())
    with jax.enable_x64(True):
        data = build_dataset(spec.data, np.float64)
        theta0 = init_params(spec.model, 1, key=jax.random.key(0), dtype=jnp.float32)
        theta0 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), theta0)
        f = make_apply_fn(spec.model)
        x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

        def objective(theta):
            h = f(theta, x) - f(theta0, x)
            return 0.5 * jnp.mean((alpha * h - y) ** 2) / alpha**2

        theta1 = jax.tree_util.tree_map(lambda p, g: p - lr * g, theta0, jax.grad(objective)(theta0))
        expected = alpha * (f(theta1, jnp.asarray(data.x_grid)) - f(theta0, jnp.asarray(data.x_grid)))
    np.testing.assert_allclose(snaps[-1].f_grid_net, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(snaps[0].f_grid_net, 0.0)  # centered: f_α(θ0) = 0


@pytest.mark.parametrize("linearization", ["function", "parameter"])
def test_large_alpha_is_lazy(linearization):
    """RMS(f_α − f_lin) and the kernel change fall like 1/α (smooth activation; ReLU's kinks make the
    approach jumpy at moderate widths). Fitted slope over α = 1…100 ≤ −0.8 (theory −1)."""
    alphas = [1.0, 3.0, 10.0, 30.0, 100.0]
    gaps, kernel = [], []
    for alpha in alphas:
        spec = ExperimentSpec().with_changes(
            model={"width": 128, "output_scale": alpha, "centered": True, "activation": "erf"},
            data={"n_train": 12, "n_test": 20}, train={"steps": 200, "snapshots": 2, "learning_rate": 0.1,
                                                       "linearization": linearization, "precision": "float64"},
            infinite={"enabled": False}, spectra={"enabled": False})
        last = list(Experiment(spec).run())[-1]
        gaps.append(last.lin_gap)
        kernel.append(last.kernel_change)
    assert _slope(alphas, gaps) <= -0.8, gaps
    assert _slope(alphas, kernel) <= -0.8, kernel


def _relu_features(theta0, spec, x):
    """The last hidden layer of the 'ntk' MLP, by a NumPy forward pass (an independent implementation)."""
    h = np.asarray(x, np.float64)
    for w, b in [tuple(np.asarray(a, np.float64) for a in p) for p in theta0 if p][:-1]:
        h = np.maximum(spec.model.w_std / math.sqrt(h.shape[1]) * h @ w + spec.model.b_std * b, 0.0)
    return h


def test_readout_only_is_kernel_regression_with_the_last_layers_features():
    """Training only the readout keeps the features fixed: the network is linear in what it trains, and
    f_t = K(x, X) K⁻¹ (I − (I − ηK/n)^t) y with K = c_w²·h hᵀ + c_b² the last hidden layer's empirical
    NNGP (centered, so f_0 = 0); t → ∞ gives kernel regression. NumPy features, float64, 1e-5."""
    base = ExperimentSpec().with_changes(model={"width": 64, "centered": True}, data={"n_train": 6, "n_test": 5},
                                         train={"trainable": "readout", "precision": "float64", "steps": 3000,
                                                "snapshots": 1}, infinite={"enabled": False})
    eta, _ = critical_rate(base)
    spec = base.with_changes(train={"learning_rate": 0.9 * eta})
    last = list(Experiment(spec).run())[-1]
    with jax.enable_x64(True):
        theta0 = init_params(spec.model, 1, key=jax.random.key(0), dtype=jnp.float32)
        data = build_dataset(spec.data, np.float64)
    c_w, c_b = spec.model.w_std / math.sqrt(64), spec.model.b_std
    h_train, h_grid = _relu_features(theta0, spec, data.x_train), _relu_features(theta0, spec, data.x_grid)
    k = c_w**2 * h_train @ h_train.T + c_b**2
    k_grid = c_w**2 * h_grid @ h_train.T + c_b**2
    lam, v = np.linalg.eigh(k)
    n, t, lr = 6, spec.train.steps, spec.train.learning_rate
    gain = (1 - (1 - lr * lam / n) ** t) / lam  # K⁻¹(I − (I − ηK/n)^t) in K's eigenbasis
    expected = k_grid @ (v @ (gain * (v.T @ data.y_train)))
    np.testing.assert_allclose(last.f_grid_net, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    regression = k_grid @ np.linalg.solve(k, data.y_train)  # t = ∞
    assert np.abs(last.f_grid_net - regression).max() < 0.05 * np.abs(regression).max()


@pytest.mark.slow
def test_readout_only_approaches_the_nngp_answer_as_width_grows():
    """At infinite width the readout's kernel is the NNGP: the trained random-features net tracks the
    NNGP gradient-flow answer (the NTK ∞ curve for trainable = readout) more closely as width grows."""
    errors = {}
    for width in (64, 4096):
        spec = ExperimentSpec().with_changes(model={"width": width, "centered": True},
                                             train={"trainable": "readout", "steps": 500, "snapshots": 1})
        spec = spec.with_changes(train={"learning_rate": 0.5 * critical_rate(spec)[0]})
        last = list(Experiment(spec).run())[-1]
        errors[width] = float(np.sqrt(np.mean((last.f_grid_net - last.f_grid_ntk) ** 2)))
    assert errors[4096] < 0.05 and errors[4096] < 0.3 * errors[64], errors


def test_mup_and_mean_field_leave_the_kernel_regime_and_say_why():
    runs = {}
    for parameterization in ("ntk", "mup"):
        spec = ExperimentSpec().with_changes(model={"width": 1024, "parameterization": parameterization},
                                             train={"steps": 300, "snapshots": 2, "learning_rate": 0.1})
        runs[parameterization] = list(Experiment(spec).run())[-1]
    mup, ntk = runs["mup"], runs["ntk"]
    assert mup.f_grid_ntk is None and mup.infinite is None
    assert any("not drawn" in n and "μP" in n or "mup" in n for n in mup.notes), mup.notes
    assert np.all(mup.feature_change > 5 * ntk.feature_change), (mup.feature_change, ntk.feature_change)
    assert mup.kernel_change > 3 * ntk.kernel_change
    field = ExperimentSpec().with_changes(model={"width": 256, "depth": 1, "parameterization": "mean_field"},
                                          train={"steps": 50, "snapshots": 1})
    field = field.with_changes(train={"learning_rate": 0.5 * critical_rate(field)[0]})
    last = list(Experiment(field).run())[-1]
    assert last.f_grid_ntk is None and np.isfinite(last.mse_train_net) and last.mse_train_lin < 1


def test_resnet_runs_with_its_infinite_width_answers():
    spec = ExperimentSpec().with_changes(model={"architecture": "resnet", "depth": 3, "width": 256, "b_std": 0.1},
                                         train={"steps": 200, "snapshots": 2, "learning_rate": 0.05})
    snaps = list(Experiment(spec).run())
    last = snaps[-1]
    assert last.f_grid_ntk is not None and last.mse_train_net < snaps[0].mse_train_net
    assert len(last.feature_change) == 4 and len(last.weight_change) == 5  # stream after input + 3 blocks
