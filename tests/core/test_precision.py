"""Kernels, the empirical NTK and predictions ask for full-precision matrix products: every dot_general
in their jaxprs carries Precision.HIGHEST (JAX's default is TF32 for float32 on recent NVIDIA GPUs;
this machine has none, so the jaxpr is what can be checked)."""

import jax
import jax.extend  # noqa: F401  (jax.extend.core.Jaxpr, ClosedJaxpr)
import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core import MLPSpec, empirical_ntk, init_params, input_kernel, make_kernel_fn
from ntklab.core import predict as pr


def _dot_precisions(jaxpr):
    """The ``precision`` of every dot_general in a (closed) jaxpr and all jaxprs nested in it."""
    out = []
    for eqn in jaxpr.jaxpr.eqns if hasattr(jaxpr, "jaxpr") else jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            out.append(eqn.params["precision"])
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if isinstance(sub, (jax.extend.core.ClosedJaxpr, jax.extend.core.Jaxpr)):
                    out.extend(_dot_precisions(sub))
    return out


def _assert_all_highest(fn, *args, products=True):
    precisions = _dot_precisions(jax.make_jaxpr(fn)(*args))
    assert precisions or not products, "no matrix product traced: the check would be empty"
    highest = (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)
    assert all(p == highest for p in precisions), precisions


def test_the_check_sees_default_precision():
    """The walker finds a default-precision product inside jit and scan (so the tests below can fail)."""
    def f(a):
        return jax.lax.scan(lambda c, x: (c @ a, None), a, jnp.arange(2.0))[0]

    with pytest.raises(AssertionError):
        _assert_all_highest(jax.jit(f), jnp.eye(2))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_analytic_kernel_products_at_highest(activation):
    x = jnp.ones((3, 2))
    _assert_all_highest(make_kernel_fn(MLPSpec(depth=2, activation=activation)), x, x)
    _assert_all_highest(lambda a, b: input_kernel(a, b).nngp, x, x)


def test_empirical_ntk_products_at_highest():
    spec = MLPSpec(depth=2, width=8)
    params = init_params(spec, 2, key=jax.random.key(0))
    x = jnp.ones((3, 2))
    _assert_all_highest(jax.jit(lambda p: empirical_ntk(spec, p, x)), params)
    _assert_all_highest(lambda p: empirical_ntk(spec, p, x, x[:2]), params)


def test_prediction_products_at_highest():
    n, m = 4, 3
    k = jnp.eye(n) + 0.1
    k_td, r, f0 = jnp.ones((m, n)), jnp.ones((n, 1)), jnp.zeros((m, 1))
    lower = jnp.linalg.cholesky(k)
    _assert_all_highest(pr._flow_mean, jnp.ones(n), k, k_td, r, f0, 0.5)
    _assert_all_highest(pr._cho_mean, lower, k_td, r, f0)
    _assert_all_highest(pr._cho_variance, lower, k_td, jnp.ones(m), products=False)  # triangular solves only
    _assert_all_highest(pr._matmul, k, k)


def test_full_precision_does_not_change_cpu_results(x64):
    """On CPU HIGHEST is what was computed before: the kernel equals a NumPy product of the inputs."""
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(np.asarray(input_kernel(x, x).nngp), x @ x.T / 3, rtol=1e-14)
