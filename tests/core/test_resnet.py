"""Residual networks: analytic kernels vs neural-tangents, Monte Carlo, closed forms; layerwise NTK vs Jacobians."""

import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import (
    Dense,
    Elementwise,
    MLPSpec,
    Residual,
    Serial,
    analytic_kernels,
    dense_weights,
    empirical_ntk,
    hidden_preactivations,
    init_params,
    learning_rate_scale,
    make_apply_fn,
    make_mlp,
    resolved_branch_scale,
    trainable_mask,
)

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "nt_reference_resnet.json")
with open(DATA) as f:
    REF = json.load(f)


def _spec(arch) -> MLPSpec:
    arch = dict(arch)
    arch.pop("block_scale")
    return MLPSpec(**arch)


@pytest.mark.parametrize("case", REF["kernel_cases"], ids=lambda c: c["id"])
def test_reference_resnet_case(x64, case):
    """nt 0.6.5's FanOut/parallel/FanInSum residual network (tests/data/make_nt_reference_resnet.py) to rtol
    1e-7; atol 1e-7·max|K| covers the ReLU-family entries that are √rounding (shared/reference/README.md)."""
    spec = _spec(case["arch"])
    assert resolved_branch_scale(spec) == pytest.approx(case["arch"]["block_scale"], rel=1e-15)
    k = analytic_kernels(spec, np.array(case["x1"]), np.array(case["x2"]))
    for name in ("nngp", "ntk"):
        ref = np.array(case[name], dtype=float)
        np.testing.assert_allclose(getattr(k, name), ref, rtol=1e-7, atol=1e-7 * np.abs(ref).max(),
                                   err_msg=f"{case['id']} {name}")


def test_reference_covers_the_grid():
    archs = [c["arch"] for c in REF["kernel_cases"]]
    assert {a["parameterization"] for a in archs} == {"ntk", "standard"}
    assert {a["depth"] for a in archs} == {0, 1, 2, 3}
    assert {len(c["x1"][0]) for c in REF["kernel_cases"]} == {1, 3}
    assert len({a["activation"] for a in archs}) >= 6


@pytest.mark.parametrize("depth", [1, 4, 64])
def test_default_branch_scale_bounds_the_forward_variance(x64, depth):
    """ReLU with W_std = √2, b_std = 0: each block adds s²·q (E[relu(u)²] = q/2), so the closed form is
    q_L = q_0·(1 + s²)^L; with the default s = 1/√L that is q_0·(1 + 1/L)^L < e·q_0 at every depth."""
    spec = MLPSpec(depth=depth, width=8, architecture="resnet", activation="relu", w_std=math.sqrt(2.0), b_std=0.0)
    x = np.array([[0.3, -1.2, 0.5], [1.0, 0.0, 2.0]])
    k = analytic_kernels(spec, x)
    q0 = 2.0 * np.sum(x * x, axis=1) / 3  # after the input Dense (W_std² |x|²/d)
    readout_q = 2.0 * q0 * (1 + 1 / depth) ** depth  # the readout Dense multiplies by W_std² = 2
    np.testing.assert_allclose(np.diag(k.nngp), readout_q, rtol=1e-12)
    assert np.all(np.diag(k.nngp) < 2.0 * math.e * q0)


# --- layerwise empirical NTK = Jacobian contraction -------------------------------------------------


def _jacobian_ntks(spec, params, x1, x2):
    """{trainable: J(x1) J(x2)ᵀ over the trainable leaves only, times n^(−c)}: an independent oracle."""
    apply_fn = jax.jit(jax.jacrev(make_apply_fn(spec)))

    def jac(x):
        return [j.reshape(x.shape[0], -1) for j in jax.tree_util.tree_leaves(apply_fn(params, x))]

    j1, j2 = jac(x1), jac(x2)
    out = {}
    for trainable in ("all", "readout", "hidden"):
        mask = jax.tree_util.tree_leaves(trainable_mask(spec, params, trainable))
        out[trainable] = learning_rate_scale(spec) * sum(a @ b.T for a, b, on in zip(j1, j2, mask) if on)
    return out


@pytest.mark.parametrize("parameterization", ["ntk", "standard", "mup"])
def test_layerwise_ntk_equals_jacobian_resnet(x64, parameterization):
    spec = MLPSpec(depth=2, width=24, activation="gelu", architecture="resnet", parameterization=parameterization,
                   b_std=0.3, branch_scale=1.3)
    params = init_params(spec, 3, key=jax.random.key(7))
    x1 = jax.random.normal(jax.random.key(1), (5, 3))
    x2 = jax.random.normal(jax.random.key(2), (4, 3))
    for trainable, oracle in _jacobian_ntks(spec, params, x1, x2).items():
        np.testing.assert_allclose(empirical_ntk(spec, params, x1, x2, trainable=trainable), oracle,
                                   rtol=1e-10, atol=1e-12, err_msg=trainable)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sin", "identity"])
@pytest.mark.parametrize("depth", [0, 3])
def test_layerwise_ntk_equals_jacobian_resnet_activations(x64, activation, depth):
    spec = MLPSpec(depth=depth, width=16, activation=activation, architecture="resnet", b_std=0.2)
    params = init_params(spec, 2, key=jax.random.key(depth))
    x = jax.random.normal(jax.random.key(3), (6, 2))
    np.testing.assert_allclose(empirical_ntk(spec, params, x), _jacobian_ntks(spec, params, x, x)["all"],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("parameterization,depth", [("ntk", 2), ("standard", 2), ("mup", 2), ("mean_field", 1)])
def test_layerwise_ntk_equals_jacobian_mlp_subsets(x64, parameterization, depth):
    spec = MLPSpec(depth=depth, width=20, activation="erf", parameterization=parameterization, b_std=0.4)
    x = jax.random.normal(jax.random.key(4), (5, 3))
    params = init_params(spec, 3, key=jax.random.key(5))
    for trainable, oracle in _jacobian_ntks(spec, params, x, x).items():
        np.testing.assert_allclose(empirical_ntk(spec, params, x, trainable=trainable), oracle, rtol=1e-10,
                                   atol=1e-12, err_msg=trainable)


# --- Monte Carlo: mean empirical kernels of wide resnets = analytic -------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_resnet_analytic_matches_monte_carlo(x64, parameterization):
    width, seeds = 1024, 10
    spec = MLPSpec(depth=2, width=width, activation="erf", w_std=1.3, b_std=0.4, architecture="resnet",
                   parameterization=parameterization, branch_scale=1.2)
    x = np.random.default_rng(1).normal(size=(4, 3))
    net = make_mlp(spec)
    body, readout = Serial(net.layers[:-1]), net.layers[-1]
    samples = {name: [] for name in ("nngp", "all", "readout", "hidden")}
    for seed in range(seeds):
        params = init_params(spec, 3, key=jax.random.key(seed))
        h = body.apply(params[:-1], jnp.asarray(x))
        c_w, c_b, s_w, s_b = readout.factors(width)
        # NNGP of the readout given h: Cov over (W, b) of c_w·hW + c_b·b
        samples["nngp"].append(np.asarray((c_w * s_w) ** 2 * h @ h.T + (c_b * s_b) ** 2))
        for trainable in ("all", "readout", "hidden"):
            samples[trainable].append(np.asarray(empirical_ntk(spec, params, jnp.asarray(x), trainable=trainable)))
    for name, values in samples.items():
        k = analytic_kernels(spec, x, trainable="all" if name == "nngp" else name)
        ref = k.nngp if name == "nngp" else k.ntk
        values = np.stack(values)
        mean, se = values.mean(0), values.std(0, ddof=1) / np.sqrt(seeds)
        # within 5 standard errors, plus an O(1/width) finite-width bias
        assert np.all(np.abs(mean - ref) <= 5 * se + 4 * np.abs(ref).max() / width), (name, mean, ref, se)


# --- what the session measures on a resnet --------------------------------------------------------------


def test_resnet_hidden_layers_are_the_stream(x64):
    """depth + 1 arrays: the input Dense's output, then the stream after each block; the readout reads the last."""
    spec = MLPSpec(depth=3, width=12, activation="tanh", architecture="resnet", b_std=0.3)
    params = init_params(spec, 2, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (7, 2))
    hs = hidden_preactivations(spec, params, x)
    assert [h.shape for h in hs] == [(7, 12)] * 4
    readout = make_mlp(spec).layers[-1]
    np.testing.assert_allclose(readout.apply(params[-1], hs[-1])[:, 0], make_apply_fn(spec)(params, x), rtol=1e-13)
    # each block adds s·Dense(φ(h)) to the stream
    s = resolved_branch_scale(spec)
    w, b = params[1][1]
    c_w, c_b = readout.scales(12)  # 'ntk': the same c_w = W_std/√n for the block's Dense
    np.testing.assert_allclose(hs[1], hs[0] + s * (c_w * jnp.tanh(hs[0]) @ w + c_b * b), rtol=1e-13)
    weights = dense_weights(spec, params)
    assert [w.shape for w in weights] == [(2, 12), (12, 12), (12, 12), (12, 12), (12, 1)]


def test_residual_keeps_width():
    block = Residual(Serial((Elementwise("relu"), Dense(5, 1.0, 0.0))), 0.5)
    with pytest.raises(ValueError, match="branch"):
        block.init(jax.random.key(0), 4)
    assert block.init(jax.random.key(0), 5)[0] == 5
