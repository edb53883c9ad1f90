"""Empirical NTK and linearization against independent answers (Jacobian contraction, Taylor)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    ACTIVATIONS,
    MLPSpec,
    empirical_ntk,
    empirical_ntk_jacobian,
    half_mse,
    init_params,
    init_train_state,
    linearize,
    make_apply_fn,
    make_optimizer,
    make_train_chunk,
)

CASES = [(a, p) for a in ACTIVATIONS for p in ("ntk", "standard")]


def _setup(activation, parameterization, depth=2, width=48):
    spec = MLPSpec(depth=depth, width=width, activation=activation, parameterization=parameterization,
                   b_std=0.3)
    params = init_params(spec, 3, key=jax.random.key(7))
    x1 = jax.random.normal(jax.random.key(1), (6, 3))
    x2 = jax.random.normal(jax.random.key(2), (4, 3))
    return spec, params, x1, x2


@pytest.mark.parametrize("activation,parameterization", CASES)
def test_layerwise_ntk_equals_jacobian_contraction(x64, activation, parameterization):
    spec, params, x1, x2 = _setup(activation, parameterization)
    oracle = empirical_ntk_jacobian(make_apply_fn(spec), params, x1, x2)
    np.testing.assert_allclose(empirical_ntk(spec, params, x1, x2), oracle, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_layerwise_ntk_any_depth(x64, depth):
    spec, params, x1, x2 = _setup("erf", "ntk", depth=depth)
    oracle = empirical_ntk_jacobian(make_apply_fn(spec), params, x1, x2)
    np.testing.assert_allclose(empirical_ntk(spec, params, x1, x2), oracle, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_empirical_ntk_symmetric_and_psd(x64, activation):
    spec, params, x1, _ = _setup(activation, "ntk")
    k = np.asarray(empirical_ntk(spec, params, x1))
    np.testing.assert_allclose(k, k.T, rtol=0, atol=1e-12 * np.abs(k).max())
    assert np.linalg.eigvalsh(k).min() > -1e-10 * np.abs(k).max()


def test_linearization_gap_is_second_order(x64):
    """f(θ0+εv) − f_lin(θ0+εv) = O(ε²): halving ε divides the gap by ≈ 4."""
    spec, params, x1, _ = _setup("tanh", "ntk")
    apply_fn = make_apply_fn(spec)
    f_lin = linearize(apply_fn, params)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.key(3), len(leaves))
    direction = tree.unflatten([jax.random.normal(k, leaf.shape) for k, leaf in zip(keys, leaves)])

    def gap(eps):
        moved = jax.tree_util.tree_map(lambda p, v: p + eps * v, params, direction)
        return float(jnp.linalg.norm(apply_fn(moved, x1) - f_lin(moved, x1)))

    gaps = [gap(0.1 / 2**k) for k in range(4)]
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    np.testing.assert_allclose(ratios, 4.0, rtol=0.05)
    np.testing.assert_allclose(f_lin(params, x1), apply_fn(params, x1), rtol=1e-14)


def test_losses_of_network_and_linearization_decrease():
    spec = MLPSpec(depth=2, width=128, activation="relu")
    x = jnp.linspace(-2, 2, 10).reshape(-1, 1)
    y = jnp.sin(2 * x[:, 0])
    apply_fn = make_apply_fn(spec)
    theta0 = init_params(spec, 1, key=jax.random.key(0))
    optimizer = make_optimizer(0.05)
    chunk = make_train_chunk(apply_fn, optimizer, 200)
    state, (loss, lin_loss) = chunk(init_train_state(theta0, optimizer), theta0, x, y)
    assert loss[-1] < 0.2 * loss[0] and lin_loss[-1] < 0.2 * lin_loss[0]
    np.testing.assert_allclose(loss[0], lin_loss[0])  # same θ0, same start
    np.testing.assert_allclose(loss[0], half_mse(apply_fn(theta0, x), y), rtol=1e-6)
    assert float(half_mse(apply_fn(state.params, x), y)) < float(loss[-1]) * 1.01
