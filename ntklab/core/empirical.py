"""Empirical (finite-width) NTK Θ̂(x1, x2) = J(x1) J(x2)ᵀ over all parameters, and the linearization."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ntklab.core.network import MLPSpec, learning_rate_scale, make_mlp
from ntklab.core.precision import full_precision
from ntklab.core.training import dense_factors

Array = jax.Array


@full_precision
def empirical_ntk(spec: MLPSpec, params, x1: Array, x2: Array | None = None, *, trainable: str = "all") -> Array:
    """Θ̂(x1, x2): (n1, n2), layer by layer without building J, over the ``trainable`` layers.

    For z = c_w·hW + c_b·b the weight block contributes c_w²·(δ1 δ2ᵀ) ⊙ (h1 h2ᵀ) and the bias
    c_b²·δ1 δ2ᵀ, with δ = ∂f/∂z (backpropagated per example) and h the layer's input; times the
    parameterization's learning-rate factor n^(−c), so that gradient descent moves f by −ηΘ̂(f − y)/n.
    Cost O(n·N²·L) for the features plus O(n1·n2·N·L) for the Gram matrices.
    """
    net = make_mlp(spec, trainable)
    dense_on = [layer.trainable for layer, _ in net.dense_layers(params)]
    # Inputs in the parameters' precision: float32 inputs would make the first layer's h1 h2ᵀ float32.
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(params))
    _, f1 = dense_factors(net, params, jnp.asarray(x1, dtype))
    f2 = f1 if x2 is None else dense_factors(net, params, jnp.asarray(x2, dtype))[1]
    ntk = 0.0
    for a, b, on in zip(f1, f2, dense_on):
        if on:
            ntk = ntk + (a.dfdz @ b.dfdz.T) * (a.c_w**2 * (a.h @ b.h.T) + a.c_b**2)
    return learning_rate_scale(spec) * ntk


def empirical_ntk_jacobian(apply_fn, params, x1: Array, x2: Array | None = None) -> Array:
    """Θ̂ by contracting full Jacobians: J(x1) J(x2)ᵀ. Slow and memory-hungry; a test oracle."""
    def jac(x):
        j = jax.jacrev(apply_fn)(params, x)
        return jnp.concatenate([leaf.reshape(x.shape[0], -1) for leaf in jax.tree_util.tree_leaves(j)], axis=1)

    j1 = jac(x1)
    j2 = j1 if x2 is None else jac(x2)
    return j1 @ j2.T


def linearize(apply_fn, theta0):
    """``f_lin(params, x) = f(θ0, x) + J(θ0, x)·(params − θ0)``, through one ``jax.jvp`` (no J built)."""

    def f_lin(params, x):
        delta = jax.tree_util.tree_map(jnp.subtract, params, theta0)
        f0, df = jax.jvp(lambda p: apply_fn(p, x), (theta0,), (delta,))
        return f0 + df

    return f_lin
