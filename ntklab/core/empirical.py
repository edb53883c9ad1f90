"""Empirical (finite-width) NTK Θ̂(x1, x2) = J(x1) J(x2)ᵀ over all parameters, and the linearization."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ntklab.core.network import MLPSpec, learning_rate_scale, make_mlp
from ntklab.core.precision import full_precision

Array = jax.Array


def _features(net, params, x: Array):
    """Per Dense layer, in forward order: (its input h (n, N_in), δ = ∂f/∂z of its output (n, N_out), (c_w, c_b)).

    One reverse pass for any architecture: a zero e is added to every Dense output z (``tap``) and
    δ = ∂(Σ_examples f)/∂e, which is per example because examples do not mix.
    """
    dense = net.dense_layers(params)
    zeros = [jnp.zeros((x.shape[0], layer.out_dim), x.dtype) for layer, _ in dense]

    def total(eps):
        inputs, eps = [], iter(eps)

        def tap(layer, h, z):
            inputs.append(h)
            return z + next(eps)

        return jnp.sum(net.apply(params, x, tap)), inputs

    deltas, inputs = jax.grad(total, has_aux=True)(zeros)
    scales = [layer.scales(h.shape[-1]) for (layer, _), h in zip(dense, inputs)]
    return inputs, deltas, scales


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
    h1, d1, scales = _features(net, params, jnp.asarray(x1, dtype))
    h2, d2, _ = (h1, d1, scales) if x2 is None else _features(net, params, jnp.asarray(x2, dtype))
    ntk = 0.0
    for a1, a2, g1, g2, (c_w, c_b), on in zip(h1, h2, d1, d2, scales, dense_on):
        if on:
            ntk = ntk + (g1 @ g2.T) * (c_w**2 * (a1 @ a2.T) + c_b**2)
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
